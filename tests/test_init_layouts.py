"""``portreg init`` reads the repo: one repo per layout kind (modelled on public repos:
kind + Tilt dev clusters, a chart per service, compose stacks in sub-folders, plain
manifests), each with ``init`` and no hand edit, then ``check``: the files found, the
config written, no false finding, every real collision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portreg.cli import main

from conftest import NO_CONFIG, NO_REGISTRY, CliRunner, git_repo, init, tree

REG = "scripts/port-registry.json"


def errors(cli: CliRunner, root: Path) -> list[tuple[str, str, int]]:
    run = cli("--root", str(root), "check", "-o", "json")
    found = json.loads(run.out)["findings"]
    return [(f["code"], f["path"], f["line"]) for f in found if f["severity"] == "error"]


# ------------------------------------------- kind + Tilt, the cluster in a sub-folder

KIND_CLUSTER = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: dev
nodes:
- role: control-plane
  extraPortMappings:
  - containerPort: 30300   # grafana
    hostPort: 3000
  - containerPort: 30543   # postgres
    hostPort: 5433
  - containerPort: 80      # ingress
    hostPort: 80
"""
DEV_TILTFILE = """\
k8s_resource('grafana', port_forwards=['3000:3000'])
k8s_resource('api', port_forwards=['8101:8080'])
k8s_resource('web', port_forwards=['8102:3000'])
"""


def test_kind_and_tilt_a_real_double_bind_and_nothing_else(tmp_path: Path, cli: CliRunner) -> None:
    """kind maps host 3000 and Tilt forwards it too: the one real collision. Tilt owns the
    services' host ports (kind maps none of them), so kind is told to leave them."""
    root = git_repo(tmp_path, {"cluster/kind.yaml": KIND_CLUSTER, "Tiltfile": DEV_TILTFILE})
    notes, config = init(cli, root)
    assert notes[:3] == [
        "kind cluster configs: 1 file (cluster/kind.yaml)",
        "Helm values per service: none",
        "Tiltfiles: 1 file (Tiltfile)",
    ]
    assert config["kind"] == {
        "enabled": True,
        "config": "cluster/kind.yaml",
        "skip-host-ports": [[8001, 8999]],
    }
    assert (config["first-port"], config["last-port"]) == (8001, 8999)
    assert config["derive-node-ports"] is False  # 3000 -> 30300 is no formula of the range
    assert errors(cli, root) == [("PR022", "cluster/kind.yaml", 8)]


# ------------------------------------------------------------- a chart per service

CHART = "apiVersion: v2\nname: {name}\nversion: 0.1.0\n"
CHART_VALUES = """\
image:
  repository: ghcr.io/acme/shop-{name}
service:
  type: NodePort
  port: {port}
  nodePort: {node}
"""


def chart_repo(tmp_path: Path) -> Path:
    files = {}
    for name, port in (("cart", 3001), ("orders", 3002)):
        files[f"src/{name}/chart/Chart.yaml"] = CHART.format(name=name)
        files[f"src/{name}/chart/values.yaml"] = CHART_VALUES.format(
            name=name, port=port, node=30000 + port - 3000
        )
        files[f"src/{name}/chart/templates/service.yaml"] = (
            "kind: Service\nspec:\n  ports:\n  - port: {{ .Values.service.port }}\n"
        )
    return git_repo(tmp_path, files)


def test_a_chart_per_service_is_one_values_pattern_with_its_own_convention(
    tmp_path: Path, cli: CliRunner
) -> None:
    root = chart_repo(tmp_path)
    notes, config = init(cli, root)
    assert "Helm values per service: 2 files (src/{service}/chart/values.yaml, NodePorts)" in notes
    assert "Kubernetes manifests with a Service: none" in notes  # templates/ are the chart's
    assert config["helm"] == {
        "enabled": True,
        "values": "src/{service}/chart/values.yaml",
        "set": {
            "service.port": "{port}",
            "service.nodePort": "{node_port}",
            "image.repository": "ghcr.io/acme/shop-{service}",
        },
    }
    assert (config["first-port"], config["last-port"]) == (3001, 3099)
    assert (config["node-port-base"], config["node-port-offset"]) == (30000, 3000)
    assert errors(cli, root) == [  # true: the registry does not know them yet
        ("PR006", "src/cart/chart/values.yaml", 5),
        ("PR006", "src/orders/chart/values.yaml", 5),
    ]
    fix = cli("--root", str(root), "fix")  # adopts both services where they are
    assert fix.code == 0, fix.err
    assert json.loads((root / REG).read_text())["assignments"] == {"cart": 3001, "orders": 3002}
    assert cli("--root", str(root), "check").code == 0


# ---------------------------------------- compose stacks in sub-folders, infrastructure

STACK = """\
services:
  web:
    image: acme/web
    ports: ["3000:3000"]
  db:
    image: postgres:16
    ports: ["5432:5432"]
"""
STACK_OVERRIDE = """\
services:
  web:
    ports: ["3001:3000"]
"""
OTHER_STACK = """\
services:
  web:
    image: acme/web
    ports: ["3000:80"]
"""


def test_compose_projects_in_sub_folders_and_infrastructure_left_alone(
    tmp_path: Path, cli: CliRunner
) -> None:
    """Two stacks that never run together publish 3000 each: a warning, not an error;
    postgres's 5432 is infrastructure, outside the range."""
    root = git_repo(
        tmp_path,
        {
            "deploy/compose.yaml": STACK,
            "deploy/compose.override.yaml": STACK_OVERRIDE,
            "demo/docker-compose.yml": OTHER_STACK,
            "node_modules/pkg/compose.yaml": OTHER_STACK,  # someone else's
        },
    )
    notes, config = init(cli, root)
    assert notes[3] == (
        "compose files: 3 files in 2 projects (demo/docker-compose.yml, deploy/compose.override"
        ".yaml, deploy/compose.yaml; a file runs with its override file, projects apart)"
    )
    assert config["compose"]["files"] == [
        "demo/docker-compose.yml",
        "deploy/compose.override.yaml",
        "deploy/compose.yaml",
    ]
    assert (config["first-port"], config["last-port"], config["reserved"]) == (3000, 3099, [])
    assert errors(cli, root) == []


# ------------------------------------------------- plain manifests, a gitignored one

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  type: NodePort
  ports:
  - port: 80
    nodePort: {node}
"""


def test_manifests_are_found_by_content_and_git_ignores_are_skipped(
    tmp_path: Path, cli: CliRunner
) -> None:
    root = git_repo(
        tmp_path,
        {
            "deploy/k8s/a.yaml": SERVICE.format(name="a", node=30001),
            "deploy/k8s/b.yml": SERVICE.format(name="b", node=30002),
            "deploy/k8s/deployment.yaml": "kind: Deployment\n",
            "build/k8s/c.yaml": SERVICE.format(name="c", node=30001),  # generated
            "tmp/d.yaml": SERVICE.format(name="d", node=30001),
            ".gitignore": "tmp/\n",
        },
    )
    notes, config = init(cli, root)
    assert "Kubernetes manifests with a Service: 2 files in 2 folders" in notes
    assert config["manifests"] == {
        "enabled": True,
        "files": ["deploy/k8s/*.yaml", "deploy/k8s/*.yml"],
    }
    assert errors(cli, root) == []


# --------------------------------------------------- in-cluster values are not host ports


def test_values_files_with_only_in_cluster_ports_leave_helm_off(
    tmp_path: Path, cli: CliRunner
) -> None:
    values = "service:\n  type: ClusterIP\n  port: 8080\n"
    root = git_repo(
        tmp_path,
        {f"helm/app/values/{name}.yaml": values for name in ("auth", "billing", "users")}
        | {"helm/app/values/_shared.yaml": "x: 1\n", "helm/app/Chart.yaml": CHART},
    )
    notes, config = init(cli, root)
    assert notes[1] == (
        "Helm values per service: 3 files (helm/app/values/{service}.yaml), in-cluster ports "
        "only (no NodePort): not governed"
    )
    assert config["helm"] == {"enabled": False}
    assert errors(cli, root) == []


# --------------------------------------------------------- the seed's layout, unchanged


def test_the_seeds_layout_is_recognised_and_checks_as_before(
    rerp_example: Path, cli: CliRunner
) -> None:
    """The demo repo, its portreg.toml removed: init writes the seed's layout, and check
    gives what it gave with the hand-written config."""
    before = cli("--root", str(rerp_example), "check", "-o", "json").out
    config_text = (rerp_example / "portreg.toml").read_text()
    (rerp_example / "portreg.toml").unlink()
    notes, config = init(cli, rerp_example)
    seed = "helm/rerp-microservice/values/{service}.yaml"
    assert f"Helm values per service: 3 files ({seed}, the seed's layout)" in notes
    assert config["helm"]["set"]["image.name"] == "rerp-{service}"
    (rerp_example / "portreg.toml").write_text(config_text)
    assert cli("--root", str(rerp_example), "check", "-o", "json").out == before


# ------------------------------------------------------ no config is also a config


def test_check_before_init_reads_the_same_layout_and_says_so_once(
    tmp_path: Path, cli: CliRunner
) -> None:
    root = git_repo(tmp_path, {"cluster/kind.yaml": KIND_CLUSTER, "Tiltfile": DEV_TILTFILE})
    before = tree(root)
    run = cli("--root", str(root), "check", "-o", "json")
    assert run.code == 1
    found = json.loads(run.out)["findings"]
    assert [(f["code"], f["path"]) for f in found if f["severity"] == "error"] == [
        ("PR022", "cluster/kind.yaml")
    ]
    assert run.no_config  # said once, in one line: the runner takes it out of run.err
    assert "no portreg.toml" not in run.err
    assert tree(root) == before  # nothing written


def test_init_dry_run_shows_the_files_and_writes_nothing(tmp_path: Path, cli: CliRunner) -> None:
    root = chart_repo(tmp_path)
    before = tree(root)
    run = cli("--root", str(root), "init", "--dry-run")
    assert run.code == 0
    assert "+++ b/portreg.toml\n" in run.out
    assert '+values = "src/{service}/chart/values.yaml"\n' in run.out
    assert run.err == "(dry run: nothing was written)\n"
    assert tree(root) == before


def test_the_no_config_line_is_said_once_after_the_output_and_never_beside_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A repo that never ran init: an empty listing says why (no registry yet)."""
    root = git_repo(tmp_path, {"Tiltfile": DEV_TILTFILE})
    assert main(["--root", str(root), "list"]) == 0
    listed = capsys.readouterr()
    assert listed.out.endswith("Total: 0 services\n")
    assert listed.err == NO_CONFIG + NO_REGISTRY
    (root / REG).parent.mkdir()
    assert main(["--root", str(root), "assign", "api"]) == 0  # it writes the registry
    assert capsys.readouterr().err == NO_CONFIG
    (root / REG).write_text("{\n")
    assert main(["--root", str(root), "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("portreg: error: scripts/port-registry.json:2")
    assert err.count("\n") == 1


# ------------------------------------------------ a compose project Tilt starts

TILT_WITH_COMPOSE = """\
docker_compose("infra/docker-compose.yml")
k8s_yaml('k8s/app.yaml')
k8s_resource('app', port_forwards='8001:8080')
"""
INFRA = 'services:\n  db: {image: postgres, ports: ["8001:5432"]}\n'


def test_a_compose_project_a_tiltfile_starts_runs_with_it(tmp_path: Path, cli: CliRunner) -> None:
    """Tilt's docker_compose() runs the project beside the Tiltfile's forwards: one host
    port bound by both is an error (not a clash between stacks that never meet), and fix
    moves the published side only."""
    root = git_repo(
        tmp_path,
        {
            "Tiltfile": TILT_WITH_COMPOSE,
            "infra/docker-compose.yml": INFRA,
            "k8s/app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\n",
        },
    )
    notes, config = init(cli, root)
    assert notes[2] == (
        "Tiltfiles: 1 file (Tiltfile); they start 1 compose file (docker_compose), run with them"
    )
    assert config["tilt"]["docker-compose"] == {"Tiltfile": ["infra/docker-compose.yml"]}
    assert errors(cli, root) == [("PR002", "infra/docker-compose.yml", 2)]
    assert cli("--root", str(root), "fix").code == 0
    assert (root / "infra/docker-compose.yml").read_text() == INFRA.replace("8001:", "8002:")
    assert cli("--root", str(root), "check").code == 0
