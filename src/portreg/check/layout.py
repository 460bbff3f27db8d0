"""The whole config the repo's files call for: the layout (``config.detect``), then the
ports its bindings call for (``config.choose``), read as ``check`` reads them.

``init`` writes it down; a repo with no config runs with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portreg.check.scan import read
from portreg.config import Settings, settings_from_table
from portreg.config.choose import HostPort, choose_ports
from portreg.config.detect import SEED_VALUES, env_files
from portreg.config.record import replace
from portreg.errors import PortregError
from portreg.io.listing import repo_files
from portreg.io.workspace import Workspace
from portreg.store import open_store
from portreg.targets import build_targets
from portreg.targets.base import HOST, NODE, SERVICE, Observation


@dataclass
class Found:
    """The config table for the repo, and one note per thing found or chosen."""

    table: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def found_config(settings: Settings) -> Found:
    """Read the repo under ``settings`` (its layout already found) and choose its ports."""

    store = open_store(settings, None)
    try:
        facts = read(settings, store, build_targets(settings), Workspace(settings.root))
    except PortregError:
        return Found(dict(settings.layout), list(settings.layout_notes))
    own = [obs for obs in facts.observations if obs.target != "registry"]
    bindings = [_host_port(obs) for obs in own if obs.namespace == HOST]
    seed = settings.layout.get("helm", {}).get("values") == SEED_VALUES
    choice = choose_ports(
        bindings,
        dict(facts.state.assignments),
        node_port_files=_values_pairs(own),
        seed_layout=seed,
        kind_cluster=settings.kind.enabled,
        registry_reserves=facts.registry_text is not None,
        node_port_range=settings.node_port_range,
    )
    table = {**settings.layout, **choice.table}
    if choice.kind and table.get("kind", {}).get("enabled"):
        table["kind"] = {**table["kind"], **choice.kind}
    notes = [*settings.layout_notes, *choice.notes]
    if not settings.targets:
        services = {*facts.state.assignments, *(b.owner for b in bindings if b.owner)}
        note = _env_files(settings, services)
        if note:
            notes.append(note)
    return Found(table, notes)


def _env_files(settings: Settings, services: set[str]) -> str | None:
    """A note naming the ``.env`` files with a service's ``*_PORT=`` line. Not declared as
    targets: such a line is often a variable compose reads for a container port, where
    two services share a number without clashing; a ``[[targets]]`` entry says which."""

    ws = Workspace(settings.root)
    files = repo_files(str(settings.root))
    return env_files(files, lambda name: ws.read(settings.root / name), services)


def _host_port(obs: Observation) -> HostPort:
    if obs.target == "kind":  # a mapping leads to a NodePort, not a served port
        return HostPort(obs.port, obs.service, obs.target, node_port=obs.leads_to)
    return HostPort(obs.port, obs.service, obs.target, serves=obs.leads_to)


def _values_pairs(observations: list[Observation]) -> list[tuple[int, int]]:
    """(port, nodePort) of each values file that writes both."""
    ports: dict[str, int] = {}
    nodes: dict[str, int] = {}
    for obs in observations:
        if obs.target == "helm" and obs.namespace == SERVICE:
            ports.setdefault(obs.path, obs.port)
        elif obs.target == "helm" and obs.namespace == NODE:
            nodes.setdefault(obs.path, obs.port)
    return [(ports[path], nodes[path]) for path in ports if path in nodes]


def settings_found(settings: Settings) -> Settings:
    """``settings`` of a repo with no config, with the ports its files call for."""
    found = found_config(settings)
    chosen = settings_from_table(settings.root, found.table, None)
    return replace(chosen, layout=settings.layout, layout_notes=settings.layout_notes)
