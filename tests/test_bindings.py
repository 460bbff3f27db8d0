"""How portreg sees ports, one pattern per test: a port binds in one namespace (host,
node, service, container), clashes only there, and ``fix`` moves only the host side of
what the registry governs. Each test runs the real CLI and compares whole files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import CliRunner, tree

REG = "scripts/port-registry.json"
KIND = "kind: Cluster\nnodes:\n- role: control-plane\n  extraPortMappings:\n"


def repo(tmp_path: Path, files: dict[str, str], assignments: dict[str, int]) -> Path:
    root = tmp_path / "repo"
    registry = {"reserved_ports": [8080], "assignments": assignments}
    for name, text in {REG: json.dumps(registry, indent=2) + "\n", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def findings(cli: CliRunner, root: Path) -> list[tuple[str, str, int]]:
    run = cli("--root", str(root), "check", "-o", "json")
    found = json.loads(run.out)["findings"]
    return [(f["code"], f["path"], f["line"]) for f in found if f["severity"] != "info"]


COMPOSE = """\
services:
  billing:
    image: billing:dev
    ports:
      - "8002:8002"   # the container listens on 8002
"""


def test_a_compose_clash_moves_the_published_side_only(tmp_path: Path, cli: CliRunner) -> None:
    """invoice holds 8002; billing publishes it too: billing's host side moves, its
    container keeps listening where it did."""
    root = repo(tmp_path, {"compose.yaml": COMPOSE}, {"invoice": 8002, "billing": 8001})
    assert findings(cli, root) == [("PR002", "compose.yaml", 5)]
    run = cli("--root", str(root), "fix")
    assert run.code == 0, run.err
    assert (root / "compose.yaml").read_text() == COMPOSE.replace('"8002:8002"', '"8001:8002"')
    assert cli("--root", str(root), "check").code == 0


TILT_AND_SERVICE = {
    "Tiltfile": "k8s_resource('invoice', port_forwards='8002:8080')\n",
    # another Service's own port is 8002: in-cluster, every Service has its own address
    "k8s/billing.yaml": (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: billing\nspec:\n  ports:\n"
        "  - port: 8002\n    targetPort: 8002\n"
    ),
}


def test_a_services_own_port_never_meets_a_host_forward(tmp_path: Path, cli: CliRunner) -> None:
    root = repo(tmp_path, TILT_AND_SERVICE, {"invoice": 8002})
    before = tree(root)
    assert findings(cli, root) == []
    assert cli("--root", str(root), "fix").out == "ℹ️  Nothing to fix\n"
    assert tree(root) == before


LINKED = {
    "kind-config.yaml": KIND
    + "  # Invoice Service\n  - containerPort: 31002\n    hostPort: 8002\n",
    # the kind mapping reaches the Service's nodePort: the link working, not a clash
    "k8s/invoice.yaml": (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: invoice\nspec:\n  type: NodePort\n"
        "  ports:\n  - port: 80\n    targetPort: 8080\n    nodePort: 31002\n"
    ),
}


def test_a_kind_mapping_reaching_a_node_port_is_a_link(tmp_path: Path, cli: CliRunner) -> None:
    root = repo(tmp_path, LINKED, {"invoice": 8002})
    assert findings(cli, root) == []
    ports = json.loads(cli("--root", str(root), "ports", "-o", "json").out)["bindings"]
    mapping = next(b for b in ports if b["name"] == "hostPort")
    assert mapping["leads_to"] == {"namespace": "node", "port": 31002}


def test_two_services_on_one_node_port_clash(tmp_path: Path, cli: CliRunner) -> None:
    other = LINKED["k8s/invoice.yaml"].replace("invoice", "mailpit").replace("port: 80", "port: 81")
    root = repo(tmp_path, {**LINKED, "k8s/mailpit.yaml": other}, {})
    assert ("PR024", "k8s/mailpit.yaml", 10) in findings(cli, root)


INFRA = {
    "compose.yaml": (
        'services:\n  postgres:\n    ports:\n      - "5432:5432"\n'
        '  replica:\n    ports:\n      - "5432:5432"\n'
    ),
}


def test_infrastructure_is_foreign_checked_never_moved(tmp_path: Path, cli: CliRunner) -> None:
    """Two PostgreSQL in one compose project is a real clash, outside the range: reported,
    named to be moved by hand, never pulled into the service range."""
    root = repo(tmp_path, INFRA, {"invoice": 8002})
    before = tree(root)
    run = cli("--root", str(root), "check")
    assert run.code == 1
    assert "compose.yaml:7: error PR002 port 5432 is held by both postgres" in run.out
    assert "hint: edit compose.yaml:7 by hand" in run.out
    fixed = cli("--root", str(root), "fix")
    assert fixed.code == 1
    assert fixed.err.startswith("⚠️  Not fixed: compose.yaml:7: port 5432 is held by both")
    assert tree(root) == before


CLUSTER_IP = "service:\n  type: ClusterIP\n  port: 80\n  containerPort: 8080\n"


def test_an_in_cluster_values_port_is_never_rewritten(tmp_path: Path, cli: CliRunner) -> None:
    values = "helm/rerp-microservice/values/carts.yaml"
    root = repo(tmp_path, {values: CLUSTER_IP}, {"carts": 8003})
    before = tree(root)
    assert findings(cli, root) == []  # no drift, no unknown service: carts:80 is in-cluster
    assert cli("--root", str(root), "fix").out == "ℹ️  Nothing to fix\n"
    run = cli("--root", str(root), "update-configs", "carts")
    assert run.code == 0
    assert "carts.yaml: its Service's ports are in-cluster" in run.out + run.err
    assert tree(root) == before


def test_alternative_stacks_warn_and_fix_leaves_them(tmp_path: Path, cli: CliRunner) -> None:
    """Two compose projects that never run together: a warning, and nothing moves."""
    web = 'services:\n  web:\n    ports:\n      - "8005:80"\n'
    pay = 'services:\n  payment:\n    ports:\n      - "8005:8080"\n'
    config = '[compose]\nfiles = ["compose.yaml", "dispatch/compose.yaml"]\n'
    files = {"compose.yaml": web, "dispatch/compose.yaml": pay, "portreg.toml": config}
    root = repo(tmp_path, files, {})
    before = tree(root)
    run = cli("--root", str(root), "check")
    assert run.code == 0
    assert "dispatch/compose.yaml:4: warning PR023 port 8005 is bound by web" in run.out
    fixed = cli("--root", str(root), "fix")
    assert fixed.out == "ℹ️  Nothing to fix\n"
    assert tree(root) == before


def test_reserved_one_source(tmp_path: Path, cli: CliRunner) -> None:
    """portreg.toml's `reserved = []` frees 8080 at once; check says the registry records
    otherwise, and fix writes portreg.toml's list there."""
    tilt = "k8s_resource('storage', port_forwards='8080:8080')\n"
    root = repo(tmp_path, {"Tiltfile": tilt, "portreg.toml": "reserved = []\n"}, {"storage": 8080})
    run = cli("--root", str(root), "check")
    assert run.code == 1
    assert f"{REG}:2: error PR025 portreg.toml reserves [], the registry records" in run.out
    assert "PR012" not in run.out  # 8080 is no longer reserved
    assert cli("--root", str(root), "fix").code == 0
    registry = json.loads((root / REG).read_text())
    assert (registry["reserved_ports"], registry["assignments"]) == ([], {"storage": 8080})
    assert (root / "Tiltfile").read_text() == tilt
    assert cli("--root", str(root), "check").code == 0


def test_a_range_outside_the_node_port_band_without_kind_or_helm(
    tmp_path: Path, cli: CliRunner
) -> None:
    config = "first-port = 3000\nlast-port = 3099\n"
    root = repo(tmp_path, {"portreg.toml": config + "[kind]\nenabled = true\n"}, {})
    refused = cli("--root", str(root), "assign", "web")  # kind derives NodePorts: refused
    assert refused.code == 2
    assert "outside node-port-range" in refused.err
    (root / "portreg.toml").write_text(
        config + "[kind]\nenabled = false\n[helm]\nenabled = false\n"
    )
    run = cli("--root", str(root), "assign", "web")
    assert run.code == 0, run.err
    assert json.loads((root / REG).read_text())["assignments"] == {"web": 3000}
