"""``--dry-run`` prints a diff alone on stdout, that ``git apply`` and ``patch`` both apply,
even to a file whose path holds a space (issue 19, hostile tester)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import CliRunner

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or shutil.which("patch") is None, reason="needs git and patch"
)

CONFIG = """\
[helm]
enabled = false
[kind]
config = "dev cluster/kind config.yaml"
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
"""
KIND_AFTER = (
    KIND
    + """\
  # Invoice Service
  - containerPort: 31002
    hostPort: 8002
    protocol: TCP
"""
)


@pytest.fixture
def spaced(repo: Path, cli: CliRunner) -> Path:
    (repo / "portreg.toml").write_text(CONFIG)
    (repo / "dev cluster").mkdir()
    (repo / "dev cluster" / "kind config.yaml").write_text(KIND)
    assert cli("--root", str(repo), "assign", "general-ledger").code == 0
    return repo


def copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    shutil.rmtree(target / ".git")
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    return target


def pipe(tool: list[str], root: Path, patch: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(tool, cwd=root, input=patch.encode(), capture_output=True, check=False)


@pytest.mark.parametrize(
    "command",
    [["assign", "invoice", "--update-configs"], ["fix"]],
    ids=["assign", "fix"],
)
def test_the_dry_run_is_a_pure_diff_git_and_patch_apply(
    spaced: Path, cli: CliRunner, tmp_path: Path, command: list[str]
) -> None:
    if command == ["fix"]:  # invoice's mapping binds general-ledger's host port: fix moves it
        clash = KIND_AFTER.replace("hostPort: 8002", "hostPort: 8001")
        (spaced / "dev cluster" / "kind config.yaml").write_text(clash)
    run = cli("--root", str(spaced), *command, "--dry-run")
    assert run.code == 0
    assert run.out.startswith("--- a/")  # no message line before the diff
    assert "--- a/dev cluster/kind config.yaml\t\n+++ b/dev cluster/kind config.yaml\t\n" in (
        run.out
    )
    for tool in (["git", "apply", "--check", "-"], ["patch", "--dry-run", "-p1"]):
        checked = pipe(tool, copy(spaced, tmp_path / tool[0]), run.out)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    planned = copy(spaced, tmp_path / "planned")
    assert pipe(["patch", "-p1", "--quiet"], planned, run.out).returncode == 0
    assert cli("--root", str(spaced), *command).code == 0
    for name in ("dev cluster/kind config.yaml", "scripts/port-registry.json"):
        assert (planned / name).read_text() == (spaced / name).read_text(), name


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("my dir/v.yaml", "--- a/my dir/v.yaml\t\n"),
        ('say "hi"/v w.yaml', '--- "a/say \\"hi\\"/v w.yaml"\t\n'),
        ("tab\there/v.yaml", '--- "a/tab\\there/v.yaml"\n'),
        ("back\\slash/v.yaml", '--- "a/back\\\\slash/v.yaml"\n'),
    ],
    ids=["space", "quote-and-space", "tab", "backslash"],
)
@pytest.mark.parametrize("tool", ["git", "patch"])
def test_names_git_would_quote_are_quoted_as_git_does(
    tmp_path: Path, name: str, header: str, tool: str
) -> None:
    from portreg.io.diff import render_diff
    from portreg.io.workspace import FileEdit

    root = tmp_path / "repo"
    path = root / name
    path.parent.mkdir(parents=True)
    path.write_text("a: 1\nb: 2\n")
    patch = render_diff([FileEdit(path, name, "a: 1\nb: 2\n", "a: 1\nb: 3\n")])
    assert patch.startswith(header)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    tools = {"git": ["git", "apply", "-"], "patch": ["patch", "-p1", "--quiet"]}
    applied = pipe(tools[tool], root, patch)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert path.read_text() == "a: 1\nb: 3\n"
