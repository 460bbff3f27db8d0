"""The shared shape of the read-only scanners (Tiltfile, compose, manifests).

A scanner names its files and reads one file's text into Observations
(``scan_file``, pure, raising PortregError for a file it cannot read).
``check`` calls it per file so one broken file becomes one finding; ``update``
and ``remove`` do nothing, since these files are not portreg's to edit.
"""

from __future__ import annotations

import os

from portreg.config import ScannerSettings, Settings
from portreg.errors import PortregError
from portreg.targets.base import Observation, Wanted, port_like_numbers, scan_each
from portreg.workspace import Workspace


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

    def update(self, ws: Workspace, wanted: Wanted, *, scaffold: bool = False) -> list[str]:
        return []

    def remove(self, ws: Workspace, service: str, port: int | None = None) -> list[str]:
        return []

    def scan(self, ws: Workspace) -> list[Observation]:
        return scan_each(self, ws)

    def used_ports(self, ws: Workspace) -> set[int]:
        """Host ports the files hold (unchanged files from the port cache)."""
        from portreg.portcache import ports_in_files

        root = str(ws.root)
        paths = [os.path.join(root, display) for display in self.files(ws)]
        return ports_in_files(root, self.name, paths, self._host_ports)

    def _host_ports(self, path: str, text: str) -> set[int]:
        """An unreadable file counts every port-like number: it must not stop an assign."""
        display = os.path.relpath(path, self.settings.root)
        try:
            return {o.port for o in self.scan_file(display, text) if o.role == "port"}
        except PortregError:
            return port_like_numbers(text)
