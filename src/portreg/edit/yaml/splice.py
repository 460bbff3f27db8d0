"""Splicing edits into the text, and proving each edit changed only what it meant to."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from portreg.edit.yaml.base import (
    _BREAK,
    Node,
    Path,
    Select,
    _Edit,
    tag_of,
)
from portreg.edit.yaml.document import (
    Document,
    parse,
)
from portreg.errors import FileEditError

if TYPE_CHECKING:
    from typing import Any


def _splice(text: str, edits: Sequence[_Edit]) -> str:
    """Apply edits from the end backwards; insertions at one spot keep their given order."""
    ordered = sorted(enumerate(edits), key=lambda pair: (pair[1].start, pair[1].end, pair[0]))
    for (_, before), (_, after) in itertools.pairwise(ordered):
        if after.start < before.end:
            raise AssertionError("overlapping edits")  # a bug in this module, not a user error
    for _, edit in reversed(ordered):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def _insert_lines(doc: Document, after_line: int | None, lines: Sequence[str]) -> _Edit:
    """Insert whole lines after ``after_line`` (None: at the end of the file)."""
    return insert_at(doc.text, doc.newline, insert_position(doc, after_line), lines)


def insert_position(doc: Document, after_line: int | None) -> int:
    """The offset where lines inserted after ``after_line`` (None: the end) begin."""
    if after_line is None or after_line + 1 >= len(doc.starts):
        return len(doc.text)
    return doc.starts[after_line + 1]


def insert_at(text: str, newline: str, position: int, lines: Sequence[str]) -> _Edit:
    """Whole lines inserted at ``position`` (a line start, or the end of ``text``)."""
    body = newline.join(lines)
    if position == len(text) and text.lstrip("\ufeff") and not _BREAK.search(text[-1:]):
        return _Edit(position, position, newline + body)  # keep the missing final newline missing
    return _Edit(position, position, body + newline)


Leaf = tuple[str, ...]


def flatten(root: Node | None) -> dict[tuple[Any, ...], Leaf]:
    """Every leaf of the document by path; each node is visited once (alias bombs stay cheap).

    A loop, not recursion (hostile files nest deeply); a scalar under a mapping key
    is read in place rather than pushed, since most nodes are such scalars.
    """
    leaves: dict[tuple[Any, ...], Leaf] = {}
    if root is None:
        return leaves
    seen: set[int] = set()
    stack: list[tuple[tuple[Any, ...], Node]] = [((), root)]
    while stack:
        path, node = stack.pop()
        if id(node) in seen:
            leaves[path] = ("alias",)
            continue
        seen.add(id(node))
        if node.id == "scalar":
            leaves[path] = (tag_of(node), node.value)
        elif not node.value:
            leaves[path] = (node.id,)
        elif node.id == "sequence":
            stack.extend([((*path, i), item) for i, item in enumerate(node.value)])
        else:
            for position, (key, value) in enumerate(node.value):
                name = key.value if key.id == "scalar" else ("?", position)
                if value.id == "scalar" and id(value) not in seen:
                    seen.add(id(value))
                    leaves[(*path, name)] = (tag_of(value), value.value)
                else:
                    stack.append(((*path, name), value))
    return leaves


def _verify(doc: Document, text: str, expected: dict[tuple[Any, ...], Leaf]) -> str:
    """Refuse ``text`` unless it parses to exactly ``expected``."""
    try:
        after = flatten(parse(text, doc.source).root)
    except FileEditError as exc:
        raise FileEditError(
            f"the edit would break the file ({exc.message}); nothing was written",
            where=doc.source,
            hint="edit this file by hand",
        ) from exc
    if after != expected:
        changed = sorted(str(k) for k in set(after) ^ set(expected))
        changed += sorted(str(k) for k in after if k in expected and after[k] != expected[k])
        raise FileEditError(
            "a faithful edit is not possible here (it would also change "
            f"{', '.join(changed[:3]) or 'other values'}); nothing was written",
            where=doc.source,
            hint="edit this file by hand",
        )
    return text


def _concrete(doc: Document, path: Path) -> tuple[Any, ...]:
    """The path with Select keys replaced by the index of the item they chose."""
    concrete: list[Any] = []
    for depth, key in enumerate(path):
        if isinstance(key, Select):
            parent = doc.find(path[:depth])
            child = doc.find(path[: depth + 1])
            assert parent is not None
            concrete.append(next(i for i, n in enumerate(parent.value) if n is child))
        else:
            concrete.append(key)
    return tuple(concrete)
