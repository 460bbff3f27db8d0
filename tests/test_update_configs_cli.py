"""`assign/release/update-configs --update-configs` through cli.main, on a temp repo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import SEED_HELM_CONFIG, CliRunner, tree

VALUES = "helm/rerp-microservice/values/invoice.yaml"

VALUES_BEFORE = """\
# ⚠️ PORT CONFIGURATION REFERENCE:
#   service.port / containerPort / nodePort are managed by portreg 🚀

service:
  name: invoice
  port: 0  # set by portreg

image:
  repository: "ghcr.io/rerp/rerp"
"""

VALUES_AFTER = """\
# ⚠️ PORT CONFIGURATION REFERENCE:
#   service.port / containerPort / nodePort are managed by portreg 🚀

service:
  name: invoice
  port: 8002  # set by portreg
  containerPort: 8002
  nodePort: 31002

image:
  repository: "ghcr.io/rerp/rerp"
  name: rerp-invoice
app:
  serviceName: invoice
  binaryName: invoice_service_api
"""

KIND_BEFORE = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  kubeadmConfigPatches:
  - |
    kind: InitConfiguration
  extraPortMappings:
  # General Ledger Service
  - containerPort: 31001
    hostPort: 8001
    protocol: TCP
"""

KIND_AFTER = (
    KIND_BEFORE
    + """\
  # Invoice Service
  - containerPort: 31002
    hostPort: 8002
    protocol: TCP
"""
)


@pytest.fixture
def rerp(repo: Path) -> Path:
    registry = {
        "version": "1.0",
        "next_port": 8002,
        "reserved_ports": [8080],
        "assignments": {"general-ledger": 8001},
    }
    (repo / "scripts" / "port-registry.json").write_text(json.dumps(registry, indent=2) + "\n")
    values = repo / VALUES
    values.parent.mkdir(parents=True)
    values.write_text(VALUES_BEFORE)
    (repo / "kind-config.yaml").write_text(KIND_BEFORE)
    return repo


def test_assign_update_configs_edits_both_files(rerp: Path, cli: CliRunner) -> None:
    run = cli("assign", "invoice", "--update-configs", cwd=rerp)
    assert run.code == 0, run.err
    assert (rerp / VALUES).read_text() == VALUES_AFTER
    assert (rerp / "kind-config.yaml").read_text() == KIND_AFTER
    before = tree(rerp)
    again = cli("update-configs", "invoice", cwd=rerp)
    assert again.code == 0, again.err
    assert tree(rerp) == before


def test_dry_run_prints_the_diff_and_writes_nothing(rerp: Path, cli: CliRunner) -> None:
    before = tree(rerp)
    run = cli("assign", "invoice", "--update-configs", "--dry-run", cwd=rerp)
    assert run.code == 0, run.err
    assert tree(rerp) == before
    assert f"+++ b/{VALUES}" in run.out
    assert "+  nodePort: 31002\n" in run.out
    assert "+  # Invoice Service\n" in run.out
    assert "+++ b/scripts/port-registry.json" in run.out


def test_release_update_configs_removes_the_kind_mapping(rerp: Path, cli: CliRunner) -> None:
    assert cli("assign", "invoice", "--update-configs", cwd=rerp).code == 0
    run = cli("release", "invoice", "--update-configs", cwd=rerp)
    assert run.code == 0, run.err
    assert (rerp / "kind-config.yaml").read_text() == KIND_BEFORE
    assert not (rerp / VALUES).exists()  # the values file only invoice used went with it


def test_release_finds_an_uncommented_mapping_by_its_values(rerp: Path, cli: CliRunner) -> None:
    bare = KIND_BEFORE.replace("  # General Ledger Service\n", "")
    (rerp / "kind-config.yaml").write_text(bare)
    run = cli("release", "general-ledger", "--update-configs", cwd=rerp)
    assert run.code == 0, run.err
    assert (rerp / "kind-config.yaml").read_text() == (
        "kind: Cluster\n"
        "apiVersion: kind.x-k8s.io/v1alpha4\n"
        "nodes:\n"
        "- role: control-plane\n"
        "  kubeadmConfigPatches:\n"
        "  - |\n"
        "    kind: InitConfiguration\n"
    )


def test_scaffold_creates_a_missing_values_file_in_a_new_folder(rerp: Path, cli: CliRunner) -> None:
    shutil.rmtree(rerp / "helm")
    (rerp / "portreg.toml").write_text(SEED_HELM_CONFIG)
    run = cli("assign", "payroll", "--scaffold", cwd=rerp)
    assert run.code == 0, run.err
    created = (rerp / "helm/rerp-microservice/values/payroll.yaml").read_text()
    assert "port: 8002" in created
    assert "nodePort: 31002" in created
    assert "binaryName: payroll_service_api" in created


def test_missing_values_file_warns_and_still_assigns(rerp: Path, cli: CliRunner) -> None:
    (rerp / VALUES).unlink()
    (rerp / "portreg.toml").write_text(SEED_HELM_CONFIG)
    run = cli("assign", "invoice", "--update-configs", cwd=rerp)
    assert run.code == 0, run.err
    assert run.err.startswith(
        "⚠️  Helm values file not found: helm/rerp-microservice/values/invoice.yaml\n"
        "   Create it with: portreg assign invoice --scaffold\n"
    )
    assert (rerp / "kind-config.yaml").read_text() == KIND_AFTER
    assert '"invoice": 8002' in (rerp / "scripts" / "port-registry.json").read_text()


def test_unparsable_file_exits_2_and_changes_nothing(rerp: Path, cli: CliRunner) -> None:
    (rerp / VALUES).write_text("service:\n  port: [8001\n")
    before = tree(rerp)
    run = cli("assign", "invoice", "--update-configs", cwd=rerp)
    assert run.code == 2
    assert len(run.err.strip().splitlines()) == 1
    assert f"{VALUES}:" in run.err
    assert tree(rerp) == before
