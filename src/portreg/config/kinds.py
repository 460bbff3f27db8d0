"""What each kind of file is, in one table: the target that reads it, its config section's
default files, how ``init`` finds it, and the capabilities ``check`` and repair use, so
they never name a kind. A new kind of file is a row here and its target module.

Pure and light: the config layer builds its sections from it, ``check`` reads the
capabilities before any reader is loaded.
"""

from __future__ import annotations

from typing import NamedTuple

from portreg.config import discovery

# what a kind's files are for the rules (one each)
VALUES = "values"  # one values file per service (the NodePort convention's port fields)
CLUSTER = "cluster"  # the cluster's host -> node mappings (kind extraPortMappings)
FORWARDS = "forwards"  # a tool's host forwards (Tilt port_forwards, compose published ports)
MANIFESTS = "manifests"  # Kubernetes objects, read only
DECLARED = "declared"  # files the user declared (``[[targets]]``): named ports


class Kind(NamedTuple):
    """One kind of file: what it is, whether ``fix`` edits it, and whether a drift of it
    has a rule of its own (PR003-PR005, PR008, PR019) rather than PR018's.

    ``target``: ``module:Class`` of its target, built when its section is enabled;
    ``files``: a scanned kind's default globs (its section is ``enabled`` and ``files``);
    ``found_by``: the file names ``init`` finds it by, for a kind ``config.detect`` has no
    reader of its own for; ``label``: how ``init`` names its files."""

    name: str
    part: str  # one of VALUES, CLUSTER, FORWARDS, MANIFESTS, DECLARED
    edits: bool
    own_drift_rule: bool
    target: str = ""
    files: tuple[str, ...] = ()
    found_by: tuple[str, ...] = ()
    label: str = ""


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("helm", VALUES, True, True, "portreg.targets.helm:HelmTarget"),
        Kind("kind", CLUSTER, True, True, "portreg.targets.kind:KindTarget"),
        Kind(
            "tilt", FORWARDS, True, False, "portreg.targets.tilt:TiltTarget", discovery.TILT_FILES
        ),
        Kind(
            "compose",
            FORWARDS,
            True,
            False,
            "portreg.targets.compose:ComposeTarget",
            discovery.COMPOSE_FILES,
        ),
        Kind(
            "manifests",
            MANIFESTS,
            False,
            False,
            "portreg.targets.manifests:ManifestsTarget",
            discovery.MANIFEST_FILES,
        ),
    )
}


def kind_of(target: str) -> Kind:
    """A target's kind: a built-in one, else a declared ``[[targets]]`` entry."""
    return KINDS.get(target) or Kind(target, DECLARED, edits=True, own_drift_rule=True)


def named(part: str) -> str:
    """The target name of the one built-in kind that plays ``part`` (values, cluster)."""
    return next(kind.name for kind in KINDS.values() if kind.part == part)
