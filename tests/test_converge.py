"""A real repo in a messy state: ``fix`` alone gets ``check`` green in one run, changing
only ports, and a second ``fix`` changes nothing.

The repo: values files copied from a sibling project (another NodePort formula, foreign
image and binary names), a service that only the kind-config and the Tiltfile name,
infrastructure mappings (PostgreSQL, Redis, Grafana), Tilt forwarding the service host
ports (declared as Tilt's in portreg.toml), a released service's leftovers, and a line
the repo asks portreg to leave alone.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import CliRunner, tree

V = "helm/rerp-microservice/values"
FILES = {
    "portreg.toml": "[kind]\nskip-host-ports = [[8001, 8099]]  # Tilt forwards these\n",
    "scripts/port-registry.json": (
        '{\n  "assignments": {\n    "general-ledger": 8001,\n    "accounts-payable": 8004\n'
        '  },\n  "reserved_ports": [8080]\n}\n'
    ),
    # correct
    f"{V}/general-ledger.yaml": (
        "service:\n  port: 8001\n  containerPort: 8001\n  nodePort: 31001\n"
        "image:\n  name: rerp-general-ledger\n"
    ),
    f"{V}/accounts-payable.yaml": "service:\n  port: 8004\n  containerPort: 8004\n  nodePort: 31004\n",
    # copied from pricewhisperer: its formula, its names, accounts-payable's port
    f"{V}/amd.yaml": (
        "# copied from pricewhisperer\nservice:\n  port: 8004   # their port\n"
        "  containerPort: 8004\n  nodePort: 30804  # their formula\n"
        "image:\n  name: pricewhisperer-amd\napp:\n  binaryName: amd_pw_api\n"
    ),
    # copied too, onto the port the kind-config and the Tiltfile give billing
    f"{V}/ftebe.yaml": (
        "service:\n  port: 8007\n  containerPort: 8007\n  nodePort: 30807\n"
        "image:\n  name: pricewhisperer-ftebe\n"
    ),
    # the repo asks portreg to leave this nodePort alone
    f"{V}/legacy.yaml": (
        "service:\n  port: 8009\n  containerPort: 8009\n"
        "  nodePort: 30809  # portreg: ignore[PR005] (the old cluster reads it)\n"
    ),
    "kind-config.yaml": (
        "kind: Cluster\nnodes:\n- role: control-plane\n  extraPortMappings:\n"
        "  # PostgreSQL\n  - containerPort: 30432\n    hostPort: 5433\n"
        "  # Redis\n  - containerPort: 30379\n    hostPort: 6379\n"
        "  # Grafana\n  - containerPort: 30300\n    hostPort: 3000\n"
        "  # Billing Service\n  - containerPort: 31007\n    hostPort: 8007\n"
    ),
    # reporting: named only by the Tiltfile; Tilt forwards every service port
    "Tiltfile": (
        "# -*- mode: Python -*-\n"
        "k8s_resource('general-ledger', port_forwards='8001:8001')\n"
        "k8s_resource('accounts-payable', port_forwards=8004)\n"
        "k8s_resource('amd', port_forwards='8004:8004')  # copied along with the values\n"
        "k8s_resource('reporting', port_forwards=port_forward(8006, 8006))\n"
        "k8s_resource('billing', port_forwards=8007)\n"
    ),
}


@pytest.fixture
def real(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def errors(cli: CliRunner, root: Path) -> list[tuple[str, str, int]]:
    run = cli("--root", str(root), "check", "--format", "json")
    found = json.loads(run.out)["findings"]
    return [(f["code"], f["path"], f["line"]) for f in found if f["severity"] == "error"]


def comments_and_names(root: Path) -> dict[str, list[str]]:
    """Every comment (from its ``#`` on) and every non-port field of every file."""
    keep = re.compile(r"name:|binaryName:|image:|kind:|nodes:|- role")
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or ".git" in path.parts or path.name == "port-registry.json":
            continue
        lines = path.read_text().splitlines()
        comments = [line[line.index("#") :] for line in lines if "#" in line]
        fields = [line for line in lines if keep.search(line) and "#" not in line]
        found[path.relative_to(root).as_posix()] = comments + fields
    return found


def test_check_reports_each_disagreement_once(real: Path, cli: CliRunner) -> None:
    assert errors(cli, real) == [
        ("PR002", f"{V}/amd.yaml", 3),  # amd's values on accounts-payable's 8004 (its first)
        ("PR006", f"{V}/amd.yaml", 3),
        ("PR005", f"{V}/amd.yaml", 5),  # 30804: their formula
        ("PR006", f"{V}/ftebe.yaml", 2),
        ("PR005", f"{V}/ftebe.yaml", 4),
        ("PR006", f"{V}/legacy.yaml", 2),
        ("PR002", "kind-config.yaml", 16),  # ftebe and billing both on 8007
        ("PR022", "kind-config.yaml", 16),  # billing's mapping and its forward both bind 8007
    ]


def test_fix_alone_converges_in_one_run_changing_only_ports(real: Path, cli: CliRunner) -> None:
    before = comments_and_names(real)
    run = cli("--root", str(real), "fix")
    assert run.code == 0, run.err
    # reporting, which only the Tiltfile names and no finding mentions, is reconcile's
    assert run.out.splitlines()[:4] == [
        "➕ Adopted 'amd' on port 8002 (8004 belongs to accounts-payable)",  # lowest free
        # the service the kind-config and the Tiltfile name keeps 8007; the copy moves
        "➕ Adopted 'ftebe' on port 8003 (8007 goes to billing, which 2 files name (1 name ftebe))",
        f"➕ Adopted 'legacy' on its port 8009 ({V}/legacy.yaml:2)",
        "➕ Adopted 'billing' on its port 8007 (kind-config.yaml:16, Tiltfile:6)",
    ]
    assert errors(cli, real) == []
    assert cli("--root", str(real), "check").code == 0
    # comments, names, images, binaries as they were; only the comment of the kind mapping
    # the declaration removes (Tilt owns 8001-8099) went with it
    before["kind-config.yaml"].remove("# Billing Service")
    assert comments_and_names(real) == before
    assert (real / "Tiltfile").read_text().count("'8002:8004'") == 1  # amd's host side moved
    assert "nodePort: 30809  # portreg: ignore" in (real / V / "legacy.yaml").read_text()
    snapshot = tree(real)
    again = cli("--root", str(real), "fix")
    assert again.out == "ℹ️  Nothing to fix\n"
    assert tree(real) == snapshot


def test_the_dry_run_is_a_patch_git_applies(real: Path, cli: CliRunner) -> None:
    run = cli("--root", str(real), "fix", "--dry-run")
    patch = run.out[run.out.index("--- a/") :]
    subprocess.run(["git", "apply", "--check", "-"], cwd=real, input=patch.encode(), check=True)
    subprocess.run(["git", "apply", "-"], cwd=real, input=patch.encode(), check=True)
    assert errors(cli, real) == []


def test_reconcile_is_the_adopt_only_step(real: Path, cli: CliRunner) -> None:
    before = tree(real)
    run = cli("--root", str(real), "reconcile")
    assert run.code == 0
    after = tree(real)
    assert [name for name in before if before[name] != after[name]] == [
        "scripts/port-registry.json"
    ]
    assignments = json.loads((real / "scripts/port-registry.json").read_text())["assignments"]
    assert assignments == {
        "general-ledger": 8001,
        "accounts-payable": 8004,
        "amd": 8002,
        "ftebe": 8003,
        "legacy": 8009,
        "billing": 8007,
        "reporting": 8006,
    }
