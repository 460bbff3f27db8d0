"""One soak worker: a process running mixed portreg commands in a loop (multiprocessing, spawn).

After each command it reads the registry (``list --json``: the registry file
is replaced whole, so any read is one consistent version) and records every
broken invariant. It imports nothing from the test suite, so spawn can load it.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from portreg.cli import main

SERVICES = tuple(f"svc-{i:02d}" for i in range(40))
FIRST, LAST, RESERVED = 8001, 8999, 8080
# (weight, command): writes with their files, then reads.
MIX: tuple[tuple[int, str], ...] = (
    (30, "assign"),
    (8, "assign --force"),
    (12, "release"),
    (10, "update-configs"),
    (20, "query"),
    (20, "list"),
)


@dataclass
class Result:
    worker: int
    seconds: float = 0.0
    codes: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    assigned: list[tuple[str, int]] = field(default_factory=list)


def _run(prefix: list[str], *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*prefix, *args])
    if "Traceback" in err.getvalue():
        raise AssertionError(err.getvalue())
    return code, out.getvalue(), err.getvalue()


def violations(rows: list[dict[str, int | str]]) -> list[str]:
    """Every broken invariant of a ``list --json`` answer."""
    found = []
    ports = [int(row["port"]) for row in rows]
    if len(set(ports)) != len(ports):
        found.append(f"a port held twice: {sorted(ports)}")
    names = [row["service"] for row in rows]
    if len(set(names)) != len(names):
        found.append(f"a service listed twice: {names}")
    for row in rows:
        port = int(row["port"])
        if not FIRST <= port <= LAST or port == RESERVED:
            found.append(f"{row['service']}: port {port} out of range or reserved")
        if row["node_port"] != 31000 + (port - 8000):
            found.append(f"{row['service']}: NodePort {row['node_port']} is not the formula's")
    return found


def _command(rng: random.Random) -> list[str]:
    weights = [weight for weight, _ in MIX]
    name = rng.choices([command for _, command in MIX], weights)[0]
    service = rng.choice(SERVICES)
    return {
        # --scaffold: a released service's values file went with it; assigning it again
        # bootstraps a new one, as the team's script would
        "assign": ["assign", service, "--update-configs", "--scaffold", "--json"],
        "assign --force": [
            "assign",
            service,
            "--force",
            "--update-configs",
            "--scaffold",
            "--json",
        ],
        "release": ["release", service, "--update-configs"],
        "update-configs": ["update-configs", service],
        "query": ["query", service],
        "list": ["list"],
    }[name]


def soak(worker: int, root: str, store: str | None, count: int, seed: int) -> Result:
    """Run ``count`` random commands; exit codes 0 (done) and 1 (not found) are expected."""
    rng = random.Random(seed * 1000 + worker)
    prefix = ["--root", root] + (["--store", store] if store else [])
    result = Result(worker)
    started = time.monotonic()
    for _ in range(count):
        argv = _command(rng)
        code, out, err = _run(prefix, *argv)
        result.codes[f"{argv[0]}:{code}"] += 1
        if code not in (0, 1):
            result.violations.append(f"{' '.join(argv)}: exit {code}: {err.strip()[-300:]}")
        if argv[0] == "assign" and code == 0:
            result.assigned.append((argv[1], json.loads(out)["port"]))
        code, out, _err = _run(prefix, "list", "--json")
        result.violations += violations(json.loads(out)) if code == 0 else [f"list: exit {code}"]
    result.seconds = time.monotonic() - started
    return result
