"""The fast road for ``query`` and ``list``: no argparse, tomllib, dataclasses or typing.

These two commands run in shell prompts, scripts and completion, so their
start-up is most of their cost. This module answers them with ``os`` and
``json`` alone when everything is ordinary: a plain command line, the file
store, a config already validated (``settings_cache``) and a registry that is
well formed. Anything else returns None and the full CLI handles it, so every
error message comes from one place.
"""

from __future__ import annotations

import json
import os
import re
import sys

from portreg import discovery, output, settings_cache

_LABEL = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
_GLOBAL = ("--root", "--config")
_MAX_BYTES = 8 * 1024 * 1024


def _parse(argv: list[str]) -> tuple[dict[str, str], list[str]] | None:
    """``[--root R] [--config C] (query SERVICE | list) [--json]``, or None."""
    options: dict[str, str] = {}
    index = 0
    while index < len(argv) and argv[index] in _GLOBAL and index + 1 < len(argv):
        options[argv[index]] = argv[index + 1]
        index += 2
    rest = argv[index:]
    if rest[:1] == ["list"] and rest[1:] in ([], ["--json"]):
        return options, rest
    is_query = rest[:1] == ["query"] and len(rest) in (2, 3) and rest[2:] in ([], ["--json"])
    if is_query and _LABEL.fullmatch(rest[1]):
        return options, rest
    return None


def _settings(options: dict[str, str]) -> tuple[str, dict[str, object]] | None:
    if os.environ.get("PORTREG_STORE"):
        return None
    root = options.get("--root") or os.environ.get("PORTREG_ROOT")
    if root and not os.path.isdir(root):
        return None
    root = os.path.realpath(root) if root else discovery.find_root(os.getcwd())
    config = options.get("--config") or os.environ.get("PORTREG_CONFIG")
    config = config or discovery.find_config(root)
    table = {} if config is None else settings_cache.load(config)
    if table is None or table.get("store"):
        return None
    return root, {
        "registry": table.get("registry", discovery.DEFAULT_REGISTRY),
        "node_port_base": table.get("node-port-base", discovery.NODE_PORT_BASE),
        "node_port_offset": table.get("node-port-offset", discovery.NODE_PORT_OFFSET),
    }


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    if len({key for key, _value in pairs}) != len(pairs):
        raise ValueError("duplicate key")
    return dict(pairs)


def _is_port(value: object) -> bool:
    return type(value) is int and 1 <= value <= 65535


def _read(path: str) -> str | None:
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


def _well_formed(data: object) -> dict[str, int] | None:
    if not isinstance(data, dict):
        return None
    assignments = data.get("assignments", {})
    reserved = data.get("reserved_ports", [])
    next_port = data.get("next_port")
    plain = (
        isinstance(assignments, dict)
        and isinstance(reserved, list)
        and all(_is_port(port) and _LABEL.fullmatch(name) for name, port in assignments.items())
        and all(map(_is_port, reserved))
        and (next_port is None or _is_port(next_port))
    )
    return assignments if plain else None


def _assignments(path: str) -> dict[str, int] | None:
    """The registry's assignments if the document is plainly well formed, else None."""
    text = _read(path)
    if text is None:
        return None
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys) if text.strip() else {}
    except ValueError:
        return None
    return _well_formed(data)


def _rows(values: dict[str, object], assignments: dict[str, int]) -> list[output.Row]:
    base, offset = values["node_port_base"], values["node_port_offset"]
    if not isinstance(base, int) or not isinstance(offset, int):
        return []
    return [(s, p, base + p - offset) for s, p in sorted(assignments.items())]


def _answer(command: list[str], rows: list[output.Row]) -> int:
    as_json = command[-1] == "--json"
    if command[0] == "list":
        print(output.list_json(rows) if as_json else output.list_text(rows))
        return 0
    found = [row for row in rows if row[0] == command[1]]
    if not found:
        print(output.not_found_lines(command[1]), file=sys.stderr)
        return 1
    print(output.query_json(found[0]) if as_json else output.query_text(found[0]))
    return 0


def run(argv: list[str]) -> int | None:
    """Answer ``query`` / ``list`` and return the exit code, or None to use the full CLI."""
    parsed = _parse(argv)
    found = _settings(parsed[0]) if parsed else None
    if parsed is None or found is None:
        return None
    root, values = found
    assignments = _assignments(os.path.join(root, str(values["registry"])))
    if assignments is None:
        return None
    return _answer(parsed[1], _rows(values, assignments))
