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


def render_diff(edits: Sequence[FileEdit]) -> str:
    """A unified diff of every planned edit, as ``git diff`` would show it."""
    import difflib

    chunks: list[str] = []
    for edit in edits:
        old = "/dev/null" if edit.before is None else f"a/{edit.display}"
        new = "/dev/null" if edit.after is None else f"b/{edit.display}"
        diff = difflib.unified_diff(_lines(edit.before or ""), _lines(edit.after or ""), old, new)
        chunks.extend(_marked(diff))
    return "".join(chunks)
