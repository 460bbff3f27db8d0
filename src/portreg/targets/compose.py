"""Docker compose files, read as ``docker compose`` reads them: the host ports each
service publishes.

Files that run together are one project (a run group): a file and its override
file (``compose.yaml`` + ``compose.override.yaml``, ``x.yml`` + ``x.override.yml``),
or a list the config declares (``[compose] projects``); every other file is a
project of its own. A project's files are merged in order as compose merges
them: a later file's ``ports`` of a service join the earlier ones as a set (one
entry per address, published port, target and protocol; the later line wins),
``!reset`` empties them and ``!override`` replaces them. YAML merge keys
(``<<: *base``) are followed. Only the merged result's ports are host bindings,
each reported at the file:line where it is written. Profiles do not matter: a
service with profiles binds whenever it runs.

Short syntax (``"8001:80"``, ``"127.0.0.1:8001:80"``, ``"[::1]:8001:80"``,
``"8001-8003:8001-8003"``) and long syntax (``published: 8001``, ``host_ip``). A
bare container port (``"8001"``) publishes an ephemeral host port: no binding.
UDP/SCTP ports cannot clash with TCP services and are skipped.

``${VAR:-8001}``, ``${VAR-8001}``, ``${VAR}`` and ``$VAR`` take their value from
the ``.env`` file in the project's folder, else the default; an entry whose
variable has no value is named (namespace unread, port 0), never guessed. The
process environment is not read: a check must not depend on the shell it runs in.
A host port written as exactly one ``${VAR:-8001}`` or ``${VAR-8001}`` (the env form
``portreg init --env-ports`` writes) carries ``variable="VAR"``: a second checkout
publishes another port by setting VAR, and the committed file stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from portreg.config import Settings, TiltSettings
from portreg.config.compose_projects import base_of, group_files
from portreg.edit.heap import collector_paused
from portreg.errors import FileEditError, PortregError
from portreg.io.workspace import Workspace
from portreg.model import Assignment, is_digits
from portreg.targets import yamlscan as ys
from portreg.targets.base import HOST, UNREAD, Observation, PartlyRead

if TYPE_CHECKING:
    from portreg.edit.yaml import Path as YamlPath

NAME = "compose"
MAX_RANGE = 1000  # a wider published range is a mistake, not a list of ports to report
ENV_FILE = ".env"  # compose's default env file, in the project's folder
_RANGE = re.compile(r"([0-9]{1,5})(?:-([0-9]{1,5}))?")
# $$, ${...} or $NAME; a braced body never holds "}" nor "$" (nested defaults are not read)
_VAR = re.compile(r"\$(?:\$|\{(?P<braced>[^}$]*)\}|(?P<name>[A-Za-z_][A-Za-z0-9_]*))")
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<word>.*))?", re.S)
_RESET, _OVERRIDE = "!reset", "!override"


# ------------------------------------------------------------ ports as text


def expand(text: str) -> list[int]:
    """``8001`` or ``8001-8003`` as ports; anything else (a variable, a typo) as none."""
    match = _RANGE.fullmatch(text.strip())
    if not match:
        return []
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if not 1 <= low <= high <= 65535 or high - low >= MAX_RANGE:
        return []
    return list(range(low, high + 1))


def _parts(spec: str) -> list[tuple[int, int]]:
    """The (start, end) spans of ``[HOST_IP:]HOST:CONTAINER``: the last two colons split
    host and container; a host IP keeps its own colons (``[::1]``, ``::1``). Colons inside
    ``${VAR:-8001}`` split nothing. Linear: one pass, no backtracking."""
    masked = _VAR.sub(lambda m: "x" * len(m.group()), spec) if "$" in spec else spec
    last = masked.rfind(":")
    cuts = [] if last < 0 else [masked.rfind(":", 0, last), last]
    bounds = [-1, *(cut for cut in cuts if cut >= 0), len(spec)]
    return [(bounds[i] + 1, bounds[i + 1]) for i in range(len(bounds) - 1)]


def _split_short(text: str) -> tuple[str, str, str] | None:
    """``[HOST_IP:]HOST:CONTAINER[/PROTOCOL]`` as (address, host, container); None for a
    bare container port (an ephemeral host port) or a protocol other than TCP."""
    spec, _, protocol = text.strip().partition("/")
    if protocol and protocol.lower() != "tcp":
        return None
    spans = _parts(spec)
    if len(spans) < 2:
        return None
    pieces = [spec[start:end] for start, end in spans]
    address = pieces[0].strip("[]") if len(pieces) == 3 else ""
    return address, pieces[-2], pieces[-1]


def published_short(text: str) -> list[int]:
    """Host ports of a short-syntax entry: ``[HOST_IP:]HOST:CONTAINER[/PROTOCOL]``."""
    split = _split_short(text)
    return expand(split[1]) if split else []


def _leads(hosts: list[int], inside: list[int]) -> list[int | None]:
    """The container port each host port leads to: one to one for ranges of one length."""
    if len(inside) == len(hosts):
        return list(inside)
    return [inside[0] if len(inside) == 1 else None] * len(hosts)


# ------------------------------------------------------------ interpolation


def env_values(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines of a ``.env`` file (``#`` comments, ``export``, quotes)."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        if not sep or line.startswith("#"):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


class _Unset(Exception):
    """A variable with no value (and no default): the entry is not read."""


def interpolate(text: str, env: dict[str, str]) -> tuple[str, bool]:
    """``text`` with its variables replaced, and whether a value came from ``env``;
    raises _Unset for a variable with no value anywhere."""
    if "$" not in text:  # nothing to replace (most entries): no closure, no regex
        return text, False
    used = False

    def one(match: re.Match[str]) -> str:
        nonlocal used
        value, from_env = _value(match, env)
        used = used or from_env
        return value

    return _VAR.sub(one, text), used


def _value(match: re.Match[str], env: dict[str, str]) -> tuple[str, bool]:
    if match.group() == "$$":
        return "$", False
    if match.group("name"):
        name, op, word = match.group("name"), "", ""
    else:
        braced = _BRACED.fullmatch(match.group("braced"))
        if braced is None:
            raise _Unset
        name, op, word = braced.group("name"), braced.group("op") or "", braced.group("word")
    value = env.get(name)
    is_set = value is not None and (value != "" or not op.startswith(":"))
    if op.endswith("+"):
        return (word, False) if is_set else ("", False)
    if is_set:
        return str(value), True
    if op.endswith("-"):
        return word, False
    raise _Unset


def env_variable(written: str) -> str | None:
    """The variable of a host port written as exactly one ``${VAR:-8002}`` or ``${VAR-8002}``
    with a port as its default (blanks around it allowed): the env form, whose default is
    the committed port and whose variable another checkout sets. Anything else: None."""
    match = _VAR.fullmatch(written.strip())
    braced = _BRACED.fullmatch(match.group("braced") or "") if match else None
    if braced is None or braced.group("op") not in (":-", "-"):
        return None
    word = braced.group("word")
    return braced.group("name") if is_digits(word) and expand(word) else None


def _reference(text: str) -> str | None:
    """The first variable reference in ``text`` (what a field names), if any."""
    match = next((m for m in _VAR.finditer(text) if m.group() != "$$"), None)
    return match.group() if match else None


# ------------------------------------------------------------ projects


class Source(NamedTuple):
    display: str
    text: str


class Project(NamedTuple):
    """Files compose merges into one application, in order, and its .env values."""

    group: str
    files: tuple[Source, ...]
    env: dict[str, str]


def project_of(display: str) -> str:
    """The run group of a project whose first file is ``display``."""
    return f"compose:{display}"


def single(display: str, text: str, env: dict[str, str] | None = None) -> Project:
    return Project(project_of(display), (Source(display, text),), env or {})


# ------------------------------------------------------------ reading and merging


class _Entry(NamedTuple):
    """Where one ``ports`` entry is written: its file, its node, and the plain path to it
    (None when it comes through an anchor or a merge key that others may share)."""

    display: str
    node: Any
    path: YamlPath | None


Merged = dict[str, dict[tuple[object, ...], tuple[Observation, _Entry]]]


def scan_project(project: Project) -> list[Observation]:
    """The project's bindings after compose's merge (raises PortregError if a file is not
    YAML)."""
    return [seen for held in _merge(project).values() for seen, _ in held.values()]


@collector_paused()
def scan_text(display: str, text: str) -> list[Observation]:
    """Observations of one compose file read as a project of its own."""
    return scan_project(single(display, text))


def _merge(project: Project) -> Merged:
    merged: Merged = {}
    for source in project.files:
        for doc in ys.documents(source.text, source.display):
            memo: dict[tuple[int, str], Any] = {}
            for service, plain, body in _services(ys.lookup(doc, "services", memo)):
                _merge_service(merged, project, source.display, service, (plain, body), memo=memo)
    return merged


def _services(node: Any) -> Iterator[tuple[str, bool, Any]]:
    """(name, written here (not an alias), body) of each service."""
    if node is not None and node.id == "mapping":
        for key, body in node.value:
            if key.id == "scalar" and key.value != "<<":
                yield str(key.value), body.start_mark.index > key.start_mark.index, body


def _merge_service(
    merged: Merged,
    project: Project,
    display: str,
    service: str,
    written: tuple[bool, Any],
    *,
    memo: dict[tuple[int, str], Any],
) -> None:
    plain, body = written
    if body.tag == _RESET:
        merged.pop(service, None)
        return
    held = merged.setdefault(service, {})
    ports = ys.lookup(body, "ports", memo)
    if ports is None and body.tag != _OVERRIDE:
        return
    if body.tag == _OVERRIDE or (ports is not None and ports.tag in (_RESET, _OVERRIDE)):
        held.clear()
    own = ys.get(body, "ports") is ports and _after_key(body, "ports")
    base: YamlPath | None = ("services", service, "ports") if plain and own else None
    for index, node in enumerate(ys.sequence(ports)):
        entry = _Entry(display, node, None if base is None else (*base, index))
        for seen in _read_entry(project, service, entry, memo):
            held.pop(_key(seen), None)  # the later file's entry wins, and comes last
            held[_key(seen)] = (seen, entry)


def _after_key(mapping: Any, key: str) -> bool:
    """Whether ``key``'s value is written after the key (not an alias to an anchor)."""
    return any(
        k.value == key and value.start_mark.index > k.start_mark.index
        for k, value in mapping.value
        if k.id == "scalar"
    )


def _key(seen: Observation) -> tuple[object, ...]:
    """What compose merges ports by: address, published port, target (TCP only here)."""
    if seen.namespace == UNREAD:
        return (UNREAD, seen.field)
    return (seen.address, seen.port, seen.leads_to)


def _read_entry(
    project: Project, service: str, entry: _Entry, memo: dict[tuple[int, str], Any]
) -> list[Observation]:
    try:
        if ys.is_mapping(entry.node):
            return _read_long(project, service, entry, memo)
        return _read_short(project, service, entry)
    except _Unset:
        text = ys.scalar(entry.node)
        if text is None:
            text = ys.scalar(ys.lookup(entry.node, "published", memo)) or ""
        return [
            _observe(project, service, entry, (entry.node, text), (0, "", None), namespace=UNREAD)
        ]


def _read_short(project: Project, service: str, entry: _Entry) -> list[Observation]:
    raw = ys.scalar(entry.node) or ""
    split = _split_short(interpolate(raw, project.env)[0])
    if split is None:
        return []
    address, host, container = split
    hosts = expand(host)
    # the field names the variable the host part is written with; without "$" it has none
    written = _raw_host(raw) if "$" in raw else ""
    field = _named("ports", written) if written else "ports"
    variable = env_variable(written) if written else None
    return [
        _observe(
            project,
            service,
            entry,
            (entry.node, field),
            (port, address, leads),
            namespace=HOST,
            variable=variable,
        )
        for port, leads in zip(hosts, _leads(hosts, expand(container)), strict=True)
    ]


def _raw_host(raw: str) -> str:
    """The HOST part of a short entry as written (``${PORT:-8001}``)."""
    spans = _parts(raw.strip().partition("/")[0])
    return raw.strip()[slice(*spans[-2])] if len(spans) >= 2 else ""


def _named(field: str, written: str) -> str:
    reference = _reference(written)
    return f"{field} ({reference})" if reference else field


def _read_long(
    project: Project, service: str, entry: _Entry, memo: dict[tuple[int, str], Any]
) -> list[Observation]:
    def text(key: str) -> str:
        return interpolate(ys.scalar(ys.lookup(entry.node, key, memo)) or "", project.env)[0]

    published = ys.lookup(entry.node, "published", memo)
    if (text("protocol") or "tcp").lower() != "tcp" or ys.scalar(published) is None:
        return []
    hosts = expand(text("published"))
    written = ys.scalar(published) or ""
    field = _named("published", written)
    address = text("host_ip")
    variable = env_variable(written) if "$" in written else None
    return [
        _observe(
            project,
            service,
            entry,
            (published, field),
            (port, address, leads),
            namespace=HOST,
            variable=variable,
        )
        for port, leads in zip(hosts, _leads(hosts, expand(text("target"))), strict=True)
    ]


def _observe(
    project: Project,
    service: str,
    entry: _Entry,
    where: tuple[Any, str],
    binding: tuple[int, str, int | None],
    *,
    namespace: str,
    variable: str | None = None,
) -> Observation:
    node, field = where
    port, address, leads_to = binding
    role = "port" if namespace == HOST else "other"
    shown = "" if address in ("0.0.0.0", "::") else address
    line = ys.line_of(node)
    return Observation(
        NAME,
        entry.display,
        line,
        port,
        field,
        role,
        service,
        namespace,
        project.group,
        shown,
        leads_to,
        variable=variable,
    )


# ------------------------------------------------------------ editing


def set_port(display: str, text: str, service: str, port: int) -> str:
    """``text`` with ``service``'s published host port at ``port``, read as a project of
    its own (``edit_project``)."""
    return edit_project(single(display, text), service, port).get(display, text)


def edit_project(project: Project, service: str, port: int) -> dict[str, str]:
    """The project's changed texts with ``service``'s published host port at ``port``
    (byte-exact, proven by yamledit). Only a service with one publishing entry is edited:
    with several (an app and a debugger), which is the service's would be a guess."""
    held = list(_merge(project).get(service, {}).values())
    hosts = [seen for seen, _ in held if seen.namespace == HOST]
    if not hosts or all(seen.port == port for seen in hosts):
        return {}  # nothing of the service's to move here
    first = hosts[0]
    entries = {id(entry.node): entry for _, entry in held}
    if len(entries) != 1:
        why = f"{service} publishes {len(entries)} ports here; which is its port would be a guess"
        raise _refused(first, why)
    entry = held[0][1]
    if len(hosts) != 1:
        written = ys.scalar(entry.node) or ys.scalar(ys.get(entry.node, "published"))
        raise _refused(first, f"{written!r} publishes a range of ports")
    text = next(source.text for source in project.files if source.display == entry.display)
    return {entry.display: _moved(project, entry, text, first, port)}


def _moved(project: Project, entry: _Entry, text: str, seen: Observation, port: int) -> str:
    from portreg.edit import yaml as yamledit

    count = len(ys.documents(text, entry.display))
    if count != 1:
        raise _refused(seen, f"the file holds {count} YAML documents")
    if entry.path is None:
        raise _refused(seen, "it is written in a YAML anchor other services may share")
    if ys.is_mapping(entry.node):
        published = ys.scalar(ys.get(entry.node, "published"))
        if published is None:
            raise _refused(seen, "its published port comes through a merge key")
        if is_digits(published):
            return yamledit.set_values(text, {(*entry.path, "published"): port}, entry.display)
        if not ys.get(entry.node, "published").style:  # plain: yamledit would add quotes
            raise _refused(seen, "its variable is written unquoted")
        new = _digits_moved(project, seen, published, port)
        return yamledit.set_values(text, {(*entry.path, "published"): new}, entry.display)
    short = ys.scalar(entry.node) or ""
    return yamledit.set_values(
        text, {entry.path: _short_with(project, seen, short, port)}, entry.display
    )


def _short_with(project: Project, seen: Observation, short: str, port: int) -> str:
    """``[IP:]HOST:CONTAINER[/PROTO]`` with only the digits of HOST moved: the container
    still listens where it did (``"8002:8002"`` -> ``"8001:8002"``)."""
    spec, slash, protocol = short.partition("/")
    spans = _parts(spec)
    start, end = spans[-2]
    host = _digits_moved(project, seen, spec[start:end], port)
    return spec[:start] + host + spec[end:] + slash + protocol


def _digits_moved(project: Project, seen: Observation, written: str, port: int) -> str:
    """``written`` (``8002``, `` 8002``, ``${PORT:-8002}``) with only the digits of the
    old port moved; a value from the .env file is the .env file's to change."""
    if interpolate(written, project.env)[1]:
        raise _refused(seen, f"its value comes from {ENV_FILE}", hint=f"edit {ENV_FILE} by hand")
    # only the digits: spaces, a range, a variable's name (PORT8002) stay
    number = re.compile(rf"(?<![0-9A-Za-z_]){seen.port}(?![0-9])")
    moved, count = number.subn(str(port), written)
    if not count:
        raise _refused(seen, f"{written!r} is not a literal port")
    return moved


def _refused(seen: Observation, why: str, hint: str = "edit it by hand") -> FileEditError:
    return FileEditError(
        f"{seen.field} {seen.port}: {why}", where=f"{seen.path}:{seen.line}", hint=hint
    )


def env_form(display: str, text: str, variable_of: Callable[[Observation], str | None]) -> str:
    """``text`` with each literal published host port taken from the environment, its
    committed number the default (``portreg init --env-ports``): ``"8002:8080"`` ->
    ``"${INVOICE_PORT:-8002}:8080"`` (a host IP kept), ``published: 8002`` ->
    ``published: "${INVOICE_PORT:-8002}"``. ``variable_of`` names each binding's
    variable (None: left as it is). A port already taken from a variable, a range, a
    container port alone, an entry in an anchor others may share and a file of several
    documents are left as they are; only the host port's digits are replaced (byte-exact,
    proven by yamledit), and the file, read again, must publish what it did.
    """
    from portreg.edit import yaml as yamledit

    project = single(display, text)
    changes: dict[YamlPath, str | int] = {}
    for held in _merge(project).values():
        by_entry: dict[int, list[tuple[Observation, _Entry]]] = {}
        for seen, entry in held.values():
            by_entry.setdefault(id(entry.node), []).append((seen, entry))
        for pairs in by_entry.values():
            seen, entry = pairs[0]
            if len(pairs) != 1 or seen.namespace != HOST:
                continue
            rewrite = _env_entry(entry, seen.port)
            variable = None if rewrite is None else variable_of(seen)
            if rewrite is not None and variable is not None:
                changes[rewrite[0]] = rewrite[1](f"${{{variable}:-{seen.port}}}")
    if not changes or len(ys.documents(text, display)) != 1:
        return text
    new = yamledit.set_values(text, changes, display)
    if [_published(seen) for seen in scan_text(display, new)] != [
        _published(seen) for seen in scan_text(display, text)
    ]:
        raise FileEditError(
            "a faithful rewrite of its published ports is not possible; nothing was written",
            where=display,
            hint="write them as ${NAME_PORT:-8002} by hand",
        )
    return new


def _published(seen: Observation) -> tuple[object, ...]:
    """What a binding publishes, whatever its spelling."""
    return (seen.service, seen.namespace, seen.port, seen.address, seen.leads_to)


def _env_entry(entry: _Entry, port: int) -> tuple[YamlPath, Callable[[str], str]] | None:
    """Where one literal entry's host port is written, and its text with the port's digits
    replaced by a given ``${VAR:-8002}``; None for an entry that is no literal port."""
    if entry.path is None:
        return None
    number = re.compile(rf"(?<![0-9]){port}(?![0-9])")
    if ys.is_mapping(entry.node):
        published = ys.scalar(ys.get(entry.node, "published"))
        if published is None or not is_digits(published.strip()):
            return None
        written = published
        return (*entry.path, "published"), lambda env: number.sub(env, written, count=1)
    short = ys.scalar(entry.node) or ""
    spec, slash, protocol = short.partition("/")
    spans = _parts(spec)
    if "$" in short or len(spans) < 2:
        return None
    start, end = spans[-2]
    if not is_digits(spec[start:end].strip()):
        return None

    def moved(env: str) -> str:
        host = number.sub(env, spec[start:end], count=1)
        return spec[:start] + host + spec[end:] + slash + protocol

    return entry.path, moved


# ------------------------------------------------------------ the target


class ComposeTarget:
    """compose projects: ``check`` reads each project merged, ``fix`` moves a service's
    one published host port (``edit_project``). A project is read whole (not file by file)
    because its files and its .env change each other's meaning."""

    name = NAME

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def files(self, ws: Workspace) -> list[str]:
        """Repo-relative paths matching any configured glob or declared project, sorted."""
        config = self.settings.compose
        named = {name for pattern in config.files for name in ws.glob_names(pattern)}
        named |= {extra for name in named for extra in _overrides(ws, name)}
        return sorted(named | {name for group in _declared(self.settings) for name in group})

    def projects(self, ws: Workspace) -> list[Project]:
        tilt = self.settings.tilt
        return [
            _project(ws, names, _started_by(tilt, names))
            for names in group_files(self.files(ws), _declared(self.settings))
        ]

    def scan(self, ws: Workspace) -> list[Observation]:
        """Every project's ports; a project that cannot be read is its own error
        (``PartlyRead``), and the other projects are read all the same."""
        found: list[Observation] = []
        errors: list[PortregError] = []
        tilt = self.settings.tilt
        for names in group_files(self.files(ws), _declared(self.settings)):
            try:
                found += scan_project(_project(ws, names, _started_by(tilt, names)))
            except PortregError as exc:
                errors.append(exc if exc.where else PortregError(exc.message, where=names[0]))
        if errors:
            raise PartlyRead(found, errors)
        return found

    def update(
        self, ws: Workspace, wanted: Assignment, *, scaffold: bool = False, ports_only: bool = False
    ) -> list[str]:
        for project in self.projects(ws):
            for display, text in edit_project(project, wanted.service, wanted.port).items():
                ws.write(ws.resolve(display), text)
        return []

    def remove(self, ws: Workspace, service: str, port: int | None = None) -> list[str]:
        return []


def _overrides(ws: Workspace, display: str) -> list[str]:
    """The override files compose reads with ``display`` (``compose.override.yaml``)."""
    folder, stem = base_of(display)
    prefix = f"{folder}/" if folder else ""
    return [n for ext in ("yaml", "yml") for n in ws.glob_names(f"{prefix}{stem}.override.{ext}")]


def _declared(settings: Settings) -> tuple[tuple[str, ...], ...]:
    projects: tuple[tuple[str, ...], ...] = getattr(settings.compose, "projects", ())
    return projects


def _started_by(tilt: TiltSettings, names: list[str]) -> str | None:
    """The run group of the Tiltfile that starts this project (``docker_compose()``):
    Tilt runs it beside the Tiltfile's own resources and the cluster."""
    if not tilt.enabled:
        return None
    tiltfile = next((t for name in names if (t := tilt.started_by(name)) is not None), None)
    return None if tiltfile is None else f"tilt:{tiltfile}"


def _project(ws: Workspace, names: list[str], group: str | None = None) -> Project:
    """The project's files and its folder's .env, read through the workspace; ``group``:
    the run group it runs in when not its own."""
    sources = []
    for name in names:
        text = ws.read(ws.resolve(name))
        if text is None:
            raise PortregError("no such file (named in [compose] projects)", where=name)
        sources.append(Source(name, text))
    folder = names[0].rpartition("/")[0]
    env = ws.read(ws.resolve(f"{folder}/{ENV_FILE}" if folder else ENV_FILE))
    return Project(group or project_of(names[0]), tuple(sources), env_values(env or ""))
