"""Planned edits as a unified diff that ``git apply`` and ``patch`` accept (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from portreg.io.workspace import FileEdit

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
NO_NEWLINE = "\\ No newline at end of file\n"


def _lines(text: str) -> list[str]:
    """Lines as patch tools count them: split at ``\\n`` only (``\\r`` stays in its line)."""
    return _LINE.findall(text)


def _marked(diff: Iterator[str]) -> Iterator[str]:
    """Every diff line ends in a newline; one that had none is followed by git's marker."""
    for line in diff:
        if line.endswith("\n"):
            yield line
        else:
            yield line + "\n"
            yield NO_NEWLINE


def _c_quoted(name: str) -> str:
    """``name`` in double quotes with C escapes, as git writes a name it must quote."""
    escaped = []
    for char in name:
        if char in _ESCAPES:
            escaped.append(_ESCAPES[char])
        elif ord(char) < 0x20 or char == "\x7f":
            escaped.append(f"\\{ord(char):03o}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_NEEDS_QUOTES = re.compile(r'["\\\x00-\x1f\x7f]')


def header_name(prefix: str, display: str) -> str:
    """One ``---``/``+++`` name as git writes it, so ``git apply`` and ``patch`` both read
    it whole: C-quoted when it holds a quote, a backslash or a control character, and
    followed by a tab when it holds a space (``patch`` ends an unquoted name at a space
    unless a tab ends it first)."""
    name = f"{prefix}{display}"
    if _NEEDS_QUOTES.search(name):
        name = _c_quoted(name)
    return name + "\t" if " " in name else name


def render_diff(edits: Sequence[FileEdit]) -> str:
    """A unified diff of every planned edit, as ``git diff`` would show it."""
    import difflib

    chunks: list[str] = []
    for edit in edits:
        old = "/dev/null" if edit.before is None else header_name("a/", edit.display)
        new = "/dev/null" if edit.after is None else header_name("b/", edit.display)
        diff = difflib.unified_diff(_lines(edit.before or ""), _lines(edit.after or ""), old, new)
        chunks.extend(_marked(diff))
    return "".join(chunks)
