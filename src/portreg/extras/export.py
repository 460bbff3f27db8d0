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

from portreg.model import by_port

if TYPE_CHECKING:
    from portreg.model import Assignment

FORMATS = ("markdown", "json", "csv", "env", "html")


def env_name(service: str) -> str:
    """``general-ledger`` -> ``GENERAL_LEDGER`` (a service is a DNS label, so this is safe)."""
    return service.upper().replace("-", "_")


def render_markdown(assignments: Sequence[Assignment]) -> str:
    """A GitHub table with aligned columns, so a one-line change is a one-line diff."""
    rows = [("Service", "Port", "NodePort")]
    rows += [(a.service, str(a.port), str(a.node_port)) for a in by_port(assignments)]
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"| {row[0]:<{width[0]}} | {row[1]:>{width[1]}} | {row[2]:>{width[2]}} |" for row in rows
    ]
    rule = f"| {'-' * width[0]} | {'-' * (width[1] - 1)}: | {'-' * (width[2] - 1)}: |"
    return "\n".join([lines[0], rule, *lines[1:]]) + "\n"


def render_json(assignments: Sequence[Assignment]) -> str:
    return json.dumps([a.as_json() for a in by_port(assignments)], indent=2) + "\n"


def render_csv(assignments: Sequence[Assignment]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["service", "port", "node_port"])
    writer.writerows([a.service, a.port, a.node_port] for a in by_port(assignments))
    return buffer.getvalue()


def render_env(assignments: Sequence[Assignment]) -> str:
    """``INVOICE_PORT=8002`` and ``INVOICE_NODE_PORT=31002``: sourceable by sh and dotenv."""
    lines = []
    for item in by_port(assignments):
        name = env_name(item.service)
        lines += [f"{name}_PORT={item.port}", f"{name}_NODE_PORT={item.node_port}"]
    return "".join(line + "\n" for line in lines)


RENDERERS: dict[str, Callable[[Sequence[Assignment]], str]] = {
    "markdown": render_markdown,
    "json": render_json,
    "csv": render_csv,
    "env": render_env,
}
