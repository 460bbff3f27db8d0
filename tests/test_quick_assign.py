"""A plain `assign` on the fast road writes exactly what the full CLI writes, or steps aside."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from portreg import quick

from conftest import SEED_REGISTRY, run_full, tree

REGISTRY = "scripts/port-registry.json"
VALUES = "helm/rerp-microservice/values"
KIND = """\
kind: Cluster
nodes:
- role: control-plane
  extraPortMappings:
  # Stale Service
  - containerPort: 31004
    hostPort: 8004
    protocol: TCP
"""
TILTFILE = "k8s_resource('legacy', port_forwards='8005:8005')\n"


def aged(root: Path) -> None:
    """Date every file an hour back: caches trust no file changed in the last two seconds."""
    hour_ago = os.stat(root).st_mtime_ns - 3600 * 10**9
    for path in root.rglob("*"):
        os.utime(path, ns=(hour_ago, hour_ago))


@pytest.fixture
def busy(seed_repo: Path) -> Path:
    """The seed registry, plus files that hold ports the registry does not know."""
    (seed_repo / VALUES).mkdir(parents=True)
    (seed_repo / VALUES / "legacy.yaml").write_text("service:\n  port: 8003\n")
    (seed_repo / "kind-config.yaml").write_text(KIND)
    (seed_repo / "Tiltfile").write_text(TILTFILE)
    aged(seed_repo)
    return seed_repo


def twins(root: Path, tmp_path: Path) -> tuple[Path, Path]:
    fast, slow = tmp_path / "fast", tmp_path / "slow"
    shutil.copytree(root, fast)
    shutil.copytree(root, slow)
    return fast, slow


def test_fast_and_full_assign_write_the_same_bytes_and_say_the_same(
    busy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fast, slow = twins(busy, tmp_path)
    for root in (fast, slow):  # a full run fills the caches (they are keyed by path)
        aged(root)
        assert run_full(["--root", str(root), "assign", "warm-up"]) == 0
    capsys.readouterr()
    for service in ("payroll", "billing", "invoice"):
        assert quick.run(["--root", str(fast), "assign", service, "--json"]) == 0
        fast_out = capsys.readouterr().out
        assert run_full(["--root", str(slow), "assign", service, "--json"]) == 0
        slow_out = capsys.readouterr().out
        assert fast_out.replace(str(fast), "") == slow_out.replace(str(slow), "")
    assert tree(fast) == tree(slow)
    ports = json.loads((fast / REGISTRY).read_text())["assignments"]
    # 8003 (a values file), 8004 (kind), 8005 (Tiltfile) and 8080 are all skipped
    assert (ports["payroll"], ports["billing"]) == (8007, 8008)


def test_text_output_is_the_seeds(busy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_full(["--root", str(busy), "assign", "warm-up"]) == 0
    capsys.readouterr()
    assert quick.run(["--root", str(busy), "assign", "payroll"]) == 0
    assert capsys.readouterr().out == (
        "✅ Assigned port 8007 to service 'payroll'\n   Updated scripts/port-registry.json\n"
    )
    assert quick.run(["--root", str(busy), "assign", "payroll"]) == 0
    assert capsys.readouterr().out == "ℹ️  Service 'payroll' already has port 8007\n"


def test_a_changed_tiltfile_sends_assign_to_the_full_cli(busy: Path) -> None:
    assert run_full(["--root", str(busy), "assign", "warm-up"]) == 0
    assert quick.run(["--root", str(busy), "assign", "one"]) == 0
    (busy / "Tiltfile").write_text(TILTFILE.replace("8005", "8010"))
    before = tree(busy)
    assert quick.run(["--root", str(busy), "assign", "two"]) is None
    assert tree(busy) == before


@pytest.mark.parametrize(
    "setup",
    ["journal", "fault", "no-registry", "same-port-twice", "full-range", "user-target"],
)
def test_anything_unusual_goes_to_the_full_cli(busy: Path, setup: str) -> None:
    assert run_full(["--root", str(busy), "assign", "warm-up"]) == 0
    if setup == "journal":
        (busy / f"{REGISTRY}.journal").write_text("{}")
    elif setup == "fault":
        os.environ["PORTREG_FAULT"] = "after-plan:kill"
    elif setup == "no-registry":
        (busy / REGISTRY).unlink()
    elif setup == "same-port-twice":
        (busy / REGISTRY).write_text(SEED_REGISTRY.replace('"invoice": 8002', '"invoice": 8001'))
    elif setup == "full-range":
        (busy / "portreg.toml").write_text("first-port = 8001\nlast-port = 8002\n")
        aged(busy)
        run_full(["--root", str(busy), "list"])  # caches the config table
    elif setup == "user-target":
        (busy / ".env").write_text("ONE_URL=http://localhost:8001\n")
        (busy / "portreg.toml").write_text(
            '[[targets]]\nname = "env"\nfiles = ".env"\nkind = "text"\n'
            'line = "{SERVICE_UPPER}_URL=http://localhost:{port}"\n'
        )
        aged(busy)
        run_full(["--root", str(busy), "list"])
    before = tree(busy)
    try:
        assert quick.run(["--root", str(busy), "assign", "payroll"]) is None
    finally:
        os.environ.pop("PORTREG_FAULT", None)
    assert tree(busy) == before


def test_user_targets_count_once_their_files_are_cached(busy: Path) -> None:
    (busy / ".env").write_text("LEGACY_URL=http://localhost:8007\n")
    (busy / "portreg.toml").write_text(
        '[[targets]]\nname = "env"\nfiles = ".env"\nkind = "text"\n'
        'line = "{SERVICE_UPPER}_URL=http://localhost:{port}"\n'
    )
    aged(busy)
    assert run_full(["--root", str(busy), "assign", "warm-up"]) == 0  # 8006; caches .env
    assert quick.run(["--root", str(busy), "assign", "payroll"]) == 0
    assert json.loads((busy / REGISTRY).read_text())["assignments"]["payroll"] == 8008
