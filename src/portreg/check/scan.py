"""Reading a repo into Facts: the only part of ``check`` that touches files.

Targets that can read one file at a time (``files`` + ``scan_file``, the
read-only scanners) are read per file, so one broken file is one finding and
the rest are still checked; other targets (Helm, kind) are read whole, and a
file they cannot read becomes a finding for that target.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from portreg.check.facts import Facts
from portreg.config import Settings
from portreg.config.record import replace
from portreg.errors import PortregError, Problem
from portreg.io.files import read_text
from portreg.io.workspace import Workspace
from portreg.model import RegistryState, assignment, by_port, parse_registry
from portreg.targets.base import HOST, UNREAD, FileScanner, Observation, PartlyRead, Target

if TYPE_CHECKING:
    from portreg.check.live import Here
    from portreg.store import Store


def _unreadable(target: str, exc: PortregError, fallback: str) -> Problem:
    """Split the error's ``path:line`` back out (its ``where``)."""
    where = exc.where or fallback
    path, _, line = where.partition(":")
    number = int(line.split(":")[0]) if line.split(":")[0].isdigit() else 1
    return Problem(path, number, exc.message)


class _Slot:
    """One file of one scanner: where it is and what scanning it gave."""

    __slots__ = ("display", "result", "scanner")

    def __init__(self, scanner: FileScanner, display: str) -> None:
        self.scanner = scanner
        self.display = display
        self.result: list[Observation] | Problem | None = None


def _slots(ws: Workspace, scanner: FileScanner) -> list[_Slot]:
    return [_Slot(scanner, display) for display in scanner.files(ws)]


def _scan_slot(ws: Workspace, slot: _Slot) -> list[Observation] | Problem:
    try:
        return slot.scanner.scan_file(slot.display, slot.scanner.read(ws, slot.display))
    except PortregError as exc:
        return _unreadable(slot.scanner.name, exc, slot.display)


def _encode(result: list[Observation] | Problem) -> object:
    if isinstance(result, Problem):
        return {"unreadable": list(result)}
    return [list(found) for found in result]


def _decode(sent: object) -> list[Observation] | Problem | None:
    if isinstance(sent, dict):
        return Problem(*sent["unreadable"])
    return [Observation._make(row) for row in sent] if isinstance(sent, list) else None


def _scan_all(ws: Workspace, slots: list[_Slot], split: bool) -> None:
    """Scan every slot (on two cores when ``split``)."""
    if split:
        from portreg.check.split import run_all

        weights = [_size(ws, slot.display) for slot in slots]
        results = run_all(slots, weights, partial(_scan_slot, ws), _encode, _decode)
    else:
        results = [_scan_slot(ws, slot) for slot in slots]
    for slot, result in zip(slots, results, strict=True):
        slot.result = result


def _size(ws: Workspace, display: str) -> int:
    try:
        return os.stat(os.path.join(ws.root, display)).st_size
    except OSError:
        return 0


def scan(
    ws: Workspace,
    targets: Sequence[Target],
    *,
    split: bool = False,
) -> tuple[list[Observation], list[Problem]]:
    """Every target's observations (paths relative to the root) and unreadable files.

    With ``split``, the files to parse are shared with a second process.
    """
    parts: list[list[_Slot] | tuple[list[Observation], list[Problem]]] = []
    for target in targets:
        if isinstance(target, FileScanner):
            parts.append(_slots(ws, target))
            continue
        try:
            parts.append((target.scan(ws), []))
        except PartlyRead as exc:
            unread = [_unreadable(target.name, error, target.name) for error in exc.errors]
            parts.append((exc.found, unread))
        except PortregError as exc:
            parts.append(([], [_unreadable(target.name, exc, target.name)]))
    _scan_all(ws, [slot for part in parts if isinstance(part, list) for slot in part], split)
    found: list[Observation] = []
    problems: list[Problem] = []
    for part in parts:
        if isinstance(part, tuple):
            found.extend(part[0])
            problems.extend(part[1])
            continue
        for slot in part:
            if isinstance(slot.result, Problem):
                problems.append(slot.result)
            elif slot.result is not None:
                found.extend(slot.result)
    return found, problems


def values_files(settings: Settings, ws: Workspace) -> dict[str, str]:
    """Service -> its Helm values file, for every file the values pattern matches."""
    if not settings.helm.enabled or "{service}" not in settings.helm.values:
        return {}
    from portreg.targets.fields import service_path_pattern
    from portreg.targets.helm import HelmTarget

    pattern = service_path_pattern(settings.helm.values)
    found: dict[str, str] = {}
    for name in HelmTarget(settings).files(ws):  # the files the Helm target reads, no other
        match = pattern.fullmatch(name)
        if match:
            found[match.group("service")] = match.group(0)
    return found


def unnamed_values(
    settings: Settings, ws: Workspace, targets: Sequence[Target], named: Mapping[str, str]
) -> list[Observation]:
    """The port fields of each values file the pattern matches whose name names no service
    (``Billing_API.yaml``; ``[helm] template`` aside), owned by nobody. A file that cannot
    be read holds none: it names no service, so no finding rests on it."""
    from portreg.targets.helm import HelmTarget

    helm = next((t for t in targets if isinstance(t, HelmTarget)), None)
    if helm is None:
        return []
    skip = {*named.values(), settings.helm.template}
    found: list[Observation] = []
    for display in helm.files(ws):
        if display in skip:
            continue
        try:
            found += helm.scan_values(display, helm.read(ws, display), None)
        except PortregError:
            continue
    return found


def _display(root: Path, location: str) -> str:
    try:
        return Path(location).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return location


def read(
    settings: Settings,
    store: Store,
    targets: Sequence[Target],
    ws: Workspace,
    *,
    live: Here | None = None,
) -> Facts:
    """Everything ``check`` reads (and it only reads): the registry and every target's
    files, parsed on two cores (a registry that cannot be read raises: exit 2);
    ``live``: and who listens now on the ports this instance binds."""

    snapshot = store.load()
    state = parse_registry(snapshot.text, store.location, settings.new_reserved)
    registry = (store.location, snapshot.text)
    found = facts(settings, state, ws, targets, registry=registry, split=True)
    if live is None:
        return found
    from portreg.check.live import holders  # socket: --live only

    # every host port the repo binds: a registered service's, a database's forward
    bound = {
        *state.assignments.values(),
        *(o.port for o in found.observations if o.namespace == HOST),
    }
    return replace(found, listeners=holders(bound, live), live_offset=live.offset)


def facts(
    settings: Settings,
    state: RegistryState,
    ws: Workspace,
    targets: Sequence[Target],
    *,
    registry: tuple[str, str | None],
    listeners: Mapping[int, str] | None = None,
    split: bool = False,
) -> Facts:
    """Read the repo through ``ws``; ``registry`` is (location, text) as the store gave it.

    ``check`` (which only reads) passes ``split``, so files are parsed on two cores.
    """
    helm_files = values_files(settings, ws)
    observations, problems = scan(ws, targets, split=split)
    unread = tuple(obs for obs in observations if obs.namespace == UNREAD)
    kind = ws.resolve(settings.kind.config)
    return Facts(
        settings=settings,
        state=state,
        registry_path=_display(settings.root, registry[0]),
        registry_text=registry[1],
        observations=tuple(obs for obs in observations if obs.namespace != UNREAD),
        unread=unread,
        values_files=helm_files,
        kind_config=ws.display(kind) if settings.kind.enabled and kind.is_file() else None,
        config_path=_display(settings.root, settings.source) if settings.source else None,
        config_text=read_text(settings.source) if settings.source else None,
        unreadable=tuple(problems),
        unnamed_values=tuple(unnamed_values(settings, ws, targets, helm_files)),
        listeners=listeners,
        stale_docs=tuple(_stale_docs(settings, state, ws)),
    )


def _stale_docs(settings: Settings, state: RegistryState, ws: Workspace) -> list[Problem]:
    """The ``docs`` files whose port table no longer matches the registry."""
    if not settings.docs:
        return []
    from portreg.edit.markdown import port_table, stale_docs  # a repo with docs only

    held = [assignment(settings, service, port) for service, port in state.assignments.items()]
    rows = [(a.service, a.port, a.node_port) for a in by_port(held)]
    table = port_table(rows, settings.derives_node_ports)
    return stale_docs(settings.docs, table, ws.read, settings.root)
