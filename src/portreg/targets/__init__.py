"""The targets portreg knows, built from Settings in a fixed order.

Helm values and kind-config are the first two; user-declared ``[[targets]]``
follow; then the scanners: Tiltfile and compose (whose literal host ports ``fix``
moves) and manifests (read only).
Modules are imported only when a command needs them.
"""

from __future__ import annotations

from portreg.config import Settings
from portreg.targets.base import Observation, Target

__all__ = ["Observation", "Target", "build_targets"]


def build_targets(settings: Settings) -> list[Target]:
    targets: list[Target] = []
    if settings.helm.enabled:
        from portreg.targets.helm import HelmTarget

        targets.append(HelmTarget(settings))
    if settings.kind.enabled:
        from portreg.targets.kind import KindTarget

        targets.append(KindTarget(settings))
    if settings.targets:
        from portreg.targets.user import build

        targets += build(settings)
    targets += _scanners(settings)
    return targets


def _scanners(settings: Settings) -> list[Target]:
    """The scanners (``check``, and ports to skip when allocating), each switchable."""
    scanners: list[Target] = []
    if settings.tilt.enabled:
        from portreg.targets.tilt import TiltTarget

        scanners.append(TiltTarget(settings))
    if settings.compose.enabled:
        from portreg.targets.compose import ComposeTarget

        scanners.append(ComposeTarget(settings))
    if settings.manifests.enabled:
        from portreg.targets.manifests import ManifestsTarget

        scanners.append(ManifestsTarget(settings))
    return scanners
