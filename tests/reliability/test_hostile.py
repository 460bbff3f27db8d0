"""Hostile and broken inputs through the whole CLI: one clear line, exit 2, nothing changed."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from reliability_cases import (
    ALIAS_BOMB_CASES,
    ALIAS_BOMB_LIMIT,
    BAD_CONFIGS,
    BAD_KIND,
    BAD_NAMES,
    BAD_REGISTRIES,
    BAD_VALUES,
    NAME_COMMANDS,
    REGISTRY_COMMANDS,
    WRITE_ONLY_REFUSALS,
    alias_bomb,
)

from conftest import SEED_REGISTRY, CliRunner, Run, tree

VALUES = "helm/rerp-microservice/values/invoice.yaml"
KIND = "kind-config.yaml"
REGISTRY = "scripts/port-registry.json"
GOOD_VALUES = "service:\n  name: invoice\n  port: 8002\n  containerPort: 8002\n  nodePort: 31002\n"
GOOD_KIND = """\
kind: Cluster
nodes:
- role: control-plane
  extraPortMappings:
  # Invoice Service
  - containerPort: 31002
    hostPort: 8002
    protocol: TCP
"""


@pytest.fixture
def full_repo(seed_repo: Path) -> Path:
    """The seed registry, a values file per seed service, and kind-config.yaml."""
    values = seed_repo / VALUES
    values.parent.mkdir(parents=True)
    values.write_text(GOOD_VALUES)
    (values.parent / "general-ledger.yaml").write_text(
        GOOD_VALUES.replace("invoice", "general-ledger").replace("8002", "8001")
    )
    (seed_repo / KIND).write_text(GOOD_KIND)
    return seed_repo


def assert_refused(run: Run, needle: str = "") -> None:
    assert run.code == 2, run
    assert run.err.startswith("portreg: error: "), run.err
    assert run.err.count("\n") == 1, run.err
    assert "Traceback" not in run.err
    assert needle in run.err, run.err
    assert run.out == ""


@pytest.mark.parametrize("command", NAME_COMMANDS, ids=lambda c: " ".join(c[:1] + c[2:]))
@pytest.mark.parametrize("name", list(BAD_NAMES.values()), ids=list(BAD_NAMES))
def test_bad_service_names(
    full_repo: Path, cli: CliRunner, name: str, command: tuple[str, ...]
) -> None:
    before = tree(full_repo)
    argv = [part.replace("{name}", name) for part in command]
    # argparse reads "-lead" as an option: still one line, pointing at --help.
    needle = "--help" if name.startswith("-") else "is not a DNS-1035 label"
    assert_refused(cli("--root", str(full_repo), *argv), needle)
    if name.startswith("-"):  # after "--" it is a name, and refused as one
        argv = [part for part in argv if part != name] + ["--", name]
        assert_refused(cli("--root", str(full_repo), *argv), "is not a DNS-1035 label")
    assert tree(full_repo) == before


def write_registry(repo: Path, case: str, text: str) -> None:
    path = repo / REGISTRY
    if case == "not-utf8":
        path.write_bytes(b'{"assignments": {"invoice": 8002, "\xff": 1}}\n')
    elif case == "50-MB":
        with path.open("w") as handle:
            handle.write('{"assignments": {"invoice": 8002}, "padding": "')
            handle.write("x" * (50 * 1024 * 1024))
            handle.write('"}\n')
    else:
        path.write_text(text)


@pytest.mark.parametrize("command", REGISTRY_COMMANDS, ids=" ".join)
@pytest.mark.parametrize(("case", "broken"), list(BAD_REGISTRIES.items()), ids=list(BAD_REGISTRIES))
def test_broken_registries(
    full_repo: Path,
    cli: CliRunner,
    case: str,
    broken: tuple[str, str],
    command: tuple[str, ...],
) -> None:
    text, needle = broken
    write_registry(full_repo, case, text)
    before = tree(full_repo)
    run = cli("--root", str(full_repo), *command)
    if case in WRITE_ONLY_REFUSALS and command[0] in ("list", "query"):
        assert run.code == 0, run
    else:
        assert_refused(run, needle)
        assert REGISTRY in run.err
    assert tree(full_repo) == before


def yaml_cases() -> list[Any]:
    cases = [pytest.param((VALUES, t, n), id=f"values-{k}") for k, (t, n) in BAD_VALUES.items()]
    cases += [pytest.param((KIND, t, n), id=f"kind-{k}") for k, (t, n) in BAD_KIND.items()]
    return cases


@pytest.mark.parametrize("case", yaml_cases())
def test_broken_yaml_files(
    full_repo: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, case: tuple[str, str, str]
) -> None:
    name, text, needle = case
    (full_repo / name).write_text(text)
    before = tree(full_repo)
    monkeypatch.chdir(full_repo)  # a constructed tag would create PWNED here
    for argv in (
        ("assign", "invoice", "--force", "--update-configs"),
        ("update-configs", "invoice"),
    ):
        run = cli("--root", str(full_repo), *argv)
        assert_refused(run, needle)
        assert name in run.err
    assert tree(full_repo) == before
    assert not (full_repo / "PWNED").exists()


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ALIAS_BOMB_LIMIT, ALIAS_BOMB_LIMIT))


@pytest.mark.parametrize("case", ALIAS_BOMB_CASES)
def test_alias_bomb_does_not_exhaust_memory(full_repo: Path, case: str) -> None:
    """9**9 (387 million) leaves if expanded: refused in a process capped at 512 MB."""
    if case == "values file":
        name, text = VALUES, alias_bomb() + "service: *l9\n"
    else:
        name, text = KIND, "kind: Cluster\n" + alias_bomb() + "nodes: *l9\n"
    (full_repo / name).write_text(text)
    before = tree(full_repo)
    for argv in (("assign", "invoice", "--force", "--update-configs"), ("check",)):
        process = subprocess.run(
            [sys.executable, "-m", "portreg", "--root", str(full_repo), *argv],
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_limit_memory,
            check=False,
        )
        assert "MemoryError" not in process.stderr
        assert "Traceback" not in process.stderr
        if argv[0] == "assign":
            assert process.returncode == 2
            assert process.stderr.count("\n") == 1
            assert "alias" in process.stderr
        else:
            assert process.returncode in (0, 1, 2)
    assert tree(full_repo) == before


@pytest.mark.parametrize(("text", "needle"), list(BAD_CONFIGS.values()), ids=list(BAD_CONFIGS))
def test_bad_config(full_repo: Path, cli: CliRunner, text: str, needle: str) -> None:
    (full_repo / "portreg.toml").write_text(text)
    before = tree(full_repo)
    for argv in (("assign", "billing", "--update-configs"), ("list",), ("check",)):
        run = cli("--root", str(full_repo), *argv)
        assert_refused(run, needle)
    assert tree(full_repo) == before
    assert (full_repo / REGISTRY).read_text() == SEED_REGISTRY
