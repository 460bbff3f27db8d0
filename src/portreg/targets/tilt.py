"""Tiltfile (read-only): port literals Tilt will forward, never evaluated.

Starlark shares Python's lexical syntax, so the file is tokenized (not run)
and three literal forms are read:

* ``port_forwards=`` with a string (``'8001:8001'``, ``'localhost:8001:80'``),
  an int, or a list of them: the local (host) port is the one held;
* ``port_forward(8001, 8001)`` / ``port_forward(local_port=8001)``;
* a dict literal assigned to a name containing ``port`` that maps service
  names to ports: ``SERVICE_PORTS = {'invoice': 8002}``.

Inside ``k8s_resource('invoice', ...)`` (or ``workload='invoice'``) a forward
belongs to that service. Anything computed (``str(base + 1)``, a variable,
a ``load()``-ed value) is not a literal and is not read.

``tests/test_tilt_oracle.py`` holds this reader and ``set_port`` to a real
Starlark parser's AST on generated Tiltfiles.
"""

from __future__ import annotations

import re
import token as kinds  # token kinds only; tokenize itself is slow to import and to run
from collections.abc import Iterator
from typing import NamedTuple

from portreg.errors import FileEditError, PortregError
from portreg.model import is_digits
from portreg.targets.base import HOST, NAMED, Observation
from portreg.targets.scanned import ScannedTarget

NAME = "tilt"
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
_PAIR = {")": "(", "]": "[", "}": "{"}


class Token(NamedTuple):  # a NamedTuple: built once per token, so it must be cheap
    kind: int
    text: str
    line: int
    start: int = 0  # offset in the text: where an edit of this literal goes


# possessive (*+): what is skipped is never given back, so a comment cannot end early
_SKIP = r"""(?:[ \t\f]+|\\\r?\n|\#[^\r\n]*|\r?\n|\r)*+"""
# each match is what is skipped (blanks, comments, line breaks) and then one token
_LEXER = re.compile(
    _SKIP
    + r"""(?:(?P<string>[rRbBuU]{0,2}(?:\'\'\'[\s\S]*?\'\'\'|\"\"\"[\s\S]*?\"\"\"
        |\'(?:[^\'\\\r\n]|\\.)*\'|\"(?:[^\"\\\r\n]|\\.)*\"))
    |(?P<number>[0-9][\w.]*)
    |(?P<name>[^\W\d]\w*)
    |(?P<op>[^\s\w\'\"]))
    """,
    re.VERBOSE,
)
_TRAILER = re.compile(_SKIP)
_KINDS = {"string": kinds.STRING, "number": kinds.NUMBER, "name": kinds.NAME, "op": kinds.OP}


def tokens(text: str, display: str) -> list[Token]:
    """Significant tokens (no comments or newlines) with their lines.

    A small regex lexer for Starlark's (Python's) lexical syntax: the standard
    ``tokenize`` is several times slower and this runs on every ``check``.
    One match per token (the blanks before it included), and lines counted
    between token starts, keep it to a few microseconds a token.
    """
    found: list[Token] = []
    line, position, counted = 1, 0, 0
    count = text.count
    for match in _LEXER.finditer(text):
        if match.start() != position:
            break  # something no token starts with, such as an unterminated string
        position = match.end()
        kind = match.lastgroup or "op"
        start = match.start(kind)
        line += count("\n", counted, start)
        counted = start
        found.append(Token(_KINDS[kind], text[start:position], line, start))
    trailer = _TRAILER.match(text, position)  # (always matches, maybe empty)
    stop = trailer.end() if trailer else position
    if stop != len(text):
        line += count("\n", counted, stop)
        where = f"{display}:{line}"
        raise PortregError("cannot read the Tiltfile (an unterminated string?)", where=where)
    _check_brackets(found, display, line + count("\n", counted))
    return found


def _check_brackets(toks: list[Token], display: str, last_line: int) -> None:
    """Refuse a file whose brackets do not balance: its calls cannot be read reliably."""
    opened: list[Token] = []
    for tok in toks:
        if tok.text in _OPEN:
            opened.append(tok)
        elif tok.text in _CLOSE and (not opened or opened.pop().text != _PAIR[tok.text]):
            raise PortregError(f"unmatched {tok.text!r}", where=f"{display}:{tok.line}")
    if opened:
        message = f"{opened[-1].text!r} opened on line {opened[-1].line} is never closed"
        raise PortregError(message, where=f"{display}:{last_line}")


def literal(token: Token) -> int | str | None:
    """The value of a string or int literal token, else None."""
    text = token.text
    if token.kind == kinds.NUMBER and is_digits(text):
        return int(text)
    if token.kind == kinds.STRING and text[:1] in "'\"" and "\\" not in text:
        quote = text[:3] if text[:3] in ('"""', "'''") else text[:1]
        return text[len(quote) : -len(quote)]
    if token.kind not in (kinds.STRING, kinds.NUMBER):
        return None
    import ast  # rare: only prefixed or escaped strings and hex numbers need it

    try:  # prefixed or escaped strings, hex numbers: let Python read them
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def local_port(value: int | str | None) -> int | None:
    """The host side of a forward: ``8001``, ``'8001'``, ``'8001:80'``, ``'host:8001:80'``."""
    if isinstance(value, str):
        parts = value.strip().split(":")
        text = parts[1] if len(parts) == 3 else parts[0]
        value = int(text) if len(parts) <= 3 and is_digits(text) and len(text) <= 5 else None
    if isinstance(value, int) and 1 <= value <= 65535:
        return value
    return None


def closing(toks: list[Token], start: int) -> int:
    """Index of the bracket that closes the one at ``start`` (or the last token)."""
    depth = 0
    for index in range(start, len(toks)):
        if toks[index].text in _OPEN:
            depth += 1
        elif toks[index].text in _CLOSE:
            depth -= 1
            if depth == 0:
                return index
    return len(toks) - 1


class _Reader:
    """One pass over a Tiltfile's tokens, yielding Observations."""

    def __init__(self, display: str, toks: list[Token]) -> None:
        self.display = display
        self.toks = toks
        self.resources = self._resources()
        self.owners = self._owners()

    def at(self, index: int) -> Token:
        return self.toks[index] if index < len(self.toks) else Token(kinds.ENDMARKER, "", 0)

    def _resources(self) -> list[tuple[int, int, str]]:
        """(open, close, name) of every ``k8s_resource(...)`` call with a literal name."""
        spans = []
        for index, tok in enumerate(self.toks):
            if tok.text == "k8s_resource" and self.at(index + 1).text == "(":
                end = closing(self.toks, index + 1)
                name = self._call_name(index + 1, end)
                if name:
                    spans.append((index + 1, end, name))
        return spans

    def _call_name(self, start: int, end: int) -> str | None:
        first = literal(self.at(start + 1))
        if isinstance(first, str) and self.at(start + 2).text in (",", ")"):
            return first
        value = self._keyword(start, end, "workload")
        return value if isinstance(value, str) else None

    def _keyword(self, start: int, end: int, name: str) -> int | str | None:
        for index in range(start + 1, end):
            if self.at(index).text == name and self.at(index + 1).text == "=":
                return literal(self.at(index + 2))
        return None

    def owner(self, index: int) -> str | None:
        """The innermost ``k8s_resource`` call around a token, if any."""
        return self.owners.get(index)

    def _owners(self) -> dict[int, str]:
        """Token index -> resource name; calls nest properly, so inner spans overwrite outer."""
        owners: dict[int, str] = {}
        for start, end, name in self.resources:
            owners.update(dict.fromkeys(range(start + 1, end + 1), name))
        return owners

    def observation(self, index: int, port: int, field: str, service: str | None) -> Located:
        line = self.at(index).line
        group = f"tilt:{self.display}"
        namespace = NAMED if field == "dict" else HOST
        found = Observation(
            NAME, self.display, line, port, field, "port", service, namespace, group
        )
        return Located(found, index)

    def forwards(self, index: int) -> Iterator[Located]:
        """``port_forwards=`` followed by a literal or a list of literals."""
        value = index + 2
        candidates = self.elements(value) if self.at(value).text == "[" else [value]
        for at in candidates:
            port = local_port(literal(self.at(at)))
            if port is not None and self.at(at + 1).text in (",", "]", ")"):
                yield self.observation(at, port, "port_forwards", self.owner(index))

    def elements(self, start: int) -> list[int]:
        """Indexes of the first token of each top-level element of a list at ``start``."""
        found, depth = [start + 1], 0
        for at in range(start + 1, closing(self.toks, start)):
            text = self.at(at).text
            depth += (text in _OPEN) - (text in _CLOSE)
            if depth == 0 and text == ",":
                found.append(at + 1)
        return found

    def forward_call(self, index: int) -> Iterator[Located]:
        """``port_forward(8001, ...)`` or ``port_forward(local_port=8001, ...)``."""
        start, end = index + 1, closing(self.toks, index + 1)
        first = self.at(start + 1)
        if first.kind == kinds.NUMBER and self.at(start + 2).text in (",", ")"):
            port, at = local_port(literal(first)), start + 1
        else:
            port = local_port(self._keyword(start, end, "local_port"))
            at = next(
                (i + 2 for i in range(start + 1, end) if self.at(i).text == "local_port"),
                start,
            )
        if port is not None:
            yield self.observation(at, port, "port_forward", self.owner(index))

    def port_dict(self, index: int) -> Iterator[Located]:
        """``NAME_PORTS = {'svc': 8001, ...}``: each literal pair is one service's port.

        Only the dict's own entries count: in ``{'invoice': {'http': 8002}}`` the inner
        ``'http'`` is not a service (named ports are read nowhere yet).
        """
        start = index + 2
        end = closing(self.toks, start)
        depth = 0
        for at in range(start, end - 2):
            text = self.at(at).text
            depth += (text in _OPEN) - (text in _CLOSE)
            if depth != 1 or text not in ("{", ","):
                continue
            key, colon, value = self.at(at + 1), self.at(at + 2), self.at(at + 3)
            name, port = literal(key), literal(value)
            if colon.text == ":" and isinstance(name, str) and self.at(at + 4).text in (",", "}"):
                number = local_port(port) if isinstance(port, int) or is_digits(str(port)) else None
                if number is not None:
                    yield self.observation(at + 3, number, "dict", name)

    def read(self) -> Iterator[Located]:
        for index, tok in enumerate(self.toks):
            following = self.at(index + 1).text
            if tok.kind != kinds.NAME:
                continue
            if tok.text == "port_forwards" and following == "=":
                yield from self.forwards(index)
            elif tok.text == "port_forward" and following == "(":
                yield from self.forward_call(index)
            elif "port" in tok.text.lower() and following == "=" and self.at(index + 2).text == "{":
                yield from self.port_dict(index)


class Located(NamedTuple):
    """An observation and the index of the literal token that holds it."""

    observation: Observation
    token: int


def scan_text(display: str, text: str) -> list[Observation]:
    """Observations of one Tiltfile (raises PortregError if it cannot be tokenized)."""
    return [found.observation for found in _Reader(display, tokens(text, display)).read()]


def set_port(display: str, text: str, service: str, port: int) -> str:
    """``text`` with every literal that forwards a port for ``service`` forwarding ``port``.

    Edits are made at the literal tokens' own offsets, from the end backwards, so every
    other byte stays; a literal portreg cannot rewrite faithfully (a hex number, an
    escaped string) is refused. The result is read again: the service's forwards must
    hold ``port`` and every other forward what it held, or nothing is written.
    """
    toks = tokens(text, display)
    found = list(_Reader(display, toks).read())
    forwards = [
        o for o in found if o.observation.service == service and o.observation.field != "dict"
    ]
    edits: list[tuple[int, int, str]] = []
    for located in found:
        obs = located.observation
        if obs.service != service or obs.port == port:
            continue
        if obs.field != "dict" and len(forwards) > 1:
            continue  # several forwards (an app and a debugger): which is the service's is a guess
        edits += _literal_edits(toks, located, port, display)
    if not edits:
        return text
    new = text
    for start, end, replacement in sorted(edits, reverse=True):
        new = new[:start] + replacement + new[end:]
    edited = {start for start, _end, _text in edits}
    want = [
        o.observation._replace(port=port) if toks[o.token].start in edited else o.observation
        for o in found
    ]
    if scan_text(display, new) != want:
        raise FileEditError(
            "a faithful edit of this Tiltfile is not possible; nothing was written",
            where=display,
            hint="edit its port forwards by hand",
        )
    return new


def _literal_edits(
    toks: list[Token], located: Located, port: int, display: str
) -> list[tuple[int, int, str]]:
    """The (start, end, text) edits that move one forward's local (host) side to ``port``.

    The remote side stays where the container listens: ``8002`` -> ``'8001:8002'``,
    ``'8002:8002'`` -> ``'8001:8002'``, ``port_forward(8002)`` -> ``port_forward(8001, 8002)``.
    """
    tok = toks[located.token]
    obs = located.observation
    old, span = obs.port, (tok.start, tok.start + len(tok.text))
    if tok.kind == kinds.NUMBER and is_digits(tok.text):
        following = toks[located.token + 1].text if located.token + 1 < len(toks) else ""
        keyword = located.token > 0 and toks[located.token - 1].text == "="
        if obs.field == "dict" or (following == "," and not keyword):
            return [(*span, str(port))]
        if obs.field == "port_forwards":
            return [(*span, f"'{port}:{old}'")]
        if following == ")" and not keyword:
            return [(*span, f"{port}, {old}")]
    # r'8001:80' reads as '8001:80' when it holds no backslash: keep the prefix, edit the rest
    prefix = "r" if tok.text[:1] in "rR" else ""
    body = tok.text[len(prefix) :]
    plain = body[:3] not in ('"""', "'''") and "\\" not in body
    if tok.kind == kinds.STRING and body[:1] in "'\"" and plain:
        quote = body[0]
        parts = body[1:-1].split(":")
        host = 1 if len(parts) == 3 else 0
        number = re.compile(rf"(?<![0-9]){old}(?![0-9])")  # only the digits: spaces stay
        parts[host] = number.sub(str(port), parts[host])
        if len(parts) == 1:
            parts.append(str(old))
        text = tok.text[: len(prefix)] + quote + ":".join(parts) + quote
        return [(*span, text)]
    raise FileEditError(
        f"the forward of port {old} is not a plain literal portreg can rewrite",
        where=f"{display}:{tok.line}",
        hint="edit it by hand",
    )


class TiltTarget(ScannedTarget):
    """Tiltfiles: ``fix`` moves a service's literal forward (``set_port``), so a moved
    service leaves no stale forward."""

    name = NAME

    def scan_file(self, display: str, text: str) -> list[Observation]:
        return scan_text(display, text)

    def set_port(self, display: str, text: str, service: str, port: int) -> str:
        return set_port(display, text, service, port)
