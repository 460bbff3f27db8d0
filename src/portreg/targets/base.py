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

from portreg.errors import PortregError
from portreg.io.workspace import Workspace
from portreg.model import Assignment

HOST = "host"  # this machine (per address): kind hostPort, Tilt/compose local side
NODE = "node"  # one cluster's nodes: a Service's nodePort; a kind containerPort reaches one
SERVICE = "service"  # a Service's own address: its port and targetPort
CONTAINER = "container"  # a pod's or container's own address
UNREAD = "unread"  # a port the file computes (a loop, a format string): named, never guessed
NAMED = "named"  # a port a file names for a service without binding it (a Tiltfile's port dict)
NAMESPACES = (HOST, NODE, SERVICE, CONTAINER, NAMED)  # in the order `ports` lists them

SHARED = ""  # the group of the files that run with the cluster (kind, Helm, manifests, ...)
EVERYWHERE = "*"  # the registry: its ports are meant to be free wherever the repo runs


def overlap(one: str, other: str) -> bool:
    """Whether two host addresses share a socket: "" (every address) overlaps all;
    ``localhost`` is ``127.0.0.1``."""
    aliases = {"localhost": "127.0.0.1"}
    return not one or not other or aliases.get(one, one) == aliases.get(other, other)


def run_together(one: str, other: str) -> bool:
    """Whether bindings of two run groups can be up at the same moment.

    A Tiltfile runs with the cluster it deploys to (kind, Helm, manifests, declared
    files). A compose project is another way to run the stack: it runs with no other
    project, Tiltfile or cluster (``[compose] projects`` joins files into one project),
    nor do alternative Tiltfiles (``Tiltfile`` and ``Tiltfile.dc``) run with each other.
    The registry runs with everything: its ports are meant to be free wherever it runs.
    """
    if one == other or EVERYWHERE in (one, other):
        return True
    return SHARED in (one, other) and not any(g.startswith("compose:") for g in (one, other))


class Observation(NamedTuple):
    """A binding found in a file: a port in a namespace, where, and whose it is.

    ``role`` says what the registry makes of it: "port" (the service's governed port),
    "node_port" (derived by the NodePort formula), "container_port", or "other" (read
    and shown, never compared with the registry nor rewritten). ``namespace`` says where
    it binds: only bindings of one namespace (and run groups that run together) clash.
    ``variable`` names the environment variable a host port is taken from, the port
    being that variable's default (compose's ``${INVOICE_PORT:-8002}``, a Tiltfile's
    ``int(os.getenv('INVOICE_PORT', '8002'))``): the port read is its default (or a
    compose ``.env`` file's value), the committed port another checkout of the repo
    overrides from its environment.

    A NamedTuple, not a dataclass: ``check`` builds one per port in every file,
    thousands per run, and reloads them from its cache as plain rows.
    """

    target: str
    path: str
    line: int
    port: int
    field: str
    role: str
    service: str | None = None
    namespace: str = HOST
    group: str = SHARED  # the files it runs with (``run_together``)
    address: str = ""  # the host address it binds ("" = every address)
    leads_to: int | None = None  # the port it leads to (host 8001 -> container 8080)
    link: bool = False  # it reaches a port bound elsewhere (a kind containerPort: a NodePort)
    variable: str | None = None  # the environment variable the port is taken from, if any


def declared(found: Observation) -> Observation:
    """A port in a file the user declared (``[[targets]]``: an OpenAPI server URL, an
    ``.env.example`` line): governed, so it follows the registry, but a use of the port
    (a client's URL), not a binding of it."""
    # built directly, not by ``_replace`` (a dict round trip): a .env file is all such lines
    return Observation(*found[:7], NAMED, *found[8:])


class PartlyRead(PortregError):
    """A scan some of whose parts (a compose project) could not be read: what the others
    gave, and each part's error, so one broken file is one finding and hides no other."""

    def __init__(self, found: list[Observation], errors: list[PortregError]) -> None:
        first = errors[0]
        super().__init__(first.message, where=first.where, hint=first.hint)
        self.found = found
        self.errors = errors


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


__all__ = [
    "CONTAINER",
    "EVERYWHERE",
    "HOST",
    "NAMED",
    "NAMESPACES",
    "NODE",
    "SERVICE",
    "SHARED",
    "UNREAD",
    "FileScanner",
    "Observation",
    "PartlyRead",
    "Target",
    "declared",
    "overlap",
    "run_together",
    "scan_each",
]
