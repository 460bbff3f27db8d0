"""A composed YAML document that knows where each node sits in the text."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import TYPE_CHECKING

from portreg.edit.heap import collector_paused
from portreg.edit.yaml.base import (
    _BREAK,
    _BREAK_CHARS,
    _DEFAULT_STEP,
    Item,
    Key,
    Node,
    Path,
    _describe,
    _is_empty,
    _is_null,
    _leading_spaces,
    _loader,
    _scalar_value,
    format_path,
)
from portreg.errors import FileEditError

if TYPE_CHECKING:
    from typing import Any

_RECENT: dict[tuple[str, str], Document] = {}


_RECENT_SIZE = 8


def parse(text: str, source: str) -> Document:
    """Compose ``text`` (one YAML document); ``source`` names the file in error messages.

    The last few documents are kept: a target reads a file, edits it, and the
    edit's own check composes the new text, which the next edit of the same
    file (the next service) starts from. Documents are never changed in place.
    """
    key = (source, text)
    doc = _RECENT.get(key)
    if doc is None:
        doc = Document(text, source)
        if len(_RECENT) >= _RECENT_SIZE:
            del _RECENT[next(iter(_RECENT))]
        _RECENT[key] = doc
    return doc


class Document:
    """A YAML text and its composed nodes, with the positions needed to edit it."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.starts = [0]
        self.starts += [m.end() for m in _BREAK.finditer(text)]
        match = _BREAK.search(text)
        self.newline = match.group(0) if match else "\n"
        root = self._compose()
        # a document of only `---`, `~` or `null` holds nothing yet: an empty mapping to add
        # keys to (``null_root`` keeps the written null, which the first key replaces)
        self.null_root: Node | None = root if root is not None and _is_null(root) else None
        self.root: Node | None = None if self.null_root is not None else root

    def _compose(self) -> Node | None:
        import yaml

        try:
            with collector_paused():
                node: Node | None = yaml.compose(self.text, Loader=_loader())
        except yaml.MarkedYAMLError as exc:
            raise self._syntax_error(exc) from exc
        except yaml.YAMLError as exc:
            raise FileEditError(f"not valid YAML: {exc}", where=self.source) from exc
        return node

    def _syntax_error(self, exc: Any) -> FileEditError:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line if mark is not None else 0
        text = self.line_text(line)
        indent = text[: len(text) - len(text.lstrip(" \t"))]
        if "\t" in indent:
            return FileEditError(
                "a tab is used for indentation (YAML allows only spaces)",
                where=self.where(line),
                hint="replace the tabs with spaces",
            )
        what = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        return FileEditError(f"not valid YAML: {what}", where=self.where(line))

    # ------------------------------------------------------------ positions

    def where(self, line: int) -> str:
        """``path:line`` for a 0-based line."""
        return f"{self.source}:{line + 1}"

    def offset(self, mark: Any) -> int:
        """The character offset of a mark (the parsers do not count a byte-order mark)."""
        if mark.line >= len(self.starts):
            return len(self.text)
        bom = 1 if mark.line == 0 and self.text.startswith("\ufeff") else 0
        return int(self.starts[mark.line] + mark.column) + bom

    def line_text(self, line: int) -> str:
        """One line without its line break."""
        if line >= len(self.starts):
            return ""
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        # a line holds no break but its own last one (``starts`` is cut at every break)
        return self.text[self.starts[line] : end].rstrip(_BREAK_CHARS)

    def line_end(self, line: int) -> int:
        """The offset just after ``line``'s line break (len(text) on a last line without one)."""
        return self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)

    def last_line(self, node: Node) -> int:
        """The last line that holds content of ``node`` (not trailing blanks or comments)."""
        while node.id in ("mapping", "sequence") and not node.flow_style and node.value:
            last = node.value[-1]
            if node.id == "sequence":
                node = last
                continue
            key, value = last
            if _is_empty(value) or self.offset(value.start_mark) < self.offset(key.end_mark):
                return int(key.end_mark.line)  # nothing after the key, or an alias defined earlier
            node = value
        end = node.end_mark
        line = int(end.line)
        if end.column == 0 and line > node.start_mark.line:
            line -= 1
        if node.id == "scalar" and node.style in ("|", ">"):
            keep = "+" in self.line_text(node.start_mark.line)[node.start_mark.column :]
            while not keep and line > node.start_mark.line and not self.line_text(line).strip():
                line -= 1
        return line

    def line_of(self, node: Node) -> int:
        """1-based line of a node, for messages and observations."""
        return int(node.start_mark.line) + 1

    # -------------------------------------------------------------- lookups

    def find(self, path: Path) -> Node | None:
        """The node at ``path``, or None when a key or index on it is missing."""
        node, depth = self.walk(path)
        return node if depth == len(path) else None

    def walk(self, path: Path) -> tuple[Node | None, int]:
        """Follow ``path`` as far as it exists: (deepest node reached, how many keys matched).

        Refuses a non-collection where a collection is needed, duplicate keys,
        and anchors, aliases or tags on the way.
        """
        node = self.root
        if node is None:
            return None, 0
        for depth, key in enumerate(path):
            self._check_plain(node, path[:depth])
            child = self._child(node, key, path[: depth + 1])
            if child is None:
                return node, depth
            node = child
        self._check_plain(node, path)
        return node, len(path)

    def _child(self, node: Node, key: Key, path: Path) -> Node | None:
        if isinstance(key, str):
            return self._mapping_child(node, key, path)
        self._expect(node, "sequence", path[:-1])
        items = node.value
        if isinstance(key, int):
            return items[key] if 0 <= key < len(items) else None
        for item in items:
            if item.id == "mapping":
                value = _scalar_value(item, key.key)
                if value == key.value:
                    return item
        return None

    def _mapping_child(self, node: Node, key: str, path: Path) -> Node | None:
        self._expect(node, "mapping", path[:-1])
        if node.id == "scalar":  # `key:` with nothing after it: every key is missing
            return None
        self._check_unique(node, path[:-1])
        found = [(k, v) for k, v in node.value if k.id == "scalar" and k.value == key]
        if not found:
            return None
        key_node, value = found[0]
        if self.offset(value.start_mark) < self.offset(key_node.end_mark):
            raise FileEditError(
                f"{format_path(path)} is an alias (*name); portreg does not edit through aliases",
                where=self.where(key_node.start_mark.line),
                hint="write the value out, or edit it by hand",
            )
        return value

    def _check_unique(self, node: Node, path: Path) -> None:
        """Refuse a mapping with a key twice: which one a reader uses is up to the reader."""
        seen: set[str] = set()
        for key, _value in node.value:
            if key.id != "scalar":
                continue
            if key.value in seen:
                raise FileEditError(
                    f"key {format_path((*path, key.value))} appears twice in one mapping",
                    where=self.where(key.start_mark.line),
                    hint="remove the duplicate key",
                )
            seen.add(key.value)

    def _expect(self, node: Node, kind: str, path: Path) -> None:
        if node.id == kind:
            return
        if node.id == "scalar" and _is_empty(node) and kind == "mapping":
            return
        article = "a mapping" if kind == "mapping" else "a list"
        raise FileEditError(
            f"{format_path(path)} is {_describe(node)}, expected {article}",
            where=self.where(node.start_mark.line),
            hint="fix the file by hand, then run again",
        )

    def _check_plain(self, node: Node, path: Path) -> None:
        """Refuse anchors and tags: editing an anchored node would also change every alias."""
        start = self.text[self.offset(node.start_mark) : self.offset(node.start_mark) + 1]
        if start in ("&", "!") and path:
            what = "an anchor (&name)" if start == "&" else "an explicit tag (!tag)"
            raise FileEditError(
                f"{format_path(path)} has {what}; portreg does not edit it",
                where=self.where(node.start_mark.line),
                hint="edit this value by hand",
            )

    def items(self, path: Path) -> list[Item]:
        """The items of the list at ``path`` ([] when missing or empty).

        A flow list's items (``[{...}, {...}]``) are read too, each at its own
        line and with no comment; the edits that add or remove whole items
        refuse flow lists.
        """
        node = self.find(path)
        if node is None or _is_empty(node):
            return []
        self._expect(node, "sequence", path)
        if node.flow_style:
            return [Item(i, item, item.start_mark.line, None) for i, item in enumerate(node.value)]
        result = []
        for index, item in enumerate(node.value):
            dash = self._dash_line(item)
            above = self.line_text(dash - 1).strip() if dash > 0 else ""
            comment = above if above.startswith("#") else None
            result.append(Item(index, item, dash, comment))
        return result

    def _dash_line(self, item: Node) -> int:
        """The line of the ``-`` that starts a block list item."""
        position = self.offset(item.start_mark) - 1
        while position >= 0 and self.text[position] in " \t\r\n\x85\u2028\u2029":
            position -= 1
        if position < 0 or self.text[position] != "-":
            raise FileEditError(
                "list item does not follow its dash (a comment or alias between them?)",
                where=self.where(item.start_mark.line),
                hint="edit this list by hand",
            )
        return self.line_at(position)

    def line_at(self, position: int) -> int:
        """The 0-based line holding character ``position``."""
        return bisect.bisect_right(self.starts, position) - 1

    def indent_step(self) -> int:
        """How far this file indents a nested mapping (2 when it has none)."""
        for key, value in self._block_values():
            step = int(value.start_mark.column - key.start_mark.column)
            if value.id == "mapping" and step > 0:
                return step
        return _DEFAULT_STEP

    def dash_offset(self) -> int:
        """Where this file puts a list's dashes: 0 = at the parent key's column, else indented."""
        for key, value in self._block_values():
            if value.id == "sequence" and value.value:
                dash = _leading_spaces(self.line_text(self._dash_line(value.value[0])))
                return max(0, dash - int(key.start_mark.column))
        return 0

    def _block_values(self, limit: int = 200) -> Iterator[tuple[Node, Node]]:
        """(key, value) of block collections under block mappings, breadth first, a few only."""
        queue = [self.root] if self.root is not None else []
        seen: set[int] = set()
        position = 0
        while position < len(queue) and position < limit:
            node = queue[position]
            position += 1
            if node.id == "scalar" or node.flow_style or id(node) in seen:
                continue
            seen.add(id(node))
            if node.id == "sequence":
                queue.extend(item for item in node.value if item.id != "scalar")
                continue
            for key, value in node.value:
                if value.id != "scalar" and not value.flow_style:
                    yield key, value
                    queue.append(value)
