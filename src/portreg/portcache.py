"""Ports mentioned in many files, without reading the files that did not change.

``assign`` must skip every port a values file already uses, and a repo may
hold hundreds of them. Each file's ports (a regex scan, never a YAML parse)
are cached under the user's cache folder with the file's stat (size, mtime,
ctime, inode); a file whose stat differs is read again, and one changed in
the last two seconds is never trusted from the cache (``settings_cache``
explains why). A cache that cannot be read or written only costs speed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from portreg.settings_cache import cache_file, read_json, settled, stamp, write_json

VERSION = 1


def _load(path: str, root: str) -> dict[str, list[object]]:
    saved = read_json(path)
    if not isinstance(saved, dict) or saved.get("version") != VERSION or saved.get("root") != root:
        return {}
    files = saved.get("files")
    return files if isinstance(files, dict) else {}


def _cached_ports(entry: list[object] | None, current: list[int]) -> set[int] | None:
    if not entry or entry[0] != current or not isinstance(entry[1], list):
        return None
    return {port for port in entry[1] if isinstance(port, int)}


def ports_in_files(
    root: str, name: str, paths: Iterable[str], scan: Callable[[str], set[int]]
) -> set[int]:
    """The union of ``scan(text)`` over ``paths`` (absolute), reading only changed files."""
    cache_path = cache_file(f"ports-{name}", root)
    cached = _load(cache_path, root)
    fresh: dict[str, list[object]] = {}
    ports: set[int] = set()
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        current = stamp(info)
        found = _cached_ports(cached.get(path), current)
        if found is None:
            found = scan(_read(path))
        ports |= found
        if settled(info):
            fresh[path] = [current, sorted(found)]
    if fresh != cached:
        write_json(cache_path, {"version": VERSION, "root": root, "files": fresh})
    return ports


def _read(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
