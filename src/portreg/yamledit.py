"""Byte-exact edits of YAML text (pure: text in, text out).

The text is composed with PyYAML (libyaml when available) into nodes that know
their line and column. Each change becomes an :class:`_Edit` (a span of the
original text and its replacement), and the edits are spliced into the
original string from the end backwards, as pre-commit's ``migrate_config``
does. Every byte outside the edited spans stays as it was: comments, blank
lines, key order, quoting, flow maps, block literals, ``---``, CRLF, a missing
final newline.

Positions come from a mark's line and column, never from ``mark.index``:
libyaml does not count a byte-order mark in ``index``, while lines and
columns count characters the same way in both loaders.

After every edit the new text is composed again and its content compared with
the old content plus the intended change; anything else (a value that moved
into a block literal, a sibling that changed) is refused, never written.
Anything that cannot be edited faithfully raises :class:`FileEditError` with
``path:line``. Aliases are never expanded: composing keeps one node per
anchor, and every walk here visits a node once.

A path is a tuple of keys: ``str`` for a mapping key, ``int`` for a list
index, :class:`Select` for the list item whose field has a value (OpenAPI
``servers[?description=='local']``). :func:`parse_path` reads the text form.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from portreg.errors import FileEditError

# A PyYAML node (yaml.ScalarNode, MappingNode, SequenceNode). Their stubs lack the
# ``id``, ``style`` and ``flow_style`` attributes every walk here relies on.
Node: TypeAlias = Any

__all__ = [
    "Document",
    "Item",
    "Path",
    "Scalar",
    "Select",
    "append_item",
    "format_path",
    "parse",
    "parse_path",
    "remove_item",
    "set_values",
]

Scalar = str | int


@dataclass(frozen=True)
class Select:
    """The first item of a list of mappings whose ``key`` holds the scalar ``value``."""

    key: str
    value: str


Key = str | int | Select
Path = tuple[Key, ...]

STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
_BREAK = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./@+-]*(?: [A-Za-z0-9_./@+-]+)*")
_DEFAULT_STEP = 2


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Item:
    """One item of a block list, with the line its dash sits on and the comment line above."""

    index: int
    node: Node
    dash_line: int  # 0-based
    comment: str | None  # the stripped comment line right above the dash, if any


# ------------------------------------------------------------------ paths


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


_PATH_TOKEN = re.compile(
    r"""\.?(?P<key>[^.\[\]]+)|\[(?P<index>\d+)\]|\[\?(?P<field>[^=\]]+)==(?P<q>['"])(?P<value>.*?)(?P=q)\]"""
)


def parse_path(text: str) -> Path:
    """Read ``a.b[0].c[?name=='x'].url`` into a path tuple; raises ValueError when malformed."""
    keys: list[Key] = []
    position = 0
    while position < len(text):
        match = _PATH_TOKEN.match(text, position)
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


# --------------------------------------------------------------- document


def _loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
        self.starts = [0, *(m.end() for m in _BREAK.finditer(text))]
        match = _BREAK.search(text)
        self.newline = match.group(0) if match else "\n"
        root = self._compose()
        # a document of only `---` (or `~`) holds nothing yet: treat it as an empty file
        self.root: Node | None = None if root is not None and _is_null(root) else root

    def _compose(self) -> Node | None:
        import yaml

        try:
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
        return _BREAK.sub("", self.text[self.starts[line] : end])

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
        """The items of the block list at ``path`` ([] when missing or empty)."""
        node = self.find(path)
        if node is None or _is_empty(node):
            return []
        self._expect(node, "sequence", path)
        if node.flow_style:
            return []
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


# ----------------------------------------------------------- rendering


def _is_empty(node: Node) -> bool:
    """A ``key:`` with nothing after it (an implicit null)."""
    return bool(node.id == "scalar" and node.value == "" and not node.style)


def _is_null(node: Node) -> bool:
    return bool(node.id == "scalar" and node.tag == "tag:yaml.org,2002:null")


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


def _resolves_to_str(text: str) -> bool:
    import yaml

    resolver: Any = yaml.resolver.Resolver()
    return bool(resolver.resolve(yaml.ScalarNode, text, (True, False)) == STR_TAG)


def _plain_ok(text: str) -> bool:
    """Whether ``text`` reads back as the same string when written plain (in any context)."""
    if _PLAIN_SAFE.fullmatch(text):
        return _resolves_to_str(text)
    if not text or text != text.strip() or any(c in text for c in ",[]{}#\n\r\t\"'"):
        return False
    if not text.isprintable() or text[0] in "-?:!&*|>%@`":
        return False
    import yaml

    try:
        node: Node = yaml.compose(f"_: {text}\n", Loader=_loader())
    except yaml.YAMLError:
        return False
    value = node.value[0][1] if node is not None and node.id == "mapping" else None
    return bool(value is not None and value.tag == STR_TAG and value.value == text)


def _quote(text: str, style: str) -> str:
    if style == "'" and "\n" not in text and text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    import json

    return json.dumps(text, ensure_ascii=False)


def render_scalar(value: Scalar, style: str | None = None) -> tuple[str, tuple[str, str]]:
    """YAML text for ``value`` in ``style`` (None/'' plain, ``'`` or ``"``), and what it loads as.

    A plain string that YAML would read as something else (``yes``, ``8001``,
    ``a: b``) is double-quoted; an int keeps the quotes of the value it
    replaces, so a quoted ``"8001"`` stays a quoted string.
    """
    text = str(value)
    if style in ("'", '"'):
        return _quote(text, style), (STR_TAG, text)
    if isinstance(value, int) and not isinstance(value, bool):
        return text, (INT_TAG, text)
    if _plain_ok(text):
        return text, (STR_TAG, text)
    return _quote(text, '"'), (STR_TAG, text)


def _render_key(key: str) -> str:
    return render_scalar(key)[0]


def _block_lines(tree: Mapping[str, Any], column: int, step: int) -> list[str]:
    lines = []
    for key, value in tree.items():
        if isinstance(value, dict):
            lines.append(f"{' ' * column}{_render_key(key)}:")
            lines.extend(_block_lines(value, column + step, step))
        else:
            lines.append(f"{' ' * column}{_render_key(key)}: {render_scalar(value)[0]}")
    return lines


def _flow_text(tree: Mapping[str, Any]) -> str:
    parts = []
    for key, value in tree.items():
        rendered = "{" + _flow_text(value) + "}" if isinstance(value, dict) else None
        parts.append(f"{_render_key(key)}: {rendered or render_scalar(value)[0]}")
    return ", ".join(parts)


def nest(changes: Mapping[Path, Any]) -> dict[str, Any]:
    """``{(a, b): 1, (a, c): 2}`` as ``{a: {b: 1, c: 2}}``: new keys to add as one block."""
    tree: dict[str, Any] = {}
    for path, value in changes.items():
        branch = tree
        for key in path[:-1]:
            branch = branch.setdefault(str(key), {})
        branch[str(path[-1])] = value
    return tree


# ------------------------------------------------------------- splicing


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
    nl = doc.newline
    if after_line is None or after_line + 1 >= len(doc.starts):
        position = len(doc.text)
    else:
        position = doc.starts[after_line + 1]
    body = nl.join(lines)
    if position == len(doc.text) and doc.text.lstrip("\ufeff") and not _BREAK.search(doc.text[-1:]):
        return _Edit(position, position, nl + body)  # keep the missing final newline missing
    return _Edit(position, position, body + nl)


def _leading_spaces(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


# ------------------------------------------------------------ verifying


Leaf = tuple[str, ...]


def _flatten(root: Node | None) -> dict[tuple[Any, ...], Leaf]:
    """Every leaf of the document by path; each node is visited once (alias bombs stay cheap)."""
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
            leaves[path] = (node.tag, node.value)
        elif not node.value:
            leaves[path] = (node.id,)
        elif node.id == "sequence":
            stack.extend(((*path, i), item) for i, item in enumerate(node.value))
        else:
            for position, (key, value) in enumerate(node.value):
                name = key.value if key.id == "scalar" else ("?", position)
                stack.append(((*path, name), value))
    return leaves


def _verify(doc: Document, text: str, expected: dict[tuple[Any, ...], Leaf]) -> str:
    """Refuse ``text`` unless it parses to exactly ``expected``."""
    try:
        after = _flatten(parse(text, doc.source).root)
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


# ----------------------------------------------------------- set values


def set_values(text: str, changes: Mapping[Path, Scalar], source: str) -> str:
    """Set scalars at key paths; missing keys are added after their siblings.

    An existing value keeps its quoting and trailing comment. A missing key is
    added at the end of its mapping with the mapping's own indentation; a
    missing top-level mapping is added at the end of the file. A missing list
    index or selected item is refused.
    """
    doc = parse(text, source)
    edits: list[_Edit] = []
    expected = _flatten(doc.root)
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
    if leaf == (node.tag, node.value):
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
    if node is None:  # an empty file or one holding only comments
        return [_insert_lines(doc, None, _block_lines(tree, 0, step))]
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


# ----------------------------------------------------------------- lists


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
    expected = _flatten(doc.root)
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


def _item_lines(
    item: Sequence[tuple[str, Scalar]], dash: int, gap: int, comment: str | None
) -> list[str]:
    lines = [" " * dash + _comment_text(comment)] if comment else []
    for position, (key, value) in enumerate(item):
        prefix = " " * dash + "-" + " " * (gap - 1) if position == 0 else " " * (dash + gap)
        lines.append(f"{prefix}{_render_key(key)}: {render_scalar(value)[0]}")
    return lines


def _comment_text(comment: str) -> str:
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
    last = node.value[-1]
    dash_text = doc.line_text(doc._dash_line(last))
    dash = _leading_spaces(dash_text)
    gap = int(last.start_mark.column) - dash if last.start_mark.line == doc._dash_line(last) else 2
    return [_insert_lines(doc, doc.last_line(node), _item_lines(item, dash, max(gap, 2), comment))]


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
    lines = _item_lines(item, dash, 2, comment)
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
    lines = [f"{' ' * column}{_render_key(str(path[-1]))}:", *_item_lines(item, dash, 2, comment)]
    return [_insert_lines(doc, after, lines)]


def _fill_empty_key(
    doc: Document, node: Node, item: Sequence[tuple[str, Scalar]], comment: str | None
) -> list[_Edit]:
    key_line = _key_line_of_empty(doc, node)
    dash = _leading_spaces(doc.line_text(key_line)) + doc.dash_offset()
    return [_insert_lines(doc, key_line, _item_lines(item, dash, 2, comment))]


def remove_item(text: str, path: Path, index: int, *, source: str, comment: str | None) -> str:
    """Remove item ``index`` of the block list at ``path``, with ``comment`` if it is right above.

    When the last item goes, its ``key:`` line goes too when the key stands
    alone on its line (so a later :func:`append_item` creates it again in the
    file's style); otherwise the list is left as ``key: []``.
    """
    doc = parse(text, source)
    items = doc.items(path)
    if not 0 <= index < len(items):
        raise FileEditError(f"{format_path(path)} has no item {index}", where=doc.source)
    target = items[index]
    first = target.dash_line
    if comment is not None and target.comment == _comment_text(comment).strip():
        first -= 1
    edits = [_delete_lines(doc, first, doc.last_line(target.node))]
    base = _concrete(doc, path)
    expected = _shifted(_flatten(doc.root), base, index)
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
