"""Setting scalars at key paths, adding missing keys after their siblings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from portreg.edit.yaml.base import (
    Node,
    Path,
    Scalar,
    _describe,
    _Edit,
    _is_empty,
    _leading_spaces,
    format_path,
    tag_of,
)
from portreg.edit.yaml.document import (
    Document,
    parse,
)
from portreg.edit.yaml.render import (
    _block_lines,
    _flow_text,
    nest,
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


def set_values(text: str, changes: Mapping[Path, Scalar], source: str) -> str:
    """Set scalars at key paths; missing keys are added after their siblings.

    An existing value keeps its quoting and trailing comment. A missing key is
    added at the end of its mapping with the mapping's own indentation; a
    missing top-level mapping is added at the end of the file. A missing list
    index or selected item is refused.
    """
    doc = parse(text, source)
    edits: list[_Edit] = []
    expected = flatten(doc.root)
    inserts: dict[int, tuple[Node | None, Path, dict[Path, Scalar]]] = {}
    for path, value in changes.items():
        node, depth = doc.walk(path)
        if depth == len(path):
            assert node is not None
            edit, leaf = _replace_scalar(doc, node, path, value)
            if edit is not None:
                edits.append(edit)
            expected[_concrete(doc, path)] = leaf
            continue
        if any(not isinstance(key, str) for key in path[depth:]):
            raise FileEditError(
                f"{format_path(path[: depth + 1])} does not exist",
                where=doc.where(node.start_mark.line) if node is not None else doc.source,
                hint="only mapping keys are added; add list items by hand",
            )
        entry = inserts.setdefault(id(node), (node, path[:depth], {}))
        entry[2][path[depth:]] = value
        base = _concrete(doc, path[:depth])
        expected.pop(base, None)  # an empty mapping or `key:` becomes a mapping
        expected[(*base, *path[depth:])] = render_scalar(value)[1]
    # deeper mappings first: at one spot (end of file) an inner mapping's keys go before outer ones
    for node, base, missing in sorted(inserts.values(), key=lambda entry: -len(entry[1])):
        edits.extend(_add_keys(doc, node, base, missing))
    if not edits:
        return text
    return _verify(doc, _splice(text, edits), expected)


def _replace_scalar(
    doc: Document, node: Node, path: Path, value: Scalar
) -> tuple[_Edit | None, Leaf]:
    if node.id != "scalar" or node.style in ("|", ">"):
        what = "a block scalar" if node.id == "scalar" else _describe(node)
        raise FileEditError(
            f"{format_path(path)} is {what}, expected a single-line value",
            where=doc.where(node.start_mark.line),
            hint="fix the file by hand, then run again",
        )
    new, leaf = render_scalar(value, node.style or None)
    if leaf == (tag_of(node), node.value):
        return None, leaf
    start, end = doc.offset(node.start_mark), doc.offset(node.end_mark)
    if _is_empty(node):
        new = " " + new if not doc.text[start - 1 : start].isspace() else new
    return _Edit(start, end, new), leaf


def _add_keys(
    doc: Document, node: Node | None, base: Path, missing: dict[Path, Scalar]
) -> list[_Edit]:
    tree = nest(missing)
    step = doc.indent_step()
    if node is None:  # an empty file, one holding only comments, or a bare `~` / `null`
        edits = [] if doc.null_root is None else [_remove_null(doc, doc.null_root)]
        return [*edits, _insert_lines(doc, None, _block_lines(tree, 0, step))]
    if node.id == "mapping" and node.flow_style:
        return [_add_flow_keys(doc, node, tree)]
    if node.id == "scalar":  # `key:` with nothing after it
        key_line = _key_line_of_empty(doc, node)
        column = _leading_spaces(doc.line_text(key_line)) + step
        return [_insert_lines(doc, doc.last_line(node), _block_lines(tree, column, step))]
    column = int(node.value[0][0].start_mark.column)
    last: int | None = doc.last_line(node)
    if not base and last is not None and _only_comments_after(doc, last):
        last = None  # a new top-level mapping goes at the very end, after trailing comments
    return [_insert_lines(doc, last, _block_lines(tree, column, step))]


def _remove_null(doc: Document, null: Node) -> _Edit:
    """Take out a written null (``~``, ``null``): its whole line when it stands alone there
    (``--- ~`` keeps its ``---``)."""
    start, end = doc.offset(null.start_mark), doc.offset(null.end_mark)
    if start == end:  # an implicit null: nothing is written
        return _Edit(start, start, "")
    line = int(null.start_mark.line)
    code, hash_, _comment = doc.line_text(line).partition("#")
    if code.strip() != doc.text[start:end]:  # `--- ~`: the null follows the marker
        while start > 0 and doc.text[start - 1] in " \t":
            start -= 1
        return _Edit(start, end, "")
    if hash_:  # `~  # nothing yet`: the comment stays, on its own line
        while doc.text[end : end + 1] in (" ", "\t"):
            end += 1
        return _Edit(start, end, "")
    return _Edit(doc.starts[line], doc.line_end(line), "")


def _only_comments_after(doc: Document, line: int) -> bool:
    rest = (doc.line_text(i).strip() for i in range(line + 1, len(doc.starts)))
    return all(not text or text.startswith("#") for text in rest)


def _key_line_of_empty(doc: Document, node: Node) -> int:
    line = int(node.start_mark.line)
    while line > 0 and ":" not in doc.line_text(line).split("#", 1)[0]:
        line -= 1
    return line


def _add_flow_keys(doc: Document, node: Node, tree: Mapping[str, Any]) -> _Edit:
    end = doc.offset(node.end_mark)
    if doc.text[end - 1 : end] != "}":
        raise FileEditError(
            "flow mapping does not end with '}'",
            where=doc.where(node.start_mark.line),
            hint="edit this mapping by hand",
        )
    if not node.value:
        return _Edit(end - 1, end - 1, _flow_text(tree))
    last = doc.offset(node.value[-1][1].end_mark)
    return _Edit(last, last, ", " + _flow_text(tree))
