"""What each kind of file is, in one table: the capabilities ``check`` and repair use, so
they never name a kind. A new kind of file is a row here and its target module.

Pure and light: ``check`` imports it before any reader.
"""

from __future__ import annotations

from typing import NamedTuple

# what a kind's files are for the rules (one each)
VALUES = "values"  # one values file per service (the NodePort convention's port fields)
CLUSTER = "cluster"  # the cluster's host -> node mappings (kind extraPortMappings)
FORWARDS = "forwards"  # a tool's host forwards (Tilt port_forwards, compose published ports)
MANIFESTS = "manifests"  # Kubernetes objects, read only
DECLARED = "declared"  # files the user declared (``[[targets]]``): named ports


class Kind(NamedTuple):
    """One kind of file: what it is, whether ``fix`` edits it, and whether a drift of it
    has a rule of its own (PR003-PR005, PR008, PR019) rather than PR018's."""

    name: str
    part: str  # one of VALUES, CLUSTER, FORWARDS, MANIFESTS, DECLARED
    edits: bool
    own_drift_rule: bool


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("helm", VALUES, edits=True, own_drift_rule=True),
        Kind("kind", CLUSTER, edits=True, own_drift_rule=True),
        Kind("tilt", FORWARDS, edits=True, own_drift_rule=False),
        Kind("compose", FORWARDS, edits=True, own_drift_rule=False),
        Kind("manifests", MANIFESTS, edits=False, own_drift_rule=False),
    )
}


def kind_of(target: str) -> Kind:
    """A target's kind: a built-in one, else a declared ``[[targets]]`` entry."""
    return KINDS.get(target) or Kind(target, DECLARED, edits=True, own_drift_rule=True)


def named(part: str) -> str:
    """The target name of the one built-in kind that plays ``part`` (values, cluster)."""
    return next(kind.name for kind in KINDS.values() if kind.part == part)
