"""Real processes against one file registry: no port given twice, no assignment lost."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import tree

PORTREG = [sys.executable, "-m", "portreg"]


def spawn(root: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*PORTREG, "--root", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def test_fifty_processes_get_fifty_distinct_ports(repo: Path) -> None:
    names = [f"svc-{i}" for i in range(50)]
    processes = [spawn(repo, "assign", name, "--json") for name in names]
    results = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * 50, results
    ports = [json.loads(out)["port"] for out, _err in results]
    assert len(set(ports)) == 50
    held = json.loads((repo / "scripts/port-registry.json").read_text())["assignments"]
    assert held == dict(zip(names, ports, strict=True))
    assert sorted(ports) == list(range(8001, 8051))


def test_a_lock_left_by_a_dead_process_does_not_block(repo: Path) -> None:
    lock = repo / ".git/portreg.lock"
    lock.write_text("999999\n")
    started = time.monotonic()
    done = spawn(repo, "assign", "invoice")
    done.communicate(timeout=30)
    assert done.returncode == 0
    assert time.monotonic() - started < 5


def test_a_lock_held_by_a_live_process_times_out_with_a_clear_message(repo: Path) -> None:
    (repo / "portreg.toml").write_text("lock-timeout = 0.5\n")
    (repo / "scripts/port-registry.json").write_text('{"assignments": {}}\n')
    before = tree(repo)
    with (repo / ".git/portreg.lock").open("w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        holder.write(f"{os.getpid()}\n")
        holder.flush()
        waiting = spawn(repo, "assign", "invoice")
        _out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 2
    assert err == (
        f"portreg: error: scripts/port-registry.json: the registry is locked by another portreg "
        f"(pid {os.getpid()}) for more than 0.5 s (wait for it to finish, or raise lock-timeout "
        "in portreg.toml)\n"
    )
    assert tree(repo) == before


def test_a_waiting_process_proceeds_once_the_lock_is_free(repo: Path) -> None:
    with (repo / ".git/portreg.lock").open("w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        waiting = spawn(repo, "assign", "invoice")
        time.sleep(0.3)
        assert waiting.poll() is None
    waiting.communicate(timeout=30)
    assert waiting.returncode == 0


def test_docs_and_export_into_the_repo_wait_for_the_registry_lock(repo: Path) -> None:
    """They write files made from the registry: under its lock, as every writing command
    does (a fix running beside them never sees half a table, nor writes under one)."""
    (repo / "portreg.toml").write_text('lock-timeout = 0.5\ndocs = ["PORTS.md"]\n')
    (repo / "scripts/port-registry.json").write_text('{"assignments": {"api": 8001}}\n')
    (repo / "PORTS.md").write_text("<!-- portreg:begin -->\n<!-- portreg:end -->\n")
    before = tree(repo)
    with (repo / ".git/portreg.lock").open("w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        holder.write(f"{os.getpid()}\n")
        holder.flush()
        runs = [spawn(repo, "docs"), spawn(repo, "export", "--out", str(repo / "ports.md"))]
        results = [run.communicate(timeout=30) for run in runs]
    assert [run.returncode for run in runs] == [2, 2]
    for _out, err in results:
        assert "the registry is locked by another portreg" in err, err
    assert tree(repo) == before
    docs = spawn(repo, "docs")  # the lock is free: the table is written
    assert docs.communicate(timeout=30)[0] == "✅ Updated the port table in PORTS.md\n"
    assert (repo / "PORTS.md").read_text() == (
        "<!-- portreg:begin -->\n| Service | Port |\n| ------- | ---: |\n| api     | 8001 |\n"
        "<!-- portreg:end -->\n"
    )
