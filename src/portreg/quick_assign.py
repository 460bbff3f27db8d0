"""The fast road for a plain ``assign SERVICE [--json]`` (no config edits).

Like ``quick`` for ``query``/``list``, this runs without argparse, dataclasses,
typing or pathlib, and only when everything is ordinary: the file store, a
config table already validated (``settings_cache``), a well-formed registry,
no journal of an interrupted run, and every file a target scans unchanged
since the full CLI last cached its ports (``portcache``). It shares with the
full road the pieces that decide the outcome: the lock, the port search, the
registry's text and the atomic write. Anything else returns None and the full
CLI does the work, with its own messages.
"""

from __future__ import annotations

import json
import os
import sys

from portreg import discovery, output, portcache, registry_json
from portreg.atomic import replace_file
from portreg.lock import FileLock, checkout_lock_path, journal_path

Table = dict[str, object]
SCANNERS = {
    "tilt": discovery.TILT_FILES,
    "compose": discovery.COMPOSE_FILES,
    "manifests": discovery.MANIFEST_FILES,
}


def _int(table: Table, key: str, default: int) -> int:
    """A value the full load already validated (so an int), or the default."""
    value = table.get(key, default)
    return value if isinstance(value, int) else default


def config_section(table: Table, name: str) -> Table:
    """One ``[name]`` table of a validated config table ({} when absent)."""
    section = table.get(name, {})
    return section if isinstance(section, dict) else {}


def _files(root: str, patterns: object) -> list[str]:
    """Absolute paths of what ``patterns`` match, each once, sorted (folders included: the
    port cache, which ``stat``s each anyway, finds no ports in them)."""
    listed = patterns if isinstance(patterns, list | tuple) else [patterns]
    names = {
        name
        for pattern in listed
        for name in discovery.glob_files(root, str(pattern), check_files=False)
    }
    prefix = os.path.join(root, "")  # one join, not one per file: there may be hundreds
    return [prefix + name for name in sorted(names)]


def _kind_ports(root: str, table: Table) -> set[int] | None:
    kind = config_section(table, "kind")
    if kind.get("enabled", True) is False:
        return set()
    path = os.path.join(root, str(kind.get("config", discovery.KIND_CONFIG)))
    if os.path.islink(path):
        return None  # the full road decides whether the link may be followed
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return portcache.port_like_numbers(handle.read())
    except FileNotFoundError:
        return set()
    except (OSError, UnicodeDecodeError):
        return None


def _helm_ports(root: str, table: Table) -> set[int]:
    helm = config_section(table, "helm")
    if helm.get("enabled", True) is False:
        return set()
    pattern = str(helm.get("values", discovery.HELM_VALUES)).replace("{service}", "*")
    paths = _files(root, [pattern])
    return portcache.ports_in_files(root, "helm", paths, portcache.regex_ports)


def _cached_target_ports(root: str, table: Table) -> set[int] | None:
    """Scanners and user targets, from the port cache only (they need parsers to read)."""
    ports: set[int] = set()
    for name, default in SCANNERS.items():
        section = config_section(table, name)
        if section.get("enabled", True) is not False:
            found = portcache.cached_ports(root, name, _files(root, section.get("files", default)))
            if found is None:
                return None
            ports |= found
    targets = table.get("targets", [])
    for target in targets if isinstance(targets, list) else []:
        paths = _files(root, [str(target["files"]).replace("{service}", "*")])
        found = portcache.cached_ports(root, f"target:{target['name']}", paths)
        if found is None or (not paths and target.get("required")):
            return None
        ports |= found
    return ports


def used_ports(root: str, table: Table) -> set[int] | None:
    """What the full road's targets would report as used, or None if it must look itself."""
    kind = _kind_ports(root, table)
    others = _cached_target_ports(root, table)
    if kind is None or others is None:
        return None
    return kind | others | _helm_ports(root, table)


def _ints(value: object, default: tuple[int, ...]) -> set[int]:
    return set(value) if isinstance(value, list) else set(default)


def _allocate(document: dict[str, object], table: Table, used: set[int]) -> int | None:
    assignments = document["assignments"]
    assert isinstance(assignments, dict)
    reserved = _ints(table.get("reserved"), discovery.RESERVED)
    reserved |= _ints(document.get("reserved_ports"), ())
    taken = set(assignments.values()) | reserved | used | {0}
    first = _int(table, "first-port", discovery.FIRST_PORT)
    last = _int(table, "last-port", discovery.LAST_PORT)
    hint = document.get("next_port")
    return registry_json.lowest_free(first, last, taken, hint if isinstance(hint, int) else None)


def _report(row: output.Row, new: bool, location: str, as_json: bool) -> None:
    if as_json:
        changed = [location] if new else []
        print(json.dumps({**output.row_json(row), "new": new, "changed_files": changed}))
    elif new:
        print(f"✅ Assigned port {row[1]} to service '{row[0]}'\n   Updated {location}")
    else:
        print(f"ℹ️  Service '{row[0]}' already has port {row[1]}")


def _node_port(table: Table, port: int) -> int:
    base = _int(table, "node-port-base", discovery.NODE_PORT_BASE)
    return base + port - _int(table, "node-port-offset", discovery.NODE_PORT_OFFSET)


class Decision:
    """What a plain ``assign`` comes to: the row to report, and the new registry text
    (None when the service already had its port)."""

    __slots__ = ("row", "text")

    def __init__(self, row: output.Row, text: str | None) -> None:
        self.row = row
        self.text = text


def decide(root: str, table: Table, document: dict[str, object], service: str) -> Decision | None:
    """The outcome from a well-formed registry document, or None for the full road."""
    assignments = document["assignments"]
    assert isinstance(assignments, dict)
    if len(set(assignments.values())) != len(assignments):
        return None  # the full road refuses, naming both services
    if service in assignments:
        return Decision(
            (service, assignments[service], _node_port(table, assignments[service])), None
        )
    used = used_ports(root, table)
    port = None if used is None else _allocate(document, table, used)
    if port is None:
        return None  # a full range: the full road says which and how to widen it
    hint = document.get("next_port")
    next_port = max(hint if isinstance(hint, int) else 0, port + 1)
    reserved = document.get("reserved_ports", [])
    new = {**assignments, service: port}
    listed = reserved if isinstance(reserved, list) else []
    stamp = registry_json.timestamp() if registry_json.has_last_updated(document) else None
    text = registry_json.render(document, new, listed, next_port, stamp)
    return Decision((service, port, _node_port(table, port)), text)


def _registry(table: Table) -> str | None:
    """The registry's repo-relative path, or None when it lies outside the repo."""
    registry = os.path.normpath(str(table.get("registry", discovery.DEFAULT_REGISTRY)))
    return None if os.path.isabs(registry) or registry.startswith("..") else registry


def _lock(table: Table, path: str, where: str) -> FileLock:
    timeout = table.get("lock-timeout", discovery.LOCK_TIMEOUT)
    seconds = float(timeout) if isinstance(timeout, int | float) else discovery.LOCK_TIMEOUT
    return FileLock(path, seconds, where)


class Checkout:
    """Where a file-store command works: the registry (repo-relative and absolute), the
    lock every portreg process on the checkout takes, and the journal beside it."""

    __slots__ = ("journal", "lock", "path", "registry")

    def __init__(self, root: str, registry: str) -> None:
        self.registry = registry
        self.path = os.path.join(root, registry)
        self.lock = checkout_lock_path(root, registry)
        self.journal = journal_path(self.lock)


def _checkout(root: str, table: Table) -> Checkout | None:
    """The checkout, when its registry is a plain file and no killed run left a journal."""
    registry = _registry(table)
    if registry is None:
        return None
    checkout = Checkout(root, registry)
    plain = os.path.isfile(checkout.path) and not os.path.islink(checkout.path)
    return checkout if plain and not os.path.exists(checkout.journal) else None


def _file_assign(root: str, table: Table, service: str, as_json: bool) -> int | None:
    from portreg import quick

    checkout = _checkout(root, table)
    if checkout is None:
        return None
    registry, path, journal = checkout.registry, checkout.path, checkout.journal
    with _lock(table, checkout.lock, registry).held():
        document = None if os.path.exists(journal) else quick.document(path)
        decision = decide(root, table, document, service) if document else None
        if decision is None:
            return None  # also: no registry yet (the full road writes a new one)
        if decision.text is not None:
            replace_file(path, decision.text)
        _report(decision.row, decision.text is not None, registry.replace(os.sep, "/"), as_json)
        return 0


def _configs_assign(root: str, table: Table, service: str) -> int | None:
    """``assign SERVICE --update-configs`` for a new service (see ``quick_configs``)."""
    import gc

    from portreg import quick, quick_configs  # imported before the lock, not under it

    # Composing builds thousands of small objects and none of them form cycles; the
    # collector's passes over them cost more than this short-lived process ever frees.
    gc.disable()

    checkout = _checkout(root, table)
    if checkout is None:
        return None
    registry, path, journal = checkout.registry, checkout.path, checkout.journal
    with _lock(table, checkout.lock, registry).held():
        text = None if os.path.exists(journal) else quick.read_registry(path)
        document = quick.parse_document(text) if text else None
        decision = decide(root, table, document, service) if document else None
        if decision is None or decision.text is None or text is None:
            return None  # a service with a port already: the full road brings files in line
        _name, port, node_port = decision.row
        plan = quick_configs.plan_configs(root, table, service, port, node_port)
        if plan is None:
            return None
        display = registry.replace(os.sep, "/")
        edits = [*plan.edits, quick_configs.Edit(path, display, text, decision.text)]
        if not quick_configs.apply(edits, journal):
            return None
        for warning in plan.warnings:
            print(warning, file=sys.stderr)
        print(f"✅ Assigned port {port} to service '{service}'")
        for edit in edits:
            print(f"   Updated {edit.display}")
        return 0


def _etcd_assign(root: str, table: Table, store: str, service: str, as_json: bool) -> int | None:
    from portreg import quick, quick_etcd

    key = quick_etcd.Key.parse(store)
    registry = _registry(table)
    if key is None or registry is None or config_section(table, "etcd").get("username"):
        return None  # TLS, auth and odd URLs: the full road
    lock = checkout_lock_path(root, registry)
    journal = journal_path(lock)
    with _lock(table, lock, lock).held():
        found = None if os.path.exists(journal) else key.read()
        document = quick.parse_document(found[0]) if found else None
        decision = decide(root, table, document, service) if document else None
        if decision is None or found is None:
            return None
        if decision.text is not None and not key.swap(found[1], decision.text):
            return None  # another writer won: the full road re-plans and retries
        _report(decision.row, decision.text is not None, key.location, as_json)
        return 0


def run(
    root: str,
    table: Table,
    service: str,
    as_json: bool,
    store: str | None = None,
    *,
    update_configs: bool = False,
) -> int | None:
    """Assign ``service`` a port, or return None to leave it to the full CLI."""
    if os.environ.get("PORTREG_FAULT"):
        return None
    if update_configs:
        return None if store is not None or as_json else _configs_assign(root, table, service)
    if store is None:
        return _file_assign(root, table, service, as_json)
    if store.startswith("etcd://"):
        return _etcd_assign(root, table, store, service, as_json)
    return None
