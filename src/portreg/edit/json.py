"""Byte-exact edits of JSON text (pure: text in, text out), on yamledit's paths.

A small scanner records where every value sits in the text; an edit replaces
one value's span, or inserts a member or list item in the style of its
neighbours (their indentation, their ``": "`` separator, one line or many).
Every byte outside the edited spans stays as it was: indentation by spaces or
tabs, key order, a missing final newline, CRLF.

Nodes have the shape yamledit's composed nodes have (``id`` is ``mapping``,
``sequence`` or ``scalar``; ``value`` the pairs, items or scalar text), so
code that walks a document does not care which format it came from.

After every edit the new text is loaded with :mod:`json` and compared with
the old content plus the intended change; anything else is refused.
"""

from __future__ import annotations

import bisect
import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from portreg.edit.shallow import require_shallow_json
from portreg.edit.yaml import Path, Scalar, Select, format_path, nest
from portreg.errors import FileEditError

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"', re.DOTALL)
_SPACE = re.compile(r"[ \t\r\n]*")
_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(eq=False)
class Node:
    """One JSON value and its span ``[start, end)`` in the text."""

    id: str  # "mapping" | "sequence" | "scalar"
    start: int
    end: int
    value: Any = None  # pairs (mapping), items (sequence), or the scalar's text
    style: str | None = None  # '"' for a string, None for a number or literal


class _Scanner:
    """Recursive descent over text that :func:`json.loads` already accepted."""

    def __init__(self, text: str) -> None:
        self.text = text

    def skip(self, position: int) -> int:
        match = _SPACE.match(self.text, position)
        assert match is not None
        return match.end()

    def value(self, position: int) -> Node:
        position = self.skip(position)
        char = self.text[position]
        if char == "{":
            return self.container(position, "mapping", "}")
        if char == "[":
            return self.container(position, "sequence", "]")
        if char == '"':
            match = _STRING.match(self.text, position)
            assert match is not None
            return Node("scalar", position, match.end(), json.loads(match.group()), '"')
        match = _NUMBER.match(self.text, position)
        end = match.end() if match else position + len(_literal(self.text, position))
        return Node("scalar", position, end, self.text[position:end])

    def container(self, start: int, kind: str, close: str) -> Node:
        items: list[Any] = []
        position = self.skip(start + 1)
        while self.text[position] != close:
            if kind == "mapping":
                key = self.value(position)
                colon = self.skip(key.end)
                item = self.value(colon + 1)
                items.append((key, item))
            else:
                item = self.value(position)
                items.append(item)
            position = self.skip(item.end)
            if self.text[position] == ",":
                position = self.skip(position + 1)
        return Node(kind, start, position + 1, items)


class _NotJson(Exception):
    """A word :func:`json.loads` accepts but JSON does not (``NaN``, ``Infinity``)."""

    def __init__(self, word: str, position: int) -> None:
        super().__init__(word)
        self.word = word
        self.position = position


def _literal(text: str, position: int) -> str:
    for word in ("true", "false", "null"):
        if text.startswith(word, position):
            return word
    for word in ("NaN", "Infinity", "-Infinity"):  # Python's json reads them; JSON has no such
        if text.startswith(word, position):
            raise _NotJson(word, position)
    raise AssertionError("json.loads accepted what the scanner cannot read")


class Document:
    """A JSON text, its loaded value and its positioned nodes."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source

        require_shallow_json(text, source)
        try:
            self.data: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FileEditError(
                f"not valid JSON: {exc.msg}", where=f"{source}:{exc.lineno}"
            ) from exc
        except (RecursionError, ValueError) as exc:  # ValueError: an int of 4300+ digits
            raise FileEditError(f"not valid JSON: {str(exc)[:80]}", where=source) from exc
        self.starts = [0, *(m.end() for m in _BREAK.finditer(text))]
        match = _BREAK.search(text)
        self.newline = match.group(0) if match else "\n"
        try:
            self.root: Node = _Scanner(text).value(0)
        except _NotJson as exc:
            raise FileEditError(
                f"not valid JSON ({exc.word} is not JSON)",
                where=f"{source}:{self.line_at(exc.position) + 1}",
                hint="write a number, or null",
            ) from exc

    def line_at(self, position: int) -> int:
        """0-based line of a character offset."""
        return bisect.bisect_right(self.starts, position) - 1

    def line_of(self, node: Node) -> int:
        """1-based line of a node."""
        return self.line_at(node.start) + 1

    def where(self, node: Node) -> str:
        return f"{self.source}:{self.line_of(node)}"

    def indent_of(self, position: int) -> str:
        """The whitespace that starts the line holding ``position``."""
        start = self.starts[self.line_at(position)]
        line = self.text[start:position]
        return line[: len(line) - len(line.lstrip(" \t"))]

    def find(self, path: Path) -> Node | None:
        node, depth = self.walk(path)
        return node if depth == len(path) else None

    def walk(self, path: Path) -> tuple[Node, int]:
        """Follow ``path`` as far as it exists: (deepest node reached, keys matched)."""
        node = self.root
        for depth, key in enumerate(path):
            child = self._child(node, key, path[: depth + 1])
            if child is None:
                return node, depth
            node = child
        return node, len(path)

    def _child(self, node: Node, key: str | int | Select, path: Path) -> Node | None:
        wanted = "mapping" if isinstance(key, str) else "sequence"
        if node.id != wanted:
            article = "an object" if wanted == "mapping" else "a list"
            raise FileEditError(
                f"{format_path(path[:-1])} is not {article}",
                where=self.where(node),
                hint="fix the file by hand, then run again",
            )
        if isinstance(key, str):
            found = [v for k, v in node.value if k.value == key]
            if len(found) > 1:
                raise FileEditError(
                    f"key {format_path(path)} appears twice in one object", where=self.where(node)
                )
            return found[0] if found else None
        if isinstance(key, int):
            return node.value[key] if 0 <= key < len(node.value) else None
        for item in node.value:
            if item.id == "mapping" and any(
                k.value == key.key and v.id == "scalar" and str(v.value) == key.value
                for k, v in item.value
            ):
                result: Node = item
                return result
        return None

    def concrete(self, path: Path) -> list[str | int]:
        """The path with each Select replaced by the index of the item it chose."""
        result: list[str | int] = []
        for depth, key in enumerate(path):
            if isinstance(key, Select):
                parent, child = self.find(path[:depth]), self.find(path[: depth + 1])
                assert parent is not None
                result.append(next(i for i, n in enumerate(parent.value) if n is child))
            else:
                result.append(key)
        return result


def parse(text: str, source: str) -> Document:
    return Document(text, source)


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


# --------------------------------------------------------------- rendering


def _render(value: Any, doc: Document, indent: str, step: str | None) -> str:
    """JSON for ``value``; multi-line (``step`` per level, lines starting with ``indent``)."""
    text = json.dumps(value, ensure_ascii=False, indent=step)
    return text.replace("\n", doc.newline + indent) if step is not None else text


def _scalar_text(node: Node, value: Scalar) -> str:
    """A number stays a number when the new value is an int; anything else is a string."""
    if isinstance(value, int) and node.style is None:
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def _style(doc: Document, node: Node) -> tuple[str, str | None, str]:
    """(indent of members, indent step or None for one line, key/value separator) of a container."""
    own = doc.indent_of(node.start)
    members = [v for _, v in node.value] if node.id == "mapping" else node.value
    keys = [k for k, _ in node.value] if node.id == "mapping" else node.value
    separator = ": "
    if node.id == "mapping" and node.value:
        key, value = node.value[-1]
        separator = doc.text[key.end : value.start]
    if not members:
        multi = doc.newline in doc.text[node.start : node.end]
        return own + "  ", ("  " if multi else None), separator
    first = keys[0]
    if doc.line_at(first.start) == doc.line_at(node.start):
        return "", None, separator
    indent = doc.indent_of(first.start)
    step = indent[len(own) :] if indent.startswith(own) and len(indent) > len(own) else "  "
    return indent, step, separator


def _insert(doc: Document, node: Node, pieces: list[str]) -> _Edit:
    """Add members (``"key": value`` texts) or items at the end of a container, in its style."""
    indent, step, _ = _style(doc, node)
    last = (node.value[-1][1] if node.id == "mapping" else node.value[-1]) if node.value else None
    if step is None:
        joined = ", ".join(pieces)
        if last is None:
            return _Edit(node.start + 1, node.start + 1, joined)
        return _Edit(last.end, last.end, ", " + joined)
    nl = doc.newline
    body = ("," + nl).join(indent + piece for piece in pieces)
    if last is None:
        closing = doc.indent_of(node.start)
        return _Edit(node.start + 1, node.end - 1, nl + body + nl + closing)
    return _Edit(last.end, last.end, "," + nl + body)


def _member_text(doc: Document, node: Node, key: str, value: Any) -> str:
    indent, step, separator = _style(doc, node)
    return json.dumps(key, ensure_ascii=False) + separator + _render(value, doc, indent, step)


# ------------------------------------------------------------------- edits


def _splice(text: str, edits: Sequence[_Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def _put(data: Any, path: Sequence[str | int], value: Any) -> None:
    """Set ``value`` at ``path`` in loaded JSON, creating objects for missing keys."""
    for key in path[:-1]:
        data = data.setdefault(key, {}) if isinstance(key, str) else data[key]
    if isinstance(data, list) and path[-1] == len(data):
        data.append(value)
    else:
        data[path[-1]] = value


def _verify(doc: Document, text: str, expected: Any) -> str:
    try:
        after = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileEditError(
            f"the edit would break the file ({exc.msg}); nothing was written", where=doc.source
        ) from exc
    if after != expected:
        raise FileEditError(
            "a faithful edit is not possible here; nothing was written",
            where=doc.source,
            hint="edit this file by hand",
        )
    return text


def set_values(text: str, changes: Mapping[Path, Scalar], source: str) -> str:
    """Set scalars at paths; missing object keys are added after their siblings."""
    doc = parse(text, source)
    expected = copy.deepcopy(doc.data)
    edits: list[_Edit] = []
    inserts: dict[int, tuple[Node, dict[Path, Any]]] = {}
    for path, value in changes.items():
        node, depth = doc.walk(path)
        if depth == len(path):
            if node.id != "scalar":
                raise FileEditError(
                    f"{format_path(path)} is not a single value", where=doc.where(node)
                )
            new = _scalar_text(node, value)
            if doc.text[node.start : node.end] != new:
                edits.append(_Edit(node.start, node.end, new))
            _put(expected, doc.concrete(path), json.loads(new))
            continue
        if any(not isinstance(key, str) for key in path[depth:]) or node.id != "mapping":
            raise FileEditError(
                f"{format_path(path[: depth + 1])} does not exist",
                where=doc.where(node),
                hint="only object keys are added; add list items by hand",
            )
        literal = json.loads(_scalar_text(Node("scalar", 0, 0), value))
        inserts.setdefault(id(node), (node, {}))[1][path[depth:]] = literal
        _put(expected, [*doc.concrete(path[:depth]), *map(str, path[depth:])], literal)
    for node, missing in inserts.values():
        pieces = [_member_text(doc, node, k, v) for k, v in nest(missing).items()]
        edits.append(_insert(doc, node, pieces))
    return _verify(doc, _splice(text, edits), expected) if edits else text


def append_item(text: str, path: Path, item: Sequence[tuple[str, Scalar]], *, source: str) -> str:
    """Append an object to the list at ``path``; a missing last key becomes a new list."""
    doc = parse(text, source)
    expected = copy.deepcopy(doc.data)
    obj = {key: json.loads(_scalar_text(Node("scalar", 0, 0), v)) for key, v in item}
    node, depth = doc.walk(path)
    if depth == len(path):
        if node.id != "sequence":
            raise FileEditError(f"{format_path(path)} is not a list", where=doc.where(node))
        indent, step, _ = _style(doc, node)
        edit = _insert(doc, node, [_render(obj, doc, indent, step)])
        _put(expected, [*doc.concrete(path), len(node.value)], obj)
    elif depth == len(path) - 1 and isinstance(path[-1], str) and node.id == "mapping":
        edit = _insert(doc, node, [_member_text(doc, node, path[-1], [obj])])
        _put(expected, [*doc.concrete(path[:-1]), path[-1]], [obj])
    else:
        raise FileEditError(
            f"{format_path(path[: depth + 1])} does not exist", where=doc.where(node)
        )
    return _verify(doc, _splice(text, [edit]), expected)
