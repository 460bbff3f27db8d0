"""Types, constants, node helpers and the path syntax shared by every yamledit module."""

from __future__ import annotations

import re

# typing costs as much to import as a whole fast command's own work; only mypy needs it here
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, TypeAlias

    # A PyYAML node (yaml.ScalarNode, MappingNode, SequenceNode).
    # PyYAML's stubs lack the ``id``, ``style`` and ``flow_style`` every walk here reads.
    Node: TypeAlias = Any
else:
    Node = object


Scalar = str | int


class Select:
    """The first item of a list of mappings whose ``key`` holds the scalar ``value``."""

    __slots__ = ("key", "value")

    def __init__(self, key: str, value: str) -> None:
        self.key = key
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Select) and (self.key, self.value) == (other.key, other.value)

    def __hash__(self) -> int:
        return hash((Select, self.key, self.value))

    def __repr__(self) -> str:
        return f"Select(key={self.key!r}, value={self.value!r})"


Key = str | int | Select


Path = tuple[Key, ...]


STR_TAG = "tag:yaml.org,2002:str"


INT_TAG = "tag:yaml.org,2002:int"


_BREAK = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")
_BREAK_CHARS = "\n\r\x85\u2028\u2029"  # what ``_BREAK`` matches, for rstrip


_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./@+-]*(?: [A-Za-z0-9_./@+-]+)*")


_DEFAULT_STEP = 2


class _Edit:
    """Replace ``[start, end)`` of the text with ``text``."""

    __slots__ = ("end", "start", "text")

    def __init__(self, start: int, end: int, text: str) -> None:
        self.start = start
        self.end = end
        self.text = text


class Item:
    """One item of a block list, with the line its dash sits on and the comment line above."""

    __slots__ = ("comment", "dash_line", "index", "node")

    def __init__(self, index: int, node: Node, dash_line: int, comment: str | None) -> None:
        self.index = index
        self.node = node
        self.dash_line = dash_line  # 0-based
        self.comment = comment  # the stripped comment line right above the dash, if any


def format_path(path: Path) -> str:
    """``service.port``, ``nodes[0].extraPortMappings``, ``servers[?description=='local']``."""
    text = ""
    for key in path:
        if isinstance(key, int):
            text += f"[{key}]"
        elif isinstance(key, Select):
            text += f"[?{key.key}=='{key.value}']"
        else:
            text += f".{key}" if text else key
    return text or "the document"


# compiled on first use (re caches it): most commands never read a path from text
_PATH_TOKEN = (
    r"\.?(?P<key>[^.\[\]]+)|\[(?P<index>[0-9]+)\]"
    r"""|\[\?(?P<field>[^=\]]+)==(?P<q>['"])(?P<value>.*?)(?P=q)\]"""
)


def parse_path(text: str) -> Path:
    """Read ``a.b[0].c[?name=='x'].url`` into a path tuple; raises ValueError when malformed."""
    keys: list[Key] = []
    position = 0
    while position < len(text):
        match = re.compile(_PATH_TOKEN).match(text, position)
        if match is None or (match.group("key") and position and text[position] != "."):
            raise ValueError(f"bad path {text!r} at character {position + 1}")
        if match.group("key") is not None:
            keys.append(match.group("key"))
        elif match.group("index") is not None:
            keys.append(int(match.group("index")))
        else:
            keys.append(Select(match.group("field").strip(), match.group("value")))
        position = match.end()
    if not keys:
        raise ValueError("empty path")
    return tuple(keys)


def _loader() -> Any:
    from portreg.edit.yaml.loader import Loader

    return Loader


def _is_empty(node: Node) -> bool:
    """A ``key:`` with nothing after it (an implicit null)."""
    return bool(node.id == "scalar" and node.value == "" and not node.style)


def tag_of(node: Node) -> str:
    """A node's YAML tag: as written, or as PyYAML's SafeLoader resolves a plain scalar
    (the loader leaves that open: readers never need it)."""
    if node.tag is not None:
        return str(node.tag)
    from portreg.edit.yaml.loader import resolved

    return resolved(node.value)


def _is_null(node: Node) -> bool:
    return bool(node.id == "scalar" and tag_of(node) == "tag:yaml.org,2002:null")


def _describe(node: Node) -> str:
    if node.id == "mapping":
        return "a mapping"
    if node.id == "sequence":
        return "a list"
    if _is_empty(node):
        return "empty"
    return f"a scalar ({node.value!r})"


def _scalar_value(mapping: Node, key: str) -> str | None:
    for k, v in mapping.value:
        if k.id == "scalar" and k.value == key and v.id == "scalar":
            return str(v.value)
    return None


def _leading_spaces(text: str) -> int:
    return len(text) - len(text.lstrip(" "))
