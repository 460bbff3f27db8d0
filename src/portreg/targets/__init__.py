"""The targets portreg knows, built from Settings in the order of the kinds table
(``config.kinds``): Helm values and kind-config first, then the user-declared
``[[targets]]``, then the scanned files (Tiltfile and compose, whose literal host ports
``fix`` moves; manifests, read only). A target's module is imported only when its
section is on.
"""

from __future__ import annotations

import importlib

from portreg.config import Settings
from portreg.config.kinds import CLUSTER, KINDS, VALUES, Kind
from portreg.targets.base import Observation, Target

__all__ = ["Observation", "Target", "build_targets"]


def build_targets(settings: Settings) -> list[Target]:
    kinds = [kind for kind in KINDS.values() if settings.section(kind.name).enabled]
    first = [kind for kind in kinds if kind.part in (VALUES, CLUSTER)]
    targets = [_built(kind, settings) for kind in first]
    if settings.targets:
        from portreg.targets.user import build

        targets += build(settings)
    return targets + [_built(kind, settings) for kind in kinds if kind not in first]


def _built(kind: Kind, settings: Settings) -> Target:
    module, _, name = kind.target.partition(":")
    target: Target = getattr(importlib.import_module(module), name)(settings)
    return target
