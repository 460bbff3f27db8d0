"""The Python API a bootstrap script calls, and the example script that calls it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from portreg import PortregError, Registry

EXAMPLES = Path(__file__).parent.parent / "examples"
VALUES = "helm/rerp-microservice/values/{}.yaml"


@pytest.fixture
def rerp(tmp_path: Path) -> Path:
    root = tmp_path / "rerp"
    shutil.copytree(EXAMPLES / "rerp", root)
    (root / ".git").mkdir()
    return root


def registry_of(root: Path) -> dict[str, int]:
    data = json.loads((root / "scripts" / "port-registry.json").read_text())
    assignments: dict[str, int] = data["assignments"]
    return assignments


def test_assign_returns_port_node_port_and_changed_files(rerp: Path):
    taken = set(registry_of(rerp).values())
    outcome = Registry.open(rerp).assign("billing", update_configs=True, scaffold=True)

    assert outcome.new
    assert outcome.port is not None
    assert outcome.port not in taken
    assert outcome.node_port == 31000 + (outcome.port - 8000)
    assert sorted(outcome.changed_files) == sorted(
        [
            VALUES.format("billing"),
            "kind-config.yaml",
            ".env.example",  # the example's dotenv target (issue 8)
            "scripts/port-registry.json",
        ]
    )
    assert registry_of(rerp)["billing"] == outcome.port
    values = (rerp / VALUES.format("billing")).read_text()
    assert str(outcome.node_port) in values
    assert f"hostPort: {outcome.port}" in (rerp / "kind-config.yaml").read_text()


def test_assign_again_changes_nothing(rerp: Path):
    first = Registry.open(rerp).assign("billing", update_configs=True, scaffold=True)
    again = Registry.open(rerp).assign("billing", update_configs=True, scaffold=True)
    assert (again.port, again.node_port, again.new) == (first.port, first.node_port, False)
    assert again.changed_files == []


def test_bad_name_raises_one_error_type(rerp: Path):
    with pytest.raises(PortregError, match="DNS-1035"):
        Registry.open(rerp).assign("Billing_Service", update_configs=True)


def test_example_script(rerp: Path):
    script = EXAMPLES / "bootstrap_microservice.py"
    done = subprocess.run(
        [sys.executable, str(script), "shipping", "--root", str(rerp)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    port = registry_of(rerp)["shipping"]
    assert f"Assigned port {port} (NodePort {31000 + port - 8000}) for 'shipping'" in done.stdout
    assert "wrote services/shipping/README.md" in done.stdout
    assert "wrote kind-config.yaml" in done.stdout
    assert (rerp / VALUES.format("shipping")).is_file()

    bad = subprocess.run(
        [sys.executable, str(script), "Not_A_Name", "--root", str(rerp)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("bootstrap: error:")
