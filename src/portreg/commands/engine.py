"""check, reconcile and fix as functions over a Registry: the engine the three commands
(``commands.check``, ``commands.reconcile``, ``commands.fix``) and export's HTML page
share.

``check`` only reads. ``reconcile`` and ``fix`` scan inside one
``Registry.transact`` (under the lock), plan with ``repair`` (pure) and let
the targets turn the plan into comment-preserving, all-or-nothing edits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec

from portreg.api import Outcome, Registry
from portreg.check import rules, scan
from portreg.check.facts import Facts
from portreg.check.findings import Finding
from portreg.check.ignore import Ignores
from portreg.check.live import Here
from portreg.config import Settings
from portreg.config.kinds import VALUES, named
from portreg.config.record import replace
from portreg.errors import FileEditError, PortregError, Problem
from portreg.io.workspace import Workspace
from portreg.model import Assignment, RegistryState
from portreg.model.step import Step
from portreg.targets.base import Observation, Target

P = ParamSpec("P")


@dataclass(frozen=True)
class Report:
    """What ``check`` tells: its findings, those the repo ignores, and the ports the files
    compute (named by ``--verbose``; not findings)."""

    findings: list[Finding]
    ignored: list[Finding]
    unread: tuple[Observation, ...] = ()


def read(registry: Registry, ws: Workspace, *, live: Here | None = None) -> Facts:
    """Everything ``check`` reads, through the registry's store and targets."""
    return scan.read(registry.settings, registry.store, registry.targets(), ws, live=live)


def report(registry: Registry, *, live: Here | None = None) -> Report:
    """``check``'s whole answer."""
    ws = Workspace(registry.settings.root)
    return judge(read(registry, ws, live=live), ws)


def judge(facts: Facts, ws: Workspace) -> Report:
    """``check``'s answer from what it read: the rules' findings, the repo's ignores
    applied (``export -o html`` reads once and asks this too, so it lists the same)."""
    findings, ignored = ignores(facts.settings, ws).split(rules.run(facts))
    return Report(findings, ignored, facts.unread)


def check(registry: Registry, *, live: Here | None = None) -> tuple[list[Finding], list[Finding]]:
    """Every finding for the repo, and those the repo asked to ignore."""
    found = report(registry, live=live)
    return found.findings, found.ignored


def ignores(settings: Settings, ws: Workspace) -> Ignores:
    """The repo's ignores, reading inline comments through ``ws``."""

    def line_of(path: str, line: int) -> str:

        try:
            text = ws.read(ws.root / path) or ""
        except PortregError:
            return ""
        lines = text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""

    return Ignores(settings.ignore, line_of)


def _facts(registry: Registry, state: RegistryState, ws: Workspace) -> Facts:
    """What reconcile and fix plan from: check's facts, and the ports assign would skip."""

    from portreg.targets.in_use import ports_in_use

    location = registry.store.location
    targets = registry.targets()
    found = scan.facts(registry.settings, state, ws, targets, registry=(location, None))
    skip = ignores(registry.settings, ws)
    # an unreadable file whose PR017 the repo ignores is one fix leaves alone entirely
    left = {u.path for u in found.unreadable if skip.finding(_as_finding(found, u))}
    return replace(
        found,
        observations=tuple(o for o in found.observations if not skip.observation(o)),
        unreadable=tuple(u for u in found.unreadable if u.path not in left),
        values_files={
            service: path
            for service, path in found.values_files.items()
            if path not in left
            and not skip.observation(Observation(named(VALUES), path, 0, 0, "", "other", service))
        },
        in_use=frozenset(ports_in_use(ws, targets)),
    )


def adoptable(registry: Registry) -> tuple[list[tuple[str, str]], list[str]]:
    """(service, the file naming it) for each service ``reconcile`` would adopt, and
    ``path:line: why`` for each file that cannot be read."""
    from portreg.check import repair

    state = registry.state()
    facts = _facts(registry, state, Workspace(registry.settings.root))
    found = repair.candidates(facts)
    unreadable = [f"{u.path}:{u.line}: {u.message}" for u in facts.unreadable]
    return [(c.service, c.entries[0].rpartition(":")[0] or c.entries[0]) for c in found], unreadable


def adoption_hint(registry: Registry, service: str) -> str | None:
    """For a service the registry lacks: where the files hold it and the command that adopts
    it (``fix`` when an error of ``check`` names it, as fix adopts only those; else
    ``reconcile``). None when no file names it: then ``assign`` is the way."""
    from portreg.check import repair

    facts = _facts(registry, registry.state(), Workspace(registry.settings.root))
    found = next((c for c in repair.candidates(facts) if c.service == service), None)
    if found is None:
        return None
    on = f" on {found.port}" if found.port is not None else ""
    where = ", ".join(found.entries[:3]) + (", ..." if len(found.entries) > 3 else "")
    command = "fix" if service in repair.named_by_errors(facts) else "reconcile"
    return (
        f"the files hold it{on}: {where}; adopt it with `portreg {command} --dry-run`, "
        f"then `portreg {command}`"
    )


def _as_finding(facts: Facts, item: Problem) -> Finding:
    """The PR017 ``check`` would report for an unreadable file: what an ignore is asked."""
    service = facts.values_owner.get(item.path)
    return Finding("PR017", "error", item.path, item.line, item.message, "", service)


def apply_plan(registry: Registry, ws: Workspace, plan: Step) -> list[str]:
    """Turn a plan into edits in ``ws``: removals first, then moves in order."""
    targets: Sequence[Target] = registry.targets()
    warnings: list[str] = []
    for name, service in plan.removals:
        for target in targets:
            if target.name == name:
                warnings += _each(target.remove, ws, service)
    for move in plan.moves:
        wanted = Assignment(move.service, move.port, registry.settings.node_port(move.port))
        for target in targets:
            if move.targets is None or target.name in move.targets:
                warnings += _each(target.update, ws, wanted, ports_only=True)
    return warnings


def _each(edit: Callable[P, list[str]], *args: P.args, **kwargs: P.kwargs) -> list[str]:
    """One target's edit for a repair: a file it cannot edit faithfully (an anchored port,
    a flow list it cannot rewrite) is left as it is and said, and the other repairs go on;
    ``fix`` then exits 1, as ``check`` still reports that file."""
    from portreg.check.repair import not_fixed

    try:
        return edit(*args, **kwargs)
    except FileEditError as exc:
        return [not_fixed(exc.line())]


def reconcile(
    registry: Registry, *, update_configs: bool = False, dry_run: bool = False
) -> Outcome:
    def planner(state: RegistryState, ws: Workspace) -> Step:
        from portreg.check import repair

        step = repair.plan_reconcile(_facts(registry, state, ws))
        if update_configs:
            step.warnings += apply_plan(registry, ws, step)
        if not step.moves:
            step.messages.append("ℹ️  Nothing to reconcile: every Helm service is registered")
        return step

    # check=False: adopting never hands out a port the registry holds (allocate skips them
    # all), so a registry holding one port twice is no reason to refuse; `fix` repairs that
    return registry.transact(planner, dry_run=dry_run, check=False)


def fix(
    registry: Registry, *, prune: bool = False, dry_run: bool = False, adopt: bool = True
) -> Outcome:
    """One run to green: adopt what the repo names (unless ``adopt`` is off, or ``prune``
    removes it instead), then repair every collision and drift, the Tiltfile included."""

    def planner(state: RegistryState, ws: Workspace) -> Step:
        from portreg.check import repair

        facts = _facts(registry, state, ws)
        named = repair.named_by_errors(facts)  # a green check: nothing to adopt, nothing to do
        adoption = repair.plan_reconcile(facts, named) if adopt and not prune else Step(state)
        facts = replace(facts, state=adoption.state)
        step = repair.plan_fix(facts, prune=prune)
        step.moves += repair.filling_moves(facts, adoption, step.moves)
        step.messages[:0] = adoption.messages
        step.warnings += apply_plan(registry, ws, step)
        if not ws.edits() and step.state == state:
            # every planned rewrite was refused (its Not fixed lines say why): claim none
            step.messages = ["ℹ️  Nothing to fix"]
        return step

    # check=False: fix is the one command that works on a registry holding a port twice
    return registry.transact(planner, dry_run=dry_run, check=False)
