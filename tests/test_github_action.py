"""``action.yml``: a composite GitHub Action. Its shape is read with PyYAML, and its
``run:`` steps run here in bash, in order, as the runner would run them: expressions
substituted, in the workspace, with a fresh venv so the install step really installs
portreg from this checkout."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import SEED_REGISTRY, sarif_errors

CHECKOUT = Path(__file__).parent.parent
V = "helm/rerp-microservice/values"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    return yaml.safe_load((CHECKOUT / "action.yml").read_text())


def steps(action: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in action["runs"]["steps"]}


def test_a_composite_action_with_its_inputs_and_steps(action: dict[str, Any]):
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert {name: spec["default"] for name, spec in inputs.items()} == {
        "root": ".",
        "strict": "false",
        "sarif": "",
        "python-version": "",
    }
    assert all(spec["description"] for spec in inputs.values())
    named = steps(action)
    assert list(named) == ["Set up Python", "Install portreg", "portreg check", "Upload SARIF"]
    python = named["Set up Python"]
    assert python["uses"].startswith("actions/setup-python@")
    assert python["if"] == "inputs.python-version != ''"
    assert python["with"] == {"python-version": "${{ inputs.python-version }}"}
    upload = named["Upload SARIF"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif }}"
    # only when asked for, and after a failing check too (the default if: is success())
    assert "inputs.sarif != ''" in upload["if"]
    assert "!cancelled()" in upload["if"]
    for step in named.values():
        assert ("run" in step) != ("uses" in step)
        if "run" in step:
            assert step["shell"] == "bash"
            assert "if" not in step
            assert "${{" not in step["run"]  # inputs reach scripts as env, never as code
    assert "${{ github.action_path }}" in named["Install portreg"]["env"].values()


class Runner:
    """The run: steps of the action, run one after another as a runner would."""

    def __init__(self, action: dict[str, Any], workspace: Path, temp: Path) -> None:
        self.action = action
        self.workspace = workspace
        self.temp = temp

    def context(self, inputs: dict[str, str]) -> dict[str, str]:
        defaults = {name: spec["default"] for name, spec in self.action["inputs"].items()}
        values = {f"inputs.{name}": value for name, value in {**defaults, **inputs}.items()}
        return {
            **values,
            "github.action_path": str(CHECKOUT),
            "github.workspace": str(self.workspace),
        }

    def substitute(self, text: str, context: dict[str, str]) -> str:
        return EXPRESSION.sub(lambda m: context[m.group(1)], text)  # unknown: KeyError

    def run(self, name: str, **inputs: str) -> subprocess.CompletedProcess[str]:
        step = steps(self.action)[name]
        context = self.context(inputs)
        script = self.temp / "step.sh"
        script.write_text(self.substitute(step["run"], context))
        env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "HOME": os.environ.get("HOME", str(self.temp)),
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTIONS": "true",
            **{key: self.substitute(str(value), context) for key, value in step["env"].items()},
        }
        # the runner's own command line for `shell: bash`
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )


def demo_repo(root: Path) -> None:
    """The seed's registry, and invoice's values file copied from general-ledger's (port,
    containerPort and nodePort all general-ledger's)."""
    (root / ".git").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / "scripts" / "port-registry.json").write_text(SEED_REGISTRY)
    (root / V).mkdir(parents=True)
    for service in ("general-ledger", "invoice"):
        (root / V / f"{service}.yaml").write_text(
            "service:\n  port: 8001\n  containerPort: 8001\n  nodePort: 31001\n"
        )


def errors(out: str) -> list[str]:
    """``file=...,line=...,title=...`` of each ``::error`` annotation."""
    return [
        line.split("::")[1].removeprefix("error ")
        for line in out.splitlines()
        if line.startswith("::error ")
    ]


def sarif_places(path: Path) -> list[tuple[str, str, int]]:
    log = json.loads(path.read_text())
    assert sarif_errors(log) == []
    return [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in log["runs"][0]["results"]
        if r["level"] == "error"
    ]


def test_the_steps_install_portreg_fail_on_a_conflict_and_pass_after_fix(
    action: dict[str, Any], tmp_path: Path
):
    workspace, temp = tmp_path / "workspace", tmp_path / "runner-temp"
    temp.mkdir()
    demo_repo(workspace)
    runner = Runner(action, workspace, temp)

    installed = runner.run("Install portreg")
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout.strip() == "portreg 0.1.0"
    portreg = temp / "portreg-action" / "bin" / "portreg"
    assert not (temp / "portreg-action").is_relative_to(CHECKOUT)

    report = "reports/portreg.sarif"
    failed = runner.run("portreg check", sarif=report)
    assert failed.returncode == 1, failed.stderr
    wrong = f"file={V}/invoice.yaml,line=2,title=PR003"
    assert wrong in errors(failed.stdout)
    # the SARIF log is written before the step fails, with the same places
    places = sarif_places(workspace / report)
    assert ("PR003", f"{V}/invoice.yaml", 2) in places
    assert [f"file={p},line={n},title={c}" for c, p, n in places] == errors(failed.stdout)

    fixed = subprocess.run(
        [str(portreg), "fix"], cwd=workspace, capture_output=True, text=True, check=False
    )
    assert fixed.returncode == 0, fixed.stderr
    passed = runner.run("portreg check", sarif=report)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert errors(passed.stdout) == []
    assert sarif_places(workspace / report) == []


def test_a_repo_in_a_subfolder_gets_workspace_paths_and_strict_fails_on_warnings(
    action: dict[str, Any], tmp_path: Path
):
    workspace, temp = tmp_path / "workspace", tmp_path / "runner-temp"
    temp.mkdir()
    demo_repo(workspace / "ports")
    runner = Runner(action, workspace, temp)
    assert runner.run("Install portreg").returncode == 0

    failed = runner.run("portreg check", root="ports", sarif="portreg.sarif")
    assert failed.returncode == 1
    assert f"file=ports/{V}/invoice.yaml,line=2,title=PR003" in errors(failed.stdout)
    assert ("PR003", f"ports/{V}/invoice.yaml", 2) in sarif_places(workspace / "portreg.sarif")

    (workspace / "ports" / V / "invoice.yaml").unlink()  # now only a warning: PR007
    assert runner.run("portreg check", root="ports").returncode == 0
    strict = runner.run("portreg check", root="ports", strict="true")
    assert strict.returncode == 1
    assert "::warning file=ports/scripts/port-registry.json," in strict.stdout

    # a folder name holding the workflow commands' separators is escaped like portreg's paths
    demo_repo(workspace / "a,b:c%d")
    odd = runner.run("portreg check", root="a,b:c%d", sarif="odd.sarif")
    assert odd.returncode == 1
    assert f"file=a%2Cb%3Ac%25d/{V}/invoice.yaml,line=2,title=PR003" in errors(odd.stdout)
    assert ("PR003", f"a%2Cb%3Ac%25d/{V}/invoice.yaml", 2) in sarif_places(workspace / "odd.sarif")
