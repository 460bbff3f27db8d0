"""fix, reconcile and update-configs change port fields only: a port fixer that renames a
team's images and binaries is one nobody lets near a repo. ``--all-fields`` asks for more."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CliRunner

V = "helm/rerp-microservice/values"
COPIED = """\
# copied from pricewhisperer
service:
  name: identity-and-access-management
  port: 8002          # the port
  containerPort: 8002
  nodePort: 30802     # their formula
image:
  name: pricewhisperer-invoice
app:
  serviceName: invoice
  binaryName: idam_service_api
"""
PORTS_FIXED = COPIED.replace("nodePort: 30802", "nodePort: 31002")
ALL_FIELDS = (
    PORTS_FIXED.replace("name: identity-and-access-management", "name: invoice")
    .replace("name: pricewhisperer-invoice", "name: rerp-invoice")
    .replace("binaryName: idam_service_api", "binaryName: invoice_service_api")
)


@pytest.fixture
def copied(seed_repo: Path) -> Path:
    (seed_repo / V).mkdir(parents=True)
    (seed_repo / V / "invoice.yaml").write_text(COPIED)
    return seed_repo


@pytest.mark.parametrize(
    "argv",
    [("fix",), ("update-configs", "invoice"), ("update-configs", "--all")],
    ids=["fix", "update-configs", "update-configs-all"],
)
def test_only_port_fields_change(copied: Path, cli: CliRunner, argv: tuple[str, ...]) -> None:
    run = cli("--root", str(copied), *argv)
    assert run.code == 0, run.err
    assert (copied / V / "invoice.yaml").read_text() == PORTS_FIXED


def test_all_fields_when_asked(copied: Path, cli: CliRunner) -> None:
    run = cli("--root", str(copied), "update-configs", "invoice", "--all-fields")
    assert run.code == 0, run.err
    assert (copied / V / "invoice.yaml").read_text() == ALL_FIELDS


def test_check_is_green_with_foreign_names_once_the_ports_agree(
    copied: Path, cli: CliRunner
) -> None:
    assert cli("--root", str(copied), "fix").code == 0
    run = cli("--root", str(copied), "check", "--format", "json")
    assert '"severity": "error"' not in run.out


def test_a_new_service_still_gets_every_field(seed_repo: Path, cli: CliRunner) -> None:
    """assign --update-configs is the bootstrap step: the seed's seven fields, as its script."""
    (seed_repo / V).mkdir(parents=True)
    (seed_repo / V / "payroll.yaml").write_text("service:\n  type: NodePort\n")
    assert cli("--root", str(seed_repo), "assign", "payroll", "--update-configs").code == 0
    assert (seed_repo / V / "payroll.yaml").read_text() == (
        "service:\n  type: NodePort\n  port: 8003\n  containerPort: 8003\n  nodePort: 31003\n"
        "  name: payroll\nimage:\n  name: rerp-payroll\napp:\n  serviceName: payroll\n"
        "  binaryName: payroll_service_api\n"
    )


def test_a_registered_service_keeps_its_names_when_assign_runs_again(
    seed_repo: Path, cli: CliRunner
) -> None:
    """Re-running assign (idempotent) or --force moves ports only: the names are the team's."""
    (seed_repo / V).mkdir(parents=True)
    copied = (
        "image:\n  name: pricewhisperer-x\nservice:\n  name: pw\n  port: 8009\n"
        "app:\n  binaryName: pw_api\n"
    )
    (seed_repo / V / "invoice.yaml").write_text(copied)
    for argv in (("assign", "invoice", "--update-configs"),) * 2 + (
        ("assign", "invoice", "--update-configs", "--force"),
    ):
        assert cli("--root", str(seed_repo), *argv).code == 0
        text = (seed_repo / V / "invoice.yaml").read_text()
        assert "name: pricewhisperer-x\n" in text
        assert "  name: pw\n" in text
        assert "binaryName: pw_api\n" in text
    port = json.loads((seed_repo / "scripts/port-registry.json").read_text())["assignments"]
    assert f"  port: {port['invoice']}\n" in text
