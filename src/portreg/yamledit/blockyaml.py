"""A small composer for plain block YAML that gives exactly the nodes libyaml gives.

Most files portreg edits (Helm values, kind-config) are block mappings and
lists of one-line scalars with comments. Composing them here, in a few
milliseconds of pure Python, spares the import of PyYAML (about twice a bare
interpreter start) on the fast road of ``assign --update-configs``.

The nodes have the attributes yamledit reads from PyYAML's (``id``, ``tag``,
``value``, ``style``, ``flow_style``, ``start_mark`` and ``end_mark`` with
``line`` and ``column``) and the same values, positions and tags as
``yaml.compose(text, Loader=CSafeLoader)``; tests compare the two on
generated documents. Anything outside the subset returns :data:`DECLINED`
and the caller composes with PyYAML, which also reports every error: this
module never decides that a file is broken.

The subset: spaces for indentation, ``\\n`` line breaks, no directives or
``---``; block mappings with plain keys; block lists (dash at the parent
key's column or indented) of scalars or of mappings; one-line plain,
single- or double-quoted (no escapes) scalars; literal block scalars (``|``,
``|-``); comments; empty values. Only ASCII outside comments. Plain scalars
resolve as PyYAML's YAML 1.1 resolver does; any text it might read as a
number other than a plain decimal (``08``, ``1e3``, ``0x1F``, ``1:30``) or a
date is declined rather than guessed.
"""

from __future__ import annotations

import re

DECLINED = object()
"""Returned for a text outside the subset (compose it with PyYAML instead)."""

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"

_BOOLS = frozenset(
    word
    for base in ("yes", "no", "true", "false", "on", "off")
    for word in (base, base.title(), base.upper())
)
_NULLS = frozenset(("~", "null", "Null", "NULL"))
_WORDS = {**dict.fromkeys(_BOOLS, BOOL), **dict.fromkeys(_NULLS, NULL)}
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
# the common entry, ``key:`` or ``key: word`` with nothing after it, in one match
_SIMPLE = re.compile(
    r"([A-Za-z_][A-Za-z0-9_./-]*|[0-9]+):(?:( +)([A-Za-z_/~][A-Za-z0-9_./~-]*|[1-9][0-9]*|0))? *"
)
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_./-]*|[0-9]+):(?= |$)")
_PLAIN = re.compile(r"[A-Za-z0-9_/~.](?:[^#:,\[\]{}]|:(?! |$))*")
_SINGLE = re.compile(r"'((?:[^']|'')*)'")
_DOUBLE = re.compile(r'"([^"\\]*)"')
_REST = re.compile(r" *(?:#.*)?$")
# tabs, CR, other breaks and what libyaml refuses anywhere (even in a comment)
_FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f]")


def _forbidden(text: str) -> bool:
    if _FORBIDDEN.search(text):
        return True
    if text.isascii():
        return False
    for char in set(text):
        code = ord(char)
        if 0x7F < code <= 0x9F or 0xD800 <= code <= 0xDFFF:
            return True
        if code in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF):
            return True
    return False


class Mark:
    __slots__ = ("column", "line")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column


class _Marks:
    """``start_mark`` and ``end_mark`` made when read (few are: compose makes thousands)."""

    __slots__ = ()
    _start: tuple[int, int]
    _end: tuple[int, int]

    @property
    def start_mark(self) -> Mark:
        return Mark(*self._start)

    @property
    def end_mark(self) -> Mark:
        return Mark(*self._end)


class Node(_Marks):
    """A node with PyYAML's attribute names (``id`` is the kind)."""

    __slots__ = ("_end", "_start", "flow_style", "id", "style", "tag", "value")

    def __init__(
        self, kind: str, tag: str, value: object, start: tuple[int, int], end: tuple[int, int]
    ) -> None:
        self.id = kind
        self.tag = tag
        self.value = value
        self._start = start
        self._end = end
        self.style = ""
        self.flow_style = False


class Plain(_Marks):
    """A plain scalar: most nodes of a file, so the constant attributes live on the class."""

    __slots__ = ("_end", "_start", "tag", "value")
    id = "scalar"
    style = ""
    flow_style = False

    def __init__(self, tag: str, value: str, start: tuple[int, int], end: tuple[int, int]) -> None:
        self.tag = tag
        self.value = value
        self._start = start
        self._end = end


AnyNode = Node | Plain


class _Declined(Exception):
    """Outside the subset (not necessarily invalid YAML)."""


def resolve_plain(text: str) -> str | None:
    """The tag PyYAML's implicit resolver gives a plain scalar; None when not sure here."""
    if text in _BOOLS:
        return BOOL
    if text in _NULLS or not text:
        return NULL
    first = text[0]
    if first.isdigit() or first in "+-.":
        return INT if _DECIMAL.fullmatch(text) else None
    if first in "<=":
        return None
    return STR


def compose(text: str, *, tags: bool = True) -> object:
    """The root node, None for a document holding nothing, or :data:`DECLINED`.

    ``tags=False`` is for readers that take every scalar as the text written
    (the scanners): a plain scalar whose type this module would not vouch for
    (``1.0.0``, ``08``) is then read with the str tag instead of declined.
    """
    if _forbidden(text):
        return DECLINED
    try:
        return _Composer(text, tags).document() if text else None
    except _Declined:
        return DECLINED


def _scalar(tag: str, value: str, line: int, start: int, end: int, *, style: str = "") -> AnyNode:
    if not style:
        return Plain(tag, value, (line, start), (line, end))
    node = Node("scalar", tag, value, (line, start), (line, end))
    node.style = style
    return node


class _Composer:
    def __init__(self, text: str, tags: bool = True) -> None:
        self.tags = tags
        self.lines = text.split("\n")
        self.final_break = self.lines[-1] == ""
        if self.final_break:
            self.lines.pop()
        # the stream ends on the line after the last, final line break or not (as in libyaml)
        self.eof = len(self.lines)
        last = self.lines[-1].strip(" ") if self.lines else "x"
        if not self.final_break and (not last or last.startswith("#")):
            raise _Declined  # libyaml ends open blocks mid-line there
        self.contents = [line.lstrip(" ") for line in self.lines]
        self.indents = [
            len(line) - len(content)
            for line, content in zip(self.lines, self.contents, strict=True)
        ]
        # the first line at or after each row that holds a token (not blank, not a comment)
        self.next_token = [self.eof] * (self.eof + 1)
        following = self.eof
        for row in range(self.eof - 1, -1, -1):
            content = self.contents[row]
            if content and content[0] != "#":
                following = row
            self.next_token[row] = following
        self.row = 0

    def _resolve(self, text: str) -> str | None:
        tag = resolve_plain(text)
        return STR if tag is None and not self.tags else tag

    # ------------------------------------------------------------ lines

    def _content(self, row: int) -> str:
        return self.contents[row]

    def _next(self) -> int:
        """The next line holding a token (not blank, not a comment); ``self.eof`` at the end."""
        return self.next_token[self.row]

    def _here(self, row: int) -> tuple[int, int]:
        """Where the token on ``row`` starts (the end mark of what ends before it)."""
        if row >= len(self.lines):
            return (self.eof, 0)
        return (row, self.indents[row])

    # ------------------------------------------------------------ document

    def document(self) -> AnyNode | None:
        row = self._next()
        if row == self.eof:
            return None
        content = self._content(row)
        if content.startswith(("---", "...", "%")) or self.indents[row] != 0:
            raise _Declined
        node = self._block(row, -1)
        if self._next() != self.eof:
            raise _Declined
        return node

    def _block(self, row: int, parent: int) -> AnyNode:
        """The block collection starting on ``row`` (indented more than ``parent``)."""
        content = self._content(row)
        if content == "-" or content.startswith("- "):
            return self._sequence(row)
        if _KEY.match(content):
            return self._mapping(row, self.indents[row])
        raise _Declined

    # ------------------------------------------------------------ mappings

    def _mapping(self, row: int, column: int, first: str | None = None) -> AnyNode:
        """Entries at ``column`` from ``row``; ``first`` is the text after a ``- `` on that row."""
        start = (row, column)
        pairs: list[tuple[AnyNode, AnyNode]] = []
        next_token, indents, contents, eof = self.next_token, self.indents, self.contents, self.eof
        self.row = row
        if first is not None and not self._simple(row, column, first, pairs):
            pairs.append(self._entry(row, column, first))
        while True:
            row = next_token[self.row]
            if row == eof or indents[row] < column:
                break
            content = contents[row]
            if indents[row] > column or content[0] == "-":
                raise _Declined
            if not self._simple(row, column, content, pairs):
                pairs.append(self._entry(row, column, content))
        return Node("mapping", MAP, pairs, start, self._here(next_token[self.row]))

    def _simple(
        self, row: int, column: int, content: str, pairs: list[tuple[AnyNode, AnyNode]]
    ) -> bool:
        """Add the common entry (``key: word``, nothing after it) to ``pairs``; False if
        ``content`` is anything else. Runs once per line of a file, so it is kept lean."""
        simple = _SIMPLE.fullmatch(content)
        if simple is None:
            return False
        name, gap, word = simple.groups()
        if word is None:
            return False
        key_tag = _WORDS.get(name, STR) if not name[0].isdigit() else self._resolve(name)
        following = self.next_token[row + 1]
        if key_tag is None or (following < self.eof and self.indents[following] > column):
            raise _Declined  # a more indented line would continue the value
        begin = column + len(name) + 1 + len(gap)
        tag = INT if word[0].isdigit() else _WORDS.get(word, STR)
        key = Plain(key_tag, name, (row, column), (row, column + len(name)))
        pairs.append((key, Plain(tag, word, (row, begin), (row, begin + len(word)))))
        self.row = row + 1
        return True

    def _entry(self, row: int, column: int, content: str) -> tuple[AnyNode, AnyNode]:
        match = _KEY.match(content)
        if match is None:
            raise _Declined
        name = match.group(1)
        tag = self._resolve(name)
        if tag is None:
            raise _Declined
        key = Plain(tag, name, (row, column), (row, column + len(name)))
        after = column + match.end()  # just past the colon
        rest = content[match.end() :]
        value_text = rest.lstrip(" ")
        value_column = after + len(rest) - len(value_text)
        self.row = row + 1
        if not value_text or value_text.startswith("#"):
            return key, self._nested(row, column, after, mapping_parent=True)
        if value_text[0] == "|":
            return key, self._literal(row, value_column, value_text, column)
        value = self._inline(row, value_column, value_text)
        self._no_deeper(column)
        return key, value

    def _nested(self, row: int, column: int, after: int, *, mapping_parent: bool) -> AnyNode:
        """The value of a ``key:`` with nothing after it on its line."""
        following = self._next()
        if following < len(self.lines):
            indent = self.indents[following]
            content = self._content(following)
            dash = content == "-" or content.startswith("- ")
            if indent > column or (indent == column and dash and mapping_parent):
                return self._block(following, column)
        return _scalar(NULL, "", row, after, after)

    def _no_deeper(self, column: int) -> None:
        """After a one-line value, a more indented line would continue it: not in the subset."""
        following = self._next()
        if following < len(self.lines) and self.indents[following] > column:
            raise _Declined

    # ------------------------------------------------------------ scalars

    def _inline(self, row: int, column: int, text: str) -> AnyNode:
        """A one-line scalar at ``column``; ``text`` runs to the end of the line."""
        first = text[0]
        if text[:2] in ("{}", "[]") and text[2:3] in ("", " ") and _REST.fullmatch(text[2:]):
            kind, tag = ("mapping", MAP) if first == "{" else ("sequence", SEQ)
            empty = Node(kind, tag, [], (row, column), (row, column + 2))
            empty.flow_style = True
            return empty
        style = first if first in "'\"" else ""
        match = (_SINGLE if first == "'" else _DOUBLE if first == '"' else _PLAIN).match(text)
        if match is None:
            raise _Declined
        if style:
            raw = match.group(0)
            value = match.group(1).replace("''", "'") if style == "'" else match.group(1)
        else:
            raw = value = match.group(0).rstrip(" ")
        rest = text[len(raw) :]
        if (rest and rest[0] != " ") or not _REST.fullmatch(rest) or not value.isascii():
            raise _Declined  # ``a#b`` is one scalar, ``'a'b`` is an error: not ours to judge
        if style:
            return _scalar(STR, value, row, column, column + len(raw), style=style)
        resolved = self._resolve(value)
        if resolved is None:
            raise _Declined
        return _scalar(resolved, value, row, column, column + len(value))

    def _literal(self, row: int, column: int, header: str, parent: int) -> AnyNode:
        """A ``|`` or ``|-`` block scalar; its lines are those indented more than ``parent``."""
        chomp = header[1:].rstrip(" ")
        if chomp not in ("", "-"):
            raise _Declined
        lines: list[str] = []
        indent = 0
        row_after = row + 1
        while row_after < len(self.lines):
            line = self.lines[row_after]
            if line.strip(" "):
                spaces = self.indents[row_after]
                if indent == 0:
                    if spaces <= parent:
                        break
                    indent = spaces
                elif spaces < indent:
                    if spaces > parent:
                        raise _Declined
                    break
                lines.append(line[indent:])
            elif indent and len(line) > indent:
                raise _Declined  # spaces past the indentation on a blank line
            else:
                lines.append("")
            row_after += 1
        if indent == 0 or (row_after == len(self.lines) and not self.final_break):
            raise _Declined  # (libyaml ends a literal without a final break mid-line)
        while lines and lines[-1] == "":
            lines.pop()
        value = "\n".join(lines) + ("\n" if lines and chomp == "" else "")
        self.row = row_after
        end = self._here(row_after) if row_after < len(self.lines) else (self.eof, 0)
        node = Node("scalar", STR, value, (row, column), (end[0], 0))
        node.style = "|"
        return node

    # ------------------------------------------------------------ lists

    def _sequence(self, row: int) -> AnyNode:
        dash = self.indents[row]
        start = (row, dash)
        items: list[AnyNode] = []
        self.row = row
        while True:
            row = self._next()
            if row == self.eof or self.indents[row] < dash:
                break
            if self.indents[row] > dash:
                raise _Declined
            content = self._content(row)
            if content != "-" and not content.startswith("- "):
                break  # a key of the parent mapping ends an indentless list
            items.append(self._item(row, dash, content))
        return Node("sequence", SEQ, items, start, self._here(self._next()))

    def _item(self, row: int, dash: int, content: str) -> AnyNode:
        body = content[1:].lstrip(" ")
        column = dash + len(content) - len(body)
        if not body or body.startswith(("#", "-", "|")):
            raise _Declined
        if _KEY.match(body):
            return self._mapping(row, column, first=body)
        self.row = row + 1
        value = self._inline(row, column, body)
        self._no_deeper(dash)
        return value
