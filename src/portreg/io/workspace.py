"""Reading files for a plan, and holding the planned new text of each in memory.

Targets read through a Workspace and put their new text back into it, so two
targets (or two services) editing one file compose into a single FileEdit.
Nothing here writes to disk; ``io.transaction.apply_edits`` does that.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from portreg.errors import FileEditError
from portreg.io.files import RealPaths, glob_files, read_text


class FileEdit(NamedTuple):
    """One file's text before and after a command (``before`` is None for a new file,
    ``after`` None for a file the command deletes).

    ``mode`` is the permission bits of a new file (an existing file keeps its own).
    """

    path: Path
    display: str
    before: str | None
    after: str | None
    mode: int = 0o644


class Workspace:
    """The repo's files as a plan sees them: read lazily, changed only in memory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._real = RealPaths(str(root))
        self._original: dict[Path, str | None] = {}
        self._current: dict[Path, str | None] = {}

    def display(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def resolve(self, relative: str | Path) -> Path:
        """The repo path ``relative`` names; one that leads outside the root is refused."""
        path = self.root / relative
        self._require_inside(path)
        return path

    def _require_inside(self, path: Path) -> None:
        if not self._real.inside(str(path)):
            raise FileEditError(
                f"leads outside the repo ({self._real.real(str(path))})",
                where=self.display(path),
                hint="portreg reads and edits only files inside the repo",
            )

    def read(self, path: Path) -> str | None:
        """The file's text as this plan sees it (None: no such file); contained."""
        if path not in self._current:
            self._require_inside(path)
            try:
                text = read_text(path)
            except FileEditError as exc:
                exc.where = self.display(path)  # messages name repo files by repo path
                raise
            self._original[path] = text
            self._current[path] = text
        return self._current[path]

    def write(self, path: Path, text: str) -> None:
        self.read(path)
        self._current[path] = text

    def delete(self, path: Path) -> None:
        """Plan the file's removal (only a file that exists is removed)."""
        self.read(path)
        self._current[path] = None

    def glob(self, pattern: str) -> list[Path]:
        """Repo files matching a glob (``**`` allowed), sorted, symlinks not followed out."""
        return [self.root / name for name in glob_files(str(self.root), pattern)]

    def glob_names(self, pattern: str) -> list[str]:
        """The same matches as :meth:`glob`, as repo paths (``/``-separated strings).

        For scans over hundreds of files, where a Path per match costs more than the scan.
        """
        return [name.replace(os.sep, "/") for name in glob_files(str(self.root), pattern)]

    def edits(self) -> list[FileEdit]:
        changed = []
        for path, text in self._current.items():
            before = self._original[path]
            if text != before:
                changed.append(FileEdit(path, self.display(path), before, text))
        return changed
