"""One small function per finding code, each declared where it is written (``@rule``:
code, severity, name, summary, help); ``RULES`` holds them in code order.

Each rule reads a :class:`Facts` and yields findings (``hit``); ``run`` stamps
them with the rule's stable code and severity. A disagreement is reported by
exactly one rule: the more specific rule wins (a drifted Helm port that lands
on another service's port is PR003, not also PR002), and the others skip it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from portreg.check.facts import Claim, Facts
from portreg.check.findings import Finding, Severity
from portreg.config import K8S_NODE_PORT_RANGE, SERVICE_LABEL
from portreg.config.discovery import NODE_PORT_RANGE
from portreg.config.formula import formula_text
from portreg.config.kinds import CLUSTER, DECLARED, FORWARDS, VALUES
from portreg.targets.base import HOST, NODE, Observation

FIX = "run `portreg fix`"
SERVICE_NAME = re.compile(SERVICE_LABEL)
COMPOSE_GROUP = "compose:"  # the run group of a compose project (``targets.base``)
RECONCILE = "run `portreg reconcile` to adopt it, or `portreg fix --prune`"


def hit(  # noqa: PLR0917 (a Finding's own fields, in its order)
    path: str,
    line: int,
    message: str,
    hint: str = FIX,
    service: str | None = None,
    port: int | None = None,
    holder: str | None = None,
) -> Finding:
    """What a rule found: where, what to say and do, and for machines the service, the
    port and whoever else holds it; ``run`` stamps it with the rule's code and severity."""
    return Finding("", "error", path, line, message, hint, service, port, holder)


Check = Callable[[Facts], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    """A finding code: its default severity, a kebab-case name, the function that finds it,
    what it means in one line (the README's table says the same) and what to do about it."""

    code: str
    severity: Severity
    name: str
    check: Check
    summary: str
    help: str


_REGISTERED: list[Rule] = []


def rule(
    code: str, severity: Severity, name: str, *, summary: str, help: str
) -> Callable[[Check], Check]:
    """Declare the decorated function as the rule ``code``: its severity, name, a one-line
    summary (the README's rule table) and what to do about a finding."""

    def register(check: Check) -> Check:
        _REGISTERED.append(Rule(code, severity, name, check, summary, help))
        return check

    return register


def _holder_note(facts: Facts, port: int, service: str | None) -> str:
    """``; 8002 belongs to payments`` when someone else holds the port."""
    owner = facts.owners.get(port)
    return f"; {port} belongs to {owner}" if owner and owner != service else ""


# ----------------------------------------------------------------- registry


@rule(
    "PR001",
    "error",
    "registry-duplicate",
    summary="the registry gives one port to two services",
    help=(
        "Run `portreg fix`: the first service keeps the port, the other gets the lowest "
        "free one, and every file that names the moved port follows."
    ),
)
def registry_duplicates(facts: Facts) -> Iterator[Finding]:
    """PR001: the registry gives one port to two services."""
    for port, services in sorted(facts.state.duplicates().items()):
        for other in services[1:]:
            message = (
                f"the registry gives port {port} to both {services[0]} "
                f"({facts.registry_where(services[0])}) and {other}"
            )
            hint = f"run `portreg fix` ({services[0]} keeps {port}, {other} gets a free port)"
            line = facts.registry_line(other)
            yield hit(facts.registry_path, line, message, hint, other, port, services[0])


@rule(
    "PR011",
    "error",
    "port-out-of-range",
    summary="a port outside the configured range",
    help=(
        "Run `portreg fix` to move the service into first-port..last-port, or widen the "
        "range in portreg.toml."
    ),
)
def out_of_range(facts: Facts) -> Iterator[Finding]:
    """PR011: a registered port outside first-port..last-port."""
    settings = facts.settings
    for service, port in facts.state.assignments.items():
        if not settings.in_range(port):
            message = (
                f"{service} holds port {port}, outside the configured range {settings.range_text}"
            )
            line = facts.registry_line(service)
            yield hit(facts.registry_path, line, message, FIX, service, port)


@rule(
    "PR012",
    "error",
    "reserved-port",
    summary="the registry gives a service a reserved port",
    help=(
        "Run `portreg fix` to move the service off the reserved port. A file binding a "
        "reserved port is no finding: reserved means portreg hands it to no service."
    ),
)
def reserved_in_use(facts: Facts) -> Iterator[Finding]:
    """PR012: the registry gives a service a reserved port. A file binding a reserved
    port is no finding: reserved means portreg hands it out to no service."""
    for service, port in facts.state.assignments.items():
        if port in facts.reserved:
            message = f"{service} holds port {port}, which is reserved"
            line = facts.registry_line(service)
            yield hit(facts.registry_path, line, message, FIX, service, port)


@rule(
    "PR025",
    "error",
    "reserved-drift",
    summary="portreg.toml's `reserved` and the registry's `reserved_ports` disagree",
    help=(
        "Run `portreg fix`: portreg.toml's list stands and is written into the registry "
        "(without `reserved` in portreg.toml, the registry's list stands)."
    ),
)
def reserved_drift(facts: Facts) -> Iterator[Finding]:
    """PR025: portreg.toml declares ``reserved`` and the registry records other
    ``reserved_ports``; portreg.toml's stands (one source: the declaration)."""
    declared = facts.settings.reserved
    recorded = facts.state.reserved_ports
    if declared is None or sorted(set(declared)) == sorted(set(recorded)):
        return
    message = (
        f"portreg.toml reserves {sorted(set(declared))}, the registry records "
        f"reserved_ports {sorted(set(recorded))}; portreg.toml's stands"
    )
    hint = "run `portreg fix` to record portreg.toml's list in the registry"
    yield hit(facts.registry_path, facts.registry_line("reserved_ports"), message, hint)


# -------------------------------------------------------------- collisions
#
# Only bindings of one namespace clash: a registry entry and the host ports files bind
# (kind hostPort, Tilt's local side, compose's published side, declared targets) are the
# host namespace's claims; two of them clash when their files can run at the same moment
# on one address (``Facts.rivals``). A Service's own port never meets a host port.


def _explained(facts: Facts, claim: Claim) -> bool:
    """True when another rule reports this claim (PR001, a drift rule, or PR009)."""
    obs = claim.observation
    if facts.registered(claim.holder):
        held = facts.state.port_of(claim.holder)
        ruled = facts.drift_ruled  # their drift rules name the other holder
        return held == claim.port or (obs is not None and obs.target in ruled)
    stranger_rule = obs is not None and (facts.part(obs.target) in (CLUSTER, DECLARED))
    return stranger_rule and claim.port in facts.owners  # PR009 / PR020


def governed(facts: Facts, claim: Claim) -> bool:
    """Whether ``fix`` may move this claim: an entry of a file it edits, on a port inside
    the registry's range. Anything else is foreign: checked, never moved."""
    return claim.source in facts.editable and facts.settings.in_range(claim.port)


@rule(
    "PR002",
    "error",
    "port-collision",
    summary=(
        "two services hold one host port in files that run together (registry, kind, "
        "Tiltfile, compose, NodePort-convention values)"
    ),
    help=(
        "Run `portreg fix`, which adopts unknown services and moves every holder but one "
        "to a free port; a port outside the range (foreign) is moved by hand."
    ),
)
def port_collisions(facts: Facts) -> Iterator[Finding]:
    """PR002: two services bind one host port in files that run together."""
    for other, claim in facts.host_clashes(together=True):
        if _explained(facts, claim):
            continue
        message = f"port {claim.port} is held by both {other.whose} and {claim.whose}"
        hint = FIX if governed(facts, claim) else f"edit {claim.where} by hand"
        if facts.part(claim.source) == VALUES and not facts.registered(claim.holder):
            hint = RECONCILE
        yield hit(claim.path, claim.line, message, hint, claim.holder, claim.port, other.holder)


@rule(
    "PR023",
    "warning",
    "host-port-alternatives",
    summary=(
        "two services bind one host port in files that do not run together (two compose"
        " projects, two Tiltfiles)"
    ),
    help=(
        "Nothing fails until both run at once; then move one of them by hand, or declare "
        "the files one compose project (`[compose] projects`) to make it an error."
    ),
)
def alternative_collisions(facts: Facts) -> Iterator[Finding]:
    """PR023 (warning): two services bind one host port in files that do not run together
    (two compose projects, two Tiltfiles): starting both at once fails."""
    met = {(c.port, c.holder) for _other, c in facts.host_clashes(together=True)}
    for other, claim in facts.host_clashes(together=False):
        if (claim.port, claim.holder) in met:
            continue
        message = (
            f"port {claim.port} is bound by {other.whose} and by {claim.whose}, which do not "
            "run together; starting both "
            "at once fails with 'address already in use'"
        )
        hint = "if both run at once, move one by hand (or declare them one compose project)"
        yield hit(claim.path, claim.line, message, hint, claim.holder, claim.port, other.holder)


def _formula_rules(facts: Facts, obs: Observation) -> bool:
    """Whether the NodePort formula speaks for this nodePort (PR001, PR005 and the drift
    rules report what is wrong with it)."""
    return obs.role == "node_port" and (
        facts.registered(obs.service) or obs.target in facts.editable
    )


@rule(
    "PR024",
    "error",
    "node-port-collision",
    summary="two Services of one cluster ask for the same nodePort",
    help=(
        "Give one of them another nodePort by hand: the API server refuses the second. "
        "A kind containerPort equal to a nodePort is the link working, not a clash."
    ),
)
def node_port_collisions(facts: Facts) -> Iterator[Finding]:
    """PR024: two Services of one cluster ask for the same nodePort (the API server
    refuses the second). A kind containerPort reaching a nodePort is the link, not a
    clash; a Service's own port and its pod's never meet another Service's."""
    first: dict[int, Observation] = {}
    for obs in facts.observations:
        if obs.namespace != NODE or obs.link or obs.service is None or _formula_rules(facts, obs):
            continue
        seen = first.setdefault(obs.port, obs)
        if seen.service != obs.service:
            message = (
                f"nodePort {obs.port} of {obs.service} is also {seen.service}'s "
                f"({seen.path}:{seen.line}); the API server refuses the second Service"
            )
            hint = f"give one of them another nodePort (edit {obs.path}:{obs.line} by hand)"
            yield _at(facts, obs, message, hint)


# --------------------------------------------------------------------- helm


def _helm_drift(facts: Facts, role: str) -> Iterator[Finding]:
    for obs in facts.by_part(VALUES):
        if obs.role == role and facts.drifted(obs):
            message = (
                f"{obs.field} is {obs.port}, the registry gives {obs.service} "
                f"{facts.expected(obs)}{_holder_note(facts, obs.port, obs.service)}"
            )
            yield _at(facts, obs, message)


def _at(facts: Facts, obs: Observation, message: str, hint: str = FIX) -> Finding:
    """A hit on an observation: its place, its service and port, and the port's owner."""
    owner = facts.owners.get(obs.port)
    holder = owner if owner != obs.service else None
    return hit(obs.path, obs.line, message, hint, obs.service, obs.port, holder)


@rule(
    "PR003",
    "error",
    "helm-port",
    summary="Helm `service.port` disagrees with the registry",
    help=(
        "Run `portreg fix` (or `portreg update-configs SERVICE`) to write the registry's "
        "port into the values file."
    ),
)
def helm_port(facts: Facts) -> Iterator[Finding]:
    """PR003: Helm ``service.port`` disagrees with the registry."""
    return _helm_drift(facts, "port")


@rule(
    "PR004",
    "error",
    "helm-container-port",
    summary="Helm `service.containerPort` disagrees with the registry",
    help=(
        "Run `portreg fix` (or `portreg update-configs SERVICE`) to write the registry's "
        "port into the values file."
    ),
)
def helm_container_port(facts: Facts) -> Iterator[Finding]:
    """PR004: Helm ``service.containerPort`` disagrees with the registry."""
    return _helm_drift(facts, "container_port")


def _formula_node_port(facts: Facts, obs: Observation) -> int | None:
    """The NodePort the formula gives this values file: from the registry, else its own port."""
    port = facts.state.port_of(obs.service) if obs.service else None
    port = port if port is not None else facts.helm_port(obs.path)
    return None if port is None else facts.node_port(port)


@rule(
    "PR005",
    "error",
    "helm-node-port",
    summary="Helm `service.nodePort` is not what the formula gives (e.g. `30801` for `31001`)",
    help=f"Run `portreg fix`: the NodePort is {formula_text()}.",
)
def helm_node_port(facts: Facts) -> Iterator[Finding]:
    """PR005: Helm ``service.nodePort`` is not what the NodePort formula gives."""
    settings = facts.settings
    for obs in facts.by_part(VALUES):
        wanted = _formula_node_port(facts, obs) if obs.role == "node_port" else None
        if wanted is not None and wanted != obs.port:
            base = facts.state.port_of(obs.service or "") or facts.helm_port(obs.path)
            message = (
                f"{obs.field} is {obs.port}, the formula gives {wanted} "
                f"({formula_text(settings.node_port_base, settings.node_port_offset, base)})"
            )
            yield hit(obs.path, obs.line, message, FIX, obs.service, obs.port)


@rule(
    "PR006",
    "error",
    "helm-unknown-service",
    summary="a values file for a service the registry does not know",
    help=(
        "Run `portreg reconcile` to adopt the service, or `portreg fix --prune` to remove the file."
    ),
)
def helm_unknown_service(facts: Facts) -> Iterator[Finding]:
    """PR006: a values file the registry governs (the NodePort convention) for a service
    the registry does not know. A ClusterIP chart's values hold no host port: no finding."""
    for service, path in sorted(facts.governed_values.items()):
        if not facts.registered(service):
            message = f"values file for {service}, which the registry does not know"
            port = facts.helm_port(path)
            yield hit(path, facts.helm_port_line(path), message, RECONCILE, service, port)


@rule(
    "PR026",
    "warning",
    "values-file-unnamed",
    summary="a Helm values file whose name names no service (`Billing_API.yaml`)",
    help=(
        "Rename the file to its service's name (a DNS-1035 label, `billing-api.yaml`), "
        "then run `portreg fix` to adopt it; or list it in `[ignore] files`."
    ),
)
def values_file_unnamed(facts: Facts) -> Iterator[Finding]:
    """PR026 (warning): a values file whose name names no service (``Billing_API.yaml``):
    no service owns its ports, so no other rule checks them and ``fix`` never adopts it."""
    first: dict[str, Observation] = {}
    for obs in facts.unnamed_values:
        first.setdefault(obs.path, obs)
    for path, obs in first.items():
        message = (
            f"values file {path.rpartition('/')[2]} names no service (a service name is "
            f"lowercase letters, digits and '-'), so no rule checks its ports ({obs.field} "
            f"{obs.port}) and `fix` adopts nothing from it"
        )
        renamed = _service_path(facts, path)
        hint = f"rename it to {renamed}" if renamed else "rename it to the service's name"
        yield hit(path, obs.line, message, f"{hint}, or list it in [ignore] files", None, obs.port)


def _service_path(facts: Facts, path: str) -> str | None:
    """``Billing_API.yaml`` -> ``.../billing-api.yaml``, when that names a service."""
    before, _, after = facts.settings.helm.values.partition("{service}")
    stem = path.removeprefix(before).removesuffix(after)
    name = re.sub(r"[^a-z0-9-]+", "-", stem.lower()).strip("-")
    return f"{before}{name}{after}" if SERVICE_NAME.fullmatch(name) else None


@rule(
    "PR007",
    "warning",
    "helm-missing-values",
    summary="a registered service with no values file (NodePort-convention repos)",
    help=(
        "Run `portreg assign SERVICE --scaffold` to create the values file, or release the service."
    ),
)
def helm_missing_values(facts: Facts) -> Iterator[Finding]:
    """PR007: a registered service with no values file, in a repo whose values files
    follow the NodePort convention (warning)."""
    if not facts.settings.helm.enabled or not facts.nodeport_convention:
        return
    for service in facts.state.assignments:
        if service not in facts.values_files:
            pattern = facts.settings.helm.values.replace("{service}", service)
            message = f"{service} is registered but has no Helm values file ({pattern})"
            hint = f"run `portreg assign {service} --scaffold`"
            line = facts.registry_line(service)
            port = facts.state.port_of(service)
            yield hit(facts.registry_path, line, message, hint, service, port)


# --------------------------------------------------------------------- kind


@rule(
    "PR008",
    "error",
    "kind-drift",
    summary="a kind mapping disagrees with the registry",
    help="Run `portreg fix` to write the registry's port and NodePort into kind-config.yaml.",
)
def kind_drift(facts: Facts) -> Iterator[Finding]:
    """PR008: a registered service's kind mapping disagrees with the registry (a second,
    stale mapping of the service too: which to keep is the user's call, not fix's)."""
    mapped: dict[str, int] = {}
    for obs in facts.by_part(CLUSTER):
        if obs.role == "port" and obs.service is not None:
            mapped[obs.service] = mapped.get(obs.service, 0) + 1
    for obs in facts.by_part(CLUSTER):
        if obs.service is not None and facts.drifted(obs):
            message = (
                f"kind {obs.field} {obs.port} for {obs.service}, the registry gives "
                f"{facts.expected(obs)}{_holder_note(facts, obs.port, obs.service)}"
            )
            twice = mapped.get(obs.service, 0) > 1
            hint = f"{obs.service} has {mapped.get(obs.service)} mappings: remove the stale one"
            yield _at(facts, obs, message, hint if twice else FIX)


@rule(
    "PR009",
    "error",
    "kind-stranger",
    summary="a kind hostPort of an unregistered service on a registered port",
    help="Run `portreg fix`: the service is adopted and its mapping moves to a free port.",
)
def kind_stranger(facts: Facts) -> Iterator[Finding]:
    """PR009: a kind hostPort of an unregistered service on a registered port."""
    for obs in facts.by_part(CLUSTER):
        owner = facts.owners.get(obs.port)
        if obs.role == "port" and obs.service and not facts.registered(obs.service) and owner:
            message = (
                f"kind hostPort {obs.port} is mapped for {obs.service}, which the registry "
                f"does not know; {obs.port} belongs to {owner} ({facts.registry_where(owner)})"
            )
            yield _at(facts, obs, message, f"{FIX} (the mapping moves to a free port)")


@rule(
    "PR010",
    "warning",
    "kind-missing",
    summary="a registered service with no kind mapping",
    help=(
        "Run `portreg update-configs SERVICE` to add the mapping (none is wanted inside "
        "`[kind] skip-host-ports`)."
    ),
)
def kind_missing(facts: Facts) -> Iterator[Finding]:
    """PR010: a registered service with no kind mapping (warning); none is wanted for a
    port inside ``skip-host-ports``, nor for one a Tilt forward or a compose published port
    already binds (a mapping there would be PR022's double bind)."""
    for service, port in _wants_kind_mapping(facts):
        message = f"{service} has no port mapping in {facts.kind_config}"
        hint = f"run `portreg update-configs {service}`"
        line = facts.registry_line(service)
        yield hit(facts.registry_path, line, message, hint, service, port)


def _wants_kind_mapping(facts: Facts) -> list[tuple[str, int]]:
    """(service, port) for each registered service PR010 reports: no kind mapping, and
    none that skip-host-ports or another file's binding makes unwanted."""
    if facts.kind_config is None:
        return []
    mapped = {c.holder for c in facts.claims if facts.part(c.source) == CLUSTER and c.named}
    bound = {c.port for c in facts.claims if c.binds and facts.part(c.source) != CLUSTER}
    return [
        (service, port)
        for service, port in facts.state.assignments.items()
        if service not in mapped
        and port not in bound
        and facts.settings.kind.skipping(port) is None
    ]


@rule(
    "PR027",
    "warning",
    "no-host-binding",
    summary=(
        "a registered service no file binds on this machine, where kind or Tilt binds the "
        "repo's other services (or skip-host-ports leaves it to Tilt)"
    ),
    help=(
        "Forward its port in the Tiltfile (or publish it in compose) as the other services'"
        " are, or release the service with `portreg release SERVICE --update-configs`."
    ),
)
def no_host_binding(facts: Facts) -> Iterator[Finding]:
    """PR027 (warning): a registered service no file binds on this machine (no kind
    mapping, Tilt forward or compose port), in a repo where kind or Tilt binds its other
    services (or skip-host-ports leaves the port to Tilt). Typically ``fix`` removed its
    kind mapping for Tilt and no forward took over. A compose project alone is no such
    sign: it is another way to run the stack, and may run only part of it. One PR010
    reports is left to it."""
    bound = {c.holder for c in facts.claims if c.binds and c.named}
    with_cluster = {
        c.holder
        for c in facts.claims
        if c.binds and c.named and not c.group.startswith(COMPOSE_GROUP)
    }
    binds_any = bool(with_cluster & facts.state.assignments.keys())
    unmapped = set(_wants_kind_mapping(facts))
    for service, port in facts.state.assignments.items():
        skip = facts.settings.kind.skipping(port)
        if service in bound or (service, port) in unmapped or not (binds_any or skip):
            continue
        message = f"{service} is registered on {port}, but no file binds that port on this machine"
        if skip is not None:
            message += (
                f": [kind] skip-host-ports {skip[0]}-{skip[1]} leaves it to Tilt, and no Tilt "
                "forward (nor compose port) binds it"
            )
            hint = f"forward it in the Tiltfile: k8s_resource('{service}', port_forwards={port})"
        else:
            hint = (
                "bind it where the repo binds its other services (a Tilt forward, a compose port)"
            )
        hint += f", or release it: `portreg release {service} --update-configs`"
        line = facts.registry_line(service)
        yield hit(facts.registry_path, line, message, hint, service, port)


def _double_bind_hint(facts: Facts, *claims: Claim) -> str:
    """What settles a double bind: declaring who owns the port, or, where skip-host-ports
    already leaves it to Tilt, the kind mapping going (by fix for a service it can adopt)."""
    port = claims[0].port
    mapping = next((c for c in claims if facts.part(c.source) == CLUSTER), None)
    if mapping is None or not mapping.named:  # no service fix could register owns it
        return "drop one of the two bindings by hand (the second to start fails)"
    if facts.settings.kind.skipping(port) is None:
        return (
            "say who binds service host ports: if Tilt forwards them, set [kind] "
            f"skip-host-ports = [[{port}, {port}]] (or the whole range) in portreg.toml and "
            "run `portreg fix`, which removes the kind mappings; else drop one of the two "
            "bindings by hand"
        )
    return f"{FIX}: it registers {mapping.holder} and removes its kind mapping"


def _left_to_tilt(facts: Facts, *claims: Claim) -> bool:
    """Whether PR015 reports this double bind instead: a registered service's kind mapping
    inside ``skip-host-ports``, which ``fix`` removes. A mapping no service of the
    registry owns stays PR022: fix never removes it."""
    return facts.settings.kind.skipping(claims[0].port) is not None and any(
        facts.part(c.source) == CLUSTER and (facts.registered(c.holder) or c.port in facts.owners)
        for c in claims
    )


@rule(
    "PR022",
    "error",
    "host-port-bound-twice",
    summary=(
        "a host port bound twice by files that run together (a kind `hostPort` and a Tilt "
        "forward, two mappings)"
    ),
    help=(
        "Say who binds service host ports: if Tilt forwards them, set `[kind] skip-host-"
        "ports` in portreg.toml and run `portreg fix`; else drop the forward."
    ),
)
def host_port_bound_twice(facts: Facts) -> Iterator[Finding]:
    """PR022: one host port bound twice by files that run together: by two mechanisms
    (a kind hostPort and a Tilt forward), or by two entries of one file.

    Both bind the port on this machine, so the second to start fails with "address
    already in use" (``tilt up`` after ``kind create cluster``). The repo says who owns
    service host ports with ``[kind] skip-host-ports``; inside it, PR015 reports the
    kind mapping instead.
    """
    for claim, rivals in zip(facts.claims, facts.rivals, strict=True):
        first = rivals.twice
        if first is None or _left_to_tilt(facts, first, claim):
            continue
        owner = facts.owners.get(claim.port)
        strangers = [
            c
            for c in (first, claim)
            if facts.part(c.source) == CLUSTER and not facts.registered(c.holder)
        ]
        if owner is not None and strangers:
            continue  # a stranger on a registered service's port: PR009 reports that line
        what = first.observation.field if first.observation else first.source
        other = claim.observation.field if claim.observation else claim.source
        message = (
            f"host port {claim.port} is bound twice: by this {first.source} {what} and by "
            f"{claim.source} {other} ({claim.where}); the second to start fails with "
            "'address already in use'"
        )
        hint = _double_bind_hint(facts, first, claim)
        service = first.holder if first.named else None
        yield hit(first.path, first.line, message, hint, service, claim.port, claim.holder)


@rule(
    "PR015",
    "error",
    "kind-skip-host-port",
    summary=(
        "a registered service's kind hostPort inside `skip-host-ports` (Tilt owns those host ports)"
    ),
    help=(
        "Run `portreg fix`, which removes the kind mapping: something else binds that host port."
    ),
)
def kind_skipped(facts: Facts) -> Iterator[Finding]:
    """PR015: a registered service's kind hostPort inside skip-host-ports (something else
    binds those); a mapping no registered service owns is not portreg's to judge."""
    for obs in facts.by_part(CLUSTER):
        if obs.role != "port" or facts.drifted(obs):
            continue
        if not facts.registered(obs.service) and obs.port not in facts.owners:
            continue
        skipped = facts.settings.kind.skipping(obs.port)
        if skipped is not None:
            low, high = skipped
            message = f"kind hostPort {obs.port} is inside skip-host-ports {low}-{high}"
            yield _at(facts, obs, message)


# ---------------------------------------------------------------- NodePorts


@rule(
    "PR013",
    "error",
    "node-port-range",
    summary=(
        "a NodePort outside Kubernetes' 30000-32767 (a mapping no registered service owns"
        " is held to nothing stricter)"
    ),
    help="Give it a NodePort inside 30000-32767: the API server rejects any other.",
)
def node_port_range(facts: Facts) -> Iterator[Finding]:
    """PR013: a NodePort outside Kubernetes' 30000-32767 (the API server rejects it).

    Registered services are left to the drift rules; so is a Helm nodePort
    that PR005 already reports. A mapping that is not portreg's (PostgreSQL on
    30432, Grafana on 30300) is never held to portreg's own node-port-range:
    nothing could clear that, since no service of the registry owns it. Nor is a kind
    containerPort no service owns: it is a port of the node (kind's own ingress example
    maps 80 there), a NodePort only when a Service asks for it, which PR024 reads.
    """
    k8s_low, k8s_high = K8S_NODE_PORT_RANGE
    for obs in facts.observations:
        if obs.role != "node_port" or facts.registered(obs.service):
            continue
        if facts.part(obs.target) == CLUSTER:
            continue  # a kind containerPort no service owns: the node's own port, or a link
        if facts.part(obs.target) == VALUES and _formula_node_port(facts, obs) not in (
            None,
            obs.port,
        ):
            continue
        if not k8s_low <= obs.port <= k8s_high:
            message = f"{obs.field} {obs.port} is outside Kubernetes' {k8s_low}-{k8s_high}"
            hint = f"give it a NodePort in {k8s_low}-{k8s_high} (the API server rejects it)"
            yield _at(facts, obs, message, hint)


def static_band(size: int) -> int:
    """How many ports at the bottom of a NodePort range KEP-3668 keeps for static use.

    kube-apiserver's portallocator ``calculateRangeOffset``: ``min(max(16, size/32), 128)``
    (integer division), and 0 for a range of 16 ports or fewer. For 30000-32767
    (2768 ports) that is 2768 // 32 = 86: the static band is 30000-30085.
    Automatic NodePorts come from above the band first, so ports there are
    only handed out once the rest is full.
    """
    if size <= 16:
        return 0
    return min(max(16, size // 32), 128)


@rule(
    "PR014",
    "info",
    "static-band",
    summary=(
        "a NodePort range the repo sets lies above Kubernetes' static band (KEP-3668); "
        "shown with `--verbose`"
    ),
    help="Give every Service an explicit nodePort, or move node-port-range into the static band.",
)
def static_band_note(facts: Facts) -> Iterator[Finding]:
    """PR014 (info, once per repo): the repo's own NodePort range lies outside the static
    band. portreg's default range is no news about the repo (its README says so), so the
    note is given only for a range the repo chose."""
    low, high = facts.settings.node_port_range
    if not facts.derives_node_ports or (low, high) == tuple(NODE_PORT_RANGE):
        return
    k8s_low, k8s_high = K8S_NODE_PORT_RANGE
    band_high = k8s_low + static_band(k8s_high - k8s_low + 1) - 1
    if high > band_high:
        where = "lies above" if low > band_high else "reaches above"
        message = (
            f"node-port-range {low}-{high} {where} Kubernetes' static NodePort band "
            f"{k8s_low}-{band_high} (KEP-3668): a Service created without a nodePort is "
            f"given one from above the band first, and may take a port portreg hands out"
        )
        hint = "give every Service an explicit nodePort, or move node-port-range into the band"
        line = facts.config_line("node-port-range") or 1
        yield hit(facts.config_path or facts.registry_path, line, message, hint)


# ------------------------------------------------------------- other files


@rule(
    "PR018",
    "error",
    "scanned-drift",
    summary="a Tiltfile/compose/manifest gives a registered service another port",
    help="Run `portreg fix` for the Tiltfile and compose files; edit a manifest by hand.",
)
def scanned_drift(facts: Facts) -> Iterator[Finding]:
    """PR018: a Tiltfile/compose/manifest gives a registered service another port (an error
    as every governed port the registry disagrees with: ``fix`` rewrites it).

    When that port is someone else's, PR002 reports it as an error instead.
    """
    ruled = facts.drift_ruled
    for obs in facts.observations:
        if obs.target in ruled or not facts.drifted(obs):
            continue
        if obs.role == "port" and facts.owners.get(obs.port, obs.service) != obs.service:
            continue
        if facts.expected(obs) in {o.port for o in facts.host_bindings_in_file(obs)}:
            continue  # its port is bound here too: this one is a second port (a debugger)
        message = (
            f"{obs.field} {obs.port} for {obs.service}, the registry gives {facts.expected(obs)}"
        )
        why = forward_refusal(facts, obs, obs.service or "")
        hint = FIX if obs.target in facts.editable else f"edit {obs.path}:{obs.line} by hand"
        yield _at(facts, obs, message, f"fix leaves it: {why}" if why else hint)


def forward_refusal(facts: Facts, obs: Observation, service: str) -> str:
    """Why ``fix`` leaves a drifted forward alone ("" when it rewrites it): the service has
    several in the file (an app and a debugger: which is its port would be a guess), or
    the kind mapping already binds the registry's port (the rewrite would bind it twice)."""
    if facts.part(obs.target) != FORWARDS or obs.field == "dict":
        return ""
    port = facts.state.port_of(service)
    forwards = [o for o in facts.host_bindings_in_file(obs) if o.field != "dict"]
    kind_binds = port is not None and (service, port) in facts.cluster_bound
    if len(forwards) > 1:
        return f"{service} has {len(forwards)} forwards here; which is its port would be a guess"
    if kind_binds and facts.settings.kind.skipping(port) is None:
        return (
            f"moving it to {port} would bind the host port kind-config.yaml maps for {service} "
            "twice; declare who owns it with [kind] skip-host-ports, or edit it by hand"
        )
    return ""


# ------------------------------------------------------------- user targets


@rule(
    "PR019",
    "error",
    "target-drift",
    summary="a user-defined target's value disagrees with the registry",
    help="Run `portreg fix` to write the registry's port into the target.",
)
def target_drift(facts: Facts) -> Iterator[Finding]:
    """PR019: a ``[[targets]]`` value of a registered service disagrees with the registry."""
    for obs in facts.observations:
        if obs.target in facts.user_targets and facts.drifted(obs):
            what = "node port" if obs.role == "node_port" else "port"
            message = (
                f"{obs.target}: {obs.field} holds {what} {obs.port}, the registry gives "
                f"{obs.service} {facts.expected(obs)}{_holder_note(facts, obs.port, obs.service)}"
            )
            yield _at(facts, obs, message)


@rule(
    "PR020",
    "error",
    "target-stranger",
    summary="a user-defined target entry of an unknown service sits on another service's port",
    help="Run `portreg fix`: the service is adopted and its entry moves to a free port.",
)
def target_stranger(facts: Facts) -> Iterator[Finding]:
    """PR020: a ``[[targets]]`` entry of an unregistered service on another service's port."""
    for obs in facts.observations:
        if obs.target not in facts.user_targets or obs.role != "port":
            continue
        owner = facts.owners.get(obs.port)
        if owner and not facts.registered(obs.service):
            message = (
                f"{obs.target}: {obs.field} gives port {obs.port} to {obs.service}, which the "
                f"registry does not know; {obs.port} belongs to {owner} "
                f"({facts.registry_where(owner)})"
            )
            yield _at(facts, obs, message, f"{FIX} (the entry moves to a free port)")


@rule(
    "PR017",
    "error",
    "unreadable-file",
    summary="a file could not be read (its ports were not checked)",
    help="Fix the file so it parses, then run `portreg check` again.",
)
def unreadable(facts: Facts) -> Iterator[Finding]:
    """PR017: a file a scanner could not read (it was not checked)."""
    for item in facts.unreadable:
        message = f"{item.message}; its ports were not checked"
        hint = "fix the file so it parses"
        yield hit(item.path, item.line, message, hint, facts.values_owner.get(item.path))


@rule(
    "PR021",
    "warning",
    "docs-stale",
    summary="a Markdown file listed in `docs` has an out-of-date port table",
    help="Run `portreg docs` to rewrite the table.",
)
def docs_stale(facts: Facts) -> Iterator[Finding]:
    """PR021: a Markdown file listed in ``docs`` whose port table is out of date (warning)."""
    for item in facts.stale_docs:
        yield hit(item.path, item.line, item.message, item.hint)


@rule(
    "PR016",
    "warning",
    "live-listener",
    summary="`--live`: something on this machine listens on a host port the repo binds",
    help="Stop that process; or, for a registered service, move it with `portreg assign "
    "SERVICE --force`; in a further instance, `portreg instance release` then `portreg "
    "instance` gives the checkout a block clear of it.",
)
def listening(facts: Facts) -> Iterator[Finding]:
    """PR016 (``--live``): a host port the repo binds (a registered service's, or a file's
    own, like a database's forward) that something on this machine listens on now."""
    if facts.listeners is None:
        return
    listeners = facts.listeners
    mine = bool(facts.live_offset)

    def said(whose: str, port: int) -> str:
        live = port + facts.live_offset
        own = f" (this instance's, for {port})" if mine else ""
        who = listeners[port] or "another process"
        return f"port {live} of {whose}{own} is in use on this machine by {who}"

    reblock = "`portreg instance release`, then `portreg instance` for a block clear of it"
    for service, port in facts.state.assignments.items():
        if port in listeners:
            move = reblock if mine else f"move the service with `portreg assign {service} --force`"
            line = facts.registry_line(service)
            yield hit(
                facts.registry_path,
                line,
                said(service, port),
                f"stop that process, or {move}",
                service,
                port,
            )
    said_for = set(facts.state.assignments.values())
    for obs in facts.observations:
        if obs.namespace == HOST and obs.port in listeners and obs.port not in said_for:
            said_for.add(obs.port)
            whose = f"{obs.service or 'a binding'} ({obs.path}:{obs.line})"
            hint = f"stop that process, or {reblock}" if mine else "stop that process"
            yield hit(obs.path, obs.line, said(whose, obs.port), hint, obs.service, obs.port)


RULES: tuple[Rule, ...] = tuple(sorted(_REGISTERED, key=lambda r: r.code))


def run(facts: Facts, rules: tuple[Rule, ...] = RULES) -> list[Finding]:
    """Every finding, sorted by file, line and code."""
    findings = [
        replace(found, code=rule.code, severity=rule.severity)
        for rule in rules
        for found in rule.check(facts)
    ]
    return sorted(findings, key=lambda f: (f.path, f.line, f.code, f.message))
