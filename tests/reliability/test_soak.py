"""Soak: 8 processes x 250 mixed commands on one repo, file store and etcd.

Workers are real processes (multiprocessing, spawn) each running
``portreg.cli.main`` in a loop, so they contend on the lock (or the
compare-and-swap) as separate CLI runs would, without paying for 2,000
interpreter start-ups. Every worker checks the invariants after each of its
commands; the test checks them again at the end, with the files.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import soak_worker
import yaml
from reliability_cases import SOAK_COMMANDS, SOAK_STORES, SOAK_WORKERS

from conftest import CliRunner

if TYPE_CHECKING:
    from etcd_util import EtcdCluster

pytest_plugins = ["etcd_util"]
pytestmark = pytest.mark.slow

KIND = "kind: Cluster\nnodes:\n- role: control-plane\n"
VALUES = "helm/rerp-microservice/values"


def make_repo(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / "kind-config.yaml").write_text(KIND)
    (root / VALUES).mkdir(parents=True)
    for service in soak_worker.SERVICES:  # values files exist, as after bootstrapping
        (root / VALUES / f"{service}.yaml").write_text(f"service:\n  name: {service}\n")
    return root


def soak(root: Path, store: str | None) -> list[soak_worker.Result]:
    context = multiprocessing.get_context("spawn")
    jobs = [(i, str(root), store, SOAK_COMMANDS, 7) for i in range(SOAK_WORKERS)]
    with context.Pool(SOAK_WORKERS) as pool:
        results = pool.starmap(soak_worker.soak, jobs)
    for result in results:
        assert result.violations == [], (result.worker, result.violations[:5])
        assert sum(result.codes.values()) == SOAK_COMMANDS
    return results


def final_assignments(cli: CliRunner, *prefix: str) -> dict[str, int]:
    run = cli(*prefix, "list", "--json")
    assert run.code == 0, run.err
    rows = json.loads(run.out)
    assert soak_worker.violations(rows) == []
    return {row["service"]: row["port"] for row in rows}


def assert_files_in_line(root: Path, held: dict[str, int]) -> None:
    kind = yaml.safe_load((root / "kind-config.yaml").read_text())
    mappings = kind["nodes"][0].get("extraPortMappings") or []
    by_host = {m["hostPort"]: m["containerPort"] for m in mappings}
    assert len(by_host) == len(mappings)
    assert set(by_host) == set(held.values())  # released services' entries were removed
    for service, port in held.items():
        values = yaml.safe_load((root / VALUES / f"{service}.yaml").read_text())["service"]
        assert (values["port"], values["nodePort"]) == (port, 31000 + port - 8000)
        assert by_host[port] == values["nodePort"]


def test_soak_file_store(tmp_path: Path, cli: CliRunner) -> None:
    assert "file" in SOAK_STORES
    root = make_repo(tmp_path / "repo")
    results = soak(root, None)
    held = final_assignments(cli, "--root", str(root))
    assert_files_in_line(root, held)
    check = cli("--root", str(root), "check", "--format", "json")
    errors = [f for f in json.loads(check.out)["findings"] if f["severity"] == "error"]
    orphans = {f"{VALUES}/{s}.yaml" for s in soak_worker.SERVICES if s not in held}
    assert {f["path"] for f in errors} <= orphans  # values files of released services only
    assert not list(root.rglob("*.tmp"))
    assert not (root / ".git/portreg.journal").exists()
    report(results, "file")


@pytest.mark.etcd
def test_soak_etcd(tmp_path: Path, cli: CliRunner, etcd_server: EtcdCluster) -> None:
    assert "etcd" in SOAK_STORES
    root = make_repo(tmp_path / "repo")
    url = etcd_server.url(f"/portreg/soak/{uuid.uuid4().hex[:12]}")
    results = soak(root, url)
    held = final_assignments(cli, "--root", str(root), "--store", url)
    assert held  # the run did assign
    report(results, "etcd")
    shutil.rmtree(root)


def report(results: list[soak_worker.Result], store: str) -> None:
    """Figures for the log (`pytest -s`): slowest worker, commands per second."""
    slowest = max(result.seconds for result in results)
    total = sum(sum(result.codes.values()) for result in results)
    print(f"\nsoak {store}: {total} commands in {slowest:.1f} s ({total / slowest:.0f}/s)")
