"""``portreg assign``: give a service the lowest free port (or the one asked for)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from portreg.commands import (
    add_dry_run,
    add_output,
    open_registry,
    out,
    port_number,
    print_outcome,
    service_command,
)
from portreg.errors import EXIT_OK
from portreg.io.diff import render_diff

if TYPE_CHECKING:
    import argparse

    from portreg.commands import Subparsers


def main(args: argparse.Namespace) -> int:
    registry = open_registry(args)
    outcome = registry.assign(
        args.service,
        port=args.port,
        force=args.force,
        update_configs=args.update_configs,
        scaffold=args.scaffold,
        dry_run=args.dry_run,
    )
    json_output = args.output == "json"
    print_outcome(outcome, json_output=json_output)
    if json_output and outcome.assignment is not None:
        payload = outcome.assignment.as_json()
        if not registry.settings.derives_node_ports:  # as query and list say: none derived
            payload["node_port"] = None
        payload.update(new=outcome.new, changed_files=outcome.changed_files)
        if outcome.dry_run:
            payload.update(dry_run=True, diff=render_diff(outcome.edits))
        out(json.dumps(payload, ensure_ascii=False))
    return EXIT_OK


def add(sub: Subparsers) -> None:
    assign = service_command(
        sub,
        "assign",
        "assign the next free port to a service",
        example="portreg assign invoice --update-configs",
    )
    assign.add_argument("--port", type=port_number, help="take exactly this port")
    assign.add_argument("--force", action="store_true", help="reassign a service that has a port")
    assign.add_argument("--update-configs", action="store_true", help="also edit config files")
    assign.add_argument("--scaffold", action="store_true", help="create a missing values file")
    add_output(assign, ("text", "json"))
    add_dry_run(assign)
    assign.set_defaults(handler=main)
