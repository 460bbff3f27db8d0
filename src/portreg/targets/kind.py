"""kind-config.yaml: one ``extraPortMappings`` entry per service on the control-plane node.

An entry is ``containerPort: <node port>``, ``hostPort: <port>``,
``protocol: TCP``, with the ``[kind] comment`` line (``# Invoice Service``)
right above it, in the file's own list style.

Which entry is the service's, decided from the parsed document, never by
searching text:

1. the entry whose comment line above is the service's comment (so after
   ``assign --force`` the old entry is found and updated in place), else
2. the entry whose hostPort and containerPort are exactly the service's.

Any *other* entry on the node binding the service's hostPort is a conflict:
the command refuses and names it. A port inside ``[kind] skip-host-ports``
gets no mapping, and the service's own entry (found as above) is removed,
because something else (Tilt's port-forward) binds that host port; entries
that are not the service's are left alone. ``remove`` finds the entry the
same way (by values only when the caller passes the port).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from portreg.config import Settings
from portreg.config.templates import comment_pattern, render, service_in_comment
from portreg.edit import yaml as yamledit
from portreg.edit.heap import collector_paused
from portreg.errors import FileEditError
from portreg.io.workspace import Workspace
from portreg.model import Assignment, yaml11_int
from portreg.targets.base import HOST, NODE, SHARED, Observation, scan_each

NODES: yamledit.Path = ("nodes",)
MAPPINGS = "extraPortMappings"


def role_index(doc: yamledit.Document, role: str) -> int | None:
    """Index of the first node whose role is ``role`` (None when none has it)."""
    for item in doc.items(NODES):
        node = item.node
        found = node.value if node.id == "scalar" else None
        if node.id == "mapping":
            found = next((v.value for k, v in node.value if k.value == "role"), None)
        if found == role:
            return item.index
    return None


def _fields(entry: yamledit.Node) -> dict[str, list[yamledit.Node]]:
    """An entry's value nodes by scalar key, in one pass (two or more: a duplicate key)."""
    found: dict[str, list[yamledit.Node]] = {}
    if entry.id == "mapping":
        for key, value in entry.value:
            if key.id == "scalar":
                found.setdefault(key.value, []).append(value)
    return found


def _number(node: yamledit.Node) -> int | None:
    """The whole number a plain scalar means to kind's YAML 1.1 reader."""
    plain = node.id == "scalar" and not node.style
    return yaml11_int(str(node.value)) if plain else None


class Entry(NamedTuple):
    """One ``extraPortMappings`` item as parsed (ports None when missing or not a number)."""

    position: int  # its index in the list
    line: int  # 1-based line of the dash
    host_port: int | None
    container_port: int | None
    comment: str | None
    host_line: int = 0  # 1-based lines of the two values (0 when missing)
    container_line: int = 0
    address: str = ""  # listenAddress ("" = kind's default, every address)


class KindTarget:
    """The control-plane node's ``extraPortMappings`` in kind-config.yaml."""

    name = "kind"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.kind = settings.kind
        self.comment_regex = comment_pattern(self.kind.comment)

    # ------------------------------------------------------------ editing

    def update(
        self, ws: Workspace, wanted: Assignment, *, scaffold: bool = False, ports_only: bool = False
    ) -> list[str]:
        path = ws.resolve(self.kind.config)
        text = ws.read(path)
        if text is None:
            return [f"⚠️  kind config not found: {ws.display(path)} (no port mapping added)"]
        source = ws.display(path)
        if self._skipped(wanted.port):
            new = self._without(text, source, wanted.service, wanted.port)
        else:
            new = self._with(text, source, wanted)
        if new != text:
            ws.write(path, new)
        return []

    def remove(self, ws: Workspace, service: str, port: int | None = None) -> list[str]:
        """Delete the service's entry and its comment line (found by values only given ``port``)."""
        path = ws.resolve(self.kind.config)
        text = ws.read(path)
        if text is None:
            return []
        new = self._without(text, ws.display(path), service, port)
        if new != text:
            ws.write(path, new)
        return []

    def _with(self, text: str, source: str, wanted: Assignment) -> str:
        doc = yamledit.parse(text, source)
        node = self._node_index(doc)
        if node is None:  # no `nodes:`; kind's default is one control-plane node
            text = yamledit.append_item(text, NODES, [("role", self.kind.node_role)], source=source)
            doc = yamledit.parse(text, source)
            node = self._node_index(doc)
            assert node is not None
        base = (*NODES, node, MAPPINGS)
        entries = _entries(doc, base)
        ours = self._ours(entries, wanted.service, wanted.port)
        self._refuse_second(entries, wanted.service, source)
        self._refuse_clash(_every_entry(doc), ours, wanted, source)
        if ours is None and not self.settings.derives_node_ports:
            return text  # no NodePort to reach: a new mapping is the repo's own to write
        if ours is None:
            item: list[tuple[str, yamledit.Scalar]] = [
                ("containerPort", wanted.node_port),
                ("hostPort", wanted.port),
                ("protocol", "TCP"),
            ]
            comment = render(self.kind.comment, wanted.values()).strip()
            return yamledit.append_item(text, base, item, source=source, comment=comment)
        changes: dict[yamledit.Path, yamledit.Scalar] = {
            (*base, ours.position, "hostPort"): wanted.port
        }
        if self.settings.derives_node_ports:
            changes[(*base, ours.position, "containerPort")] = wanted.node_port
        return yamledit.set_values(text, changes, source)

    def _without(self, text: str, source: str, service: str, port: int | None) -> str:
        """Remove every mapping of the service, from whichever node holds it (a worker's
        too; a stale copy of the entry as well)."""
        while True:
            doc = yamledit.parse(text, source)
            for item in doc.items(NODES):
                base = (*NODES, item.index, MAPPINGS)
                ours = self._ours(_entries(doc, base), service, port)
                if ours is not None:
                    text = yamledit.remove_item(
                        text, base, ours.position, source=source, comment=ours.comment
                    )
                    break
            else:
                return text

    # ---------------------------------------------------------- recognising

    def _ours(self, entries: list[Entry], service: str, port: int | None) -> Entry | None:
        for entry in entries:
            if self._service_of(entry.comment) == service:
                return entry
        if port is None:
            return None
        node_port = self.settings.node_port(port)
        for entry in entries:
            exact = entry.host_port == port and entry.container_port == node_port
            if exact and self._service_of(entry.comment) in (None, service):
                return entry
        return None

    def _refuse_second(self, entries: list[Entry], service: str, source: str) -> None:
        """Two mappings for one service (a stale copy): which one to keep is the user's call,
        and moving both would bind one host port twice."""
        lines = [entry.line for entry in entries if self._service_of(entry.comment) == service]
        if len(lines) > 1:
            raise FileEditError(
                f"{service} has {len(lines)} mappings (lines {', '.join(map(str, lines))})",
                where=f"{source}:{lines[1]}",
                hint="remove the stale one by hand, then run again",
            )

    def _refuse_clash(
        self, entries: list[Entry], ours: Entry | None, wanted: Assignment, source: str
    ) -> None:
        """Every node of a cluster binds its hostPorts on this one machine: a mapping of the
        port on any node, on an overlapping listenAddress, makes ``kind create cluster`` fail."""
        address = ours.address if ours is not None else ""
        for entry in entries:
            if entry == ours or entry.host_port != wanted.port:
                continue
            if not _overlap(entry.address, address):
                continue
            owner = self._service_of(entry.comment)
            holder = f"the mapping for '{owner}'" if owner else "another mapping"
            raise FileEditError(
                f"hostPort {wanted.port} is already bound by {holder} "
                f"(containerPort {entry.container_port}); cannot map it for '{wanted.service}'",
                where=f"{source}:{entry.line}",
                hint="remove or change that mapping, or give the service another port",
            )

    def _service_of(self, comment: str | None) -> str | None:
        """The service a comment line names, read back through the comment template."""
        return service_in_comment(self.comment_regex, comment)

    def _skipped(self, port: int) -> bool:
        return self.kind.skipping(port) is not None

    def _node_index(self, doc: yamledit.Document) -> int | None:
        """Index of the node whose role is ``[kind] node-role``; None when there is no ``nodes``."""
        nodes = doc.find(NODES)
        if nodes is None:
            return None
        index = role_index(doc, self.kind.node_role)
        if index is not None:
            return index
        raise FileEditError(
            f"no node with role {self.kind.node_role!r} under nodes",
            where=doc.where(nodes.start_mark.line),
            hint="add one, or set [kind] node-role in the portreg config",
        )

    # ------------------------------------------------------------- reading

    def files(self, ws: Workspace) -> list[str]:
        """The kind config, once, when it exists (``check`` reads it as a FileScanner)."""
        path: Path = ws.root / self.kind.config
        return [ws.display(path)] if os.path.lexists(path) else []

    def read(self, ws: Workspace, display: str) -> str:
        return ws.read(ws.resolve(display)) or ""

    def scan(self, ws: Workspace) -> list[Observation]:
        return scan_each(self, ws)

    @collector_paused()
    def scan_file(self, source: str, text: str) -> list[Observation]:
        doc = yamledit.parse(text, source)
        if doc.find(NODES) is None:
            return []
        found = []
        for node in doc.items(NODES):
            for entry in _entries(doc, (*NODES, node.index, MAPPINGS)):
                found.extend(self._observe(entry, source))
        return found

    def _observe(self, entry: Entry, source: str) -> list[Observation]:
        """The hostPort binds this machine and leads to the node's containerPort, which
        reaches a NodePort (equal ones are the link working, not a clash)."""
        service = self._service_of(entry.comment)
        found = []
        if entry.host_port is not None:
            found.append(
                Observation(
                    "kind",
                    source,
                    entry.host_line,
                    entry.host_port,
                    "hostPort",
                    "port",
                    service,
                    HOST,
                    SHARED,
                    entry.address,
                    entry.container_port,
                )
            )
        if entry.container_port is not None:
            found.append(
                Observation(
                    "kind",
                    source,
                    entry.container_line,
                    entry.container_port,
                    "containerPort",
                    "node_port",
                    service,
                    NODE,
                    link=True,
                )
            )
        return found


def _every_entry(doc: yamledit.Document) -> list[Entry]:
    """The mappings of every node, in file order."""
    nodes = doc.items(NODES)
    return [entry for node in nodes for entry in _entries(doc, (*NODES, node.index, MAPPINGS))]


def _overlap(one: str, other: str) -> bool:
    """Whether two listenAddresses share a socket ("" binds every address)."""
    return not one or not other or one == other


def _entries(doc: yamledit.Document, base: yamledit.Path) -> list[Entry]:
    entries = []
    for item in doc.items(base):
        fields = _fields(item.node)
        host, host_line = _port(doc, item.node, fields, "hostPort")
        container, container_line = _port(doc, item.node, fields, "containerPort")
        entries.append(
            Entry(
                item.index,
                item.dash_line + 1,
                host,
                container,
                item.comment,
                host_line,
                container_line,
                _address(fields),
            )
        )
    return entries


def _address(fields: dict[str, list[yamledit.Node]]) -> str:
    """An item's ``listenAddress`` ("" when it binds every address: kind's 0.0.0.0)."""
    for value in fields.get("listenAddress", ()):
        if value.id == "scalar":
            return "" if value.value in ("", "0.0.0.0", "::") else str(value.value)
    return ""


def _port(
    doc: yamledit.Document,
    item: yamledit.Node,
    fields: dict[str, list[yamledit.Node]],
    key: str,
) -> tuple[int | None, int]:
    """An item's port field and its 1-based line ((None, 0) when missing or not a number).

    Read as kind reads it (go-yaml v2, YAML 1.1: ``017501`` is 8001, ``0x1F41``
    too). A quoted ``"8001"`` is a string, which kind refuses for a port: no
    port. A port key written twice is refused: kind reads its config strictly
    and refuses the file, so neither value is the port.
    """
    values = fields.get(key, [])
    numbers = [_number(value) for value in values]
    if len(values) > 1 and any(number is not None for number in numbers):
        keys = [k for k, v in item.value if any(v is value for value in values)]
        lines = " and ".join(str(doc.line_of(k)) for k in keys)
        raise FileEditError(
            f"duplicate key {key} in one extraPortMappings entry (lines {lines}); "
            "kind refuses a config with a key twice",
            where=doc.where(keys[-1].start_mark.line),
            hint="remove the duplicate key",
        )
    if not values or numbers[-1] is None:
        return None, 0
    return numbers[-1], doc.line_of(values[-1])


def cluster_name(text: str, source: str) -> str | None:
    """The config's ``name:`` (the cluster's name when no --name nor KIND_CLUSTER_NAME)."""
    node, _line = yamledit.parse(text, source).walk(("name",))
    value = node.value if node is not None and node.id == "scalar" else None
    return value if isinstance(value, str) and value else None


def for_instance(text: str, source: str, offset: int, host: str, cluster: str) -> str:
    """The config an instance runs: every mapping's hostPort moved by ``offset`` (or bound
    on ``host``: its ``listenAddress``), a fixed ``networking.apiServerPort`` left to kind
    (0: a free port; the committed cluster holds the fixed one), and the cluster named
    ``cluster``; the rest of the text byte for byte as written."""
    doc = yamledit.parse(text, source)
    changes: dict[yamledit.Path, yamledit.Scalar] = {("name",): cluster}
    api = doc.find(("networking", "apiServerPort"))
    fixed = api is not None and api.id == "scalar" and api.value not in ("0", "")
    if (offset or host) and fixed:
        changes[("networking", "apiServerPort")] = 0
    for node in doc.items(NODES):
        path = (*NODES, node.index, MAPPINGS)
        for entry in _entries(doc, path):
            if host:
                changes[(*path, entry.position, "listenAddress")] = host
            elif entry.host_port is not None and offset:
                changes[(*path, entry.position, "hostPort")] = entry.host_port + offset
    return yamledit.set_values(text, changes, source)
