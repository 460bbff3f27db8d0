"""The registry as a JSON file in the repo, guarded by an flock on the checkout's lock.

The lock and the journal live where git keeps its own (``.git/portreg.lock``,
``.git/portreg.journal``; see ``io.lock.state_folder``), never in the work
tree. While a command writes its files the journal holds every change: a
command killed half-way is finished by the next one that takes the lock
(``io.transaction.recover``), before it reads anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from portreg.errors import ConfigError, FileEditError, StoreError
from portreg.io.files import RealPaths, read_text
from portreg.io.lock import FileLock, checkout_lock_path, journal_path
from portreg.io.workspace import FileEdit
from portreg.store.base import Snapshot


class FileStore:
    files_first = True

    def __init__(self, path: Path, root: Path, lock_timeout: float) -> None:
        self.path = path
        self.root = root
        self.lock_path = Path(checkout_lock_path(str(root)))
        self.journal_path = Path(journal_path(str(self.lock_path)))
        self._held = False
        try:
            self.location = path.relative_to(root).as_posix()
        except ValueError:
            self.location = str(path)
        self.lock = FileLock(self.lock_path, lock_timeout, self.location)
        real = RealPaths(str(root))
        if real.real(str(path)) == real.root:
            raise ConfigError("registry: names the repo root, not a file", where=self.location)
        if not real.inside(str(path)):
            raise ConfigError(
                f"registry: leads outside the repo ({real.real(str(path))})",
                where=self.location,
                hint="keep the registry inside the repo; share one beyond it on etcd",
            )

    def _check_folder(self) -> None:
        if not self.path.parent.is_dir():
            raise StoreError(
                f"registry folder {self.path.parent} does not exist",
                where=self.location,
                hint="run `portreg init`, or set registry = ... in portreg.toml",
            )

    @contextmanager
    def session(self) -> Iterator[None]:
        """Hold the exclusive lock and finish any interrupted command first."""
        from portreg.io.transaction import locked  # the write path: not for query and list

        self._check_folder()
        with locked(self.lock, self.root):
            self._held = True
            try:
                yield
            finally:
                self._held = False

    def load(self) -> Snapshot:
        """The registry text; an interrupted command is finished first, under the lock."""
        if not self._held and self.journal_path.exists():
            with self.session():
                return self._read()
        return self._read()

    def _read(self) -> Snapshot:
        try:
            return Snapshot(read_text(self.path))
        except FileEditError as exc:
            raise StoreError(exc.message, where=self.location) from exc

    def registry_edit(self, snapshot: Snapshot, text: str) -> FileEdit:
        return FileEdit(self.path, self.location, snapshot.text, text)

    def commit(self, snapshot: Snapshot, text: str) -> None:
        from portreg.io.transaction import apply_edits

        apply_edits([self.registry_edit(snapshot, text)], root=self.root)
