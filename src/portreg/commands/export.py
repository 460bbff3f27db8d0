"""Rendering the assignments for people and other tools (pure: values in, text out).

Rows are in the one order of every listing (``model.by_port``: by port, then
service), as ``list`` prints them. ``html`` lives in
``export_html`` because it also needs the range, the reservations and findings.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from portreg.commands import ports
from portreg.edit.markdown import port_table
from portreg.io.files import RealPaths, read_text, require_user_output
from portreg.io.workspace import FileEdit, Workspace
from portreg.model import by_port

if TYPE_CHECKING:
    from portreg.model import Assignment

import sys

from portreg.commands import (
    add_output,
    command,
    err,
    git_dir_of,
    open_registry,
    own_files,
)
from portreg.errors import EXIT_OK

if TYPE_CHECKING:
    import argparse

    from portreg.api import Registry
    from portreg.commands import Subparsers
    from portreg.commands.engine import Report
    from portreg.commands.ports import Binding
    from portreg.model import Assignment


FORMATS = ("markdown", "json", "csv", "env", "html")


def env_name(service: str) -> str:
    """``general-ledger`` -> ``GENERAL_LEDGER`` (a service is a DNS label, so this is safe)."""
    return service.upper().replace("-", "_")


def render_markdown(assignments: Sequence[Assignment], node_ports: bool = True) -> str:
    """The port table (``edit.markdown.port_table``) of these assignments, by port."""
    rows = [(a.service, a.port, a.node_port) for a in by_port(assignments)]
    return port_table(rows, node_ports)


def render_json(assignments: Sequence[Assignment], node_ports: bool = True) -> str:
    rows = [
        {**a.as_json(), **({} if node_ports else {"node_port": None})} for a in by_port(assignments)
    ]
    return json.dumps(rows, indent=2) + "\n"


def render_csv(assignments: Sequence[Assignment], node_ports: bool = True) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["service", "port", "node_port"])
    writer.writerows(
        [a.service, a.port, a.node_port if node_ports else ""] for a in by_port(assignments)
    )
    return buffer.getvalue()


def render_env(assignments: Sequence[Assignment], node_ports: bool = True) -> str:
    """``INVOICE_PORT=8002`` and ``INVOICE_NODE_PORT=31002`` (where the repo derives
    NodePorts): sourceable by sh and dotenv."""
    lines = []
    for item in by_port(assignments):
        name = env_name(item.service)
        lines.append(f"{name}_PORT={item.port}")
        if node_ports:
            lines.append(f"{name}_NODE_PORT={item.node_port}")
    return "".join(line + "\n" for line in lines)


RENDERERS: dict[str, Callable[[Sequence[Assignment], bool], str]] = {
    "markdown": render_markdown,
    "json": render_json,
    "csv": render_csv,
    "env": render_env,
}


# ------------------------------------------------------------- the command


def _check_for_html(registry: Registry) -> tuple[Report, dict[int, list[str]], list[Binding]]:
    """What ``check`` reports (its ignores applied), every port two holders claim
    (registry or files), and the host bindings ``portreg ports`` lists: one reading."""
    from portreg.commands.engine import judge, read

    ws = Workspace(registry.settings.root)
    facts = read(registry, ws)
    conflicts = {}
    for port, claims in facts.holders.items():
        names = list(dict.fromkeys(claim.holder for claim in claims))
        if len(names) > 1:
            conflicts[port] = names
    return judge(facts, ws), conflicts, ports.from_facts(facts).namespace("host")


def main(args: argparse.Namespace) -> int:
    """Assignments as markdown, json, csv, env or an HTML port map; stdout or ``--out FILE``."""
    registry = open_registry(args)
    if args.output == "html":
        from portreg.commands.export_html import render_html

        found, conflicts, host = _check_for_html(registry)
        text = render_html(
            registry.settings,
            registry.state(),
            found.findings,
            conflicts=conflicts,
            host=host,
            ignored=len(found.ignored),
        )
    else:
        text = RENDERERS[args.output](registry.assignments(), registry.settings.derives_node_ports)
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK

    path = Path(args.out)
    require_user_output(args.out, own_files(registry), git_dir_of(registry))
    in_repo = RealPaths(str(registry.settings.root)).inside(str(path.absolute()))
    registry.write_out(lambda _: [FileEdit(path, args.out, read_text(path), text)], in_repo=in_repo)
    err(f"✅ Wrote {args.out}")
    return EXIT_OK


def add(sub: Subparsers) -> None:
    export = command(
        sub,
        "export",
        "export the assignments (markdown, json, csv, ...)",
        example="portreg export -o html --out ports.html",
    )
    add_output(export, FORMATS)
    export.add_argument("--out", metavar="FILE", help="write to FILE, not stdout")
    export.set_defaults(handler=main)
