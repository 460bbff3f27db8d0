"""A host port bound by both kind and Tilt (the cause of "address already in use" at
``tilt up``) is an error; the repo declares who owns service host ports, and fix obeys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
  # PostgreSQL
  - containerPort: 30432
    hostPort: 5433
"""
TILTFILE = """\
k8s_resource('general-ledger', port_forwards='8001:8001')
k8s_resource('invoice', port_forwards=8002)
"""


@pytest.fixture
def both(seed_repo: Path) -> Path:
    (seed_repo / V).mkdir(parents=True)
    for service, port in (("general-ledger", 8001), ("invoice", 8002)):
        (seed_repo / V / f"{service}.yaml").write_text(
            f"service:\n  port: {port}\n  containerPort: {port}\n  nodePort: {port + 23000}\n"
        )
    (seed_repo / "kind-config.yaml").write_text(KIND)
    (seed_repo / "Tiltfile").write_text(TILTFILE)
    return seed_repo


def test_a_port_kind_and_tilt_both_bind_is_an_error_whose_hint_names_the_setting(
    both: Path, cli: CliRunner
) -> None:
    run = cli("--root", str(both), "check", "--format", "json")
    assert run.code == 1
    found = [f for f in json.loads(run.out)["findings"] if f["severity"] != "info"]
    assert [(f["code"], f["line"], f["port"]) for f in found] == [
        ("PR022", 7, 8001),
        ("PR022", 10, 8002),
    ]
    assert "Tiltfile:1" in found[0]["message"]
    assert "set [kind] skip-host-ports" in found[0]["hint"]
    # infrastructure (PostgreSQL 30432 -> 5433) is nobody's error
    assert all(f["port"] != 30432 for f in found)


def test_fix_without_a_declaration_says_what_to_declare(both: Path, cli: CliRunner) -> None:
    before = (both / "kind-config.yaml").read_text()
    run = cli("--root", str(both), "fix")
    assert run.code == 1
    assert "Not fixed: kind-config.yaml:7: host port 8001 is bound twice" in run.err
    assert (both / "kind-config.yaml").read_text() == before


def test_with_tilt_declared_the_owner_fix_removes_the_kind_mappings_once(
    both: Path, cli: CliRunner
) -> None:
    (both / "portreg.toml").write_text("[kind]\nskip-host-ports = [[8001, 8099]]\n")
    run = cli("--root", str(both), "fix")
    assert run.code == 0, run.err
    assert run.out.splitlines()[:2] == [
        "🗑  Removed kind mapping for general-ledger (8001): [kind] skip-host-ports 8001-8099 "
        "leaves these host ports to Tilt",
        "🗑  Removed kind mapping for invoice (8002): [kind] skip-host-ports 8001-8099 "
        "leaves these host ports to Tilt",
    ]
    assert (both / "kind-config.yaml").read_text() == (
        "kind: Cluster\nnodes:\n- role: control-plane\n  extraPortMappings:\n"
        "  # PostgreSQL\n  - containerPort: 30432\n    hostPort: 5433\n"
    )
    check = cli("--root", str(both), "check")
    assert check.code == 0
    assert "PR010" not in check.out  # no mapping is wanted for a port Tilt owns
    again = cli("--root", str(both), "fix")
    assert again.out == "ℹ️  Nothing to fix\n"


def test_assign_adds_no_kind_mapping_for_a_port_tilt_owns(both: Path, cli: CliRunner) -> None:
    (both / "portreg.toml").write_text("[kind]\nskip-host-ports = [[8001, 8099]]\n")
    before = (both / "kind-config.yaml").read_text()
    (both / V / "payroll.yaml").write_text("service:\n  type: NodePort\n")
    assert cli("--root", str(both), "assign", "payroll", "--update-configs").code == 0
    assert "payroll" not in (both / "kind-config.yaml").read_text().lower()
    assert (both / "kind-config.yaml").read_text() == before


def test_a_double_bind_is_an_error_before_the_service_is_registered(
    both: Path, cli: CliRunner
) -> None:
    """A service only the kind-config and the Tiltfile name still fails at `tilt up`."""
    kind = KIND + "  # Billing Service\n  - containerPort: 31010\n    hostPort: 8010\n"
    (both / "kind-config.yaml").write_text(kind)
    (both / "Tiltfile").write_text("k8s_resource('billing', port_forwards='8010:8010')\n")
    run = cli("--root", str(both), "check", "-o", "json")
    assert run.code == 1
    found = [f for f in json.loads(run.out)["findings"] if f["code"] == "PR022"]
    assert [(f["line"], f["service"], f["port"], f["holder"]) for f in found] == [
        (16, "billing", 8010, "billing")
    ]


def test_fix_says_every_kind_mapping_it_removes(rerp_example: Path, cli: CliRunner) -> None:
    """invoice is rewritten (its NodePort drifted) and loses its mapping: both are said."""
    root = rerp_example
    with (root / "portreg.toml").open("a") as config:
        config.write("\n[kind]\nskip-host-ports = [[8001, 8099]]\n")
    run = cli("--root", str(root), "fix")
    assert run.code == 0, run.err
    removed = [line for line in run.out.splitlines() if line.startswith("🗑  Removed kind")]
    assert sorted(line.split(" (")[0] for line in removed) == [
        "🗑  Removed kind mapping for general-ledger",
        "🗑  Removed kind mapping for invoice",
    ]
    assert "🔧 Rewriting the config files of 'invoice' to the registry" in run.out
    assert "hostPort: 80" not in (root / "kind-config.yaml").read_text()


def test_fix_does_not_call_a_double_bind_it_resolved_not_fixed(
    rerp_example: Path, cli: CliRunner
) -> None:
    root = rerp_example
    cli("--root", str(root), "fix")
    with (root / "Tiltfile").open("a") as tiltfile:
        tiltfile.write("k8s_resource('pricing', port_forwards='8001:8001')\n")
    run = cli("--root", str(root), "fix")
    assert (run.code, run.err) == (0, "")
    assert "Not fixed" not in run.out
    assert "k8s_resource('pricing', port_forwards='8004:8001')" in (root / "Tiltfile").read_text()
    assert cli("--root", str(root), "check").code == 0


def test_no_kind_mapping_is_asked_for_a_port_compose_already_publishes(
    rerp_example: Path, cli: CliRunner
) -> None:
    root = rerp_example
    (root / "compose.yaml").write_text('services:\n  payroll:\n    ports:\n      - "8050:80"\n')
    assert cli("--root", str(root), "fix").code == 0
    run = cli("--root", str(root), "check", "-o", "json")
    assert run.code == 0
    found = json.loads(run.out)["findings"]
    assert [f for f in found if f["code"] == "PR010"] == []  # a mapping there: PR022
