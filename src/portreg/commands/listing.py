"""``portreg list``: every assignment, by port."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from portreg.commands import (
    Row,
    add_output,
    command,
    open_registry,
    out,
    row,
    row_json,
)
from portreg.errors import EXIT_OK

if TYPE_CHECKING:
    import argparse

    from portreg.commands import Subparsers


def main(args: argparse.Namespace) -> int:
    registry = open_registry(args)
    rows = [row(registry, a) for a in registry.assignments()]
    out(list_json(rows) if args.output == "json" else list_text(rows))
    return EXIT_OK


def add(sub: Subparsers) -> None:
    listing = command(sub, "list", "list every assignment", example="portreg list -o json")
    add_output(listing, ("text", "json"))
    listing.set_defaults(handler=main)


def list_text(rows: list[Row]) -> str:
    """The seed's table, in the order given (by port), with NodePorts by the formula
    where the repo derives them."""
    rule = "-" * 50
    lines = ["Port Assignments:", rule]
    lines += [
        f"  {service:<28}Port: {port}" + ("" if node is None else f"  NodePort: {node}")
        for service, port, node in rows
    ]
    total = len(rows)
    lines += [rule, "", f"Total: {total} service{'' if total == 1 else 's'}"]
    return "\n".join(lines)


def list_json(rows: list[Row]) -> str:
    return json.dumps([row_json(found) for found in rows], indent=2)
