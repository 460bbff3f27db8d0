"""Instances (issue 22): `portreg env` against `portreg query`, and allocation under
contention.

    .venv/bin/python bench/bench_instances.py

1. Instructions (valgrind --tool=callgrind, repeatable where wall time is not) of
   `env` and `query service-100` on bench_cli's 500-service repo after `portreg init`,
   the checkout's instance already recorded (as at every shell prompt under direnv):
   target env <= 1.2x query. Wall-time medians of both, interleaved, are shown too.
2. Allocation under contention: a small git repo (kind mappings, Tilt forwards, a
   compose file) with 10 worktrees; 20 `portreg env` processes (two per worktree)
   start at once on an empty ledger; the wall time from the first start to the last
   exit, median of 5 rounds: target <= 2 s. Each round checks that the 10 blocks are
   distinct.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_callgrind import instructions
from bench_cli import build_repo
from common import PORTREG, machine, measure

PYTHON = sys.executable
KIND = """\
kind: Cluster
name: shop
nodes:
- role: control-plane
  extraPortMappings:
  - containerPort: 31002
    hostPort: 8002
  - containerPort: 31003
    hostPort: 8003
"""
TILTFILE = """\
k8s_resource('invoice', port_forwards=port_forward(int(os.getenv('INVOICE_PORT', '8012')), 8080))
k8s_resource('postgres', port_forwards=port_forward(int(os.getenv('POSTGRES_PORT', '5432')), 5432))
"""
COMPOSE = """\
services:
  web:
    image: nginx
    ports:
      - "${WEB_PORT:-8004}:80"
"""


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def shop(root: Path) -> list[Path]:
    """The small repo, committed, and its 10 worktrees."""
    root.mkdir(parents=True)
    (root / "kind-config.yaml").write_text(KIND)
    (root / "Tiltfile").write_text(TILTFILE)
    (root / "docker-compose.yml").write_text(COMPOSE)
    git(root, "init", "-q")
    for words in (("init",), ("reconcile",)):
        subprocess.run([PORTREG, "--root", str(root), *words], check=True, capture_output=True)
    git(root, "add", "-A")
    git(root, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "shop")
    trees = []
    for index in range(10):
        tree = root.parent / f"wt{index}"
        git(root, "worktree", "add", "-q", "--detach", str(tree))
        trees.append(tree)
    return trees


def contention_round(trees: list[Path], state: Path) -> float:
    shutil.rmtree(state, ignore_errors=True)
    env = dict(os.environ, PORTREG_STATE_HOME=str(state))
    started = time.perf_counter()
    asking = [
        subprocess.Popen(
            [PORTREG, "--root", str(tree), "env", "-o", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        for tree in trees
        for _twice in (1, 2)
    ]
    outputs = [process.communicate()[0] for process in asking]
    elapsed = time.perf_counter() - started
    instances = {json.loads(out)["PORTREG_INSTANCE"] for out in outputs}
    assert len(instances) == 10, instances
    return elapsed


def main() -> None:
    src = Path(__file__).resolve().parent.parent / "src"
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(src)], check=True)  # as installed
    with tempfile.TemporaryDirectory() as temp:
        repo = Path(temp, "repo")
        build_repo(repo)
        subprocess.run([PORTREG, "--root", str(repo), "init"], check=True, capture_output=True)
        state = Path(temp, "state")
        os.environ["PORTREG_STATE_HOME"] = str(state)
        subprocess.run([PORTREG, "--root", str(repo), "env"], check=True, capture_output=True)
        query = instructions([PYTHON, "-m", "portreg", "query", "service-100"], repo)
        env = instructions([PYTHON, "-m", "portreg", "env"], repo)
        walls = measure(
            {
                "query service-100": lambda i: [
                    PORTREG,
                    "--root",
                    str(repo),
                    "query",
                    "service-100",
                ],
                "env": lambda i: [PORTREG, "--root", str(repo), "env"],
            },
            rounds=20,
        )
        print(f"bench_instances on {machine()}\n")
        print("| case (500 services, after init, instance recorded) | instructions | wall ms |")
        print("|---|---:|---:|")
        print(
            f"| query service-100 | {query / 1e6:.1f} M | {walls['query service-100'] * 1000:.1f} |"
        )
        print(f"| env | {env / 1e6:.1f} M | {walls['env'] * 1000:.1f} |")
        print(f"| env / query | {env / query:.2f}x (target <= 1.2x) | |\n")

        trees = shop(Path(temp, "shop", "main"))
        rounds = [contention_round(trees, Path(temp, "contention")) for _ in range(5)]
        median = statistics.median(rounds)
        shown = ", ".join(f"{r:.2f}" for r in rounds)
        print(f"20 processes in 10 worktrees at once: median {median:.2f} s ({shown})")
        print(f"target <= 2 s: {'yes' if median <= 2 else 'NO'}")


if __name__ == "__main__":
    main()
