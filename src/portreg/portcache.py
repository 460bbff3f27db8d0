"""Ports mentioned in many files, without reading the files that did not change.

``assign`` must skip every port a values file already uses, and a repo may
hold hundreds of them. Each file's ports (a regex scan, never a YAML parse)
are cached under the user's cache folder with the file's size, mtime, ctime
and inode; a file whose stat differs is read again. As git does for its index
("racy git"), a file changed within the last two seconds is never trusted
from the cache: its timestamps could still match a later edit. A cache that
cannot be read or written only costs speed.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from collections.abc import Callable, Iterable

from portreg.settings_cache import cache_folder

RACY_NS = 2_000_000_000
VERSION = 1

Stamp = list[int]  # size, mtime_ns, ctime_ns, inode


def _stamp(info: os.stat_result) -> Stamp:
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def _cache_path(root: str, name: str) -> str:
    return os.path.join(cache_folder(), f"ports-{name}-{zlib.crc32(root.encode()):08x}.json")


def _load(path: str, root: str) -> dict[str, list[object]]:
    try:
        with open(path, encoding="utf-8") as handle:
            saved = json.load(handle)
    except (OSError, ValueError):
        return {}
    if not isinstance(saved, dict) or saved.get("version") != VERSION or saved.get("root") != root:
        return {}
    files = saved.get("files")
    return files if isinstance(files, dict) else {}


def _save(path: str, root: str, files: dict[str, list[object]]) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temp = f"{path}.{os.getpid()}.tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump({"version": VERSION, "root": root, "files": files}, handle)
        os.replace(temp, path)
    except OSError:
        pass


def _cached_ports(entry: list[object] | None, stamp: Stamp) -> set[int] | None:
    if not entry or entry[0] != stamp or not isinstance(entry[1], list):
        return None
    return {port for port in entry[1] if isinstance(port, int)}


def ports_in_files(
    root: str, name: str, paths: Iterable[str], scan: Callable[[str], set[int]]
) -> set[int]:
    """The union of ``scan(text)`` over ``paths`` (absolute), reading only changed files."""
    cache_path = _cache_path(root, name)
    cached = _load(cache_path, root)
    fresh: dict[str, list[object]] = {}
    ports: set[int] = set()
    trusted_before = time.time_ns() - RACY_NS
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        stamp = _stamp(info)
        found = _cached_ports(cached.get(path), stamp)
        if found is None:
            found = scan(_read(path))
        ports |= found
        if info.st_mtime_ns < trusted_before:
            fresh[path] = [stamp, sorted(found)]
    if fresh != cached:
        _save(cache_path, root, fresh)
    return ports


def _read(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
