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
from typing import TYPE_CHECKING

from portreg.edit.markdown import port_table
from portreg.model import by_port

if TYPE_CHECKING:
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
