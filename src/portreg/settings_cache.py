"""A cache of config tables already parsed and validated, so a run need not import tomllib.

Parsing TOML costs more than the whole rest of a ``query`` (tomllib pulls in
``typing``). After a full load validates a config file, its portreg table is
saved as JSON under the user's cache folder, keyed by the file's path and its
stat (size, mtime, ctime, inode); a stale or unreadable entry is simply
ignored. A full load still validates what it reads from here; ``quick`` reads
its few values directly.

As git does for its index ("racy git"), a file changed within the last two
seconds is never cached: a second edit in the same clock tick could keep its
timestamps. The helpers here are shared with ``portcache``.
"""

from __future__ import annotations

import json
import os
import time
import zlib

RACY_NS = 2_000_000_000


def cache_folder() -> str:
    """``$PORTREG_CACHE_DIR``, else ``$XDG_CACHE_HOME/portreg``, else ``~/.cache/portreg``."""
    explicit = os.environ.get("PORTREG_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "portreg")


def cache_file(kind: str, of: str) -> str:
    """The cache file of ``kind`` for the path ``of`` (a config file, a repo root)."""
    return os.path.join(cache_folder(), f"{kind}-{zlib.crc32(of.encode()):08x}.json")


def stamp(info: os.stat_result) -> list[int]:
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def settled(info: os.stat_result) -> bool:
    """True when the file was last changed long enough ago for its stamp to be trusted."""
    return info.st_mtime_ns < time.time_ns() - RACY_NS


def read_json(path: str) -> object:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def write_json(path: str, data: object) -> None:
    """Best effort, atomic: a cache that cannot be written only costs speed."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temp = f"{path}.{os.getpid()}.tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(
                json.dumps(data)
            )  # dumps: json.dump streams through the pure-Python encoder
        os.replace(temp, path)
    except OSError:
        pass


def _key(config: str) -> tuple[str, list[object], bool]:
    real = os.path.realpath(config)
    info = os.stat(real)
    return real, [real, *stamp(info)], settled(info)


def load(config: str) -> dict[str, object] | None:
    """The cached table of ``config`` if the file is unchanged since it was saved."""
    try:
        real, key, _settled = _key(config)
    except OSError:
        return None
    saved = read_json(cache_file("settings", real))
    if not isinstance(saved, dict) or saved.get("key") != key:
        return None
    table = saved.get("table")
    return table if isinstance(table, dict) else None


def save(config: str, table: dict[str, object]) -> None:
    """Remember a validated table (not when the file changed too recently to trust)."""
    try:
        real, key, trusted = _key(config)
    except OSError:
        return
    if trusted:
        write_json(cache_file("settings", real), {"key": key, "table": table})
