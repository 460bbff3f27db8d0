"""Text and JSON forms of ``query`` and ``list`` results (pure)."""

from __future__ import annotations

import json

Row = tuple[str, int, int | None]  # service, port, node port (None: the repo derives none)


def row_json(row: Row) -> dict[str, object]:
    return {"service": row[0], "port": row[1], "node_port": row[2]}


def query_text(row: Row) -> str:
    node = "" if row[2] is None else f"  NodePort {row[2]}"
    return f"Service '{row[0]}': Port {row[1]}{node}"


def query_json(row: Row) -> str:
    return json.dumps(row_json(row))


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
    return json.dumps([row_json(row) for row in rows], indent=2)
