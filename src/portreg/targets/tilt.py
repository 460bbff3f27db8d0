"""Tiltfile: the port forwards Tilt will open, read from its syntax tree; ``fix`` moves a
literal forward's local side (``set_port``).

A Tiltfile is Starlark, whose syntax is a subset of Python's, so Python's own parser
(``ast``) reads it, with exact positions; nothing is evaluated. Read:

* ``port_forwards=`` with an int, a string (``'8001'``, ``'8001:80'``,
  ``'localhost:8001:80'``), a ``port_forward(...)`` call, or a list of them;
* ``port_forward(8001, 80, name='x')`` / ``port_forward(local_port=8001, container_port=80)``;
* a dict literal assigned to a name containing ``port`` that maps service names to
  ports: ``SERVICE_PORTS = {'invoice': 8002}`` (its own entries only);
* the env idiom, a port taken from the environment with the committed port as its
  default: ``port_forward(int(os.getenv('INVOICE_PORT', '8002')), 8080)`` (the default
  quoted or not; positional or ``local_port=``). The default is read as the port, with
  ``variable='INVOICE_PORT'``; ``set_port`` moves only the default's digits, and
  ``env_form`` (``portreg init --env-ports``) writes a literal forward in this form.
  A second checkout sets the variable, and the committed Tiltfile stays as it is.
  Name the container port: without it the container side follows the variable too.

Each forward binds its local side on the host (``address``: the literal host of
``'host:8001:80'`` or ``host=``, "" for Tilt's default) and ``leads_to`` the
container port (the same number when the file names none). Inside
``k8s_resource('invoice', ...)`` (or ``workload='invoice'``) it belongs to that
service. A forward the file computes (a variable, ``'%d:%d' % (p, p)``, a call of
the user's function, a loop variable) is never guessed: it is named, with its
source text, in the UNREAD namespace.

``tests/test_tilt_oracle.py`` holds this reader and ``set_port`` to Tilt's own
Starlark interpreter (starlark-go) on generated Tiltfiles.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import NamedTuple

from portreg.edit.heap import collector_paused
from portreg.edit.starlark import Source, callee, keyword, literal, parse
from portreg.errors import FileEditError
from portreg.model import is_digits
from portreg.targets.base import HOST, NAMED, UNREAD, Observation
from portreg.targets.scanned import ScannedTarget

NAME = "tilt"
_EVERY_ADDRESS = ("0.0.0.0", "::")
_LEAVES = (ast.Constant, ast.Name)
_SHOWN = 60  # characters of a computed forward's source text named in its field


class _Site(NamedTuple):
    """Where a literal forward is written, and so how its local side is rewritten.

    ``form``: "dict" (a service -> port table), "value" (an element of
    ``port_forwards=``), "positional" or "keyword" (``port_forward``'s local port),
    "env" (the default of ``int(os.getenv('X', '8002'))`` as ``port_forward``'s local
    port, ``local`` being that whole expression);
    ``paired``: the call names its container port too.
    """

    node: ast.Constant
    form: str
    paired: bool = True
    local: ast.expr | None = None
    named: bool = False  # an env form given as ``local_port=``


class Located(NamedTuple):
    """An observation and the literal that holds it (None for a computed one)."""

    observation: Observation
    site: _Site | None
    at: tuple[int, int]  # (line, column) in the file: the order observations come in


def local_port(value: int | str | None) -> int | None:
    """The host side of a forward: ``8001``, ``'8001'``, ``'8001:80'``, ``'host:8001:80'``."""
    if isinstance(value, str):
        parts = value.strip().split(":")
        text = parts[1] if len(parts) == 3 else parts[0]
        value = int(text) if len(parts) <= 3 and is_digits(text) and len(text) <= 5 else None
    if isinstance(value, int) and 1 <= value <= 65535:
        return value
    return None


def _remote_port(value: int | str) -> int | None:
    """The container side of a literal forward: the local port when it names none."""
    parts = value.strip().split(":") if isinstance(value, str) else []
    return local_port(parts[-1] if len(parts) > 1 else value)


def _address(host: str) -> str:
    """A forward's host address; "" for every address (and for Tilt's default)."""
    host = host.strip().strip("[]")
    return "" if host in _EVERY_ADDRESS else host


def _children(node: ast.AST) -> list[ast.AST]:
    """``ast.iter_child_nodes`` as a list, without its two generators per node (a 4 MB
    list literal is 700,000 children)."""
    found: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            found.append(value)
        elif isinstance(value, list):
            found += [item for item in value if isinstance(item, ast.AST)]
    return found


def _is_os(node: ast.expr, *attrs: str) -> bool:
    """``node`` is ``os.<attrs...>`` (``os.getenv``, ``os.environ.get``)."""
    for attr in reversed(attrs):
        if not (isinstance(node, ast.Attribute) and node.attr == attr):
            return False
        node = node.value
    return isinstance(node, ast.Name) and node.id == "os"


def env_port(node: ast.expr | None) -> tuple[str, ast.Constant, int] | None:
    """``int(os.getenv('X', '8002'))``, ``int(os.environ.get('X', '8002'))`` (Tilt's
    ``os.environ`` is a dict), or either with ``8002`` unquoted: the variable, the
    default's literal and the port it holds; anything else None."""
    if not (isinstance(node, ast.Call) and callee(node) == "int" and len(node.args) == 1):
        return None
    inner = node.args[0]
    if node.keywords or not isinstance(inner, ast.Call) or inner.keywords:
        return None
    func = inner.func
    is_getenv = _is_os(func, "getenv") or _is_os(func, "environ", "get")
    if not is_getenv or len(inner.args) != 2:
        return None
    key, default = inner.args
    name, value = literal(key), literal(default)
    if not isinstance(name, str) or not isinstance(default, ast.Constant):
        return None
    if isinstance(value, str) and not is_digits(value):
        return None
    port = local_port(value)
    return None if port is None else (name, default, port)


def _resource_name(call: ast.Call) -> str | None:
    """The literal name of a ``k8s_resource(...)`` call, positional or ``workload=``."""
    first = call.args[0] if call.args else keyword(call, "workload")
    name = literal(first)
    return name if isinstance(name, str) else None


class _Reader:
    """One walk over a Tiltfile's syntax tree, collecting its forwards."""

    def __init__(self, display: str, source: Source) -> None:
        self.display = display
        self.source = source
        self.group = f"tilt:{display}"
        self.found: list[Located] = []

    def read(self, tree: ast.Module) -> list[Located]:
        # a stack, not recursion: a deep tree Python parsed must not exhaust Python's stack
        stack: list[tuple[ast.AST, str | None]] = [(tree, None)]
        while stack:
            node, owner = stack.pop()
            if isinstance(node, ast.Call):
                owner, children = self.call(node, owner)
            else:
                if isinstance(node, ast.Assign):
                    self.port_dict(node)
                children = _children(node)
            leaves = _LEAVES  # a name or a literal holds no call: not worth a visit
            stack.extend((c, owner) for c in reversed(children) if not isinstance(c, leaves))
        return sorted(self.found, key=lambda found: found.at)

    def call(self, call: ast.Call, owner: str | None) -> tuple[str | None, list[ast.AST]]:
        """Read one call; its owner for what it holds, and the children still to walk."""
        name = callee(call)
        if name == "k8s_resource":
            owner = _resource_name(call) or owner
        elif name == "port_forward":
            self.forward_call(call, owner)
        children: list[ast.AST] = [call.func, *call.args]
        for kw in call.keywords:
            if kw.arg == "port_forwards":
                children += self.forwards(kw.value, owner)
            else:
                children.append(kw.value)
        return owner, children

    def forwards(self, held: ast.expr, owner: str | None) -> list[ast.expr]:
        """``port_forwards=`` a literal, a call or a list of them; the calls to walk."""
        calls: list[ast.expr] = []
        items = held.elts if isinstance(held, ast.List | ast.Tuple) else [held]
        for item in items:
            value = literal(item)
            if isinstance(item, ast.Call) and callee(item) == "port_forward":
                calls.append(item)
            elif value is not None:
                port, address = local_port(value), ""
                if isinstance(value, str) and value.count(":") == 2:
                    address = _address(value.split(":")[0])
                if port is not None and isinstance(item, ast.Constant):
                    far = _remote_port(value)
                    found = self.bound(
                        item, port, "port_forwards", owner, address=address, leads_to=far
                    )
                    self.add(found, _Site(item, "value"))
            elif not (isinstance(item, ast.Constant) and item.value is None):
                self.unread(item, f"port_forwards={self.shown(item)}", owner)
        return calls

    def forward_call(self, call: ast.Call, owner: str | None) -> None:
        """``port_forward(8001, 80, name='x')`` / ``port_forward(local_port=8001, ...)``."""
        positional = bool(call.args)
        local = call.args[0] if positional else keyword(call, "local_port")
        remote = call.args[1] if len(call.args) > 1 else keyword(call, "container_port")
        if local is None:
            return
        value = literal(local)
        env = env_port(local)
        if env is not None:
            self.env_forward(call, env, (local, remote), owner, named=not positional)
            return
        if value is None or isinstance(local, ast.Starred):
            self.unread(local, f"port_forward({self.shown(local)})", owner)
            return
        port = local_port(value) if isinstance(value, int) else None
        if port is None or not isinstance(local, ast.Constant):
            return  # a literal Tilt refuses (a string, 0): no forward
        host = literal(keyword(call, "host"))
        address = _address(host) if isinstance(host, str) else ""
        far = literal(remote)
        leads_to = port if remote is None else far if isinstance(far, int) else None
        found = self.bound(local, port, "port_forward", owner, address=address, leads_to=leads_to)
        form = "positional" if positional else "keyword"
        self.add(found, _Site(local, form, paired=remote is not None))

    def env_forward(
        self,
        call: ast.Call,
        env: tuple[str, ast.Constant, int],
        sides: tuple[ast.expr, ast.expr | None],
        owner: str | None,
        *,
        named: bool,
    ) -> None:
        """``port_forward(int(os.getenv('X', '8002')), 8080)``: the default is the port the
        file commits to, ``X`` the variable another checkout sets."""
        variable, default, port = env
        local, remote = sides
        host = literal(keyword(call, "host"))
        address = _address(host) if isinstance(host, str) else ""
        far = literal(remote)
        leads_to = port if remote is None else far if isinstance(far, int) else None
        found = self.bound(
            default,
            port,
            "port_forward",
            owner,
            address=address,
            leads_to=leads_to,
            variable=variable,
        )
        site = _Site(default, "env", remote is not None, local, named)
        self.add(found, site)

    def port_dict(self, assign: ast.Assign) -> None:
        """``NAME_PORTS = {'svc': 8001, ...}``: each literal pair is one service's port.

        Only the dict's own entries count: in ``{'invoice': {'http': 8002}}`` the inner
        ``'http'`` is not a service (named ports are read nowhere yet). A computed entry
        is not named: the forward that uses it is.
        """
        table = assign.value
        named = any(isinstance(t, ast.Name) and "port" in t.id.lower() for t in assign.targets)
        if not named or not isinstance(table, ast.Dict):
            return
        for key, held in zip(table.keys, table.values, strict=True):
            name, value = literal(key), literal(held)
            if not isinstance(name, str) or value is None or not isinstance(held, ast.Constant):
                continue
            port = local_port(value) if isinstance(value, int) or is_digits(value) else None
            if port is not None:
                self.add(self.bound(held, port, "dict", name), _Site(held, "dict"))

    def bound(
        self,
        node: ast.expr,
        port: int,
        field: str,
        owner: str | None,
        *,
        address: str = "",
        leads_to: int | None = None,
        variable: str | None = None,
    ) -> Observation:
        line, group = node.lineno, self.group
        namespace = NAMED if field == "dict" else HOST  # a table names ports, binds none
        return Observation(
            NAME,
            self.display,
            line,
            port,
            field,
            "port",
            owner,
            namespace,
            group,
            address,
            leads_to,
            variable=variable,
        )

    def unread(self, node: ast.expr, field: str, owner: str | None) -> None:
        found = Observation(
            NAME, self.display, node.lineno, 0, field, "other", owner, UNREAD, self.group
        )
        self.add(found, None, node)

    def add(self, found: Observation, site: _Site | None, node: ast.expr | None = None) -> None:
        where = site.node if site else node
        assert where is not None
        self.found.append(Located(found, site, (where.lineno, where.col_offset)))

    def shown(self, node: ast.expr) -> str:
        """An expression's source text, blanks folded, cut to a field's length."""
        text = " ".join(self.source.written(node, _SHOWN).split())
        return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _read(display: str, text: str) -> tuple[list[Located], Source]:
    tree, source = parse(display, text)
    return _Reader(display, source).read(tree), source


@collector_paused()
def scan_text(display: str, text: str) -> list[Observation]:
    """Observations of one Tiltfile (raises PortregError if Python's parser refuses it)."""
    return [found.observation for found in _read(display, text)[0]]


def set_port(display: str, text: str, service: str, port: int) -> str:
    """``text`` with every literal that forwards a port for ``service`` forwarding ``port``.

    Only the local (host) side moves, and only its digits. Edits are made at the
    literals' own offsets, from the end backwards, so every other byte stays; a
    literal portreg cannot rewrite faithfully (a hex number, an escaped string) is
    refused. The result is read again: the service's forwards must hold ``port`` and
    every other forward what it held, or nothing is written.
    """
    found, source = _read(display, text)
    mine = [f for f in found if f.observation.service == service and f.site is not None]
    forwards = sum(f.site is not None and f.site.form != "dict" for f in mine)
    edits: list[tuple[int, int, str]] = []
    moved: set[int] = set()
    for located in mine:
        site = located.site
        if site is None or located.observation.port == port:
            continue
        if site.form != "dict" and forwards > 1:
            continue  # several forwards (an app and a debugger): which is the service's is a guess
        edits.append(_literal_edit(source, located, port, display))
        if site.form == "env" and not site.paired and site.local is not None:
            # the container keeps listening where it did: its port is written out
            end = source.span(site.local)[1]
            pinned = "container_port=" if site.named else ""
            edits.append((end, end, f", {pinned}{located.observation.port}"))
        moved.add(id(located))
    if not edits:
        return text
    new = text
    for start, end, replacement in sorted(edits, reverse=True):
        new = new[:start] + replacement + new[end:]
    want = [f.observation._replace(port=port) if id(f) in moved else f.observation for f in found]
    if scan_text(display, new) != want:
        raise FileEditError(
            "a faithful edit of this Tiltfile is not possible; nothing was written",
            where=display,
            hint="edit its port forwards by hand",
        )
    return new


def _literal_edit(
    source: Source, located: Located, port: int, display: str
) -> tuple[int, int, str]:
    """The (start, end, text) edit that moves one forward's local (host) side to ``port``.

    The remote side stays where the container listens: ``8002`` -> ``'8001:8002'``,
    ``'8002:8002'`` -> ``'8001:8002'``, ``port_forward(8002)`` -> ``port_forward(8001, 8002)``,
    ``port_forward(local_port=8002)`` -> ``port_forward(local_port=8001, container_port=8002)``;
    of ``int(os.getenv('X', '8002'))`` only the default's digits move.
    """
    site, old = located.site, located.observation.port
    assert site is not None
    start, end = source.span(site.node)
    written, value = source.original[start:end], site.node.value
    if isinstance(value, int) and written == str(value):
        if site.form == "value":
            return start, end, f"'{port}:{old}'"
        if site.paired or site.form in ("dict", "env"):
            return start, end, str(port)
        keyword = "" if site.form == "positional" else "container_port="
        return start, end, f"{port}, {keyword}{old}"
    prefix = written[:1] if written[:1] in ("r", "R") else ""  # r'8001:80': kept as it is
    quote = written[len(prefix) : len(prefix) + 1]
    if (
        isinstance(value, str)
        and quote in ("'", '"')
        and written == f"{prefix}{quote}{value}{quote}"
    ):
        parts = value.split(":")
        host = 1 if len(parts) == 3 else 0
        number = re.compile(rf"(?<![0-9]){old}(?![0-9])")  # only the digits: spaces stay
        parts[host] = number.sub(str(port), parts[host])
        if len(parts) == 1 and site.form == "value":
            parts.append(str(old))
        return start, end, f"{prefix}{quote}{':'.join(parts)}{quote}"
    raise FileEditError(
        f"the forward of port {old} is not a plain literal portreg can rewrite",
        where=f"{display}:{site.node.lineno}",
        hint="edit it by hand",
    )


def env_form(display: str, text: str, variable_of: Callable[[Observation], str | None]) -> str:
    """``text`` with each literal forward's local port taken from the environment, the
    committed port its default (``portreg init --env-ports``): ``port_forward(8002, 8080)``
    -> ``port_forward(int(os.getenv('INVOICE_PORT', '8002')), 8080)``, and an element of
    ``port_forwards=`` (``'8002:8080'``, ``'localhost:8002:8080'``, ``8002``) becomes that
    call, its container port (and host) kept. ``variable_of`` names each forward's
    variable (None: left as it is). Forwards already in that form, computed ones and
    port tables are left alone. The result is read again: every forward must bind and
    lead where it did, or nothing is written.
    """
    found, source = _read(display, text)
    edits: list[tuple[int, int, str]] = []
    named: dict[int, str] = {}
    for index, located in enumerate(found):
        site = located.site
        if site is None or site.form in ("dict", "env"):
            continue
        rewrite = _env_edit(source, located)
        variable = None if rewrite is None else variable_of(located.observation)
        if rewrite is not None and variable is not None:
            edits.append(rewrite(variable))
            named[index] = variable
    if not edits:
        return text
    new = text
    for start, end, replacement in sorted(edits, reverse=True):
        new = new[:start] + replacement + new[end:]
    held = [(located.observation, named.get(i)) for i, located in enumerate(found)]
    want = [_bound(seen, variable or seen.variable) for seen, variable in held]
    if [_bound(seen, seen.variable) for seen in scan_text(display, new)] != want:
        raise FileEditError(
            "a faithful rewrite of this Tiltfile's forwards is not possible; nothing was written",
            where=display,
            hint="write them as int(os.getenv('NAME_PORT', '8002')) by hand",
        )
    return new


def _bound(seen: Observation, variable: str | None) -> tuple[object, ...]:
    """What a forward does, whatever its spelling: what an env rewrite must keep."""
    return (seen.service, seen.namespace, seen.port, seen.address, seen.leads_to, variable)


def _env_edit(source: Source, located: Located) -> Callable[[str], tuple[int, int, str]] | None:
    """The (start, end, text) edit that writes one literal forward in the env form, given
    its variable; None for a literal written otherwise than plainly (``r'8002'``, hex)."""
    site, seen = located.site, located.observation
    assert site is not None
    start, end = source.span(site.node)
    written, value = source.original[start:end], site.node.value
    quote = written[:1] if written[:1] in ("'", '"') else "'"
    if isinstance(value, bool) or not isinstance(value, int | str) or seen.leads_to is None:
        return None
    if written != (str(value) if isinstance(value, int) else f"{quote}{value}{quote}"):
        return None
    if site.form == "value":
        parts = value.split(":") if isinstance(value, str) else []
        host = f", host={quote}{parts[0].strip()}{quote}" if len(parts) == 3 else ""
        after = f", {seen.leads_to}{host})"
        before = "port_forward("
    else:
        pinned = "" if site.form == "positional" else "container_port="
        after = "" if site.paired else f", {pinned}{seen.leads_to}"
        before = ""

    def edit(variable: str) -> tuple[int, int, str]:
        env = f"int(os.getenv({quote}{variable}{quote}, {quote}{seen.port}{quote}))"
        return start, end, f"{before}{env}{after}"

    return edit


class TiltTarget(ScannedTarget):
    """Tiltfiles: ``fix`` moves a service's literal forward (``set_port``), so a moved
    service leaves no stale forward."""

    name = NAME

    def scan_file(self, display: str, text: str) -> list[Observation]:
        return scan_text(display, text)

    def set_port(self, display: str, text: str, service: str, port: int) -> str:
        return set_port(display, text, service, port)
