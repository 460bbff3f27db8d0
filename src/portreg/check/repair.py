"""Planning ``reconcile`` and ``fix`` from Facts: pure functions of values.

A plan is a :class:`~portreg.model.step.Step`: the new registry state plus,
per service, the ports its files should hold (``Move``) and the entries to
delete (``--prune``); the command turns it into edits through the targets
inside ``Registry.transact``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from portreg.check.facts import Claim, Facts
from portreg.check.rules import (
    FIX,
    forward_refusal,
    governed,
    host_port_bound_twice,
    node_port_collisions,
    port_collisions,
    reserved_drift,
)
from portreg.config import SERVICE_LABEL
from portreg.config.kinds import CLUSTER, VALUES, named
from portreg.model import RegistryState, allocate
from portreg.model.step import Move, Step
from portreg.targets.base import HOST, SERVICE, SHARED, Observation, run_together

_LABEL = re.compile(SERVICE_LABEL)


NOT_FIXED = "⚠️  Not fixed: "


def not_fixed(note: str) -> str:
    """A warning for what ``fix`` cannot repair itself."""
    return f"{NOT_FIXED}{note}"


def left_unfixed(warnings: Iterable[str]) -> list[str]:
    """The warnings that say ``fix`` left something as it was."""
    return [warning for warning in warnings if warning.startswith(NOT_FIXED)]


# ---------------------------------------------------------------- reconcile


def _keep_reason(facts: Facts, state: RegistryState, port: int | None) -> str:
    """Why a Helm port cannot be kept ("" when it can)."""
    settings = facts.settings
    if port is None:
        return "its values file has no literal service.port"
    if not settings.in_range(port):
        return f"{port} is outside {settings.range_text}"
    if port in facts.reserved:
        return f"{port} is reserved"
    # Only the registry (with the services adopted before this one) can take the port away:
    # a stale kind mapping or Tiltfile forward on it is moved by `fix` afterwards.
    holder = state.holder_of(port)
    return f"{port} belongs to {holder}" if holder is not None else ""


def named_by_errors(facts: Facts) -> frozenset[str]:
    """The services an error of ``check`` names (on either side): the ones ``fix`` adopts.
    Adopting the rest is ``reconcile``'s job, asked for by name."""
    from portreg.check.rules import run

    found = [f for f in run(facts) if f.severity == "error"]
    return frozenset(name for f in found for name in (f.service, f.holder) if name)


def plan_reconcile(facts: Facts, only: frozenset[str] | None = None) -> Step:
    """Adopt every service the repo names that the registry does not know.

    A service is named by its Helm values file, a kind mapping's comment, a Tiltfile
    forward or port dict, a compose service or a user target: any entry with a service
    name and a host port inside first-port..last-port (an entry outside it, PostgreSQL
    on 5433, is infrastructure, not a service). Who keeps a contested port, one rule:
    the registry's holder keeps it; among services the registry does not know, the one
    the most files name on that port; ties go to the first in file order. The rest get
    the lowest free ports. ``only``: adopt just these services (``fix`` adopts the ones a
    finding names).
    """
    plan = Step(facts.state)
    found = [c for c in candidates(facts) if only is None or c.service in only]
    apart = _alternatives(found)
    for service, why in apart.items():
        plan.messages.append(f"ℹ️  Not adopting '{service}': {why}; `portreg assign` decides")
    found = [c for c in found if c.service not in apart]
    keepers = _keepers(found)
    for candidate in found:
        service, wanted = candidate.service, candidate.port
        reason = _keep_reason(facts, plan.state, wanted) or _lost_to(keepers, candidate)
        if reason:
            taken = facts.taken_by_others(service) | plan.taken() | set(keepers)
            lowest = plan.state._replace(next_port=None)  # the lowest free, not next_port's
            port = allocate(facts.settings, lowest, taken)
            plan.messages.append(f"➕ Adopted '{service}' on port {port} ({reason})")
        else:
            assert wanted is not None
            port = wanted
            plan.messages.append(f"➕ Adopted '{service}' on its port {port} ({candidate.where})")
        plan.state = plan.state.with_port(service, port)
        plan.moves.append(Move(service, port))
    return plan


@dataclass(frozen=True)
class Candidate:
    """An unregistered service the repo names: the port most of its files name, where."""

    service: str
    port: int | None  # None: a values file without a literal port
    entries: tuple[str, ...]  # path:line of each entry naming that port
    groups: frozenset[str] = frozenset({SHARED})  # the run groups of those entries

    @property
    def files(self) -> int:
        return len({entry.rpartition(":")[0] for entry in self.entries})

    @property
    def where(self) -> str:
        return ", ".join(self.entries)


def filling_moves(facts: Facts, adoption: Step, planned: list[Move]) -> list[Move]:
    """What ``fix`` writes for the services it adopted that its repairs do not move: only a
    service whose files name no port yet (a bare values file) gets its ports written,
    everywhere; the others' files already agree with their adopted port."""
    moved = {move.service for move in planned}
    return [
        Move(move.service, move.port)
        for move in adoption.moves
        if move.service not in moved and not facts.targets_of(move.service)
    ]


def candidates(facts: Facts) -> list[Candidate]:
    """Every adoptable service, in the file order of its first entry."""
    named: dict[str, dict[int, list[str]]] = {}
    groups: dict[tuple[str, int], set[str]] = {}
    for obs in facts.observations:
        service = obs.service
        if service is None or facts.registered(service) or not _adoptable(facts, obs):
            continue
        if _LABEL.fullmatch(service):
            entry = f"{obs.path}:{obs.line}"
            named.setdefault(service, {}).setdefault(obs.port, []).append(entry)
            groups.setdefault((service, obs.port), set()).add(obs.group)
    for service in facts.governed_values:
        if not facts.registered(service):
            named.setdefault(service, {})
    found = []
    for service, ports in named.items():
        if not ports:
            path = facts.values_files.get(service, "")
            found.append(Candidate(service, facts.helm_port(path), (path,)))  # maybe 9500
            continue
        # most files first; max() keeps the first of equals, so file order breaks ties
        port = max(ports, key=lambda p: len({e.rpartition(":")[0] for e in ports[p]}))
        found.append(Candidate(service, port, tuple(ports[port]), frozenset(groups[service, port])))
    return found


def _adoptable(facts: Facts, obs: Observation) -> bool:
    """Whether a file's entry names a service to adopt on its port: a governed host
    binding (inside the range, not reserved) or a values file under the NodePort
    convention. A port table or a client's URL binds nothing; a Service's own port is
    in-cluster; PostgreSQL on 5433 is foreign."""
    if obs.role != "port" or obs.namespace not in (HOST, SERVICE):
        return False
    return facts.settings.in_range(obs.port) and (
        obs.namespace != HOST or obs.port not in facts.reserved
    )


def _alternatives(found: list[Candidate]) -> dict[str, str]:
    """Service -> why it is not adopted: another service binds its port in files that never
    run with it (two compose projects, two Tiltfiles). Which one the registry should give
    the port to is the team's call, and neither stack needs another port to run."""
    by_port: dict[int, list[Candidate]] = {}
    for candidate in found:
        if candidate.port is not None:
            by_port.setdefault(candidate.port, []).append(candidate)
    left: dict[str, str] = {}
    for port, rivals in by_port.items():
        for one in rivals:
            others = [c for c in rivals if c.service != one.service]
            apart = others and not any(
                run_together(g, h) for c in others for g in one.groups for h in c.groups
            )
            if apart:
                names = ", ".join(c.service for c in others)
                left[one.service] = f"{names} binds {port} too, in files that never run with it"
    return left


def _keepers(candidates: list[Candidate]) -> dict[int, Candidate]:
    """Port -> the unregistered service that keeps it: most files naming it, then first."""
    keepers: dict[int, Candidate] = {}
    for candidate in candidates:
        if candidate.port is None:
            continue
        current = keepers.get(candidate.port)
        if current is None or candidate.files > current.files:
            keepers[candidate.port] = candidate
    return keepers


def _lost_to(keepers: dict[int, Candidate], candidate: Candidate) -> str:
    """Why another unregistered service keeps this one's port ("" when none does)."""
    keeper = keepers.get(candidate.port) if candidate.port is not None else None
    if keeper is None or keeper.service == candidate.service:
        return ""
    files = f"{keeper.files} file{'s' if keeper.files != 1 else ''}"
    ours = f"{candidate.files} name {candidate.service}"
    return f"{candidate.port} goes to {keeper.service}, which {files} name ({ours})"


# --------------------------------------------------------------------- fix


def _registry_problem(facts: Facts, service: str, port: int, seen: dict[int, str]) -> str:
    settings = facts.settings
    if port in seen:
        return f"{port} is also {seen[port]}'s, which was assigned first"
    if not settings.in_range(port):
        return f"{port} is outside {settings.range_text}"
    return f"{port} is reserved" if port in facts.reserved else ""


def _record_reserved(facts: Facts, plan: Step) -> None:
    """PR025: portreg.toml's ``reserved`` goes into the registry's ``reserved_ports``."""
    if any(True for _hit in reserved_drift(facts)):
        declared = tuple(sorted(set(facts.settings.reserved or ())))
        plan.state = plan.state._replace(reserved_ports=declared)
        plan.messages.append(f"🔧 Recorded portreg.toml's reserved ports {list(declared)}")


def _repair_registry(facts: Facts, plan: Step) -> None:
    """Duplicated, out-of-range and reserved registry ports: the first holder keeps, others move."""
    seen: dict[int, str] = {}
    for service, port in facts.state.assignments.items():
        reason = _registry_problem(facts, service, port, seen)
        seen.setdefault(port, service)
        if not reason:
            continue
        taken = facts.taken_by_others(service) | plan.taken()
        new = allocate(facts.settings, plan.state.without(service), taken)
        plan.state = plan.state.with_port(service, new)
        plan.moves.append(Move(service, new, facts.targets_of(service)))
        plan.messages.append(f"🔧 Moved '{service}' from port {port} to {new} ({reason})")


def _strangers(facts: Facts) -> Iterator[tuple[Claim, Claim]]:
    """(owner, claim) for each unregistered service's first governed claim on a port
    another service binds in files that run with it (what PR002 says ``fix`` moves)."""
    seen: set[str] = set()
    for other, claim in facts.host_clashes(together=True):
        if facts.registered(claim.holder) or not governed(facts, claim) or claim.holder in seen:
            continue
        seen.add(claim.holder)
        yield other, claim


def _move_stranger(facts: Facts, plan: Step, owner: Claim, claim: Claim, prune: bool) -> None:
    if not claim.named:
        plan.warnings.append(
            not_fixed(f"{claim.where}: cannot tell whose entry this is; edit it by hand")
        )
    elif prune:
        targets = facts.targets_of(claim.holder) & facts.editable
        plan.removals += [(t, claim.holder) for t in sorted(targets)]
        plan.messages.append(f"🗑  Pruning '{claim.holder}' (not in the registry)")
    else:
        taken = facts.taken_by_others(claim.holder) | plan.taken()
        new = allocate(facts.settings, plan.state, taken)
        plan.moves.append(Move(claim.holder, new, facts.targets_of(claim.holder)))
        plan.messages.append(
            f"🔧 Moved '{claim.holder}' ({claim.where}) from port {claim.port} to {new}: "
            f"{claim.port} belongs to {owner.holder}"
        )


def _drifted(facts: Facts, plan: Step) -> dict[str, tuple[list[str], frozenset[str]]]:
    """Registered services whose editable entries disagree with the registry: what ``fix``
    says and which targets it rewrites. What it must not do goes to ``plan.warnings``."""
    found: dict[str, tuple[list[str], set[str]]] = {}
    for obs in facts.observations:
        service = obs.service
        if service is None and facts.part(obs.target) == CLUSTER and obs.role == "port":
            service = facts.owners.get(obs.port)  # an unnamed mapping on a registered port
        if obs.target not in facts.editable or service is None or not facts.registered(service):
            continue
        skipped = facts.settings.kind.skipping(obs.port)
        message = ""
        if facts.part(obs.target) == CLUSTER and obs.role == "port" and skipped:
            low, high = skipped
            message = (
                f"🗑  Removed kind mapping for {service} ({obs.port}): [kind] "
                f"skip-host-ports {low}-{high} leaves these host ports to Tilt"
            )
            target = obs.target  # only the mapping: the other files are not wrong
        elif facts.drifted(obs) and _fixable(facts, obs, service, plan):
            message = f"🔧 Rewriting the config files of '{service}' to the registry"
            target = obs.target
        if message:
            messages, targets = found.setdefault(service, ([], set()))
            messages += [] if message in messages else [message]  # each thing done, once
            targets.add(target)
    return {service: (messages, frozenset(t)) for service, (messages, t) in found.items()}


def _fixable(facts: Facts, obs: Observation, service: str, plan: Step) -> bool:
    """Whether rewriting this entry to the registry's port is right; else a note says why.

    A forward is left when the service has several (an app and a debugger: which is its
    port would be a guess), and when the kind mapping already binds that host port (the
    rewrite would bind it twice).
    """
    why = forward_refusal(facts, obs, service)
    if why:
        plan.warnings.append(not_fixed(f"{obs.path}:{obs.line}: {obs.field} {obs.port}: {why}"))
    return not why


def _undeclared_host_owner(facts: Facts, moves: list[Move]) -> Iterator[str]:
    """A host port kind and Tilt both bind: only the repo can say which of them owns it
    (a mapping this fix moves to another port is no longer bound twice)."""
    going = {move.service: move.port for move in moves}
    for hit in host_port_bound_twice(facts):
        sides = (hit.service or "", hit.holder or "")  # the mapping's and the forward's
        if all(going.get(side, hit.port) == hit.port for side in sides):
            yield f"{hit.path}:{hit.line}: {hit.message}; {hit.hint}"


def _read_only_notes(facts: Facts, moves: list[Move]) -> Iterator[str]:
    """The clashes ``check`` reports that only a person can settle (a foreign binding, a
    file portreg does not edit), unless this fix moves one side away."""
    going = {move.service for move in moves}
    for hit in [*port_collisions(facts), *node_port_collisions(facts)]:
        if hit.hint != FIX and not {hit.service, hit.holder} & going:
            yield f"{hit.path}:{hit.line}: {hit.message}; {hit.hint}"


def plan_fix(facts: Facts, *, prune: bool = False) -> Step:
    """A plan after which ``check`` reports no error that portreg can repair."""
    plan = Step(facts.state)
    _record_reserved(facts, plan)
    _repair_registry(facts, plan)
    for owner, claim in _strangers(facts):
        _move_stranger(facts, plan, owner, claim, prune)
    moved = {move.service for move in plan.moves}
    for service, (messages, targets) in _drifted(facts, plan).items():
        if service not in moved:
            port = plan.state.assignments[service]
            plan.moves.append(Move(service, port, targets))
            plan.messages += messages
    plan.moves = order_moves(facts, plan.moves)
    plan.warnings += [
        not_fixed(f"{u.path}:{u.line}: {u.message}; repair it by hand") for u in facts.unreadable
    ]
    plan.warnings += map(not_fixed, _read_only_notes(facts, plan.moves))
    plan.warnings += map(not_fixed, _undeclared_host_owner(facts, plan.moves))
    pruned = {service for _target, service in plan.removals}
    for service, path in sorted(facts.governed_values.items()):
        if facts.registered(service) or service in {m.service for m in plan.moves} | pruned:
            continue
        if prune:
            targets = (facts.targets_of(service) | {named(VALUES)}) & facts.editable
            plan.removals += [(target, service) for target in sorted(targets)]
            plan.messages.append(f"🗑  Pruning '{service}' (not in the registry): {path}")
        else:
            note = f"'{service}' ({path}) is not in the registry: run `portreg reconcile` to "
            plan.warnings.append(not_fixed(note + "adopt it, or `portreg fix --prune`"))
    return plan


def order_moves(facts: Facts, moves: list[Move]) -> list[Move]:
    """Moves that vacate a port go before moves onto it (kind refuses a bound hostPort)."""
    current = {m.service: {c.port for c in facts.claims if c.holder == m.service} for m in moves}
    pending, ordered = list(moves), []
    while pending:
        blocked = {p for m in pending for p in current[m.service] - {m.port}}
        ready = [m for m in pending if m.port not in blocked] or pending[:1]
        ordered += ready
        pending = [m for m in pending if m not in ready]
    return ordered
