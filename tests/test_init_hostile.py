"""``portreg init`` (and a repo with no config) against layouts that invite a wrong
guess: files that look like the repo's layout but never run as it (a test fixture's
compose file, an override file with no file to override, a shared library chart)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import CliRunner, git_repo, init, tree


def compose(service: str, port: int) -> str:
    return f'services:\n  {service}:\n    image: acme/{service}\n    ports: ["{port}:80"]\n'


# ------------------------------------------------------------ compose files that never run


def test_a_test_fixtures_compose_file_is_not_the_repos_layout(
    tmp_path: Path, cli: CliRunner
) -> None:
    """A fixture stands for someone else's repo (the tests feed it to a parser): it is
    never run here, so its ports are not this repo's and init does not govern it."""
    root = git_repo(
        tmp_path,
        {
            "compose.yaml": compose("api", 8001),
            "tests/fixtures/docker-compose.yml": compose("fake", 8001),
            "pkg/testdata/compose.yaml": compose("other", 8002),
        },
    )
    before = tree(root)
    check = cli("--root", str(root), "check")
    assert (check.code, check.out) == (
        0,
        "✅ No port conflicts: every file agrees with the registry\n",
    )
    assert tree(root) == before
    notes, config = init(cli, root)
    assert notes[3] == (
        "compose files: 1 file in 1 project (compose.yaml; a file runs with its override "
        "file, projects apart)"
    )
    assert config["compose"] == {"enabled": True, "files": ["compose.yaml"]}


def test_an_override_file_alone_is_not_a_project(tmp_path: Path, cli: CliRunner) -> None:
    """compose reads ``docker-compose.override.yml`` only with ``docker-compose.yml``:
    alone it runs nowhere. Beside its file (in a sub-folder, .yml or .yaml) it is one
    project with it."""
    root = git_repo(
        tmp_path,
        {
            "docker-compose.override.yml": compose("api", 8001),
            "stack/compose.yaml": compose("web", 8002),
            "stack/compose.override.yml": compose("web", 8003),
        },
    )
    notes, config = init(cli, root)
    assert notes[3] == (
        "compose files: 2 files in 1 project (stack/compose.override.yml, "
        "stack/compose.yaml; a file runs with its override file, projects apart)"
    )
    assert config["compose"] == {
        "enabled": True,
        "files": ["stack/compose.override.yml", "stack/compose.yaml"],
    }


# ------------------------------------------------------------------ a shared library chart

CHART = (
    "apiVersion: v2\nname: {name}\ndependencies:\n- name: common\n  repository: file://../common\n"
)
VALUES = """\
image:
  name: shop-{name}
service:
  type: NodePort
  port: {port}
  nodePort: {node}
"""
LIBRARY_VALUES = """\
image:
  name: shop-common
service:
  type: NodePort
  port: 8000
  nodePort: 30000
"""


def test_a_library_chart_beside_the_services_charts_is_not_a_service(
    tmp_path: Path, cli: CliRunner
) -> None:
    """``charts/common`` is ``type: library``: it deploys nothing, so it is no service and
    its values say nothing about the services' convention."""
    files = {
        "charts/common/Chart.yaml": "apiVersion: v2\nname: common\ntype: library\n",
        "charts/common/values.yaml": LIBRARY_VALUES,
    }
    for name, port in (("api", 8001), ("web", 8002)):
        files[f"charts/{name}/Chart.yaml"] = CHART.format(name=name)
        files[f"charts/{name}/values.yaml"] = VALUES.format(name=name, port=port, node=port + 22000)
    root = git_repo(tmp_path, files)
    notes, config = init(cli, root)
    assert notes[1] == "Helm values per service: 2 files (charts/{service}/values.yaml, NodePorts)"
    assert config["helm"]["values"] == "charts/{service}/values.yaml"
    fix = cli("--root", str(root), "fix")
    assert fix.code == 0, fix.err
    registry = json.loads((root / "scripts/port-registry.json").read_text())
    assert (registry["assignments"], registry["next_port"]) == ({"api": 8001, "web": 8002}, 8003)


# ------------------------------------------------------ a file named like a manifest folder

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  ports:
  - port: 8001
"""


def test_a_file_named_k8s_is_no_manifest_folder_and_a_linked_one_is(
    tmp_path: Path, cli: CliRunner
) -> None:
    """``bin/k8s`` (a wrapper script) and a file ``manifests`` are files, not folders of
    manifests; a folder symlink ``k8s`` (one entry, never followed by the listing) is."""
    root = git_repo(
        tmp_path,
        {
            "bin/k8s": '#!/bin/sh\nexec kubectl "$@"\n',
            "manifests": "see deploy/\n",
            "deploy/base/api.yaml": SERVICE,
        },
    )
    notes, config = init(cli, root)
    assert notes[4] == "Kubernetes manifests with a Service: 1 file in 1 folder"
    assert config["manifests"] == {"enabled": True, "files": ["deploy/base/*.yaml"]}
    (root / "portreg.toml").unlink()
    (root / "k8s").symlink_to("deploy/base", target_is_directory=True)
    notes, config = init(cli, root)
    assert notes[4] == "Kubernetes manifests with a Service: 2 files in 2 folders"
    assert config["manifests"] == {
        "enabled": True,
        "files": ["deploy/base/*.yaml", "k8s/**/*.yaml"],
    }


# ------------------------------------------------- one broken compose file hides no other


def test_a_broken_compose_file_is_one_finding_and_the_other_projects_are_read(
    tmp_path: Path, cli: CliRunner
) -> None:
    """A half-written compose file in one folder: its own finding. The other projects
    are read all the same (their clash is reported, their ports set init's range);
    before, the one file left every compose project unread."""
    root = git_repo(
        tmp_path,
        {
            "broken/docker-compose.yml": "services:\n  api: [\n",
            "compose.yaml": compose("api", 8101),
            "demo/compose.yaml": compose("web", 8101),
        },
    )
    check = cli("--root", str(root), "check")
    assert (check.code, check.out) == (
        1,
        "broken/docker-compose.yml:3: error PR017 not valid YAML (did not find expected "
        "node content); its ports were not checked\n"
        "    hint: fix the file so it parses\n"
        "demo/compose.yaml:4: warning PR023 port 8101 is bound by api (compose.yaml:4) and by "
        "web (demo/compose.yaml:4), which do not run together; starting both at once fails "
        "with 'address already in use'\n"
        "    hint: if both run at once, move one by hand (or declare them one compose "
        "project)\n"
        "❌ 1 error, 1 warning, 0 info\n",
    )
    notes, _config = init(cli, root)
    assert "range 8001-8999: holds the 1 service port(s) found" in notes


# -------------------------------------------------- a CI job named after kind is no cluster

CI_JOB = """\
name: e2e on kind
on: [push]
jobs:
  e2e:
    runs-on: ubuntu-latest
    steps:
    - uses: helm/kind-action@v1
"""
KIND_CLUSTER = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  extraPortMappings:
  - containerPort: 30001   # api
    hostPort: 8001
"""


def test_a_ci_job_named_kind_yml_is_not_the_cluster_config(tmp_path: Path, cli: CliRunner) -> None:
    """``ci/kind.yml`` runs the tests on a kind cluster; it is not one. The cluster's
    config is found by what it says, wherever it is and whatever its name."""
    root = git_repo(
        tmp_path,
        {"ci/kind.yml": CI_JOB, "test/kind-e2e.yaml": "steps:\n  - run: kind create cluster\n"},
    )
    notes, config = init(cli, root)
    assert notes[0] == "kind cluster configs: none"
    assert config["kind"] == {"enabled": False}
    (root / "portreg.toml").unlink()
    (root / "dev").mkdir()
    (root / "dev/cluster.yaml").write_text(KIND_CLUSTER)
    (root / "dev/kind-config.yaml").write_text("kind: Cluster\nnodes: [\n")  # half-written
    notes, config = init(cli, root)
    assert notes[0] == (
        "kind cluster configs: 2 files (dev/cluster.yaml, dev/kind-config.yaml); "
        "reading dev/cluster.yaml (one cluster per repo)"
    )


# ------------------------------------------ a service on a port some infrastructure uses

TILT_8500 = """\
k8s_resource('billing', port_forwards=['8499:8080'])
k8s_resource('orders', port_forwards=['8500:8080'])
k8s_resource('users', port_forwards=['8501:8080'])
"""
STACK_8500 = """\
services:
  api:
    image: acme/api
    ports: ["8600:80"]
  consul:
    image: hashicorp/consul
    ports: ["8500:8500"]
  pg:
    image: postgres:16
    ports: ["8502:5432"]
"""


def test_a_service_on_consuls_port_is_a_service_and_fix_leaves_it_there(
    tmp_path: Path, cli: CliRunner
) -> None:
    """``orders`` serves 8080 behind host port 8500 (Consul's well-known port) and has
    its own chart: a service, not infrastructure. init reserved 8500, and ``fix``
    moved ``orders`` to 8001 in its values file and the Tiltfile. What a forward leads
    to is what is served: ``8502:5432`` is a database's."""
    files = {"Tiltfile": TILT_8500}
    for name, port in (("billing", 8499), ("orders", 8500), ("users", 8501)):
        files[f"charts/{name}/Chart.yaml"] = f"apiVersion: v2\nname: {name}\n"
        files[f"charts/{name}/values.yaml"] = (
            f"service:\n  type: NodePort\n  port: {port}\n  nodePort: {port + 22000}\n"
        )
    root = git_repo(tmp_path, files)
    notes, config = init(cli, root)
    assert notes[5] == "range 8001-8999: holds the 3 service port(s) found"
    assert config["reserved"] == []
    before = tree(root)
    fix = cli("--root", str(root), "fix")
    assert fix.code == 0, fix.err
    registry = json.loads((root / "scripts/port-registry.json").read_text())
    assert registry["assignments"] == {"billing": 8499, "orders": 8500, "users": 8501}
    after = tree(root)
    assert [name for name in after if after[name] != before.get(name)] == [
        "scripts/port-registry.json"
    ]
    assert cli("--root", str(root), "check").code == 0

    stack = git_repo(tmp_path / "stack", {"compose.yaml": STACK_8500})
    notes, config = init(cli, stack)
    assert notes[5] == (
        "range 8001-8999: holds the 1 service port(s) found; reserved 8500, 8502 "
        "(infrastructure binds them)"
    )


# ----------------------------------------------- one NodePort pair is the repo's formula


def test_one_values_file_keeps_its_nodeport_and_fix_moves_nothing(
    tmp_path: Path, cli: CliRunner
) -> None:
    """One service, ``port: 8001`` and ``nodePort: 30001``: the repo's formula is
    30000 + (port - 8000). It was the seed's 31000, so ``check`` (no config, and after
    init) reported a false PR005 and ``fix`` moved the nodePort to 31001."""
    root = git_repo(
        tmp_path,
        {"helm/values/api.yaml": "service:\n  type: NodePort\n  port: 8001\n  nodePort: 30001\n"},
    )
    check = cli("--root", str(root), "check")
    assert (check.code, check.out) == (
        1,
        "helm/values/api.yaml:3: error PR006 values file for api, which the registry does "
        "not know\n"
        "    hint: run `portreg reconcile` to adopt it, or `portreg fix --prune`\n"
        "❌ 1 error, 0 warnings, 1 info (--verbose shows it)\n",
    )
    notes, config = init(cli, root)
    assert notes[6] == "NodePorts: 30000 + (port - 8000), as the repo's mappings derive them"
    assert (config["node-port-base"], config["node-port-offset"]) == (30000, 8000)
    before = tree(root)
    fix = cli("--root", str(root), "fix")
    assert fix.code == 0, fix.err
    after = tree(root)
    assert [name for name in after if after[name] != before.get(name)] == [
        "scripts/port-registry.json"
    ]
    assert cli("--root", str(root), "check").code == 0


# ------------------------------------------------------ a file name that is not UTF-8


def test_a_name_that_is_not_utf8_is_left_out_and_no_command_fails(
    tmp_path: Path, cli: CliRunner
) -> None:
    """A folder ``k\\xe9`` (Latin-1) holding a kind config, in a folder that is no git
    checkout: no config can name it, and every command stopped with "kind.config: ...
    holds a control character" (exit 2), ``list`` too. Such a name is no part of the
    layout; the rest is read as usual."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "compose.yaml").write_text(compose("api", 8001))
    latin = Path(os.fsdecode(bytes(root) + b"/k\xe9"))
    latin.mkdir()
    (latin / "kind.yaml").write_text("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n")
    before = tree(root)
    listed = cli("--root", str(root), "list")
    assert (listed.code, listed.err) == (0, "")
    check = cli("--root", str(root), "check")
    assert (check.code, check.out, check.err) == (
        0,
        "✅ No port conflicts: every file agrees with the registry\n",
        "",
    )
    assert tree(root) == before
    notes, config = init(cli, root)
    assert notes[0] == "kind cluster configs: none"
    assert config["compose"] == {"enabled": True, "files": ["compose.yaml"]}


# --------------------------------------------------------- a service on the last hundred


def test_a_service_in_the_last_hundred_gives_a_range_that_ends_at_65535(
    tmp_path: Path, cli: CliRunner
) -> None:
    """A forward on 65500: the range's whole hundreds ran to 65599, and every command
    of the repo with no config stopped with "last-port: 65599 is not a TCP port"."""
    tiltfile = (
        "k8s_resource('web', port_forwards=['65401:8080'])\n"
        "k8s_resource('api', port_forwards=['65500:8080'])\n"
    )
    root = git_repo(tmp_path, {"Tiltfile": tiltfile})
    check = cli("--root", str(root), "check")
    assert (check.code, check.out, check.err) == (
        0,
        "✅ No port conflicts: every file agrees with the registry\n",
        "",
    )
    notes, config = init(cli, root)
    assert (config["first-port"], config["last-port"]) == (65401, 65535)
    assert notes[5] == "range 65401-65535: holds the 2 service port(s) found"
