"""No command leaves a file git sees, unless the user asked for that file to change.

Real git, a real checkout of the demo repo: after each command ``git status
--porcelain --ignored`` must list nothing but the files the command was asked to
change (a dry run: nothing at all, the work tree byte for byte as it was). Two
worktrees of one repo each lock in their own git dir, and on a shared etcd store
their assigns still exclude each other.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conftest import CliRunner, tree

if TYPE_CHECKING:
    from etcd_util import EtcdCluster

pytest_plugins = ["etcd_util"]

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "rerp"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def status(root: Path) -> list[str]:
    return git(root, "status", "--porcelain", "--ignored", "--untracked-files=all").splitlines()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "rerp"
    shutil.copytree(EXAMPLE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "demo")
    return root


READ_ONLY = [
    ("query", "invoice"),
    ("list",),
    ("check",),
    ("check", "-o", "json"),
    ("export", "-o", "html"),
    ("assign", "payroll", "--dry-run"),
    ("assign", "payroll", "--update-configs", "--scaffold", "--dry-run"),
    ("release", "invoice", "--update-configs", "--dry-run"),
    ("update-configs", "--all", "--dry-run"),
    ("reconcile", "--update-configs", "--dry-run"),
    ("fix", "--dry-run"),
    ("fix", "--prune", "--dry-run"),
]


@pytest.mark.parametrize("argv", READ_ONLY, ids=" ".join)
def test_a_read_or_a_dry_run_leaves_git_status_clean(
    checkout: Path, cli: CliRunner, argv: tuple[str, ...]
) -> None:
    before = tree(checkout)
    run = cli(*argv, cwd=checkout)
    assert run.code in (0, 1), run.err
    assert status(checkout) == []
    assert tree(checkout) == before


def test_a_write_changes_only_the_files_it_was_asked_to(checkout: Path, cli: CliRunner) -> None:
    assert cli("assign", "payroll", cwd=checkout).code == 0
    assert status(checkout) == [" M scripts/port-registry.json"]
    assert cli("update-configs", "invoice", cwd=checkout).code == 0
    assert sorted(status(checkout)) == [
        " M helm/rerp-microservice/values/invoice.yaml",  # its drifted NodePort
        " M openapi/v1/invoice/openapi.yaml",  # its drifted server URL (a [[targets]] file)
        " M scripts/port-registry.json",
    ]
    git_dir = checkout / ".git"
    assert (git_dir / "portreg.lock").is_file()  # where git keeps its own index.lock


def test_worktrees_lock_in_their_own_git_dirs(checkout: Path, cli: CliRunner) -> None:
    other = checkout.parent / "rerp-feature"
    git(checkout, "worktree", "add", "-q", "-b", "feature", str(other))
    assert cli("assign", "payroll", cwd=other).code == 0
    assert status(other) == [" M scripts/port-registry.json"]
    assert status(checkout) == []  # the main checkout's registry is its own file
    assert (checkout / ".git" / "worktrees" / "rerp-feature" / "portreg.lock").is_file()
    assert not (checkout / ".git" / "portreg.lock").exists()


@pytest.mark.etcd
def test_worktrees_on_one_etcd_store_still_exclude_each_other(
    checkout: Path, etcd_server: EtcdCluster, etcd_key: str
) -> None:
    other = checkout.parent / "rerp-feature"
    git(checkout, "worktree", "add", "-q", "-b", "feature", str(other))
    url = etcd_server.url(etcd_key)
    env = {**os.environ, "PORTREG_STORE": url, "PYTHONDONTWRITEBYTECODE": "1"}
    names = [(root, f"svc-{root.name}-{n}") for n in range(12) for root in (checkout, other)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "portreg", "assign", name, "-o", "json"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for root, name in names
    ]
    results = [process.communicate(timeout=120) for process in processes]
    assert [p.returncode for p in processes] == [0] * len(names), results
    ports = {json.loads(out)["service"]: json.loads(out)["port"] for out, _err in results}
    assert len(set(ports.values())) == len(names), "one port was given twice"
    raw = etcd_server.get(etcd_key)
    assert raw is not None
    assert json.loads(raw)["assignments"] == ports, "an assignment was lost"
    assert status(checkout) == []
    assert status(other) == []
