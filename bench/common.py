"""Shared helpers for the benchmarks: time whole processes, interleaved, report ratios."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
PORTREG = str(VENV_BIN / "portreg")
BASELINE = [sys.executable, "-c", "pass"]


def run_once(argv: Sequence[str], cwd: Path | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(
    cases: dict[str, Callable[[int], Sequence[str]]],
    rounds: int = 30,
    warmup: int = 3,
    before: dict[str, Callable[[], None]] | None = None,
) -> dict[str, float]:
    """Median wall time of each case; rounds interleave the cases so drift hits all alike.

    ``before[name]``, when given, runs (untimed) before each run of that case.
    """
    times: dict[str, list[float]] = {name: [] for name in cases}
    for index in range(warmup + rounds):
        for name, argv in cases.items():
            if before and name in before:
                before[name]()
            elapsed = run_once(argv(index))
            if index >= warmup:
                times[name].append(elapsed)
    return {name: statistics.median(values) for name, values in times.items()}


def table(title: str, medians: dict[str, float], baseline: str, targets: dict[str, float]) -> str:
    base = medians[baseline]
    lines = [title, f"{'case':<44}{'median ms':>10}{'ratio':>8}{'target':>8}  ok"]
    for name, value in medians.items():
        target = targets.get(name)
        ratio = value / base
        verdict = "" if target is None else ("yes" if ratio <= target else "NO")
        shown = "" if target is None else f"{target:.1f}x"
        lines.append(f"{name:<44}{value * 1000:>10.1f}{ratio:>7.2f}x{shown:>8}  {verdict}")
    return "\n".join(lines)


def age(root: Path) -> None:
    """Date every file an hour back, as in a real checkout that nobody just edited."""
    hour_ago = time.time_ns() - 3600 * 10**9
    for path in root.rglob("*"):
        os.utime(path, ns=(hour_ago, hour_ago))


def freshen(root: Path) -> None:
    """Rewrite every file under ``root`` with its own bytes: each was edited just now, as
    right after a branch switch or an editor's save (a cold run: nothing may be trusted
    from its last reading)."""
    for path in root.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            path.write_bytes(path.read_bytes())


def machine() -> str:
    import platform

    system = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
    return f"{system}, Python {platform.python_version()}"
