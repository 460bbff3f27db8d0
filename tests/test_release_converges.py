"""After ``release X --update-configs`` the next ``check`` has nothing to say about X: the
values file only X used goes with it (git keeps it), as the kind mapping and user entries do."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import CliRunner

V = "helm/rerp-microservice/values"
KIND = """\
kind: Cluster
nodes:
- role: control-plane
  extraPortMappings:
  # General Ledger Service
  - containerPort: 31001
    hostPort: 8001
  # Invoice Service
  - containerPort: 31002
    hostPort: 8002
"""


def make(root: Path) -> None:
    (root / V).mkdir(parents=True)
    for service, port in (("general-ledger", 8001), ("invoice", 8002)):
        (root / V / f"{service}.yaml").write_text(
            f"service:\n  port: {port}\n  containerPort: {port}\n  nodePort: {port + 23000}\n"
        )
    (root / "kind-config.yaml").write_text(KIND)


def test_release_removes_what_only_the_service_used_and_check_is_green(
    seed_repo: Path, cli: CliRunner
) -> None:
    make(seed_repo)
    run = cli("--root", str(seed_repo), "release", "invoice", "--update-configs")
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        "✅ Released port 8002 from service 'invoice'",
        f"   Deleted {V}/invoice.yaml",
        "   Updated kind-config.yaml",
        "   Updated scripts/port-registry.json",
    ]
    assert not (seed_repo / V / "invoice.yaml").exists()
    assert "Invoice" not in (seed_repo / "kind-config.yaml").read_text()
    check = cli("--root", str(seed_repo), "check", "--format", "json")
    assert [f for f in json.loads(check.out)["findings"] if f["service"] == "invoice"] == []
    assert check.code == 0


def test_a_release_dry_run_shows_the_deletion_as_a_patch(seed_repo: Path, cli: CliRunner) -> None:
    make(seed_repo)
    run = cli("--root", str(seed_repo), "release", "invoice", "--update-configs", "--dry-run")
    assert f"--- a/{V}/invoice.yaml\n+++ /dev/null\n" in run.out
    assert (seed_repo / V / "invoice.yaml").exists()


def test_release_without_update_configs_leaves_every_file(seed_repo: Path, cli: CliRunner) -> None:
    make(seed_repo)
    assert cli("--root", str(seed_repo), "release", "invoice").code == 0
    assert (seed_repo / V / "invoice.yaml").exists()
    check = cli("--root", str(seed_repo), "check")
    assert "PR006" in check.out  # the hint names a command that does what it says
    assert "portreg fix --prune" in check.out
    pruned = cli("--root", str(seed_repo), "fix", "--prune")
    assert pruned.code == 0, pruned.err
    assert not (seed_repo / V / "invoice.yaml").exists()
    assert cli("--root", str(seed_repo), "check").code == 0


def test_a_failed_release_puts_the_deleted_file_back(
    seed_repo: Path, cli: CliRunner, inject_fault: Callable[[str], None]
) -> None:
    make(seed_repo)
    before = {p: p.read_bytes() for p in seed_repo.rglob("*.yaml")}
    inject_fault("between-writes:fail")
    run = cli("--root", str(seed_repo), "release", "invoice", "--update-configs")
    assert run.code == 2
    assert {p: p.read_bytes() for p in seed_repo.rglob("*.yaml")} == before


def test_a_killed_release_is_finished_by_the_next_command(seed_repo: Path, cli: CliRunner) -> None:
    """The journal of a deletion: the next command that takes the lock removes the file."""
    make(seed_repo)
    values = seed_repo / V / "invoice.yaml"
    entry = {"path": f"../{V}/invoice.yaml", "display": "x", "before": values.read_text()}
    journal = seed_repo / ".git/portreg.journal"
    journal.write_text(json.dumps({"portreg-journal": 1, "files": [{**entry, "after": None}]}))
    assert cli("--root", str(seed_repo), "list").code == 0
    assert not values.exists()
    assert not journal.exists()


def test_release_names_each_entry_fix_would_adopt_the_service_back_from(
    rerp_example: Path, cli: CliRunner
) -> None:
    root = rerp_example
    (root / "Tiltfile").write_text("k8s_resource('invoice', port_forwards='8002:8002')\n")
    with (root / "portreg.toml").open("a") as config:  # Tilt forwards the host ports
        config.write("\n[kind]\nskip-host-ports = [[8001, 8099]]\n")
    assert cli("--root", str(root), "fix").code == 0
    run = cli("--root", str(root), "release", "invoice", "--update-configs")
    assert run.code == 0
    assert run.err.splitlines() == [
        f"⚠️  {where} still names invoice on port 8002: `portreg fix` would adopt it again "
        "(edit it out, or list invoice in [ignore] services)"
        for where in ("openapi/v1/invoice/openapi.yaml:7", "Tiltfile:1")
    ]
    with (root / "portreg.toml").open("a") as config:  # the way the warning names
        config.write('\n[ignore]\nservices = ["invoice"]\n')
    assert cli("--root", str(root), "fix").code == 0
    assert cli("--root", str(root), "query", "invoice").code == 1  # the release stuck
    assert cli("--root", str(root), "check").code == 0
