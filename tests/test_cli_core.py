"""The seed's commands through the real entry point: output, exit codes, files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from conftest import SEED_REGISTRY, CliRunner, tree

REGISTRY = "scripts/port-registry.json"


def registry(root: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((root / REGISTRY).read_text())
    return loaded


def with_cluster(root: Path) -> None:
    """The seed's kind cluster, whose mappings reach NodePorts: NodePorts are derived."""
    (root / "kind-config.yaml").write_text(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n"
    )


def test_assign_prints_the_seeds_message_and_records_the_port(
    seed_repo: Path, cli: CliRunner
) -> None:
    with_cluster(seed_repo)
    run = cli("--root", str(seed_repo), "assign", "accounts-receivable")
    assert (run.code, run.err) == (0, "")
    assert run.out == (
        "✅ Assigned port 8003 to service 'accounts-receivable'\n"
        "   NodePort: 31003\n"
        "   Updated scripts/port-registry.json\n"
    )
    assert (seed_repo / REGISTRY).read_text() == SEED_REGISTRY.replace(
        '"next_port": 8002', '"next_port": 8004'
    ).replace('"invoice": 8002\n', '"invoice": 8002,\n    "accounts-receivable": 8003\n').replace(
        "2026-01-23T10:00:00", "2026-09-21T14:13:20"
    )


def test_assign_again_is_idempotent_and_changes_nothing(seed_repo: Path, cli: CliRunner) -> None:
    before = tree(seed_repo)
    run = cli("--root", str(seed_repo), "assign", "general-ledger")
    assert (run.code, run.out) == (0, "ℹ️  Service 'general-ledger' already has port 8001\n")
    assert tree(seed_repo) == before


def test_assign_json(seed_repo: Path, cli: CliRunner) -> None:
    with_cluster(seed_repo)
    run = cli("--root", str(seed_repo), "assign", "payroll", "--json")
    assert json.loads(run.out) == {
        "service": "payroll",
        "port": 8003,
        "node_port": 31003,
        "new": True,
        "changed_files": [REGISTRY],
    }
    again = cli("--root", str(seed_repo), "assign", "payroll", "--json")
    assert json.loads(again.out)["new"] is False
    assert json.loads(again.out)["changed_files"] == []


def test_assign_exact_port_and_its_refusals(seed_repo: Path, cli: CliRunner) -> None:
    assert cli("--root", str(seed_repo), "assign", "payroll", "--port", "8500").code == 0
    assert registry(seed_repo)["assignments"] == {
        "general-ledger": 8001,
        "invoice": 8002,
        "payroll": 8500,
    }
    before = tree(seed_repo)
    taken = cli("--root", str(seed_repo), "assign", "hr", "--port", "8002")
    assert taken.code == 2
    assert taken.err == (
        "portreg: error: port 8002 is already assigned to 'invoice' "
        "(pick another port, or release 'invoice' first)\n"
    )
    assert cli("--root", str(seed_repo), "assign", "hr", "--port", "8080").code == 2
    outside = cli("--root", str(seed_repo), "assign", "hr", "--port", "9000")
    assert "outside the configured range 8001-8999" in outside.err
    assert tree(seed_repo) == before


def test_force_reassigns_a_new_port(seed_repo: Path, cli: CliRunner) -> None:
    run = cli("--root", str(seed_repo), "assign", "general-ledger", "--force")
    assert run.out.startswith("✅ Reassigned port 8003 to service 'general-ledger' (was 8001)\n")
    assert registry(seed_repo)["assignments"] == {"general-ledger": 8003, "invoice": 8002}


def test_query(seed_repo: Path, cli: CliRunner) -> None:
    with_cluster(seed_repo)
    run = cli("--root", str(seed_repo), "query", "general-ledger")
    assert (run.code, run.out) == (0, "Service 'general-ledger': Port 8001  NodePort 31001\n")
    as_json = cli("--root", str(seed_repo), "query", "invoice", "--json")
    assert json.loads(as_json.out) == {"service": "invoice", "port": 8002, "node_port": 31002}


def test_query_of_an_unknown_service_exits_1_with_a_hint(seed_repo: Path, cli: CliRunner) -> None:
    run = cli("--root", str(seed_repo), "query", "payroll")
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        "portreg: error: service 'payroll' has no port assigned "
        "(assign one with: portreg assign payroll --update-configs)\n"
    )


@pytest.mark.parametrize(
    "argv",
    [("query", "payroll"), ("release", "payroll"), ("update-configs", "payroll")],
    ids=lambda argv: argv[0],
)
def test_no_port_is_said_one_way_with_one_exit_code(
    seed_repo: Path, cli: CliRunner, argv: tuple[str, ...]
) -> None:
    before = tree(seed_repo)
    run = cli("--root", str(seed_repo), *argv)
    assert (run.code, run.out) == (1, "")
    assert run.err.startswith("portreg: error: service 'payroll' has no port assigned (")
    assert run.err.count("\n") == 1
    assert tree(seed_repo) == before


def test_list_is_the_seeds_table_by_port_with_correct_node_ports(
    seed_repo: Path, cli: CliRunner
) -> None:
    with_cluster(seed_repo)
    cli("--root", str(seed_repo), "assign", "accounts-receivable")
    run = cli("--root", str(seed_repo), "list")
    assert run.out == (
        "Port Assignments:\n"
        "--------------------------------------------------\n"
        "  general-ledger              Port: 8001  NodePort: 31001\n"
        "  invoice                     Port: 8002  NodePort: 31002\n"
        "  accounts-receivable         Port: 8003  NodePort: 31003\n"
        "--------------------------------------------------\n"
        "\n"
        "Total: 3 services\n"
    )
    as_json = json.loads(cli("--root", str(seed_repo), "list", "--json").out)
    assert [item["service"] for item in as_json] == [
        "general-ledger",
        "invoice",
        "accounts-receivable",
    ]
    assert as_json[0] == {"service": "general-ledger", "port": 8001, "node_port": 31001}


def test_release(seed_repo: Path, cli: CliRunner) -> None:
    run = cli("--root", str(seed_repo), "release", "invoice")
    assert run.out.startswith("✅ Released port 8002 from service 'invoice'\n")
    assert registry(seed_repo)["assignments"] == {"general-ledger": 8001}
    again = cli("--root", str(seed_repo), "release", "invoice")
    assert again.code == 1
    assert "service 'invoice' has no port assigned" in again.err


def test_dry_run_prints_the_diff_and_writes_nothing(seed_repo: Path, cli: CliRunner) -> None:
    before = tree(seed_repo)
    run = cli("--root", str(seed_repo), "assign", "payroll", "--dry-run")
    assert run.code == 0
    assert run.out.startswith(
        "--- a/scripts/port-registry.json\n+++ b/scripts/port-registry.json\n"
    )
    assert '+    "payroll": 8003\n' in run.out
    assert run.err == "(dry run: nothing was written)\n"
    assert tree(seed_repo) == before


def test_first_assign_in_an_empty_repo_creates_the_registry(repo: Path, cli: CliRunner) -> None:
    run = cli("assign", "invoice", cwd=repo)
    assert run.out == (
        "✅ Assigned port 8001 to service 'invoice'\n   Created scripts/port-registry.json\n"
    )  # no kind cluster, no Helm values: no NodePort is derived, none is shown
    # nothing reserved: no infrastructure binds a port here (the seed's form, a list)
    assert '\n  "reserved_ports": [],\n' in (repo / REGISTRY).read_text()
    assert registry(repo)["assignments"] == {"invoice": 8001}
    assert registry(repo)["next_port"] == 8002


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            '{\n  "assignments": {\n    "a": 8001,\n',
            "scripts/port-registry.json:4:1: not valid JSON",
        ),
        (
            '{\n  "assignments": {\n    "a": "8001"\n  }\n}\n',
            "scripts/port-registry.json:3: a: port",
        ),
        (
            '{\n  "assignments": {\n    "a": 8001,\n    "b": 8001\n  }\n}\n',
            "scripts/port-registry.json:4: port 8001 is assigned twice",
        ),
    ],
    ids=["truncated", "string-port", "same-port-twice"],
)
def test_a_broken_registry_is_one_line_exit_2_and_left_as_it_was(
    repo: Path, cli: CliRunner, content: str, expected: str
) -> None:
    (repo / REGISTRY).write_text(content)
    before = tree(repo)
    run = cli("--root", str(repo), "assign", "invoice")
    assert run.code == 2
    assert run.err.startswith(f"portreg: error: {expected}")
    assert run.err.count("\n") == 1
    assert "Traceback" not in run.err
    assert tree(repo) == before


def test_bad_service_names_never_reach_a_path(seed_repo: Path, cli: CliRunner) -> None:
    before = tree(seed_repo)
    for name in ["../../etc/passwd", "Bad Name!", "", "x" * 64]:
        run = cli("--root", str(seed_repo), "assign", name, "--update-configs")
        assert run.code == 2
        assert "is not a DNS-1035 label" in run.err
    assert tree(seed_repo) == before


def test_missing_registry_folder(tmp_path: Path, cli: CliRunner) -> None:
    (tmp_path / ".git").mkdir()
    run = cli("--root", str(tmp_path), "assign", "invoice")
    assert run.code == 2
    assert "registry folder" in run.err
    assert "portreg init" in run.err


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_registry_is_refused_and_unchanged(seed_repo: Path, cli: CliRunner) -> None:
    folder = seed_repo / "scripts"
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        run = cli("--root", str(seed_repo), "assign", "payroll")
    finally:
        folder.chmod(0o755)
    assert run.code == 2
    assert (seed_repo / REGISTRY).read_text() == SEED_REGISTRY


def test_bad_config_is_exit_2_naming_the_key(seed_repo: Path, cli: CliRunner) -> None:
    (seed_repo / "portreg.toml").write_text("last-port = 9999\n[kind]\nenabled = true\n")
    run = cli("--root", str(seed_repo), "list")
    assert run.code == 2
    assert run.err.startswith("portreg: error: ")
    assert "portreg.toml: last-port: port 9999 maps to NodePort 32999" in run.err


def test_init_writes_config_registry_and_compat_script(repo: Path, cli: CliRunner) -> None:
    run = cli("--root", str(repo), "init", "--compat-script")
    assert run.out == (
        "🔎 kind cluster configs: none\n"
        "🔎 Helm values per service: none\n"
        "🔎 Tiltfiles: none\n"
        "🔎 compose files: none\n"
        "🔎 Kubernetes manifests with a Service: none\n"
        "🔎 range 8001-8999: holds no service port yet\n"
        "🔎 NodePorts: no kind mapping or values file reaches one\n"
        "✅ Created portreg.toml\n"
        "✅ Created scripts/port-registry.json\n"
        "✅ Created scripts/assign-port.py\n"
        "   Next: `portreg assign SERVICE --update-configs` gives a service its port\n"
    )
    assert "first-port = 8001" in (repo / "portreg.toml").read_text()
    assert registry(repo)["assignments"] == {}
    assert registry(repo)["next_port"] == 8001
    assert os.access(repo / "scripts/assign-port.py", os.X_OK)
    again = cli("--root", str(repo), "init")
    assert again.out.startswith("ℹ️  Nothing to do")


def test_python_api(seed_repo: Path) -> None:
    from portreg import Registry

    registry_ = Registry.open(seed_repo)
    outcome = registry_.assign("payroll")
    assert (outcome.port, outcome.node_port, outcome.new) == (8003, 31003, True)
    assert registry_.query("payroll") is not None
    assert [a.service for a in registry_.assignments()] == ["general-ledger", "invoice", "payroll"]
