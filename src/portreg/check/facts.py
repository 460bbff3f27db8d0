"""Everything ``check`` knows about a repo, as values: the input of every rule.

Built by ``scan`` (which does the reading) or by hand in tests. Derived
views (who holds which port, what the registry expects of a file) are
computed once and shared by the rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from portreg.config import Settings
from portreg.model import RegistryState, reserved_ports
from portreg.targets.base import Observation

if TYPE_CHECKING:
    from portreg.extras.docs import StaleDocs  # (importing docs is for `check` with docs only)

REGISTRY = "registry"
EDITABLE = frozenset({"helm", "kind", "tilt", "compose"})  # `fix` rewrites; manifests: read-only
DRIFT_RULED = frozenset({"helm", "kind"})  # targets with a drift rule of their own


@dataclass(frozen=True)
class Unreadable:
    """A file a scanner could not read: becomes a finding, never a crash."""

    target: str
    path: str
    line: int
    message: str


@dataclass(frozen=True)
class Claim:
    """A port held by someone somewhere: a registry entry or a file's host port."""

    holder: str  # a service name, or a description of an unnamed entry
    named: bool
    port: int
    source: str  # REGISTRY or a target name
    path: str
    line: int
    observation: Observation | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Facts:
    settings: Settings
    state: RegistryState
    registry_path: str
    registry_text: str | None = None
    observations: tuple[Observation, ...] = ()
    values_files: Mapping[str, str] = field(default_factory=dict)  # service -> values file
    kind_config: str | None = None  # the kind-config path, when the file exists
    config_path: str | None = None
    config_text: str | None = None
    unreadable: tuple[Unreadable, ...] = ()
    listeners: Mapping[int, str] | None = None  # --live: port -> who listens ("" unknown)
    stale_docs: tuple[StaleDocs, ...] = ()  # docs files (settings.docs) whose table is stale
    in_use: frozenset[int] = frozenset()  # every number the files hold (targets.in_use)
    unread: tuple[Observation, ...] = ()  # ports a file computes: named by --verbose, not guessed

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
    def portless_values(self) -> frozenset[str]:
        """Registered services whose values file (a readable one) holds no port field."""
        scanned = {obs.service for obs in self.by_target("helm")}
        broken = {item.path for item in self.unreadable}
        return frozenset(
            service
            for service, path in self.values_files.items()
            if self.registered(service) and service not in scanned and path not in broken
        )

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
        """Targets ``fix`` rewrites: Helm, kind and every user target; the rest are read-only."""
        return EDITABLE | self.user_targets

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
        for obs in self.by_target("helm"):
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
        """What the registry says this field should hold, for a registered service."""
        port = self.state.port_of(obs.service) if obs.service else None
        if port is None:
            return None
        return self.node_port(port) if obs.role == "node_port" else port

    def portregs(self, port: int) -> bool:
        """Whether a port lies in portreg's range (else it is infrastructure's business)."""
        return self.settings.first_port <= port <= self.settings.last_port

    def in_skip(self, port: int | None) -> bool:
        """Whether ``[kind] skip-host-ports`` leaves this host port to Tilt."""
        ranges = self.settings.kind.skip_host_ports
        return port is not None and any(low <= port <= high for low, high in ranges)

    def drifted(self, obs: Observation) -> bool:
        expected = self.expected(obs)
        return expected is not None and expected != obs.port

    @cached_property
    def claims(self) -> list[Claim]:
        """Registry entries first, then every file's host ports, in scan order."""
        found = [
            Claim(s, True, p, REGISTRY, self.registry_path, self.registry_line(s))
            for s, p in self.state.assignments.items()
        ]
        for obs in self.observations:
            if obs.role == "port":
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
        return Claim(holder, named, obs.port, obs.target, obs.path, obs.line, obs)

    @cached_property
    def holders(self) -> dict[int, list[Claim]]:
        """Port -> its claims, the registry's first."""
        result: dict[int, list[Claim]] = {}
        for claim in self.claims:
            result.setdefault(claim.port, []).append(claim)
        return result

    def owner(self, port: int) -> Claim:
        """Who keeps a port: the registry's holder, else whoever claimed it first."""
        return self.holders[port][0]

    def taken_by_others(self, service: str) -> set[int]:
        """Ports a new port for ``service`` must avoid: those some file or registry entry
        gives to anyone else, and every number the files hold (as ``assign`` skips)."""
        return {c.port for c in self.claims if c.holder != service} | self.in_use
