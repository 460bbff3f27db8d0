"""A kind cluster binds every node's hostPorts on this one machine: ``update-configs``
refuses a mapping another node already holds, and ``check`` reports two mappings of one
host port (issue 19, hostile tester: ``kind create cluster`` would fail)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CliRunner

CONFIG = "[helm]\nenabled = false\n"
REGISTRY = """\
{
  "version": "1.0",
  "next_port": 8003,
  "reserved_ports": [8080],
  "assignments": {
    "general-ledger": 8001,
    "billing": 8002
  }
}
"""
KIND = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  extraPortMappings:
  # General Ledger Service
  - containerPort: 31001
    hostPort: 8001
    protocol: TCP
- role: worker
  extraPortMappings:
  - containerPort: 30080
    hostPort: 8002
    listenAddress: ADDRESS
    protocol: TCP
"""
BILLING = """\
  # Billing Service
  - containerPort: 31002
    hostPort: 8002
    protocol: TCP
"""


@pytest.fixture
def cluster(repo: Path) -> Path:
    (repo / "portreg.toml").write_text(CONFIG)
    (repo / "scripts" / "port-registry.json").write_text(REGISTRY)
    return repo


@pytest.mark.parametrize("address", ["0.0.0.0", "127.0.0.1"])
def test_update_configs_refuses_a_host_port_another_node_maps(
    cluster: Path, cli: CliRunner, address: str
) -> None:
    before = KIND.replace("ADDRESS", address)
    (cluster / "kind-config.yaml").write_text(before)
    run = cli("--root", str(cluster), "update-configs", "billing")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "portreg: error: kind-config.yaml:12: hostPort 8002 is already bound by another "
        "mapping (containerPort 30080); cannot map it for 'billing' (remove or change that "
        "mapping, or give the service another port)\n"
    )
    assert (cluster / "kind-config.yaml").read_text() == before
    assert (cluster / "scripts" / "port-registry.json").read_text() == REGISTRY


def test_another_address_of_another_node_is_no_clash(cluster: Path, cli: CliRunner) -> None:
    """The new mapping binds every address, so only a node's mapping whose address does
    not overlap it is left alone: here billing's own mapping is on 127.0.0.2."""
    before = KIND.replace("ADDRESS", "127.0.0.1")
    own = BILLING.replace(
        "    protocol: TCP\n", "    listenAddress: 127.0.0.2\n    protocol: TCP\n"
    )
    (cluster / "kind-config.yaml").write_text(
        before.replace("- role: worker\n", own + "- role: worker\n")
    )
    run = cli("--root", str(cluster), "update-configs", "billing")
    assert run.code == 0, run.err
    assert run.out == "ℹ️  Config files already match the registry\n"


def test_check_reports_two_nodes_mapping_one_host_port(cluster: Path, cli: CliRunner) -> None:
    kind = KIND.replace("ADDRESS", "0.0.0.0").replace(
        "- role: worker\n", BILLING + "- role: worker\n"
    )
    (cluster / "kind-config.yaml").write_text(kind)
    run = cli("--root", str(cluster), "check", "-o", "json")
    assert run.code == 1
    errors = [f for f in json.loads(run.out)["findings"] if f["severity"] == "error"]
    assert [(f["code"], f["path"], f["line"], f["port"]) for f in errors] == [
        ("PR022", "kind-config.yaml", 12, 8002)
    ]  # said at the first mapping, naming the second: kind create cluster would fail
    assert "kind-config.yaml:17" in errors[0]["message"]
