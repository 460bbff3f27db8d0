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
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass

from portreg.errors import PortregError
from portreg.targets._readonly import ReadOnlyScanner
from portreg.targets.base import Observation

NAME = "tilt"
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
_SKIP = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}


@dataclass(frozen=True)
class Token:
    kind: int
    text: str
    line: int


def tokens(text: str, display: str) -> list[Token]:
    """Significant tokens (no comments or newlines) with their lines."""
    try:
        raw = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        where = exc.args[1] if len(exc.args) > 1 else None
        line = where[0] if isinstance(where, tuple) and where else 1
        message = f"cannot read the Tiltfile's tokens ({exc.args[0]})"
        raise PortregError(message, where=f"{display}:{line}") from exc
    return [Token(t.type, t.string, t.start[0]) for t in raw if t.type not in _SKIP]


def literal(token: Token) -> int | str | None:
    """The value of a string or int literal token, else None."""
    if token.kind not in (tokenize.STRING, tokenize.NUMBER):
        return None
    try:
        value = ast.literal_eval(token.text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def local_port(value: int | str | None) -> int | None:
    """The host side of a forward: ``8001``, ``'8001'``, ``'8001:80'``, ``'host:8001:80'``."""
    if isinstance(value, str):
        parts = value.strip().split(":")
        text = parts[1] if len(parts) == 3 else parts[0]
        value = int(text) if len(parts) <= 3 and text.isdigit() else None
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

    def at(self, index: int) -> Token:
        return self.toks[index] if index < len(self.toks) else Token(tokenize.ENDMARKER, "", 0)

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
        inside = [(s, name) for s, e, name in self.resources if s < index <= e]
        return max(inside)[1] if inside else None

    def observation(self, index: int, port: int, field: str, service: str | None) -> Observation:
        line = self.at(index).line
        return Observation(NAME, self.display, line, port, field, "port", service)

    def forwards(self, index: int) -> Iterator[Observation]:
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

    def forward_call(self, index: int) -> Iterator[Observation]:
        """``port_forward(8001, ...)`` or ``port_forward(local_port=8001, ...)``."""
        start, end = index + 1, closing(self.toks, index + 1)
        first = self.at(start + 1)
        if first.kind == tokenize.NUMBER and self.at(start + 2).text in (",", ")"):
            port, at = local_port(literal(first)), start + 1
        else:
            port = local_port(self._keyword(start, end, "local_port"))
            at = start
        if port is not None:
            yield self.observation(at, port, "port_forward", self.owner(index))

    def port_dict(self, index: int) -> Iterator[Observation]:
        """``NAME_PORTS = {'svc': 8001, ...}``: each literal pair is one service's port."""
        start = index + 2
        end = closing(self.toks, start)
        for at in range(start + 1, end - 2):
            key, colon, value = self.at(at), self.at(at + 1), self.at(at + 2)
            name, port = literal(key), literal(value)
            if (
                colon.text == ":"
                and isinstance(name, str)
                and self.at(at - 1).text in ("{", ",")
                and self.at(at + 3).text in (",", "}")
            ):
                number = local_port(port) if isinstance(port, int) or str(port).isdigit() else None
                if number is not None:
                    yield self.observation(at + 2, number, "dict", name)

    def read(self) -> Iterator[Observation]:
        for index, tok in enumerate(self.toks):
            following = self.at(index + 1).text
            if tok.kind != tokenize.NAME:
                continue
            if tok.text == "port_forwards" and following == "=":
                yield from self.forwards(index)
            elif tok.text == "port_forward" and following == "(":
                yield from self.forward_call(index)
            elif "port" in tok.text.lower() and following == "=" and self.at(index + 2).text == "{":
                yield from self.port_dict(index)


def scan_text(display: str, text: str) -> list[Observation]:
    """Observations of one Tiltfile (raises PortregError if it cannot be tokenized)."""
    return list(_Reader(display, tokens(text, display)).read())


class TiltTarget(ReadOnlyScanner):
    name = NAME

    def scan_file(self, display: str, text: str) -> list[Observation]:
        return scan_text(display, text)
