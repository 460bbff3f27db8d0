"""The shared shape of the scanned files (Tiltfile, compose, manifests).

A scanner names its files and reads one file's text into Observations
(``scan_file``, pure, raising PortregError for a file it cannot read).
``check`` calls it per file so one broken file becomes one finding. ``update``
moves one service's literal host port in each file through the format's
``set_port`` (none for manifests, which stay the user's); ``remove`` does nothing.
"""

from __future__ import annotations

from portreg.config import ScannerSettings, Settings
from portreg.io.workspace import Workspace
from portreg.model import Assignment
from portreg.targets.base import Observation, scan_each


class ScannedTarget:
    name = "scanner"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def config(self) -> ScannerSettings:
        config: ScannerSettings = self.settings.section(self.name)
        return config

    def scan_file(self, display: str, text: str) -> list[Observation]:
        raise NotImplementedError

    def files(self, ws: Workspace) -> list[str]:
        """Repo-relative paths matching any configured glob, each once, sorted."""
        return sorted({name for pattern in self.config.files for name in ws.glob_names(pattern)})

    def read(self, ws: Workspace, display: str) -> str:
        return ws.read(ws.resolve(display)) or ""

    def set_port(self, display: str, text: str, service: str, port: int) -> str:
        """One file's text with ``service``'s host port at ``port`` (here: unchanged)."""
        return text

    def update(
        self, ws: Workspace, wanted: Assignment, *, scaffold: bool = False, ports_only: bool = False
    ) -> list[str]:
        for display in self.files(ws):
            path = ws.resolve(display)
            text = ws.read(path)
            if text is None:
                continue
            new = self.set_port(display, text, wanted.service, wanted.port)
            if new != text:
                ws.write(path, new)
        return []

    def remove(self, ws: Workspace, service: str, port: int | None = None) -> list[str]:
        return []

    def scan(self, ws: Workspace) -> list[Observation]:
        return scan_each(self, ws)
