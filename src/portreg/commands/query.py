"""``portreg query``: a service's port and NodePort."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from portreg.commands import (
    Row,
    add_output,
    open_registry,
    out,
    row,
    row_json,
    service_command,
)
from portreg.errors import EXIT_OK, no_port

if TYPE_CHECKING:
    import argparse

    from portreg.commands import Subparsers


def main(args: argparse.Namespace) -> int:
    registry = open_registry(args)
    found = registry.query(args.service)
    if found is None:
        from portreg.commands.engine import adoption_hint

        # a service the files already hold is adopted where it is, not assigned anew
        raise no_port(args.service, adoption_hint(registry, args.service))
    found_row = row(registry, found)
    out(query_json(found_row) if args.output == "json" else query_text(found_row))
    return EXIT_OK


def add(sub: Subparsers) -> None:
    query = service_command(
        sub, "query", "show a service's port and NodePort", example="portreg query invoice -o json"
    )
    add_output(query, ("text", "json"))
    query.set_defaults(handler=main)


def query_text(found: Row) -> str:
    node = "" if found[2] is None else f"  NodePort {found[2]}"
    return f"Service '{found[0]}': Port {found[1]}{node}"


def query_json(found: Row) -> str:
    return json.dumps(row_json(found))
