"""Everything ``check`` knows about a repo, as values: the input of every rule.

Built by ``scan`` (which does the reading) or by hand in tests. Derived
views (who holds which port, what the registry expects of a file) are
computed once and shared by the rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cached_property
from typing import NamedTuple

from portreg.config import Settings
from portreg.config.kinds import CLUSTER, KINDS, VALUES, kind_of
from portreg.config.record import Record, setting
from portreg.errors import Problem
from portreg.model import RegistryState, reserved_ports
from portreg.targets.base import EVERYWHERE, HOST, Observation, overlap, run_together

REGISTRY = "registry"
GOVERNED_ROLES = frozenset({"port", "node_port", "container_port"})  # "other" is only read


class Claim(NamedTuple):
    """A port held by someone somewhere: a registry entry or a file's host port."""

    holder: str  # a service name, or a description of an unnamed entry
    named: bool
    port: int
    source: str  # REGISTRY or a target name
    path: str
    line: int
    observation: Observation | None = None
    group: str = EVERYWHERE  # the files it runs with (a registry entry: everywhere)
    address: str = ""

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def whose(self) -> str:
        """Whose it is and where: ``api (Tiltfile:3)``; an unnamed entry's holder already
        says where it is."""
        return (
            self.holder
            if self.holder.endswith(f"({self.where})")
            else f"{self.holder} ({self.where})"
        )

    @property
    def binds(self) -> bool:
        """Whether a file binds the port on this machine (a registry entry, or a Service
        port governed by convention, only says whose it is)."""
        return self.observation is not None and self.observation.namespace == HOST

    def meets(self, other: Claim) -> bool:
        """Whether the two can be bound at the same moment on one address."""
        return run_together(self.group, other.group) and overlap(self.address, other.address)


class Facts(Record):
    settings: Settings
    state: RegistryState
    registry_path: str
    registry_text: str | None = None
    observations: tuple[Observation, ...] = ()
    values_files: Mapping[str, str] = setting(default_factory=dict)  # service -> values file
    kind_config: str | None = None  # the kind-config path, when the file exists
    config_path: str | None = None
    config_text: str | None = None
    unreadable: tuple[Problem, ...] = ()
    listeners: Mapping[int, str] | None = None  # --live: port -> who listens ("" unknown)
    live_offset: int = 0  # --live in an instance: its ports are the committed ones + this
    stale_docs: tuple[Problem, ...] = ()  # docs files (settings.docs) whose table is stale
    in_use: frozenset[int] = frozenset()  # every number the files hold (targets.in_use)
    unread: tuple[Observation, ...] = ()  # ports a file computes: named by --verbose, not guessed
    # the port fields of values files whose name names no service (``Billing_API.yaml``):
    # kept apart from ``observations``, since no service owns them (PR026 names the file)
    unnamed_values: tuple[Observation, ...] = ()

    # --------------------------------------------------------------- registry

    @cached_property
    def _registry_lines(self) -> dict[str, int]:
        """``"key":`` -> its first line in the registry text, in one pass."""
        lines: dict[str, int] = {}
        for number, line in enumerate((self.registry_text or "").splitlines(), 1):
            key, colon, _ = line.strip().partition(":")
            if colon and key.startswith('"'):
                lines.setdefault(key, number)
        return lines

    def registry_line(self, service: str) -> int:
        """The line of ``"service":`` in the registry text (1 when not found)."""
        return self._registry_lines.get(json.dumps(service), 1)

    def config_line(self, key: str) -> int | None:
        """The line that sets ``key`` in the config file (None: the default stands)."""
        for number, line in enumerate((self.config_text or "").splitlines(), 1):
            name, equals, _ = line.partition("=")
            if equals and name.strip().strip('"') == key:
                return number
        return None

    def registry_where(self, service: str) -> str:
        return f"{self.registry_path}:{self.registry_line(service)}"

    @cached_property
    def reserved(self) -> frozenset[int]:
        return reserved_ports(self.settings, self.state)

    @cached_property
    def owners(self) -> dict[int, str]:
        """Port -> the first service the registry gives it to (document order)."""
        result: dict[int, str] = {}
        for service, port in self.state.assignments.items():
            result.setdefault(port, service)
        return result

    @cached_property
    def values_owner(self) -> dict[str, str]:
        """Values file path -> the service it is for."""
        return {path: service for service, path in self.values_files.items()}

    @cached_property
    def nodeport_convention(self) -> bool:
        """Whether the repo's values files follow the NodePort convention (some file's ports
        are governed): then a values file names a service portreg keeps."""
        return any(obs.role != "other" for obs in self.by_part(VALUES))

    @cached_property
    def governed_values(self) -> dict[str, str]:
        """Service -> values file, for the files the registry governs: those whose ports
        follow the convention, and port-less ones in a repo that follows it."""
        ruled = {obs.path: obs.role != "other" for obs in self.by_part(VALUES)}
        return {
            service: path
            for service, path in self.values_files.items()
            if ruled.get(path, self.nodeport_convention)
        }

    def registered(self, service: str | None) -> bool:
        return service is not None and service in self.state.assignments

    def node_port(self, port: int) -> int:
        return self.settings.node_port(port)

    # ------------------------------------------------------------------ files

    @cached_property
    def user_targets(self) -> frozenset[str]:
        """The names of the ``[[targets]]`` the user declared (``fix`` rewrites them too)."""
        return frozenset(spec.name for spec in self.settings.targets)

    @cached_property
    def editable(self) -> frozenset[str]:
        """Targets ``fix`` rewrites (the kinds table says which; every user target)."""
        return frozenset(k.name for k in KINDS.values() if k.edits) | self.user_targets

    @cached_property
    def drift_ruled(self) -> frozenset[str]:
        """Targets whose drift a rule of their own reports (not PR018)."""
        return frozenset(k.name for k in KINDS.values() if k.own_drift_rule) | self.user_targets

    def part(self, target: str) -> str:
        """What a target's files are (``targets.kinds``: values, cluster, forwards...)."""
        return kind_of(target).part

    def host_bindings_in_file(self, obs: Observation) -> list[Observation]:
        """The host bindings of an observation's service in the observation's file."""
        return self._host_by_file.get((obs.path, obs.service), [])

    @cached_property
    def _host_by_file(self) -> dict[tuple[str, str | None], list[Observation]]:
        grouped: dict[tuple[str, str | None], list[Observation]] = {}
        for obs in self.observations:
            if obs.namespace == HOST:
                grouped.setdefault((obs.path, obs.service), []).append(obs)
        return grouped

    @cached_property
    def cluster_bound(self) -> frozenset[tuple[str | None, int]]:
        """(service, host port) of every mapping of the cluster's config."""
        return frozenset((obs.service, obs.port) for obs in self.by_part(CLUSTER))

    def targets_of(self, service: str) -> frozenset[str]:
        """The targets whose files mention a service (so a move adds nothing elsewhere)."""
        return self._targets_by_service.get(service, frozenset())

    @cached_property
    def _targets_by_service(self) -> dict[str, frozenset[str]]:
        grouped: dict[str, set[str]] = {}
        for obs in self.observations:
            if obs.service is not None:
                grouped.setdefault(obs.service, set()).add(obs.target)
        return {service: frozenset(targets) for service, targets in grouped.items()}

    def by_part(self, part: str) -> list[Observation]:
        """The observations of the targets that play ``part``."""
        return self._by_part.get(part, [])

    @cached_property
    def _by_part(self) -> dict[str, list[Observation]]:
        grouped: dict[str, list[Observation]] = {}
        for obs in self.observations:
            grouped.setdefault(self.part(obs.target), []).append(obs)
        return grouped

    def by_target(self, target: str) -> list[Observation]:
        return self._by_target.get(target, [])

    @cached_property
    def _by_target(self) -> dict[str, list[Observation]]:
        grouped: dict[str, list[Observation]] = {}
        for obs in self.observations:
            grouped.setdefault(obs.target, []).append(obs)
        return grouped

    def helm_port(self, path: str) -> int | None:
        """The ``service.port`` a values file gives (for its own NodePort formula)."""
        return self._first_port.get(path)

    def helm_port_line(self, path: str) -> int:
        """The line of a values file's first port field (1 when it has none)."""
        return self._helm_port_lines.get(path, 1)

    @cached_property
    def _helm_port_lines(self) -> dict[str, int]:
        lines: dict[str, int] = {}
        for obs in self.by_part(VALUES):
            if obs.role == "port":
                lines.setdefault(obs.path, obs.line)
        return lines

    @cached_property
    def _first_port(self) -> dict[str, int]:
        """File -> the first port-role value it holds (one pass, not one per question)."""
        first: dict[str, int] = {}
        for obs in self.observations:
            if obs.role == "port":
                first.setdefault(obs.path, obs.port)
        return first

    def expected(self, obs: Observation) -> int | None:
        """What the registry says this field should hold, for a registered service; None
        for what it does not govern: an in-cluster port, a host port outside the range (a
        debugger's, an admin port: foreign), a NodePort where the repo derives none."""
        port = self.state.port_of(obs.service) if obs.service else None
        if port is None or obs.role not in GOVERNED_ROLES:
            return None
        if obs.namespace == HOST and not self.settings.in_range(obs.port):
            return None
        if obs.role != "node_port":
            return port
        return self.node_port(port) if self.derives_node_ports else None

    @cached_property
    def derives_node_ports(self) -> bool:
        """Whether the repo derives NodePorts from host ports: values files under the
        NodePort convention, or kind mappings that reach NodePorts; never where the config
        says the repo derives none (``derive-node-ports = false``)."""
        if self.settings.derive_node_ports is False:
            return False
        return self.nodeport_convention or any(obs.link for obs in self.observations)

    def drifted(self, obs: Observation) -> bool:
        expected = self.expected(obs)
        return expected is not None and expected != obs.port

    @cached_property
    def claims(self) -> list[Claim]:
        """Registry entries first, then every file's host ports, in scan order.

        A port the registry governs by convention (a values file's ``service.port`` under
        the NodePort convention, which is the service's host port) is claimed too; a
        Service's own port in any other file never is.
        """
        found = [
            Claim(s, True, p, REGISTRY, self.registry_path, self.registry_line(s))
            for s, p in self.state.assignments.items()
        ]
        for obs in self.observations:
            if obs.namespace == HOST or obs.role == "port":  # a governed port is the host's
                found.append(self._claim(obs))
        return found

    def _claim(self, obs: Observation) -> Claim:
        """An unnamed entry on a registered port is taken to be that service's own."""
        holder, named = obs.service, obs.service is not None
        if holder is None:
            holder = self.owners.get(obs.port) or f"an unnamed {obs.target} entry"
            named = obs.port in self.owners
            if not named:
                holder = f"{holder} ({obs.path}:{obs.line})"
        return Claim(
            holder, named, obs.port, obs.target, obs.path, obs.line, obs, obs.group, obs.address
        )

    @cached_property
    def holders(self) -> dict[int, list[Claim]]:
        """Port -> its claims, the registry's first."""
        result: dict[int, list[Claim]] = {}
        for claim in self.claims:
            result.setdefault(claim.port, []).append(claim)
        return result

    @cached_property
    def rivals(self) -> list[Rivals]:
        """Each claim's rivals (``find_rivals``), in ``claims`` order, computed once."""
        return find_rivals(self.claims)

    def host_clashes(self, *, together: bool) -> list[tuple[Claim, Claim]]:
        """(earlier, claim): each holder's first claim on a port that another service's
        claim meets (``together``) or meets only in files that do not run with it."""
        return self._clashes[together]

    @cached_property
    def _clashes(self) -> dict[bool, list[tuple[Claim, Claim]]]:
        found: dict[bool, list[tuple[Claim, Claim]]] = {True: [], False: []}
        said: set[tuple[bool, int, str]] = set()
        for claim, rivals in zip(self.claims, self.rivals, strict=True):
            for together, other in ((True, rivals.together), (False, rivals.apart)):
                key = (together, claim.port, claim.holder)
                if other is None or key in said or claim.holder == self.owner(claim.port).holder:
                    continue
                said.add(key)
                found[together].append((other, claim))
        return found

    def owner(self, port: int) -> Claim:
        """Who keeps a port: the registry's holder, else whoever claimed it first."""
        return self.holders[port][0]

    def taken_by_others(self, service: str) -> set[int]:
        """Ports a new port for ``service`` must avoid: those some file or registry entry
        gives to anyone else, and every number the files hold (as ``assign`` skips)."""
        return {c.port for c in self.claims if c.holder != service} | self.in_use


class Rivals(NamedTuple):
    """The earlier claims on a claim's port it clashes with, one of each kind (None: none).

    ``together``: another service's, in files that run with it; ``apart``: another
    service's, only in files that do not; ``twice``: a second binding of the same port
    (the same holder, or an entry that names nobody) in a file that runs with it.
    """

    together: Claim | None = None
    apart: Claim | None = None  # (or an entry naming nobody, in alternatives)
    twice: Claim | None = None


class _Earlier:
    """The earlier claims of one port in one run group on one address, as much of them
    as finding a rival needs: two named holders, the first file entry of each holder,
    the first file entry naming nobody, the first file entry."""

    __slots__ = ("address", "by_holder", "file", "group", "named", "unnamed")

    def __init__(self, claim: Claim) -> None:
        self.group, self.address = claim.group, claim.address
        self.named: list[Claim] = []
        self.by_holder: dict[str, Claim] = {}
        self.unnamed: Claim | None = None
        self.file: Claim | None = None

    def add(self, claim: Claim) -> None:
        if (
            claim.named
            and len(self.named) < 2
            and claim.holder not in {c.holder for c in self.named}
        ):
            self.named.append(claim)
        if not claim.binds:
            return
        self.by_holder.setdefault(claim.holder, claim)
        self.file = self.file or claim
        if not claim.named:
            self.unnamed = self.unnamed or claim

    def rivals(self, claim: Claim, found: Rivals) -> Rivals:
        """``found`` with what these earlier claims add to it."""
        other = next((c for c in self.named if c.holder != claim.holder), None)
        if not (run_together(self.group, claim.group) and overlap(self.address, claim.address)):
            if found.apart is None:  # anyone but the same named service, in alternatives
                anyone = self.named[0] if self.named else self.unnamed
                found = found._replace(apart=(other or self.unnamed) if claim.named else anyone)
            return found
        if other is not None and claim.named and found.together is None:
            found = found._replace(together=other)
        if claim.binds and found.twice is None:
            twice = self.by_holder.get(claim.holder) or self.unnamed
            found = found._replace(twice=twice or (None if claim.named else self.file))
        return found


def find_rivals(claims: list[Claim]) -> list[Rivals]:
    """Each claim's rivals among the claims before it on its port; linear in the claims
    for a bounded number of run groups and addresses per port."""
    earlier: dict[int, dict[tuple[str, str], _Earlier]] = {}
    found = []
    for claim in claims:
        keys = earlier.setdefault(claim.port, {})
        rivals = Rivals()
        for seen in keys.values():
            rivals = seen.rivals(claim, rivals)
        found.append(rivals)
        key = (claim.group, claim.address)
        if key not in keys:
            keys[key] = _Earlier(claim)
        keys[key].add(claim)
    return found
