"""Planned edits as a unified diff, as ``git diff`` shows them (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from portreg.io.workspace import FileEdit


def render_diff(edits: Sequence[FileEdit]) -> str:
    """A unified diff of every planned edit, as ``git diff`` would show it."""
    import difflib

    chunks: list[str] = []
    for edit in edits:
        before = (edit.before or "").splitlines(keepends=True)
        after = edit.after.splitlines(keepends=True)
        old = "/dev/null" if edit.before is None else f"a/{edit.display}"
        chunks.extend(difflib.unified_diff(before, after, old, f"b/{edit.display}"))
        if chunks and not chunks[-1].endswith("\n"):
            chunks.append("\n\\ No newline at end of file\n")
    return "".join(chunks)
