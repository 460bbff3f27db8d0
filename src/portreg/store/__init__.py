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

from typing import TYPE_CHECKING

from portreg.errors import ConfigError, redact_url
from portreg.store.base import Snapshot, Store
from portreg.store.file import FileStore

if TYPE_CHECKING:
    from portreg.config import Settings

__all__ = ["Snapshot", "Store", "open_store"]


def open_store(settings: Settings, url: str | None = None) -> Store:
    """The store named by ``--store`` / ``PORTREG_STORE`` / config, else the registry file."""
    url = url or settings.store
    if url and not url.isprintable():
        raise ConfigError(f"store: {redact_url(url)[:60]!r} holds a control character")
    if url and url.startswith(("etcd://", "etcds://")):
        from portreg.store.etcd import EtcdStore

        etcd_store: Store = EtcdStore.from_url(url, settings)
        return etcd_store
    if url and not url.startswith("file:"):
        raise ConfigError(
            f"store: {redact_url(url)!r} is not a store URL",
            hint="use etcd://host:port/prefix or file:PATH",
        )

    path = settings.root / url[5:] if url else settings.registry_path
    return FileStore(path, settings.root, settings.lock_timeout)
