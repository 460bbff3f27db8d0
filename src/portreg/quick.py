"""The fast road for ``query``, ``list`` and a plain ``assign``: no argparse, tomllib,
dataclasses or typing.

These commands run in shell prompts, scripts, CI jobs and completion, so their
start-up is most of their cost. This module answers them with ``os`` and
``json`` alone when everything is ordinary: a plain command line, the file
store, a config already validated (``settings_cache``) and a registry that is
well formed (``assign``: see ``quick_assign``). Anything else returns None and
the full CLI handles it, so every error message comes from one place.
"""

from __future__ import annotations

import json
import os
import re
import sys

from portreg import discovery, output, settings_cache

_LABEL = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
GLOBAL_OPTIONS = ("--root", "--config", "--store")  # the CLI's options before a command
_MAX_BYTES = 8 * 1024 * 1024


def _parse(argv: list[str]) -> tuple[dict[str, str], list[str]] | None:
    """``[--root R] [--config C] (query SERVICE | assign SERVICE | list) [--json]``,
    ``assign SERVICE --update-configs`` or ``__complete services``; None for anything else."""
    options: dict[str, str] = {}
    index = 0
    while index < len(argv) and argv[index] in GLOBAL_OPTIONS and index + 1 < len(argv):
        options[argv[index]] = argv[index + 1]
        index += 2
    rest = argv[index:]
    is_list = rest[:1] == ["list"] and rest[1:] in ([], ["--json"])
    if is_list or rest == ["__complete", "services"]:
        return options, rest
    is_plain = rest[:1] in (["query"], ["assign"]) and rest[2:] in ([], ["--json"])
    is_plain |= rest[:1] == ["assign"] and rest[2:] == ["--update-configs"]
    if is_plain and len(rest) >= 2 and _LABEL.fullmatch(rest[1]):
        return options, rest
    return None


def _config(options: dict[str, str]) -> tuple[str, dict[str, object]] | None:
    """The repo root and its validated config table (``{}`` without a config file)."""
    root = options.get("--root") or os.environ.get("PORTREG_ROOT")
    if root and not os.path.isdir(root):
        return None
    root = os.path.realpath(root) if root else discovery.find_root(os.getcwd())
    config = options.get("--config") or os.environ.get("PORTREG_CONFIG")
    config = config or discovery.find_config(root)
    table = {} if config is None else settings_cache.load(config)
    return None if table is None else (root, table)


def _store(options: dict[str, str], table: dict[str, object]) -> str | None:
    """The store URL from ``--store``, ``PORTREG_STORE`` or the config (None: the file)."""
    store = options.get("--store") or os.environ.get("PORTREG_STORE") or table.get("store")
    return str(store) if store else None


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    if len({key for key, _value in pairs}) != len(pairs):
        raise ValueError("duplicate key")
    return dict(pairs)


def _is_port(value: object) -> bool:
    return type(value) is int and 1 <= value <= 65535


def read_registry(path: str) -> str | None:
    """The registry text ('' when there is none yet), or None to leave it to the full CLI."""
    try:
        if os.path.getsize(path) > _MAX_BYTES:
            return None
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError):
        return None


def _well_formed(data: object) -> dict[str, object] | None:
    """The document, with ``assignments`` filled in, if it is plainly valid; else None."""
    if not isinstance(data, dict):
        return None
    assignments = data.setdefault("assignments", {})
    reserved = data.get("reserved_ports", [])
    next_port = data.get("next_port")
    plain = (
        isinstance(assignments, dict)
        and isinstance(reserved, list)
        and all(_is_port(port) and _LABEL.fullmatch(name) for name, port in assignments.items())
        and all(map(_is_port, reserved))
        and (next_port is None or _is_port(next_port))
    )
    return data if plain else None


def document(path: str) -> dict[str, object] | None:
    """The registry document if it is plainly well formed (``{}`` when there is none)."""
    text = read_registry(path)
    return None if text is None else parse_document(text)


def parse_document(text: str) -> dict[str, object] | None:
    """A registry text as a document if it is plainly well formed, else None."""
    if len(text) > _MAX_BYTES:
        return None
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys) if text.strip() else {}
    except ValueError:
        return None
    return _well_formed(data)


def _rows(table: dict[str, object], assignments: dict[str, int]) -> list[output.Row]:
    base = table.get("node-port-base", discovery.NODE_PORT_BASE)
    offset = table.get("node-port-offset", discovery.NODE_PORT_OFFSET)
    if not isinstance(base, int) or not isinstance(offset, int):
        return []
    return [(s, p, base + p - offset) for s, p in sorted(assignments.items())]


def _answer(command: list[str], rows: list[output.Row]) -> int:
    as_json = command[-1] == "--json"
    if command[0] == "list":
        print(output.list_json(rows) if as_json else output.list_text(rows))
        return 0
    if command[0] == "__complete":  # shell completion asks on every <Tab>
        print("\n".join(row[0] for row in rows))
        return 0
    found = [row for row in rows if row[0] == command[1]]
    if not found:
        print(output.not_found_lines(command[1]), file=sys.stderr)
        return 1
    print(output.query_json(found[0]) if as_json else output.query_text(found[0]))
    return 0


def run(argv: list[str]) -> int | None:
    """Answer the command and return its exit code, or None to use the full CLI."""
    parsed = _parse(argv)
    found = _config(parsed[0]) if parsed else None
    if parsed is None or found is None:
        return None
    root, table = found
    command = parsed[1]
    store = _store(parsed[0], table)
    if command[0] == "assign":
        from portreg import quick_assign

        options = set(command[2:])
        return quick_assign.run(
            root,
            table,
            command[1],
            "--json" in options,
            store,
            update_configs="--update-configs" in options,
        )
    if store is not None:
        return None
    registry = str(table.get("registry", discovery.DEFAULT_REGISTRY))
    data = document(os.path.join(root, registry))
    if data is None:
        return None
    assignments = data["assignments"]
    assert isinstance(assignments, dict)
    return _answer(command, _rows(table, assignments))
