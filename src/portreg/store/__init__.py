"""Where the registry document lives: a JSON file in the repo, or one key in etcd.

A store gives a consistent snapshot and a way to commit a new version of it:

* ``FileStore``: an exclusive ``flock`` on a ``.lock`` file beside the registry
  makes read-plan-write one critical section; the registry is written as the
  last file of the command's all-or-nothing edit (``registry_edit``).
* ``EtcdStore``: no lock; ``commit`` is a compare-and-swap on the key's
  ``mod_revision`` and raises ``StoreConflictError`` when someone else won, so
  the command re-plans and retries. Files are edited only after it succeeded.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from portreg.config import Settings
    from portreg.io.workspace import FileEdit


@dataclass(frozen=True)
class Snapshot:
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


def redact_url(url: str) -> str:
    """``url`` with anything that could be userinfo (before the last ``@``) as ``***``.

    Generous on purpose: a password may hold ``/`` or ``:``, and a URL may lack its scheme.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    if "@" not in rest:
        return url
    hidden = f"***@{rest.rpartition('@')[2]}"
    return f"{scheme}://{hidden}" if sep else hidden


def open_store(settings: Settings, url: str | None = None) -> Store:
    """The store named by ``--store`` / ``PORTREG_STORE`` / config, else the registry file."""
    url = url or settings.store
    if url and not url.isprintable():
        from portreg.errors import ConfigError

        raise ConfigError(f"store: {redact_url(url)[:60]!r} holds a control character")
    if url and url.startswith(("etcd://", "etcds://")):
        from portreg.store.etcd import EtcdStore

        etcd_store: Store = EtcdStore.from_url(url, settings)
        return etcd_store
    if url and not url.startswith("file:"):
        from portreg.errors import ConfigError

        raise ConfigError(
            f"store: {redact_url(url)!r} is not a store URL",
            hint="use etcd://host:port/prefix or file:PATH",
        )
    from portreg.store.file import FileStore

    path = settings.root / url[5:] if url else settings.registry_path
    return FileStore(path, settings.root, settings.lock_timeout)
