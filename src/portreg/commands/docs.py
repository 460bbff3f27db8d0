"""``portreg docs``: the edits that bring each Markdown file's port table up to date."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from portreg.edit.markdown import replace_table
from portreg.errors import FileEditError
from portreg.io.workspace import FileEdit


def docs_plan(
    files: Sequence[tuple[Path, str]], table: str, read: Callable[[Path], str | None]
) -> tuple[list[FileEdit], list[str]]:
    """The edits that bring each file's table up to date, and the files already current.

    ``files`` are (path, the name to show: repo-relative for the config's docs, as given
    for a file named on the command line). Every file is checked before any is written,
    so a missing marker in one file leaves all of them untouched.
    """
    edits, current = [], []
    for path, name in files:
        text = read(path)
        if text is None:
            raise FileEditError("file does not exist", where=name)
        after = replace_table(text, table, name)
        if after == text:
            current.append(name)
        else:
            edits.append(FileEdit(path, name, text, after))
    return edits, current
