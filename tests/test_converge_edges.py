"""Edges a hostile review of ``fix`` found: it never turns green red, never claims an edit it
did not make, never moves infrastructure into the service range, and says what it leaves."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import CliRunner, tree
from conftest import git_repo as repo

V = "helm/rerp-microservice/values"
KIND_HEAD = "kind: Cluster\nnodes:\n- role: control-plane\n"


def test_a_stale_forward_onto_a_port_kind_maps_is_left_with_a_note(
    tmp_path: Path, cli: CliRunner
) -> None:
    root = repo(
        tmp_path,
        {
            "scripts/port-registry.json": '{"assignments": {"reporting": 8005}}\n',
            "kind-config.yaml": KIND_HEAD
            + "  extraPortMappings:\n  # Reporting Service\n  - containerPort: 31005\n"
            "    hostPort: 8005\n",
            "Tiltfile": "k8s_resource('reporting', port_forwards=8015)\n",
        },
    )
    found = cli("--root", str(root), "check")  # fix would bind 8005 twice: it says so
    assert found.code == 1
    assert "Tiltfile:1: error PR018 port_forwards 8015 for reporting" in found.out
    assert "fix leaves it: moving it to 8005 would bind the host port" in found.out
    before = tree(root)
    run = cli("--root", str(root), "fix")
    assert "would bind the host port kind-config.yaml maps for reporting twice" in run.err
    assert tree(root) == before
    assert cli("--root", str(root), "check").out == found.out  # what is left, said alike


@pytest.mark.parametrize("node", ["worker", "no-comment"])
def test_a_mapping_tilt_owns_is_removed_wherever_it_is(
    tmp_path: Path, cli: CliRunner, node: str
) -> None:
    mapping = "  - containerPort: 31003\n    hostPort: 8003\n"
    kind = (
        KIND_HEAD + "- role: worker\n  extraPortMappings:\n  # Ledger Service\n" + mapping
        if node == "worker"
        else KIND_HEAD + "  extraPortMappings:\n" + mapping
    )
    root = repo(
        tmp_path,
        {
            "portreg.toml": "[kind]\nskip-host-ports = [[8001, 8099]]\n",
            "scripts/port-registry.json": '{"assignments": {"ledger": 8003}}\n',
            "kind-config.yaml": kind,
        },
    )
    assert cli("--root", str(root), "check").code == 1  # PR015
    run = cli("--root", str(root), "fix")
    assert "🗑  Removed kind mapping for ledger (8003)" in run.out
    assert "hostPort: 8003" not in (root / "kind-config.yaml").read_text()
    assert cli("--root", str(root), "check").code == 0
    assert cli("--root", str(root), "fix").out == "ℹ️  Nothing to fix\n"


def test_infrastructure_meeting_infrastructure_is_never_moved_into_the_range(
    tmp_path: Path, cli: CliRunner
) -> None:
    root = repo(
        tmp_path,
        {
            "scripts/port-registry.json": '{"assignments": {"invoice": 8002}}\n',
            "kind-config.yaml": KIND_HEAD
            + "  extraPortMappings:\n  # PostgreSQL\n  - containerPort: 30432\n"
            "    hostPort: 5433\n",
            "compose.yaml": 'services:\n  postgres:\n    ports:\n      - "5433:5432"\n',
        },
    )
    before = tree(root)
    run = cli("--root", str(root), "fix")
    assert "8001" not in run.out
    assert tree(root) == before
    # compose is another way to run the stack than the kind cluster: a warning, no error
    assert run.err == ""
    found = cli("--root", str(root), "check")
    assert "compose.yaml:4: warning PR023 port 5433 is bound by an unnamed kind entry" in found.out


def test_an_inline_ignore_survives_a_kind_removal(tmp_path: Path, cli: CliRunner) -> None:
    values = (
        "service:\n  port: 8003\n  containerPort: 8003\n"
        "  nodePort: 30802  # portreg: ignore[PR005]\n"
    )
    root = repo(
        tmp_path,
        {
            "portreg.toml": "[kind]\nskip-host-ports = [[8001, 8099]]\n",
            "scripts/port-registry.json": '{"assignments": {"ledger": 8003}}\n',
            f"{V}/ledger.yaml": values,
            "kind-config.yaml": KIND_HEAD
            + "  extraPortMappings:\n  # Ledger Service\n  - containerPort: 31003\n"
            "    hostPort: 8003\n",
        },
    )
    assert cli("--root", str(root), "fix").code == 0
    assert (root / V / "ledger.yaml").read_text() == values


def test_a_values_port_outside_the_range_says_so_when_adopted(
    tmp_path: Path, cli: CliRunner
) -> None:
    root = repo(
        tmp_path,
        {
            "scripts/port-registry.json": '{"assignments": {}}\n',
            f"{V}/outside.yaml": "service:\n  type: NodePort\n  port: 9500\n  containerPort: 9500\n",
        },
    )
    run = cli("--root", str(root), "reconcile")
    assert (
        run.out.splitlines()[0] == "➕ Adopted 'outside' on port 8001 (9500 is outside 8001-8999)"
    )


def test_fix_exits_1_naming_what_is_left_when_a_file_cannot_be_read(
    rerp_example: Path, cli: CliRunner
) -> None:
    root = rerp_example
    broken = root / "helm" / "rerp-microservice" / "values" / "invoice.yaml"
    broken.write_text("service:\n  port: [8002\n")
    run = cli("--root", str(root), "fix")
    assert run.code == 1
    assert run.err.startswith(
        "⚠️  Not fixed: helm/rerp-microservice/values/invoice.yaml:3: not valid YAML"
    )
    assert "; repair it by hand\n" in run.err
    assert run.err.endswith("❌ 1 error left that fix cannot repair; `portreg check` lists them\n")
    assert broken.read_text() == "service:\n  port: [8002\n"
    dry = cli("--root", str(root), "fix", "--dry-run")
    assert dry.err.splitlines()[:2] == [
        "ℹ️  Nothing to fix",
        "⚠️  Not fixed: helm/rerp-microservice/values/invoice.yaml:3: not valid YAML "
        "(did not find expected ',' or ']'); repair it by hand",
    ]
    assert dry.out == ""
    check = cli("--root", str(root), "check")
    assert check.code == 1
    assert "helm/rerp-microservice/values/invoice.yaml:3: error PR017" in check.out


def test_a_port_fix_cannot_edit_faithfully_is_said_and_the_rest_is_repaired(
    rerp_example: Path, cli: CliRunner
) -> None:
    root = rerp_example
    values = root / "helm" / "rerp-microservice" / "values"
    anchored = "service:\n  port: &p 8001\n  containerPort: *p\n  nodePort: 30801\n"
    (values / "alpha.yaml").write_text(anchored)
    (values / "beta.yaml").write_text(
        "service:\n  type: NodePort\n  port: 8002\n  containerPort: 8002\n"
    )
    run = cli("--root", str(root), "fix")
    assert run.code == 1
    assert run.err.startswith(
        "⚠️  Not fixed: helm/rerp-microservice/values/alpha.yaml:2: service.port has an anchor"
    )
    assert (values / "alpha.yaml").read_text() == anchored
    import json

    registry = json.loads((root / "scripts" / "port-registry.json").read_text())["assignments"]
    assert registry["beta"] != 8002  # beta moved off invoice's port, its file with it
    assert f"  port: {registry['beta']}\n" in (values / "beta.yaml").read_text()
    assert "invoice.yaml" not in cli("--root", str(root), "check").out  # invoice was repaired
