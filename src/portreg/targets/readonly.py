"""The shared shape of the read-only scanners (Tiltfile, compose, manifests).

A scanner names its files and reads one file's text into Observations
(``scan_file``, pure, raising PortregError for a file it cannot read).
``check`` calls it per file so one broken file becomes one finding; ``update``
and ``remove`` do nothing, since these files are not portreg's to edit.
"""

from __future__ import annotations

from portreg.config import ScannerSettings, Settings
from portreg.io.workspace import Workspace
from portreg.model import Assignment
from portreg.targets.base import Observation, scan_each


class ReadOnlyScanner:
    name = "scanner"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def config(self) -> ScannerSettings:
        config: ScannerSettings = getattr(self.settings, self.name)
        return config

    def scan_file(self, display: str, text: str) -> list[Observation]:
        raise NotImplementedError

    def files(self, ws: Workspace) -> list[str]:
        """Repo-relative paths matching any configured glob, each once, sorted."""
        return sorted({name for pattern in self.config.files for name in ws.glob_names(pattern)})

    def read(self, ws: Workspace, display: str) -> str:
        return ws.read(ws.resolve(display)) or ""

    def update(
        self, ws: Workspace, wanted: Assignment, *, scaffold: bool = False, ports_only: bool = False
    ) -> list[str]:
        return []

    def remove(self, ws: Workspace, service: str, port: int | None = None) -> list[str]:
        return []

    def scan(self, ws: Workspace) -> list[Observation]:
        return scan_each(self, ws)
