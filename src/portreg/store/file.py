"""The registry as a JSON file in the repo, guarded by an flock on a separate ``.lock`` file.

Beside them lives ``<registry>.journal`` while a command writes its files: a
command killed half-way is finished by the next one that takes the lock
(``plan.recover``), before it reads anything.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from portreg.errors import LockTimeoutError, StoreError
from portreg.store import Snapshot
from portreg.workspace import FileEdit, read_text


class FileStore:
    files_first = True

    def __init__(self, path: Path, root: Path, lock_timeout: float) -> None:
        self.path = path
        self.root = root
        self.lock_timeout = lock_timeout
        self.lock_path = path.with_name(path.name + ".lock")
        self.journal_path = path.with_name(path.name + ".journal")
        self._held = False
        try:
            self.location = path.relative_to(root).as_posix()
        except ValueError:
            self.location = str(path)

    def _check_folder(self) -> None:
        if not self.path.parent.is_dir():
            raise StoreError(
                f"registry folder {self.path.parent} does not exist",
                where=self.location,
                hint="run `portreg init`, or set registry = ... in portreg.toml",
            )

    def _open_lock(self) -> int:
        try:
            return os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(
                f"cannot create the lock file {self.lock_path.name}: {exc.strerror}",
                where=self.location,
                hint="make the registry folder writable",
            ) from exc

    def _holder(self, descriptor: int) -> str:
        try:
            pid = os.pread(descriptor, 32, 0).decode().strip()
        except (OSError, UnicodeDecodeError):
            return ""
        return f" (pid {pid})" if pid.isdigit() else ""

    @contextmanager
    def session(self) -> Iterator[None]:
        """Hold the exclusive lock; a lock left by a dead process is free (flock dies with it)."""
        self._check_folder()
        descriptor = self._open_lock()
        try:
            self._acquire(descriptor)
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
            self._held = True
            self._recover()
            yield
        finally:
            self._held = False
            os.close(descriptor)

    def _recover(self) -> None:
        """Finish a command that was killed while writing (its journal is still there)."""
        from portreg.plan import recover

        try:
            recover(self.journal_path)
        except OSError as exc:
            raise StoreError(
                f"cannot finish an interrupted command: {exc.strerror}",
                where=self.location,
                hint="make the files writable and run again",
            ) from exc

    def _acquire(self, descriptor: int) -> None:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.002
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise StoreError(f"cannot lock: {exc.strerror}", where=self.location) from exc
            if time.monotonic() >= deadline:
                raise LockTimeoutError(
                    f"the registry is locked by another portreg{self._holder(descriptor)} "
                    f"for more than {self.lock_timeout:g} s",
                    where=self.location,
                    hint="wait for it to finish, or raise lock-timeout in portreg.toml",
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def load(self) -> Snapshot:
        """The registry text; an interrupted command is finished first, under the lock."""
        if not self._held and self.journal_path.exists():
            with self.session():
                return self._read()
        return self._read()

    def _read(self) -> Snapshot:
        from portreg.errors import FileEditError

        try:
            return Snapshot(read_text(self.path))
        except FileEditError as exc:
            raise StoreError(exc.message, where=self.location) from exc

    def registry_edit(self, snapshot: Snapshot, text: str) -> FileEdit:
        return FileEdit(self.path, self.location, snapshot.text, text)

    def commit(self, snapshot: Snapshot, text: str) -> None:
        from portreg.plan import apply_edits

        apply_edits([self.registry_edit(snapshot, text)])
