"""Appending, updating and removing items of block lists (kind's extraPortMappings)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from portreg.edit.yaml.base import (
    _BREAK,
    Node,
    Path,
    Scalar,
    _Edit,
    _is_empty,
    _leading_spaces,
    format_path,
)
from portreg.edit.yaml.document import (
    Document,
    parse,
)
from portreg.edit.yaml.mappings import (
    _key_line_of_empty,
)
from portreg.edit.yaml.render import (
    _render_key,
    render_scalar,
)
from portreg.edit.yaml.splice import (
    Leaf,
    _concrete,
    _insert_lines,
    _splice,
    _verify,
    flatten,
)
from portreg.errors import FileEditError

if TYPE_CHECKING:
    from typing import Any


def append_item(
    text: str,
    path: Path,
    item: Sequence[tuple[str, Scalar]],
    *,
    source: str,
    comment: str | None = None,
) -> str:
    """Append a mapping item to the block list at ``path``, creating the list if missing.

    The dash goes where this list's (or, for a new list, this file's) dashes
    go: at the parent key's column or indented. ``comment`` becomes a line of
    its own right above the dash.
    """
    doc = parse(text, source)
    node, depth = doc.walk(path)
    expected = flatten(doc.root)
    count = 0
    if depth == len(path) and _is_empty(node):  # `key:` with nothing after it
        edits = _fill_empty_key(doc, node, item, comment)
    elif depth == len(path):
        assert node is not None
        doc._expect(node, "sequence", path)
        count = len(node.value)
        edits = _append_to_list(doc, node, path, item, comment)
    else:
        edits = _create_list(doc, node, path, depth, item=item, comment=comment)
    base = _concrete(doc, path[:depth])
    expected.pop(base, None)  # an empty `key:` or `[]` becomes a list
    for key, value in item:
        expected[(*base, *path[depth:], count, key)] = render_scalar(value)[1]
    return _verify(doc, _splice(text, edits), expected)


def item_lines(
    item: Sequence[tuple[str, Scalar]], dash: int, gap: int, comment: str | None
) -> list[str]:
    lines = [" " * dash + comment_text(comment)] if comment else []
    for position, (key, value) in enumerate(item):
        prefix = " " * dash + "-" + " " * (gap - 1) if position == 0 else " " * (dash + gap)
        lines.append(f"{prefix}{_render_key(key)}: {render_scalar(value)[0]}")
    return lines


def comment_text(comment: str) -> str:
    return comment if comment.lstrip().startswith("#") else f"# {comment}"


def _append_to_list(
    doc: Document,
    node: Node,
    path: Path,
    item: Sequence[tuple[str, Scalar]],
    comment: str | None,
) -> list[_Edit]:
    if node.flow_style:
        if node.value:
            raise FileEditError(
                f"{format_path(path)} is a flow list ([...]); portreg adds items to block lists",
                where=doc.where(node.start_mark.line),
                hint="rewrite it as a block list (one '- ' item per line)",
            )
        return _replace_empty_flow_list(doc, node, path, item, comment)
    after, dash, gap = append_point(doc, node)
    return [_insert_lines(doc, after, item_lines(item, dash, gap, comment))]


def append_point(doc: Document, node: Node) -> tuple[int, int, int]:
    """For a block list with items: the line new items go after, their dash column, and
    how far their content sits from the dash (as the last item's does, at least 2)."""
    last = node.value[-1]
    dash = _leading_spaces(doc.line_text(doc._dash_line(last)))
    gap = int(last.start_mark.column) - dash if last.start_mark.line == doc._dash_line(last) else 2
    return doc.last_line(node), dash, max(gap, 2)


def _replace_empty_flow_list(
    doc: Document,
    node: Node,
    path: Path,
    item: Sequence[tuple[str, Scalar]],
    comment: str | None,
) -> list[_Edit]:
    parent = doc.find(path[:-1])
    assert parent is not None
    key = next(k for k, v in parent.value if v is node)
    dash = int(key.start_mark.column) + doc.dash_offset()
    start, end = doc.offset(key.end_mark), doc.offset(node.end_mark)
    lines = item_lines(item, dash, 2, comment)
    return [_Edit(start, end, ":"), _insert_lines(doc, node.end_mark.line, lines)]


def _create_list(
    doc: Document,
    node: Node | None,
    path: Path,
    depth: int,
    *,
    item: Sequence[tuple[str, Scalar]],
    comment: str | None,
) -> list[_Edit]:
    if depth < len(path) - 1 or not isinstance(path[-1], str) or _is_empty(node):
        raise FileEditError(
            f"{format_path(path[: depth + 1])} does not exist",
            where=doc.source,
            hint="create it by hand",
        )
    if node is None:
        column, after = 0, None
    else:
        doc._expect(node, "mapping", path[:-1])
        if node.flow_style:
            raise FileEditError(
                f"{format_path(path[:-1])} is a flow mapping ({{...}}); cannot add a list to it",
                where=doc.where(node.start_mark.line),
                hint="rewrite it as a block mapping",
            )
        column, after = int(node.value[0][0].start_mark.column), doc.last_line(node)
    dash = column + doc.dash_offset()
    lines = [f"{' ' * column}{_render_key(str(path[-1]))}:", *item_lines(item, dash, 2, comment)]
    return [_insert_lines(doc, after, lines)]


def _fill_empty_key(
    doc: Document, node: Node, item: Sequence[tuple[str, Scalar]], comment: str | None
) -> list[_Edit]:
    key_line = _key_line_of_empty(doc, node)
    dash = _leading_spaces(doc.line_text(key_line)) + doc.dash_offset()
    return [_insert_lines(doc, key_line, item_lines(item, dash, 2, comment))]


def remove_item(text: str, path: Path, index: int, *, source: str, comment: str | None) -> str:
    """Remove item ``index`` of the block list at ``path``, with ``comment`` if it is right above.

    When the last item goes, its ``key:`` line goes too when the key stands
    alone on its line (so a later :func:`append_item` creates it again in the
    file's style); otherwise the list is left as ``key: []``.
    """
    doc = parse(text, source)
    node = doc.find(path)
    if node is not None and node.id == "sequence" and node.flow_style:
        raise FileEditError(
            f"{format_path(path)} is a flow list ([...]); portreg removes items from block lists",
            where=doc.where(node.start_mark.line),
            hint="rewrite it as a block list (one `- ` item per line), or edit it by hand",
        )
    items = doc.items(path)
    if not 0 <= index < len(items):
        raise FileEditError(f"{format_path(path)} has no item {index}", where=doc.source)
    target = items[index]
    first = target.dash_line
    if comment is not None and target.comment == comment_text(comment).strip():
        first -= 1
    edits = [_delete_lines(doc, first, doc.last_line(target.node))]
    base = _concrete(doc, path)
    expected = _shifted(flatten(doc.root), base, index)
    if len(items) == 1 and path and isinstance(path[-1], str):
        drop = _drop_list_key(doc, path)
        if drop.text:
            expected[base] = ("sequence",)
        if not drop.text and drop.end >= edits[0].start:  # key line touches the item
            edits = [_delete_lines(doc, doc.line_at(drop.start), doc.last_line(target.node))]
        else:
            edits.append(drop)
    return _verify(doc, _splice(text, edits), expected)


def _delete_lines(doc: Document, first: int, last: int) -> _Edit:
    start, end = doc.starts[first], doc.line_end(last)
    if end == len(doc.text) and not _BREAK.search(doc.text[-1:]) and first > 0:
        start -= len(doc.newline)  # keep the missing final newline missing
    return _Edit(start, end, "")


def _drop_list_key(doc: Document, path: Path) -> _Edit:
    """Delete the ``key:`` line of a list that is becoming empty, or write ``key: []``."""
    parent, node = doc.find(path[:-1]), doc.find(path)
    assert parent is not None
    assert node is not None
    key = next(k for k, v in parent.value if v is node)
    line = int(key.start_mark.line)
    text = doc.line_text(line)
    before = text[: key.start_mark.column]
    after = text[key.end_mark.column :].split("#", 1)[0].strip()
    if not before.strip() and key.end_mark.line == line and after == ":":
        return _delete_lines(doc, line, line)
    colon = doc.offset(key.end_mark) + 1
    return _Edit(colon, colon, " []")


def _shifted(
    leaves: dict[tuple[Any, ...], Leaf], base: tuple[Any, ...], index: int
) -> dict[tuple[Any, ...], Leaf]:
    """The leaves after removing item ``index`` of the list at ``base``."""
    result: dict[tuple[Any, ...], Leaf] = {}
    size = len(base)
    for path, leaf in leaves.items():
        if path[:size] != base or len(path) == size:
            result[path] = leaf
            continue
        position = path[size]
        if position == index:
            continue
        moved = position - 1 if position > index else position
        result[(*base, moved, *path[size + 1 :])] = leaf
    return result
