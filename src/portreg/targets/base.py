"""What a target is: a file format portreg edits (Helm values, kind-config, user targets)
or only scans (Tiltfile, compose, manifests).

A target plans edits by reading and writing texts through a Workspace (memory
only), names the files it reads (``targets.in_use`` takes every number in
them, for allocation) and reports what ports its files hold as Observations
for ``check``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

from portreg.io.workspace import Workspace
from portreg.model import Assignment


class Observation(NamedTuple):
    """A port found in a file: where, which field, and whose it is (when the file says).

    A NamedTuple, not a dataclass: ``check`` builds one per port in every file,
    thousands per run, and reloads them from its cache as plain rows.
    """

    target: str
    path: str
    line: int
    port: int
    field: str
    role: str  # "port" (service/host port), "node_port", "container_port", or "other"
    service: str | None = None


class Target(Protocol):
    name: str

    def update(
        self, ws: Workspace, wanted: Assignment, *, scaffold: bool = False, ports_only: bool = False
    ) -> list[str]:
        """Bring this target's files in line for one service; returns warnings.

        ``ports_only``: change only values whose template holds a port (``fix``,
        ``reconcile``, ``update-configs``); names, images and binaries are the team's,
        written only when portreg creates a file or is asked to (``--all-fields``).
        """

    def remove(self, ws: Workspace, service: str, port: int | None = None) -> list[str]:
        """Take one service out of this target's files (``release --update-configs``).

        ``port`` is the port it held, so an entry without a naming comment is found too.
        """

    def files(self, ws: Workspace) -> Sequence[str | Path]:
        """Every file this target reads (``targets.in_use`` takes the ports in them)."""

    def scan(self, ws: Workspace) -> list[Observation]:
        """Every port these files hold, with file and line, for ``check``."""


@runtime_checkable
class FileScanner(Protocol):
    """A target that reads its files one at a time, so one broken file is one finding."""

    name: str

    def files(self, ws: Workspace) -> list[str]: ...

    def read(self, ws: Workspace, display: str) -> str: ...

    def scan_file(self, display: str, text: str) -> list[Observation]: ...


def scan_each(scanner: FileScanner, ws: Workspace) -> list[Observation]:
    """Every file's observations in file order; the first unreadable file raises."""
    found: list[Observation] = []
    for display in scanner.files(ws):
        found.extend(scanner.scan_file(display, scanner.read(ws, display)))
    return found


__all__ = ["FileScanner", "Observation", "Target", "scan_each"]
