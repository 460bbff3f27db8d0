"""Setting keys in a ``portreg.toml`` as text: the value's bytes change, nothing else.

``init --update`` brings a config in line with what the repo's files show now. A
key's value is replaced where it is written (its comment kept), a missing key is
added at the end of its table, a missing table at the end of the file; every
other byte (comments, order, the user's own keys) stays as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# a table's header (``[helm.set]``, ``[[targets]]``): bare names only, so an array's
# continuation line (``  ["a.yaml", "b.yaml"],``) is never taken for one
_HEADER = re.compile(r"^[ \t]*\[\[?(?P<name>[A-Za-z0-9_.-]+)\]\]?[ \t]*(?:#.*)?$")


def literal(value: Any) -> str:
    """A TOML literal: JSON's strings, numbers and arrays are TOML's."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def key_text(key: str) -> str:
    """A key as TOML writes it: bare when it can be, quoted (``"service.port"``) else."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def set_keys(text: str, changes: Mapping[tuple[str, str], Any]) -> str:
    """``text`` with each (table, key) set to its value; table "" is the top level."""
    lines = text.splitlines(keepends=True)
    for (table, key), value in changes.items():
        lines = _set(lines, table, key, literal(value))
    return "".join(lines)


def _newline(lines: list[str]) -> str:
    return "\r\n" if lines and lines[0].endswith("\r\n") else "\n"


def _set(lines: list[str], table: str, key: str, value: str) -> list[str]:
    span = _table_span(lines, table)
    newline = _newline(lines)
    if span is None:
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines = [*lines[:-1], lines[-1] + newline]
        return [*lines, newline, f"[{table}]{newline}", f"{key_text(key)} = {value}{newline}"]
    start, end = span
    found = _key_line(lines, start, end, key)
    if found is None:
        at = _last_content(lines, start, end)
        return [*lines[:at], f"{key_text(key)} = {value}{newline}", *lines[at:]]
    return _replace_value(lines, found, value)


def _table_span(lines: list[str], table: str) -> tuple[int, int] | None:
    """[start, end) of the table's lines (after its header); None when it is not written."""
    headers = [i for i, line in enumerate(lines) if _HEADER.match(line.rstrip("\r\n"))]
    if table == "":
        return 0, headers[0] if headers else len(lines)
    for index in headers:
        match = _HEADER.match(lines[index].rstrip("\r\n"))
        if match and match.group("name") == table:
            return index + 1, next((h for h in headers if h > index), len(lines))
    return None


def _key_line(lines: list[str], start: int, end: int, key: str) -> int | None:
    pattern = re.compile(
        rf"^[ \t]*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')[ \t]*="
    )
    for index in range(start, end):
        if pattern.match(lines[index]):
            return index
    return None


def _last_content(lines: list[str], start: int, end: int) -> int:
    """Just after the table's last line that is not blank."""
    at = start
    for index in range(start, end):
        if lines[index].strip():
            at = index + 1
    return at


def _replace_value(lines: list[str], index: int, value: str) -> list[str]:
    """The value after ``=`` on line ``index`` (an array may run over several lines)
    replaced by ``value``; a comment after it is kept."""
    line = lines[index]
    equals = line.index("=")
    last, stop = _value_end(lines, index, equals + 1)
    tail = lines[last][stop:]
    return [*lines[:index], f"{line[: equals + 1]} {value}{tail}", *lines[last + 1 :]]


def _value_end(lines: list[str], index: int, position: int) -> tuple[int, int]:
    """(line, column) just after the value that starts at ``position`` of line ``index``:
    its brackets balanced, strings skipped; a trailing comment is not part of it."""
    depth = 0
    row, column = index, position
    while row < len(lines):
        text = lines[row]
        while column < len(text):
            char = text[column]
            if char in "\"'":
                column = _string_end(text, column)
                continue
            if char in "#\r\n":
                if depth == 0:
                    return row, _trim_back(text, column)
                break  # a comment or the end of a line inside an array
            depth += {"[": 1, "]": -1}.get(char, 0)
            column += 1
        if depth == 0:
            return row, _trim_back(text, column)
        row, column = row + 1, 0
    return len(lines) - 1, len(lines[-1])


def _string_end(text: str, column: int) -> int:
    """The column after the string that opens at ``column`` (a basic string's escapes
    skipped); the line's end when it does not close on it."""
    quote = text[column]
    column += 1
    while column < len(text) and text[column] != quote:
        column += 2 if quote == '"' and text[column] == "\\" else 1
    return min(column + 1, len(text))


def _trim_back(text: str, column: int) -> int:
    """The column after the value's last character (spaces before a comment are the
    comment's)."""
    while column > 0 and text[column - 1] in " \t":
        column -= 1
    return column
