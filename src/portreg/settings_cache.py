"""A small cache of validated settings, so ``query`` and ``list`` need not import tomllib.

Parsing TOML costs more than the whole rest of a ``query`` (tomllib pulls in
``typing``). After a full load validates a config file, the few values the
read-only commands need are saved under the user's cache folder, keyed by the
file's path, size and mtime; a stale or unreadable entry is simply ignored.
"""

from __future__ import annotations

import json
import os
import zlib

QUICK_KEYS = ("registry", "node_port_base", "node_port_offset", "store")


def cache_folder() -> str:
    """``$PORTREG_CACHE_DIR``, else ``$XDG_CACHE_HOME/portreg``, else ``~/.cache/portreg``."""
    explicit = os.environ.get("PORTREG_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "portreg")


def _entry(config: str) -> tuple[str, list[object]]:
    real = os.path.realpath(config)
    info = os.stat(real)
    name = f"settings-{zlib.crc32(real.encode()):08x}.json"
    return os.path.join(cache_folder(), name), [real, info.st_size, info.st_mtime_ns]


def load(config: str) -> dict[str, object] | None:
    """The cached values for ``config`` if the file is unchanged since they were saved."""
    try:
        path, key = _entry(config)
        with open(path, encoding="utf-8") as handle:
            saved = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("key") != key:
        return None
    values = saved.get("values")
    return values if isinstance(values, dict) else None


def save(config: str, values: dict[str, object]) -> None:
    """Best effort: a cache that cannot be written only costs speed."""
    try:
        path, key = _entry(config)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temp = f"{path}.{os.getpid()}.tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump({"key": key, "values": values}, handle)
        os.replace(temp, path)
    except OSError:
        pass
