"""What every store gives: a consistent snapshot, and a way to commit a new version."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from portreg.io.workspace import FileEdit


class Snapshot(NamedTuple):
    """The registry text as read, and the revision a compare-and-swap must match."""

    text: str | None
    revision: int = 0


class Store(Protocol):
    location: str
    files_first: bool
    """True when the registry is written together with (after) the config files."""

    @property
    def journal_path(self) -> Path | None:
        """Where a command records its file edits first, so a killed run is finished by the
        next one (``io.transaction.recover``, run by ``session``); None: no journal."""

    def session(self) -> AbstractContextManager[None]:
        """Held around read-plan-write (the file lock; nothing for etcd)."""

    def load(self) -> Snapshot: ...

    def registry_edit(self, snapshot: Snapshot, text: str) -> FileEdit | None:
        """The registry as one more file edit (file store), or None (etcd)."""

    def commit(self, snapshot: Snapshot, text: str) -> None:
        """Store ``text`` if nobody changed the registry since ``snapshot``."""
