"""Reading a repo into Facts: the only part of ``check`` that touches files.

Targets that can read one file at a time (``files`` + ``scan_file``, the
read-only scanners) are read per file, so one broken file is one finding and
the rest are still checked; other targets (Helm, kind) are read whole, and a
file they cannot read becomes a finding for that target.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from portreg.check.facts import Facts, Unreadable
from portreg.config import Settings
from portreg.errors import PortregError
from portreg.model import RegistryState
from portreg.targets.base import Observation, Target
from portreg.workspace import Workspace


@runtime_checkable
class FileScanner(Protocol):
    name: str

    def files(self, ws: Workspace) -> list[str]: ...

    def scan_file(self, display: str, text: str) -> list[Observation]: ...

    def read(self, ws: Workspace, display: str) -> str: ...


def _unreadable(target: str, exc: PortregError, fallback: str) -> Unreadable:
    """Split the error's ``path:line`` back out (its ``where``)."""
    where = exc.where or fallback
    path, _, line = where.partition(":")
    number = int(line.split(":")[0]) if line.split(":")[0].isdigit() else 1
    return Unreadable(target, path, number, exc.message)


def _scan_files(ws: Workspace, scanner: FileScanner) -> tuple[list[Observation], list[Unreadable]]:
    found: list[Observation] = []
    problems: list[Unreadable] = []
    for display in scanner.files(ws):
        try:
            found.extend(scanner.scan_file(display, scanner.read(ws, display)))
        except PortregError as exc:
            problems.append(_unreadable(scanner.name, exc, display))
    return found, problems


def scan(ws: Workspace, targets: Sequence[Target]) -> tuple[list[Observation], list[Unreadable]]:
    """Every target's observations (paths relative to the root) and unreadable files."""
    found: list[Observation] = []
    problems: list[Unreadable] = []
    for target in targets:
        if isinstance(target, FileScanner):
            more, bad = _scan_files(ws, target)
        else:
            try:
                more, bad = target.scan(ws), []
            except PortregError as exc:
                more, bad = [], [_unreadable(target.name, exc, target.name)]
        found.extend(more)
        problems.extend(bad)
    return found, problems


def values_files(settings: Settings, ws: Workspace) -> dict[str, str]:
    """Service -> its Helm values file, for every file the values pattern matches."""
    if not settings.helm.enabled or "{service}" not in settings.helm.values:
        return {}
    before, _, after = settings.helm.values.partition("{service}")
    pattern = re.compile(re.escape(before) + r"(?P<service>[^/]+)" + re.escape(after))
    found: dict[str, str] = {}
    for path in ws.glob(settings.helm.values.replace("{service}", "*")):
        match = pattern.fullmatch(ws.display(path))
        if match:
            found[match.group("service")] = ws.display(path)
    return found


def _display(root: Path, location: str) -> str:
    try:
        return Path(location).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return location


def facts(
    settings: Settings,
    state: RegistryState,
    ws: Workspace,
    targets: Sequence[Target],
    *,
    registry: tuple[str, str | None],
    listeners: Mapping[int, str] | None = None,
) -> Facts:
    """Read the repo through ``ws``; ``registry`` is (location, text) as the store gave it."""
    observations, problems = scan(ws, targets)
    kind = ws.resolve(settings.kind.config)
    return Facts(
        settings=settings,
        state=state,
        registry_path=_display(settings.root, registry[0]),
        registry_text=registry[1],
        observations=tuple(observations),
        values_files=values_files(settings, ws),
        kind_config=ws.display(kind) if settings.kind.enabled and kind.is_file() else None,
        config_path=_display(settings.root, settings.source) if settings.source else None,
        unreadable=tuple(problems),
        listeners=listeners,
    )
