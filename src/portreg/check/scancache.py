"""What ``check`` found in each file last time, so unchanged files are not parsed again.

A file's observations are a function of its text, its path, the scanner and
the config, and of portreg's own code. Each entry is kept with the file's
stat (size, mtime, ctime, inode), as the port cache does, and the whole cache
with a key made of the config (the validated Settings), portreg's version and
the stat of the scanner modules, so a changed config or an upgrade starts
afresh. A file changed in the last two seconds is never cached (git's "racy"
rule, see ``settings_cache``), and a file that cannot be read is never cached:
it is read again, and reported again, on every run.

The cache lives under the user's cache folder and only ever costs speed: one
that cannot be read, or belongs to another key, is ignored and rewritten.
"""

from __future__ import annotations

import os

from portreg import __version__
from portreg.settings_cache import cache_file, read_json, settled, stamp, write_json
from portreg.targets.base import Observation

VERSION = 2

Row = list[object]
"""One Observation as JSON: line, port, field, role, service (the target is the
scanner's name and the path the file's, as they almost always are), else all
seven fields."""


def fingerprint(config: str) -> str:
    """The cache key: the config's repr, portreg's version and the stat of its code.

    Kept whole and compared whole (no hash: importing hashlib costs more than
    comparing a few kilobytes)."""
    parts = [str(VERSION), __version__, config]
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for folder, _dirs, names in sorted(os.walk(package)):
        for name in sorted(names):
            if name.endswith(".py"):
                source = os.path.join(folder, name)
                parts.append(f"{source}:{stamp(os.stat(source))}")
    return "\0".join(parts)


def _row(found: Observation, scanner: str, display: str) -> Row:
    if found.target == scanner and found.path == display:
        return [found.line, found.port, found.field, found.role, found.service]
    return list(found)


_SHAPE = (str, str, int, int, str, str)


def _observation(row: object, scanner: str, display: str) -> Observation | None:
    """A row back as an Observation; None for anything this version did not write."""
    if isinstance(row, list) and len(row) == 5:
        row = [scanner, display, *row]
    if not isinstance(row, list) or len(row) != 7 or not all(map(isinstance, row, _SHAPE)):
        return None
    if row[6] is not None and not isinstance(row[6], str):
        return None
    return Observation._make(row)


class ScanCache:
    """Per scanner, per file: the stamp, a tag (what else the scan depended on), the rows."""

    def __init__(self, root: str, key: str) -> None:
        self.path = cache_file("scan", root)
        self.root = root
        self.key = key
        saved = read_json(self.path)
        valid = isinstance(saved, dict) and saved.get("key") == key and saved.get("root") == root
        scanners = saved.get("scanners") if valid and isinstance(saved, dict) else None
        self.saved: dict[str, dict[str, object]] = {}
        for name, files in scanners.items() if isinstance(scanners, dict) else ():
            if isinstance(files, dict):
                self.saved[name] = files
        self.fresh: dict[str, dict[str, object]] = {}
        self.changed = False

    def stat(self, display: str) -> os.stat_result | None:
        try:
            return os.stat(os.path.join(self.root, display))
        except OSError:
            return None

    def get(
        self, scanner: str, display: str, info: os.stat_result | None, tag: str = ""
    ) -> list[Observation] | None:
        """The file's observations if it is unchanged since they were saved."""
        files = self.saved.get(scanner)
        entry = files.get(display) if isinstance(files, dict) else None
        if info is None or not isinstance(entry, list) or len(entry) != 3:
            return None
        saved_stamp, saved_tag, rows = entry
        if saved_stamp != stamp(info) or saved_tag != tag or not isinstance(rows, list):
            return None
        found = [_observation(row, scanner, display) for row in rows]
        if any(item is None for item in found):
            return None
        self.fresh.setdefault(scanner, {})[display] = entry
        return found  # type: ignore[return-value]

    def put(
        self,
        scanner: str,
        display: str,
        info: os.stat_result | None,
        found: list[Observation],
        tag: str = "",
    ) -> None:
        if info is not None and settled(info):
            entry = [stamp(info), tag, [_row(item, scanner, display) for item in found]]
            self.fresh.setdefault(scanner, {})[display] = entry
            self.changed = True

    def save(self) -> None:
        """Write what this run saw (entries for files gone since are dropped)."""
        sizes = {name: len(files) for name, files in self.fresh.items()}
        gone = sizes != {name: len(files) for name, files in self.saved.items() if files}
        if self.changed or gone:
            write_json(self.path, {"key": self.key, "root": self.root, "scanners": self.fresh})
