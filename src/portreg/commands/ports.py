"""``portreg ports``: every binding portreg read, by namespace, and the ports it could not.

It reads the repo as ``check`` does (``commands.engine.read``) and writes nothing.
The registry's assignments are host bindings of the run group ``*`` (they are meant
to be free wherever the repo runs), so a file's binding of the same port sits next to
the entry it should agree with.

Building the parser imports this module for every command: only the standard library
is imported here, the reading and the model when the command runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from portreg.io.workspace import Workspace

if TYPE_CHECKING:
    from portreg.api import Registry
    from portreg.check.facts import Facts
    from portreg.targets.base import Observation

import sys

from portreg.commands import (
    add_output,
    command,
    open_registry,
)
from portreg.errors import EXIT_OK, Problem

if TYPE_CHECKING:
    import argparse

    from portreg.api import Registry
    from portreg.commands import Subparsers


HELP = "list every port binding portreg reads, by namespace"
OUTPUTS = ("text", "json")
UNREADABLE = "PR017"  # what ``check`` reports a file portreg cannot read as
HEADINGS = {  # the namespaces of targets.base, in order, and what each is
    "host": "this machine",
    "node": "the cluster's nodes",
    "service": "each Service's own address",
    "container": "each pod's or container's own address",
    "named": "ports files name without binding them: URLs, port tables",
}
COLUMNS = ("ADDRESS", "PORT", "OWNER", "NAME", "WHERE", "GROUP", "LEADS TO")


class Link(NamedTuple):
    """The far side of a mapping: host 8001 -> node 31001."""

    namespace: str
    port: int

    def __str__(self) -> str:
        return f"{self.namespace} {self.port}"


class Binding(NamedTuple):
    """A port bound in a namespace, where it is written, whose it is and where it leads."""

    namespace: str
    address: str  # "" = every address
    port: int
    owner: str | None
    name: str | None  # the file's name for the port (``hostPort``, ``port_forwards``)
    path: str
    line: int
    group: str  # the run group (``targets.base.run_together``)
    source: str  # the target that read it, or "registry"
    role: str
    leads_to: Link | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def leads(self) -> str:
        """``node 31001``, or "" when it leads nowhere portreg knows."""
        return "" if self.leads_to is None else str(self.leads_to)

    def as_json(self) -> dict[str, object]:
        document: dict[str, object] = self._asdict()
        document["leads_to"] = self.leads_to._asdict() if self.leads_to else None
        return document


class Ports(NamedTuple):
    """What ``ports`` shows: the bindings (sorted), the computed ports, the unread files."""

    bindings: tuple[Binding, ...]
    unread: tuple[Observation, ...]
    unreadable: tuple[Problem, ...]

    def namespace(self, name: str) -> list[Binding]:
        return [binding for binding in self.bindings if binding.namespace == name]


# -------------------------------------------------------------------- run


def run(registry: Registry) -> Ports:
    """Read the repo as ``check`` does; nothing is written."""
    from portreg.commands.engine import read

    return from_facts(read(registry, Workspace(registry.settings.root)))


def from_facts(facts: Facts) -> Ports:
    """The view of what ``facts`` holds (pure)."""
    return Ports(
        tuple(sorted(bindings(facts), key=_order)),
        tuple(sorted(facts.unread, key=lambda obs: (obs.path, obs.line, obs.field))),
        tuple(unreadable(facts)),
    )


def bindings(facts: Facts) -> list[Binding]:
    """The registry's assignments as host bindings of group ``*``, then every file's."""
    from portreg.check.facts import REGISTRY
    from portreg.targets.base import EVERYWHERE, HOST

    found = []
    for service, port in facts.state.assignments.items():
        where = facts.registry_path, facts.registry_line(service)
        found.append(Binding(HOST, "", port, service, None, *where, EVERYWHERE, REGISTRY, "port"))
    far = _far_sides(facts)
    return found + [_binding(obs, far) for obs in facts.observations]


def _binding(obs: Observation, far: dict[tuple[str, int], str]) -> Binding:
    link = None
    if obs.leads_to is not None:
        link = Link(far.get((obs.path, obs.leads_to), "container"), obs.leads_to)
    return Binding(
        namespace=obs.namespace,
        address=obs.address,
        port=obs.port,
        owner=obs.service,
        name=obs.field or None,
        path=obs.path,
        line=obs.line,
        group=obs.group,
        source=obs.target,
        role=obs.role,
        leads_to=link,
    )


def _far_sides(facts: Facts) -> dict[tuple[str, int], str]:
    """(file, port) -> the namespace that file binds the port in, other than the host's.

    The far side of a mapping is named by the file's own binding of it (kind's
    containerPort is a node binding); a port the file binds nowhere else (compose's
    container side) is the container's.
    """
    sides: dict[tuple[str, int], str] = {}
    for obs in facts.observations:
        if obs.namespace != "host":
            sides.setdefault((obs.path, obs.port), obs.namespace)
    return sides


RANK = {name: rank for rank, name in enumerate(HEADINGS)}


def _order(binding: Binding) -> tuple[int, str, int, str, int, str]:
    """Namespace (host, node, service, container, then any other), port, file, line."""
    rank = RANK.get(binding.namespace, len(RANK))
    return rank, binding.namespace, binding.port, binding.path, binding.line, binding.source


def unreadable(facts: Facts) -> list[Problem]:
    """Each file ``check`` reports as PR017, with the message it gives."""
    from portreg.check.rules import RULES
    from portreg.check.rules import run as run_rules

    rule = tuple(rule for rule in RULES if rule.code == UNREADABLE)
    return [Problem(f.path, f.line, f.message) for f in run_rules(facts, rule)]


# ----------------------------------------------------------------- render


def render(found: Ports, output: str = "text") -> str:
    """``text``: a table per namespace; ``json``: one document with stable keys."""
    return as_json(found) if output == "json" else as_text(found)


def as_json(found: Ports) -> str:
    document = {
        "bindings": [binding.as_json() for binding in found.bindings],
        "unread": [
            {
                "path": obs.path,
                "line": obs.line,
                "expression": obs.field,
                "owner": obs.service,
                "source": obs.target,
            }
            for obs in found.unread
        ],
        "unreadable": [
            {"path": problem.path, "line": problem.line, "message": problem.message}
            for problem in found.unreadable
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def as_text(found: Ports) -> str:
    """A heading and an aligned table per namespace that holds a binding, then the
    ports the files compute and the files portreg could not read."""
    from portreg.check.format import unread_line

    blocks = []
    for name in dict.fromkeys(binding.namespace for binding in found.bindings):
        rows = found.namespace(name)
        what = f" ({HEADINGS[name]})" if name in HEADINGS else ""
        heading = f"{name}{what}: {_count(len(rows), 'binding')}"
        blocks.append([heading, *_table([_row(binding) for binding in rows])])
    if not found.bindings:
        blocks.append(["No bindings: portreg found no port in the registry or the files."])
    if found.unread:
        heading = f"unread: {_count(len(found.unread), 'port')} a file computes"
        blocks.append([heading, *(f"  {unread_line(obs)}" for obs in found.unread)])
    if found.unreadable:
        heading = f"unreadable: {_count(len(found.unreadable), 'file')}"
        blocks.append([heading, *(f"  {p.path}:{p.line}: {p.message}" for p in found.unreadable)])
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _row(binding: Binding) -> tuple[str, ...]:
    """The text cells: every address is ``*`` (as netstat writes it), the cluster's
    files' group is ``cluster``, a missing value ``-``."""
    address = binding.address or ("*" if binding.namespace == "host" else "-")
    group = binding.group or "cluster"
    leads = f"-> {binding.leads}" if binding.leads_to else ""
    owner, name = binding.owner or "-", binding.name or "-"
    return address, str(binding.port), owner, name, binding.where, group, leads


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Rows under the column names, each column as wide as its widest cell; the port
    column right-aligned, no trailing spaces."""
    everything = [COLUMNS, *rows]
    widths = [max(len(row[i]) for row in everything) for i in range(len(COLUMNS))]
    lines = []
    for row in everything:
        cells = [
            cell.rjust(width) if column == 1 else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  " + "  ".join(cells).rstrip())
    return lines


# ------------------------------------------------------------- the command


def main(args: argparse.Namespace) -> int:
    sys.stdout.write(render(run(open_registry(args)), args.output))
    return EXIT_OK


def add(sub: Subparsers) -> None:
    parser = command(sub, "ports", HELP, example="portreg ports -o json")
    add_output(parser, OUTPUTS)
    parser.set_defaults(handler=main)
