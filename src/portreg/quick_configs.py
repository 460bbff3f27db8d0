"""The fast road for ``assign SERVICE --update-configs``: a new service's Helm values
and kind mapping, without argparse, dataclasses, pathlib or PyYAML.

A bootstrap script runs this once per new service, and ``tilt up`` waits on it.
It plans what the full road's Helm and kind targets plan, with the same
yamledit functions (``set_values``, ``append_item``, each edit composed again
and checked), on plain block YAML that ``blockyaml`` composes without
PyYAML, and writes the same way: a journal first, every file staged and
fsynced, the registry replaced last (``plan`` explains why).

It only takes the common case: a service that has no port yet, the file
store, Helm values and kind-config as the only targets that edit, a values
file that exists (or the seed's warning), a mapping to append (not one to
update or refuse), no symlinks, and files it can write. Anything else, or any
doubt, returns None before a byte is written and the full road does the work
with its own messages. Tests run both roads on the same repos and compare
every file and every line of output.
"""

from __future__ import annotations

import contextlib
import os
import re

from portreg import discovery, quick_kind, yamledit
from portreg.atomic import fsync_folder, write_beside
from portreg.errors import PortregError
from portreg.kind_doc import MAPPINGS, NODES, port_node, role_index
from portreg.lock import journal_text
from portreg.quick_assign import Table, config_section
from portreg.templates import (
    comment_pattern,
    placeholders,
    render,
    render_value,
    service_in_comment,
)


class Edit:
    """One file's planned change: where it is, what it shows as, its old and new text."""

    __slots__ = ("after", "before", "display", "path")

    def __init__(self, path: str, display: str, before: str, after: str) -> None:
        self.path = path
        self.display = display
        self.before = before
        self.after = after


class Plan:
    """The edits (kind, values, registry: the full road's order) and the warnings."""

    __slots__ = ("edits", "warnings")

    def __init__(self) -> None:
        self.edits: list[Edit] = []
        self.warnings: list[str] = []


class _Decline(Exception):
    """Leave this command to the full road."""


def _read(root: str, relative: str) -> str | None:
    """A repo file's text (None when missing); anything unusual declines."""
    path = os.path.join(root, relative)
    if os.path.islink(path) or (os.path.exists(path) and not os.path.isfile(path)):
        raise _Decline  # the full road decides whether a link may be followed
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _Decline from exc
    if not os.access(path, os.W_OK):
        raise _Decline  # the full road names the read-only file
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Decline from exc


def _display(relative: str) -> str:
    return os.path.normpath(relative).replace(os.sep, "/")


def _kind(root: str, table: Table, values: dict[str, str]) -> Edit | str | None:
    """The kind-config edit, the warning that it is missing, or None (kind is off)."""
    kind = config_section(table, "kind")
    if kind.get("enabled", True) is False:
        return None
    relative = str(kind.get("config", discovery.KIND_CONFIG))
    display = _display(relative)
    port, node_port = int(values["port"]), int(values["node_port"])
    ranges = kind.get("skip-host-ports")
    listed = ranges if isinstance(ranges, list) else []
    if any(low <= port <= high for low, high in listed):
        raise _Decline  # the full road removes the service's own mapping
    text = _read(root, relative)
    if text is None:
        return f"⚠️  kind config not found: {display} (no port mapping added)"
    template = str(kind.get("comment", discovery.KIND_COMMENT))
    role = str(kind.get("node-role", discovery.KIND_NODE_ROLE))
    pattern = comment_pattern(template)
    mapping: list[tuple[str, yamledit.Scalar]] = [
        ("containerPort", node_port),
        ("hostPort", port),
        ("protocol", "TCP"),
    ]
    comment = render(template, values).strip()
    memo = quick_kind.load(root, relative, text, role)
    done = None
    if memo is not None:
        _refuse_ours(memo.items, pattern, values["service"], port)
        done = quick_kind.append(text, display, memo, mapping, comment)
    if memo is not None and done is not None:
        new, doc, digest = done
        node, items = memo.node, memo.items
    else:
        old = yamledit.parse(text, display)
        found = role_index(old, role) if old.find(NODES) is not None else None
        if found is None:
            raise _Decline  # no nodes (the full road adds one) or none with the role
        node, base = found, (*NODES, found, MAPPINGS)
        items = [(item.comment, _host_port(item.node)) for item in old.items(base)]
        _refuse_ours(items, pattern, values["service"], port)
        new = yamledit.append_item(text, base, mapping, source=display, comment=comment)
        doc, digest = yamledit.parse(new, display), None  # (composed by append_item's proof)
    items = [*items, (yamledit.lists.comment_text(comment).strip(), port)]
    quick_kind.save(root, relative, new, doc, quick_kind.describe(doc, role, node, items, digest))
    return Edit(os.path.join(root, relative), display, text, new)


def _refuse_ours(
    items: list[quick_kind.Item], pattern: re.Pattern[str], service: str, port: int
) -> None:
    """An entry already the service's, or binding its port: the full road updates or refuses."""
    parts = service.split("-")
    for comment, host in items:
        if host == port:
            raise _Decline
        # a comment names the service only if it holds each part of its name
        lowered = comment.lower() if comment else ""
        possible = all(part in lowered for part in parts)
        if possible and service_in_comment(pattern, comment) == service:
            raise _Decline


def _helm(root: str, table: Table, values: dict[str, str]) -> Edit | str | None:
    """The values file's edit, the seed's warning that it is missing, or None."""
    helm = config_section(table, "helm")
    if helm.get("enabled", True) is False:
        return None
    relative = render(str(helm.get("values", discovery.HELM_VALUES)), values)
    display = _display(relative)
    text = _read(root, relative)
    if text is None:
        if helm.get("template") is not None:
            raise _Decline  # created from the configured template: the full road
        return (
            f"⚠️  Helm values file not found: {display}\n"
            f"   Create it with: bootstrap_microservice.py {values['service']}"
        )
    pairs = helm.get("set")
    templates = pairs.items() if isinstance(pairs, dict) else discovery.HELM_SET
    changes: dict[yamledit.Path, yamledit.Scalar] = {
        tuple(str(key).split(".")): render_value(str(template), values)
        for key, template in templates
    }
    new = yamledit.set_values(text, changes, display)
    return Edit(os.path.join(root, relative), display, text, new) if new != text else None


def plan_configs(root: str, table: Table, service: str, port: int, node_port: int) -> Plan | None:
    """The config edits for a newly assigned ``service``, or None for the full road.

    Edits come in the full road's order (kind-config, then the values file, as
    its targets first read them); warnings in its target order (Helm, kind).
    """
    if table.get("targets"):
        return None  # user targets: the full road
    values = placeholders(service, port, node_port)
    try:
        kind = _kind(root, table, values)
        helm = _helm(root, table, values)
    except (_Decline, PortregError):
        return None  # an edit the full road must refuse or make itself, with its message
    plan = Plan()
    plan.edits = [found for found in (kind, helm) if isinstance(found, Edit)]
    plan.warnings = [found for found in (helm, kind) if isinstance(found, str)]
    paths = [os.path.realpath(edit.path) for edit in plan.edits]
    return plan if len(set(paths)) == len(paths) else None


def apply(edits: list[Edit], journal: str) -> bool:
    """Write every edit or none (journal first, registry last); False when nothing was
    changed and the full road should try (and report why it cannot)."""
    folder = os.path.dirname(journal)
    document = journal_text(
        (os.path.relpath(edit.path, folder), edit.display, edit.before, edit.after)
        for edit in edits
    )
    staged: list[str] = []
    done: list[Edit] = []
    try:
        os.replace(write_beside(journal, document), journal)
        fsync_folder(folder)
        for edit in edits:
            staged.append(write_beside(edit.path, edit.after))
        for edit, temp in zip(edits, staged, strict=True):
            os.replace(temp, edit.path)
            done.append(edit)
    except OSError:
        for temp in staged[len(done) :]:
            _remove(temp)
        if _put_back(done):
            _drop(journal)
        return False  # (a journal left behind is finished by the full road's first step)
    for folder in {os.path.dirname(edit.path) for edit in edits}:
        fsync_folder(folder)
    _drop(journal)
    return True


def _put_back(done: list[Edit]) -> bool:
    try:
        for edit in reversed(done):
            os.replace(write_beside(edit.path, edit.before), edit.path)
    except OSError:
        return False
    return True


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _drop(journal: str) -> None:
    _remove(journal)
    fsync_folder(os.path.dirname(journal))


def _host_port(entry: yamledit.Node) -> int | None:
    node = port_node(entry, "hostPort")
    return None if node is None else int(node.value)
