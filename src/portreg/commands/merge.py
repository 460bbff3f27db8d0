"""Three-way merge of registry documents, for ``portreg merge-driver %O %A %B`` (pure).

Git's line merge of the JSON either conflicts on ``next_port`` or, worse,
merges cleanly while giving one port to two services. This merge works on
values instead:

* assignments: each service is merged on its own. A side that left a service
  as it was in the base takes the other side's change (including a release);
  a service both sides changed keeps ours. Services added on either side are
  kept (the union).
* no port is held twice: a port that ours and theirs gave to different
  services stays with ours (a port one side already held twice stays with its
  first holder); the others are moved to the next free port and reported, so
  the developer runs ``portreg update-configs <service>`` for them. A port
  theirs took that is now reserved is moved the same way. The next free port
  is the one ``assign`` would hand out: ``model.allocate`` skipping every port
  the repo's files use (``targets.in_use``, read by the caller).
* ``reserved_ports`` is merged as a set; any other key (known or not) is
  merged like a service: an unchanged side takes the other side's value.
* ``next_port`` is recomputed: one past the highest port handed out, never
  below either side's hint, never past the range's end + 1 (nor 65535: the
  registry must stay readable).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portreg.commands import (
    command,
    err,
)
from portreg.config import Settings, load_settings
from portreg.errors import EXIT_OK, PortregError
from portreg.io.files import read_text
from portreg.io.workspace import FileEdit, Workspace
from portreg.model import (
    MAX_PORT,
    RegistryState,
    allocate,
    dump_registry,
    parse_registry,
    reserved_ports,
)

if TYPE_CHECKING:
    import argparse

    from portreg.commands import Subparsers


# Keys whose merge is done on parsed values rather than copied from one side.
_MANAGED = frozenset({"next_port", "reserved_ports", "assignments"})
_ABSENT: Any = object()


@dataclass(frozen=True)
class Reassignment:
    """A service of theirs moved off a port that ours (or a reservation) holds."""

    service: str
    old_port: int
    new_port: int
    kept_by: str | None  # the service that keeps the port; None when it is reserved
    side: str = "theirs"  # where the moved service's port came from
    keeper_side: str = "ours"

    def describe(self) -> str:
        holder = f"'{self.kept_by}' ({self.keeper_side})" if self.kept_by else "a reservation"
        return (
            f"port {self.old_port} was given to both {holder} and '{self.service}' "
            f"({self.side}); '{self.service}' now has port {self.new_port}"
        )


@dataclass(frozen=True)
class MergeResult:
    state: RegistryState
    reassigned: tuple[Reassignment, ...] = field(default_factory=tuple)


def _pick(base: Any, ours: Any, theirs: Any) -> Any:
    """The usual 3-way rule for one value: if ours did not change it, theirs wins."""
    return theirs if ours == base else ours


def _merge_mapping(
    base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any]
) -> tuple[dict[str, Any], set[str]]:
    """Merge key by key (ours' order, then keys new in theirs); also the keys theirs decided."""
    merged: dict[str, Any] = {}
    from_theirs: set[str] = set()
    for key in [*ours, *(k for k in theirs if k not in ours)]:
        old, mine, other = (m.get(key, _ABSENT) for m in (base, ours, theirs))
        value = _pick(old, mine, other)
        if value is not _ABSENT:
            merged[key] = value
            if mine == old and mine != other:
                from_theirs.add(key)
    return merged, from_theirs


def _merge_reserved(base: RegistryState, ours: RegistryState, theirs: RegistryState) -> list[int]:
    old, mine, other = (set(s.reserved_ports) for s in (base, ours, theirs))
    union = dict.fromkeys([*ours.reserved_ports, *theirs.reserved_ports])
    # A port both sides keep, or one side added, stays; one a side removed goes.
    return [p for p in union if (p in mine and p in other) or p not in old]


def _document(base: RegistryState, ours: RegistryState, theirs: RegistryState) -> dict[str, Any]:
    """The document's other keys (version, metadata, unknown ones), merged value by value.

    Managed keys keep their place (as None) so ``dump_registry`` writes them where they were.
    """
    strip = [
        {k: v for k, v in s.document.items() if k not in _MANAGED} for s in (base, ours, theirs)
    ]
    merged, _ = _merge_mapping(*strip)
    order = [*ours.document, *(k for k in theirs.document if k not in ours.document)]
    return {k: merged.get(k) for k in order if k in _MANAGED or k in merged}


def _updated(state: RegistryState) -> str | None:
    metadata = state.document.get("metadata")
    value = metadata.get("last_updated") if isinstance(metadata, dict) else None
    return value if isinstance(value, str) else None


def _next_port(
    settings: Settings, ours: RegistryState, theirs: RegistryState, ports: list[int]
) -> int | None:
    hints = [p for p in (ours.next_port, theirs.next_port) if p is not None]
    candidates = [*hints, max(ports) + 1] if ports else hints
    return min(max(candidates), settings.last_port + 1, MAX_PORT) if candidates else None


def merge_states(
    settings: Settings,
    base: RegistryState,
    ours: RegistryState,
    theirs: RegistryState,
    *,
    in_use: Iterable[int] = (),
) -> MergeResult:
    """Merge three versions of the registry; see the module docstring for the rules.
    ``in_use``: the ports the repo's files use, which a moved service never gets."""
    assignments, from_theirs = _merge_mapping(
        base.assignments, ours.assignments, theirs.assignments
    )
    reserved = _merge_reserved(base, ours, theirs)
    ports = list(assignments.values())
    state = RegistryState(
        assignments=assignments,
        reserved_ports=tuple(reserved),
        next_port=_next_port(settings, ours, theirs, ports),
        document=_document(base, ours, theirs),
    )
    return _resolve_clashes(settings, state, from_theirs, frozenset(in_use))


def _keepers(state: RegistryState, from_theirs: set[str]) -> dict[int, str]:
    """Who keeps each port: a service of ours before one of theirs, then the first in order."""
    keepers: dict[int, str] = {}
    for service in sorted(state.assignments, key=lambda s: s in from_theirs):  # stable
        keepers.setdefault(state.assignments[service], service)
    return keepers


def _resolve_clashes(
    settings: Settings, state: RegistryState, from_theirs: set[str], in_use: frozenset[int]
) -> MergeResult:
    """Move every service off a port another service keeps, and theirs off a reserved one."""
    blocked = reserved_ports(settings, state)
    keepers = _keepers(state, from_theirs)
    moves: list[Reassignment] = []
    for service in sorted(state.assignments, key=lambda s: (state.assignments[s], s)):
        port = state.assignments[service]
        keeper = keepers[port]
        if keeper == service and not (service in from_theirs and port in blocked):
            continue
        new_port = allocate(settings, state, in_use)
        state = state.with_port(service, new_port)
        kept_by = None if keeper == service else keeper
        sides = _side(service, from_theirs), _side(keeper, from_theirs)
        moves.append(Reassignment(service, port, new_port, kept_by, *sides))
    return MergeResult(state, tuple(moves))


def _side(service: str, from_theirs: set[str]) -> str:
    return "theirs" if service in from_theirs else "ours"


def merge_texts(
    settings: Settings,
    base: str | None,
    ours: str,
    theirs: str,
    where: str,
    *,
    in_use: Iterable[int] = (),
) -> tuple[str, MergeResult]:
    """Parse, merge and dump; ``last_updated`` becomes the later of the two sides' (no clock)."""
    states = [
        parse_registry(text, f"{where} ({side})")
        for text, side in ((base, "base"), (ours, "ours"), (theirs, "theirs"))
    ]
    base_state, ours_state, theirs_state = states
    result = merge_states(settings, base_state, ours_state, theirs_state, in_use=in_use)
    stamps = [s for s in (_updated(states[1]), _updated(states[2])) if s]
    return dump_registry(result.state, max(stamps) if stamps else None), result


# ------------------------------------------------------------- the command


def _ports_in_files(settings: Settings) -> set[int]:
    """The ports the repo's files use, which a port the merge moves must avoid (as assign's)."""
    from portreg.targets import build_targets
    from portreg.targets.in_use import ports_in_use

    return ports_in_use(Workspace(settings.root), build_targets(settings))


def main(args: argparse.Namespace) -> int:
    """Git merge driver: merge %O %A %B into %A; a clash moved theirs, which we report."""
    from portreg.io.transaction import apply_edits

    settings = load_settings(args.root, args.config)

    ours_path = Path(args.ours)
    texts = [read_text(Path(name)) for name in (args.base, args.ours, args.theirs)]
    if texts[1] is None or texts[2] is None:
        raise PortregError("merge-driver: ours or theirs does not exist", where=args.ours)
    in_use = _ports_in_files(settings)
    merged, result = merge_texts(
        settings, texts[0], texts[1], texts[2], settings.registry, in_use=in_use
    )
    # Git's temp file %A, not the registry: no lock and no journal. git writes the registry
    # from %A itself, under its own index.lock; a journal naming a temp file git deletes
    # would stop the next portreg run, and a portreg that runs git holding the lock would
    # wait on itself.
    apply_edits([FileEdit(ours_path, args.ours, texts[1], merged)], root=None)
    for move in result.reassigned:
        err(f"portreg: merge: {move.describe()}")
    if result.reassigned:
        names = " ".join(move.service for move in result.reassigned)
        err(f"portreg: merge: now run `portreg update-configs {names}` and commit the result")
    return EXIT_OK


def add(sub: Subparsers) -> None:
    merge = command(
        sub,
        "merge-driver",
        "git merge driver for the registry (%%O %%A %%B)",
        example="git config merge.portreg.driver 'portreg merge-driver %O %A %B'",
    )
    merge.add_argument("base", help="git's %%O: the common ancestor's registry")
    merge.add_argument("ours", help="git's %%A: our registry; the result is written here")
    merge.add_argument("theirs", help="git's %%B: the other branch's registry")
    merge.set_defaults(handler=main)
