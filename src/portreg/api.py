"""The public Python API: ``Registry.open(root).assign("invoice")``.

Each writing method is one transaction: take the store's session (the file
lock), read the registry, plan the new registry and every file edit in memory,
then write. On the file store the registry is the last file of one
all-or-nothing edit; on etcd the compare-and-swap comes first and the files
follow, retried from the top when another writer won the race.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from portreg.config import Settings, load_settings
from portreg.errors import (
    PortregError,
    PortTakenError,
    StoreConflictError,
    StoreError,
    WriteError,
    no_port,
)
from portreg.io import checkpoints
from portreg.io.workspace import FileEdit, Workspace
from portreg.model import (
    Assignment,
    RegistryState,
    allocate,
    assignment,
    by_port,
    check_requested_port,
    dump_registry,
    parse_registry,
    require_consistent,
    validate_service,
)
from portreg.model.registry_json import timestamp
from portreg.store import Snapshot, Store, open_store

if TYPE_CHECKING:  # keeps start-up free of target imports (and query of the planner's Step)
    from portreg.model.step import Step
    from portreg.targets import Target
    from portreg.targets.base import Observation


class Outcome(NamedTuple):
    """The result of a writing command: what changed (or would, with ``dry_run``)."""

    assignment: Assignment | None
    new: bool
    edits: tuple[FileEdit, ...]
    messages: tuple[str, ...]
    warnings: tuple[str, ...]
    dry_run: bool

    @property
    def changed_files(self) -> list[str]:
        return [edit.display for edit in self.edits]

    @property
    def port(self) -> int | None:
        return self.assignment.port if self.assignment else None

    @property
    def node_port(self) -> int | None:
        return self.assignment.node_port if self.assignment else None


Planner = Callable[[RegistryState, Workspace], "Step"]


def _backoff(attempt: int) -> float:
    """Exponential, capped, with jitter so racing writers spread out."""

    import random  # only an etcd conflict backs off: query and list never do

    return min(0.5, 0.005 * 2.0**attempt) * (0.5 + random.random())


class Registry:
    """A repo's port registry: read it, assign and release ports, keep files in line."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._targets: list[Target] | None = None

    @classmethod
    def open(
        cls,
        root: str | Path | None = None,
        *,
        config: str | Path | None = None,
        store: str | None = None,
    ) -> Registry:
        settings = load_settings(root, config)
        if settings.source is None:  # no config: the ports the files call for, too
            from portreg.check.layout import settings_found

            settings = settings_found(settings)
        return cls(settings, open_store(settings, store))

    # ------------------------------------------------------------- reading

    def snapshot(self) -> tuple[Snapshot, RegistryState]:
        snapshot = self.store.load()
        return snapshot, parse_registry(
            snapshot.text, self.store.location, self.settings.new_reserved
        )

    def state(self) -> RegistryState:
        return self.snapshot()[1]

    def query(self, service: str) -> Assignment | None:
        port = self.state().port_of(validate_service(service))
        return None if port is None else assignment(self.settings, service, port)

    def assignments(self) -> list[Assignment]:
        """Every assignment, by port then service (the one order of every listing)."""
        state = self.state()
        return by_port(assignment(self.settings, s, p) for s, p in state.assignments.items())

    def targets(self) -> list[Target]:
        """The targets of these (frozen) settings, built once: building one may glob."""
        if self._targets is None:
            from portreg.targets import build_targets

            self._targets = build_targets(self.settings)
        return self._targets

    # ------------------------------------------------------------- writing

    def assign(
        self,
        service: str,
        *,
        port: int | None = None,
        force: bool = False,
        update_configs: bool = False,
        scaffold: bool = False,
        dry_run: bool = False,
    ) -> Outcome:
        """Give ``service`` a port (the next free one, or exactly ``port``) in one transaction.

        This is the call a bootstrap script makes after creating a service::

            outcome = Registry.open(repo_root).assign("invoice", update_configs=True)
            outcome.port            # 8002
            outcome.node_port       # 31002
            outcome.changed_files   # ["helm/.../invoice.yaml", "kind-config.yaml", "scripts/..."]

        A service that already has a port keeps it (idempotent, ``outcome.new`` is False)
        unless ``force``; with ``update_configs`` its config files are still brought in line.
        ``scaffold`` creates a missing Helm values file from the configured template.
        ``dry_run`` plans everything and writes nothing (``outcome.edits`` holds the diff).
        Raises a :class:`~portreg.errors.PortregError` (e.g. ``RangeFullError``,
        ``ServiceNameError``, ``LockTimeoutError``) and then changes no file.
        """
        validate_service(service)

        def plan(state: RegistryState, ws: Workspace) -> Step:
            known = state.port_of(service) is not None
            step = self._plan_assign(state, ws, service, port, force)
            if update_configs or scaffold:
                assert step.assignment is not None
                # a new service gets every [helm.set] field, as the seed's bootstrap step
                # did; one the registry knows keeps its names (only its ports change)
                step.warnings += self._plan_update(
                    ws, [step.assignment], scaffold=scaffold, ports_only=known
                )
            return step

        return self._transact(plan, dry_run)

    def _plan_assign(
        self, state: RegistryState, ws: Workspace, service: str, port: int | None, force: bool
    ) -> Step:
        from portreg.model.step import Step  # query and list never plan

        current = state.port_of(service)
        if current is not None and (port is None or port == current) and not force:
            message = f"ℹ️  Service '{service}' already has port {current}"
            return Step(state, assignment(self.settings, service, current), messages=[message])
        if port is not None:
            check_requested_port(self.settings, state, service, port)
            self._require_unbound(state, ws, service, port)
            chosen = port
        else:
            in_files = self._ports_in_files(ws)
            chosen = allocate(self.settings, state.without(service), in_files | {current or 0})
        new_state = state.with_port(service, chosen)
        verb = "Reassigned" if current is not None else "Assigned"
        message = f"✅ {verb} port {chosen} to service '{service}'"
        if current is not None:
            message += f" (was {current})"
        wanted = assignment(self.settings, service, chosen)
        lines = [message]
        if self.settings.derives_node_ports:
            lines.append(f"   NodePort: {wanted.node_port}")
        return Step(new_state, wanted, True, lines)

    def _require_unbound(
        self, state: RegistryState, ws: Workspace, service: str, port: int
    ) -> None:
        """``--port N`` refuses a port a file binds for anyone else (a values file, a kind
        hostPort, a Tilt forward, a compose published port, a declared target), as
        ``check`` would report the clash next: the same claims ``check`` reads."""
        from portreg.check import scan
        from portreg.check.facts import REGISTRY

        facts = scan.facts(
            self.settings, state, ws, self.targets(), registry=(self.store.location, None)
        )
        places = [
            (c.holder if c.named else None, f"{c.where} ({c.observation.field})")
            for c in facts.holders.get(port, [])
            if c.source != REGISTRY and c.holder != service and c.observation is not None
        ]
        places += [
            (None, f"{o.path}:{o.line} ({o.field})")
            for o in facts.unnamed_values
            if o.port == port and o.role == "port"
        ]
        if places:
            owners = sorted({owner for owner, _ in places if owner})
            whose = f" for {', '.join(owners)}" if owners else ""
            where = ", ".join(place for _, place in places[:3])
            raise PortTakenError(
                f"port {port} is already bound{whose} by {where}",
                hint="pick another port; `portreg ports` lists what binds each",
            )

    def _still_named(self, ws: Workspace, service: str) -> list[str]:
        """After a release: the entries that still name the service with a port (an OpenAPI
        file, a Tiltfile forward), from which ``fix`` would adopt it again."""
        found = [o for o in self._named_in_files(ws, service) if o.role == "port"]
        return [
            f"⚠️  {o.path}:{o.line} still names {service} on port {o.port}: `portreg fix` "
            f"would adopt it again (edit it out, or list {service} in [ignore] services)"
            for o in found
        ]

    def _named_in_files(self, ws: Workspace, service: str) -> list[Observation]:
        """Every port the files give ``service``."""
        from portreg.targets.base import PartlyRead

        found = []
        for target in self.targets():
            try:
                seen = target.scan(ws)
            except PartlyRead as exc:
                seen = exc.found  # the files that could be read
            except PortregError:
                continue  # a file that cannot be read names nobody; check reports it
            found += [o for o in seen if o.service == service]
        return found

    def _ports_in_files(self, ws: Workspace) -> set[int]:
        from portreg.targets.in_use import ports_in_use

        return ports_in_use(ws, self.targets())

    def _plan_update(
        self,
        ws: Workspace,
        wanted: Sequence[Assignment],
        *,
        scaffold: bool = False,
        ports_only: bool = False,
    ) -> list[str]:
        warnings: list[str] = []
        for target in self.targets():
            for item in wanted:
                warnings += target.update(ws, item, scaffold=scaffold, ports_only=ports_only)
        return warnings

    def release(
        self, service: str, *, update_configs: bool = False, dry_run: bool = False
    ) -> Outcome:
        validate_service(service)

        def plan(state: RegistryState, ws: Workspace) -> Step:
            from portreg.model.step import Step  # query and list never plan

            port = state.port_of(service)
            if port is None:
                return self._finish_release(state, ws, service, update_configs)
            step = Step(state.without(service), assignment(self.settings, service, port), True)
            step.messages.append(f"✅ Released port {port} from service '{service}'")
            if update_configs:
                for target in self.targets():
                    step.warnings += target.remove(ws, service, port)
                step.warnings += self._still_named(ws, service)
            return step

        return self._transact(plan, dry_run)

    def _finish_release(
        self, state: RegistryState, ws: Workspace, service: str, update_configs: bool
    ) -> Step:
        """``release --update-configs`` of a service the registry gives no port (released
        by a plain ``release``, or never registered): remove what its files still hold."""
        from portreg.model.step import Step  # query and list never plan

        held = [o for o in self._named_in_files(ws, service) if o.role == "port"]
        if not update_configs or not held:
            raise no_port(service, hint="`portreg list` shows the services that have one")
        step = Step(state, None)  # the registry stays as it is
        for target in self.targets():
            step.warnings += target.remove(ws, service, held[0].port)
        step.warnings += self._still_named(ws, service)  # what no target removes (a forward)
        step.messages.append(f"✅ Removed what still named '{service}' (it has no port)")
        return step

    def update_configs(
        self,
        services: Sequence[str] | None = None,
        *,
        dry_run: bool = False,
        all_fields: bool = False,
    ) -> Outcome:
        """Bring the config files of ``services`` (all when None) in line with the registry.

        Only port fields change unless ``all_fields``: the other ``[helm.set]`` and
        target fields (names, images, binaries) are the team's once the file exists.
        """
        for service in services or ():
            validate_service(service)

        def plan(state: RegistryState, ws: Workspace) -> Step:
            from portreg.model.step import Step  # query and list never plan

            names = list(services) if services is not None else sorted(state.assignments)
            wanted = []
            for name in names:
                port = state.port_of(name)
                if port is None:
                    raise no_port(name)
                wanted.append(assignment(self.settings, name, port))
            step = Step(state, wanted[0] if len(wanted) == 1 else None)
            step.warnings += self._plan_update(ws, wanted, ports_only=not all_fields)
            return step

        return self._transact(plan, dry_run)

    # --------------------------------------------------------- transaction

    def write_out(
        self, plan: Callable[[list[Assignment]], Sequence[FileEdit]], *, in_repo: bool
    ) -> list[FileEdit]:
        """Files made from the assignments (a docs table, an export), planned and written
        under the registry's lock, all or none; ``in_repo``: every file lies in the repo,
        so the write is journaled too (a user's path elsewhere is written all or none)."""
        from portreg.io import transaction

        with self.store.session():
            snapshot = self.store.load()
            state = parse_registry(snapshot.text, self.store.location, self.settings.new_reserved)
            held = by_port(assignment(self.settings, s, p) for s, p in state.assignments.items())
            edits = list(plan(held))
            root = self.settings.root if in_repo else None
            journal = self.store.journal_path if in_repo else None
            transaction.apply_edits(edits, root=root, journal=journal)
        return edits

    def transact(self, planner: Planner, *, dry_run: bool = False, check: bool = True) -> Outcome:
        """Run a planner as one transaction (used by check/fix/reconcile and merge tooling)."""
        return self._transact(planner, dry_run, check=check)

    def _transact(self, planner: Planner, dry_run: bool, *, check: bool = True) -> Outcome:
        attempts = max(1, self.settings.etcd.retries)
        for attempt in range(attempts):
            try:
                return self._attempt(planner, dry_run, check)
            except StoreConflictError as exc:
                if attempt == attempts - 1:
                    raise StoreConflictError(
                        f"{exc.message}, {attempts} times in a row; gave up",
                        where=exc.where,
                        hint="run the command again, or raise retries in [etcd]",
                    ) from exc
                time.sleep(_backoff(attempt))
        raise AssertionError("unreachable")

    def _attempt(self, planner: Planner, dry_run: bool, check: bool) -> Outcome:
        # Import the target and apply modules before taking the lock: under load, imports
        # inside it made every other waiting process wait for them too.
        self.targets()
        import portreg.io.transaction  # noqa: F401

        with self.store.session():
            snapshot = self.store.load()
            state = parse_registry(snapshot.text, self.store.location, self.settings.new_reserved)
            if check:
                require_consistent(state, self.store.location, snapshot.text)
            ws = Workspace(self.settings.root)
            step = planner(state, ws)
            edits = ws.edits()
            registry_text = None
            if step.state != state or snapshot.text is None:
                registry_text = dump_registry(step.state, timestamp())
            _fault("after-plan")
            outcome = self._outcome(step, snapshot, registry_text, edits, dry_run)
            if not dry_run:
                self._write(snapshot, registry_text, edits)
            return outcome

    def _outcome(
        self,
        step: Step,
        snapshot: Snapshot,
        registry_text: str | None,
        edits: list[FileEdit],
        dry_run: bool,
    ) -> Outcome:
        shown = list(edits)
        if registry_text is not None:
            shown.append(
                self.store.registry_edit(snapshot, registry_text)
                or FileEdit(
                    Path(self.store.location), self.store.location, snapshot.text, registry_text
                )
            )
        return Outcome(
            step.assignment,
            step.new,
            tuple(shown),
            tuple(step.messages),
            tuple(step.warnings),
            dry_run,
        )

    def _write(self, snapshot: Snapshot, registry_text: str | None, edits: list[FileEdit]) -> None:
        from portreg.io.transaction import apply_edits

        journal = self.store.journal_path
        if self.store.files_first:
            registry_edit = (
                self.store.registry_edit(snapshot, registry_text) if registry_text else None
            )
            apply_edits(
                edits + ([registry_edit] if registry_edit else []),
                root=self.settings.root,
                journal=journal,
                registry_last=registry_edit is not None,
            )
            return
        if registry_text is not None:
            _fault("before-registry")
            self.store.commit(snapshot, registry_text)
        try:
            if registry_text is not None:
                _fault("after-registry")
            apply_edits(edits, root=self.settings.root, journal=journal)
        except (WriteError, StoreError) as exc:
            exc.hint = (
                "the registry change is saved; fix the cause, then run `portreg update-configs "
                "--all` to bring the files in line"
            )
            raise


def _fault(step: str) -> None:
    """A fault point outside ``apply_edits``: an injected write failure is one clean error."""
    try:
        checkpoints.reach(step)
    except OSError as exc:
        raise WriteError(
            f"cannot write: {exc.strerror}; no file was changed",
            hint="free some disk space and run again",
        ) from exc
