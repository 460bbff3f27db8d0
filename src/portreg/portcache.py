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
import re
from collections.abc import Callable, Iterable

from portreg.settings_cache import cache_file, read_json, settled, stamp, write_json

VERSION = 2

PORT_LIKE = re.compile(
    r"""^[ \t]*(?:-[ \t]*)?["']?[\w.-]*port[\w.-]*["']?[ \t]*[:=][ \t]*["']?(\d{1,5})\b""",
    re.IGNORECASE | re.MULTILINE,
)

Scan = Callable[[str, str], set[int]]
"""Ports one file holds, from its path and text."""


def port_like_numbers(text: str) -> set[int]:
    """Numbers after a key with ``port`` in its name: a superset of what a YAML parse finds."""
    return {int(number) for number in PORT_LIKE.findall(text)}


def regex_ports(_path: str, text: str) -> set[int]:
    """A :data:`Scan` for files whose ports sit under keys named like ports (Helm values)."""
    return port_like_numbers(text)


def _cache_path(root: str, name: str) -> str:
    return cache_file("ports", f"{root}\0{name}")


def _load(path: str, root: str, name: str) -> dict[str, list[object]]:
    saved = read_json(path)
    if not isinstance(saved, dict) or saved.get("version") != VERSION:
        return {}
    if saved.get("root") != root or saved.get("name") != name:
        return {}
    files = saved.get("files")
    return files if isinstance(files, dict) else {}


def _cached_ports(entry: list[object] | None, current: list[int]) -> set[int] | None:
    if not entry or entry[0] != current or not isinstance(entry[1], list):
        return None
    return {port for port in entry[1] if isinstance(port, int)}


def ports_in_files(root: str, name: str, paths: Iterable[str], scan: Scan) -> set[int]:
    """The union of ``scan`` over ``paths`` (absolute), reading only changed files.

    ``name`` keeps one target's entries apart from another's (they scan differently).
    """
    cache_path = _cache_path(root, name)
    cached = _load(cache_path, root, name)
    fresh: dict[str, list[object]] = {}
    learned = False  # a settled file read anew: worth writing the cache for
    ports: set[int] = set()
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        current = stamp(info)
        entry = cached.get(path)
        found = _cached_ports(entry, current)
        if found is None or entry is None:
            found = scan(path, _read(path))
            if settled(info):
                entry, learned = [current, sorted(found)], True
        ports |= found
        if entry is not None:
            # a file changed too recently keeps its old entry: its stamp no longer
            # matches, so it is read again until it settles (no rewrite on every run)
            fresh[path] = entry
    if learned or len(fresh) != len(cached):
        write_json(cache_path, {"version": VERSION, "root": root, "name": name, "files": fresh})
    return ports


def cached_ports(root: str, name: str, paths: Iterable[str]) -> set[int] | None:
    """The same union from the cache alone, or None when any file would need reading
    (``quick`` then leaves the command to the full CLI, which knows how to scan it)."""
    cached = _load(_cache_path(root, name), root, name)
    ports: set[int] = set()
    for path in paths:
        try:
            found = _cached_ports(cached.get(path), stamp(os.stat(path)))
        except OSError:
            continue
        if found is None:
            return None
        ports |= found
    return ports


def _read(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
