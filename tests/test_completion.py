"""Shell completion: scripts generated from the parser; service names from the registry."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from portreg.cli import build_parser
from portreg.cli.completion import commands, render_completion

VENV_BIN = Path(sys.executable).parent
VISIBLE = ["assign", "query", "list", "release", "update-configs", "init", "export", "docs"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_script_names_the_commands_not_the_hidden_one(shell, cli):
    run = cli("completion", shell)
    assert run.code == 0
    for name in VISIBLE:
        assert name in run.out
    assert "__complete services" in run.out  # how service names are fetched
    assert "'__complete'" not in run.out
    assert " __complete)" not in run.out


def test_commands_come_from_the_parser():
    found = {c.name: c for c in commands(build_parser())}
    assert "__complete" not in found
    assert found["query"].services
    assert found["update-configs"].services
    assert not found["list"].services
    assert found["completion"].choices == ("bash", "zsh", "fish")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_commands_and_service_names(seed_repo: Path):
    script = render_completion("bash", build_parser())
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}

    def complete(*words: str) -> list[str]:
        array = " ".join(f"'{w}'" for w in words)
        program = (
            f'eval "$SCRIPT"; COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; _portreg; '
            'printf "%s\\n" "${COMPREPLY[@]}"'
        )
        done = subprocess.run(
            ["bash", "-c", program],
            cwd=seed_repo,
            env={**env, "SCRIPT": script},
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.split()

    assert complete("portreg", "qu") == ["query"]
    assert complete("portreg", "query", "") == ["general-ledger", "invoice"]
    assert complete("portreg", "release", "in") == ["invoice"]
    assert complete("portreg", "export", "--format", "c") == ["csv"]
    assert complete("portreg", "completion", "") == ["bash", "zsh", "fish"]
    assert "--dry-run" in complete("portreg", "assign", "--")
    elsewhere = str(seed_repo.parent)  # --root is passed on to the service lookup
    assert complete("portreg", "--root", str(seed_repo), "query", "g") == ["general-ledger"]
    assert complete("portreg", "--root", elsewhere, "query", "g") == []


def test_hidden_complete_is_silent_on_errors(tmp_path: Path, cli):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "port-registry.json").write_text("{ broken")
    run = cli("--root", str(tmp_path), "__complete", "services")
    assert (run.code, run.out, run.err) == (0, "", "")


def test_hidden_command_is_not_in_help():
    listed = build_parser().format_help().split("positional arguments:")[1]
    assert "completion" in listed
    assert "__complete" not in listed


def _shell_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}


def _needs(shell: str) -> None:
    if shutil.which(shell) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{shell} is missing: `make test` installs it")
        pytest.skip(f"needs {shell} (installed by `make test`)")


def test_fish_completes_commands_and_service_names(seed_repo: Path, tmp_path: Path):
    _needs("fish")
    script = tmp_path / "portreg.fish"
    script.write_text(render_completion("fish", build_parser()))

    def complete(line: str) -> list[str]:
        done = subprocess.run(
            ["fish", "--no-config", "-c", f"source {script}; complete -C '{line}'"],
            cwd=seed_repo,
            env=_shell_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        return [row.split("\t")[0] for row in done.stdout.splitlines()]

    assert complete("portreg qu") == ["query"]
    assert complete("portreg query ") == ["general-ledger", "invoice"]
    assert complete("portreg release in") == ["invoice"]
    assert complete(f"portreg --root {seed_repo.parent} query g") == []


# zsh runs the generated function for real; only compsys's builtins are stand-ins that
# print what they were given (they exist only inside a completion widget)
ZSH_STUBS = """
compadd() {
  while [[ $1 == -* ]]; do
    [[ $1 == -- ]] && { shift; break }
    [[ $1 == -a ]] && { shift; print -l ${(P)1}; return }
    shift
  done
  print -l -- "$@"
}
_describe() { local entry; for entry in ${(P)2}; do print -- ${entry%%:*}; done }
_files() { print FILES }
"""


def test_zsh_completes_commands_and_service_names(seed_repo: Path, tmp_path: Path):
    _needs("zsh")
    script = tmp_path / "_portreg"
    script.write_text(render_completion("zsh", build_parser()))

    def complete(*words: str) -> list[str]:
        array = " ".join(f"'{w}'" for w in words)
        program = (
            f"{ZSH_STUBS}\nsource {script}\n"
            f"words=({array}); CURRENT={len(words)}; PREFIX='{words[-1]}'; _portreg"
        )
        done = subprocess.run(
            ["zsh", "-f", "-c", program],
            cwd=seed_repo,
            env=_shell_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        return [name for name in done.stdout.split() if name.startswith(words[-1])]

    assert complete("portreg", "qu") == ["query"]
    assert complete("portreg", "query", "") == ["general-ledger", "invoice"]
    assert "--dry-run" in complete("portreg", "assign", "--")
    assert complete("portreg", "--root", str(seed_repo.parent), "query", "g") == []
