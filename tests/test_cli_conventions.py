"""The CLI conventions users know: --version, one error prefix, did-you-mean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from portreg import __version__

from conftest import CliRunner, tree


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(cli: CliRunner, flag: str) -> None:
    run = cli(flag)
    assert (run.code, run.out) == (0, f"portreg {__version__}\n")


def test_version_from_a_real_process() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "portreg", "--version"], capture_output=True, text=True, check=False
    )
    assert (run.returncode, run.stdout) == (0, f"portreg {__version__}\n")


def test_a_mistyped_command_gets_one_line_and_a_suggestion(cli: CliRunner) -> None:
    run = cli("asign", "invoice")
    assert run.code == 2
    assert run.err == "portreg: error: unknown command 'asign' (did you mean `portreg assign`?)\n"
    assert "__complete" not in run.err


def test_a_mistyped_option_gets_a_suggestion(seed_repo: Path, cli: CliRunner) -> None:
    run = cli("--root", str(seed_repo), "assign", "payroll", "--updte-configs")
    assert run.code == 2
    assert run.err == (
        "portreg: error: assign: unrecognized arguments: --updte-configs "
        "(did you mean --update-configs?)\n"
    )
    assert run.err.count("portreg") == 1  # one prefix, not the name twice


def test_help_lists_no_hidden_command(cli: CliRunner) -> None:
    run = cli("--help")
    assert run.code == 0
    assert "__complete" not in run.out
    assert "-V, --version" in run.out


@pytest.mark.parametrize("argv", [("list",), ("check",), ("query", "foo"), ("assign", "foo")])
def test_outside_any_repo_a_command_refuses_to_guess(
    tmp_path: Path, cli: CliRunner, argv: tuple[str, ...]
) -> None:
    """A CI job run in the wrong folder must not pass with an empty registry."""
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    run = cli(*argv, cwd=empty)
    assert run.code == 2
    assert run.err.startswith(f"portreg: error: no portreg repo in {empty} or above it")
    assert "run `portreg init`" in run.err
    assert list(empty.iterdir()) == []


def test_init_is_what_makes_a_folder_a_portreg_repo(tmp_path: Path, cli: CliRunner) -> None:
    empty = tmp_path / "new-repo"
    (empty / "scripts").mkdir(parents=True)
    assert cli("init", cwd=empty).code == 0
    assert (empty / "portreg.toml").exists()
    assert cli("list", cwd=empty).code == 0


@pytest.mark.parametrize(
    "command",
    ["assign", "query", "list", "release", "update-configs", "check", "reconcile", "fix", "init"],
)
def test_each_command_has_a_description_and_an_example(cli: CliRunner, command: str) -> None:
    run = cli(command, "--help")
    assert run.code == 0
    usage, description, *_rest = run.out.split("\n\n")
    assert usage.startswith(f"usage: portreg {command}")
    assert description.strip()
    assert "\n" not in description.strip()
    assert run.out.splitlines()[-1].startswith(f"example: portreg {command}")


@pytest.mark.parametrize(
    ("command", "spellings"),
    [
        (["query", "general-ledger"], [["-o", "json"], ["--output=json"], ["--json"]]),
        (["list"], [["-o", "json"], ["--output", "json"], ["--json"], ["--format", "json"]]),
        (["check"], [["-o", "json"], ["--format", "json"], ["--json"]]),
        (["check"], [["-o", "github"], ["--format=github"]]),
        (["export"], [["-o", "csv"], ["--format", "csv"]]),
    ],
    ids=["query", "list", "check-json", "check-github", "export"],
)
def test_one_output_option_and_its_aliases(
    seed_repo: Path, cli: CliRunner, command: list[str], spellings: list[list[str]]
) -> None:
    runs = [cli("--root", str(seed_repo), *command, *spelling) for spelling in spellings]
    assert len({(run.code, run.out, run.err) for run in runs}) == 1
    default = cli("--root", str(seed_repo), *command)
    assert runs[0].out != default.out  # the option was heard
    assert cli("--root", str(seed_repo), *command, "-o", default_format(command)).out == default.out


def default_format(command: list[str]) -> str:
    return "markdown" if command == ["export"] else "text"


def test_output_json_is_json_on_each_printing_command(seed_repo: Path, cli: CliRunner) -> None:
    import json

    for command in (["query", "invoice"], ["list"], ["check"], ["export"]):
        run = cli("--root", str(seed_repo), *command, "-o", "json")
        assert run.code == 0, run.err
        json.loads(run.out)
    run = cli("--root", str(seed_repo), "assign", "payroll", "-o", "json")
    assert (run.code, json.loads(run.out)["service"]) == (0, "payroll")


def test_export_writes_a_file_with_out_and_says_so_when_o_names_one(
    seed_repo: Path, tmp_path: Path, cli: CliRunner
) -> None:
    target = tmp_path / "ports.md"
    run = cli("--root", str(seed_repo), "export", "-o", "ports.md")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "portreg: error: export: argument -o/--output: invalid choice: 'ports.md' (choose from "
        "'markdown', 'json', 'csv', 'env', 'html') (-o is the format; write a file with --out ports.md)\n"
    )
    assert not target.exists()
    run = cli("--root", str(seed_repo), "export", "--out", str(target))
    assert (run.code, run.out, run.err) == (0, "", f"✅ Wrote {target}\n")
    assert target.read_text() == cli("--root", str(seed_repo), "export").out


def test_messages_name_repo_files_by_their_repo_relative_path(
    seed_repo: Path, cli: CliRunner
) -> None:
    (seed_repo / "portreg.toml").write_text("[[[\n")
    for cwd in (seed_repo, seed_repo / "scripts"):
        run = cli("list", cwd=cwd)
        assert run.code == 2
        assert run.err.startswith("portreg: error: portreg.toml: not valid TOML: ")
        assert str(seed_repo) not in run.err
    (seed_repo / "portreg.toml").write_text("first-port = 'x'\n")
    run = cli("--root", str(seed_repo), "list")
    assert run.err.startswith("portreg: error: portreg.toml: ")
    assert str(seed_repo) not in run.err


def test_every_command_a_message_names_exists_with_its_options() -> None:
    """A hint is only as good as the command it names: each ``portreg CMD --opt`` in the
    source must be a real command taking those options."""
    import re

    from portreg.cli import COMMANDS, build_parser

    source = Path(__file__).resolve().parent.parent / "src" / "portreg"
    named = set()
    for path in source.rglob("*.py"):
        for match in re.finditer(r"portreg ((?:[a-z][a-z-]*)(?: [^`\")\n(;]*)?)", path.read_text()):
            words = match.group(1).split()
            if words[0] in COMMANDS or words[0].startswith(("assign", "fix", "check")):
                named.add((path.name, tuple(words)))
    assert len(named) > 20
    for where, words in sorted(named):
        command = words[0]
        assert command in COMMANDS, f"{where}: `portreg {' '.join(words)}` names no command"
        parser = build_parser(only=command)
        options = {
            option
            for action in parser._actions
            for choice in (getattr(action, "choices", None) or {}).values()
            if hasattr(choice, "_actions")
            for sub in choice._actions
            for option in sub.option_strings
        }
        for word in words[1:]:
            flag = word.split("=")[0].rstrip(".,")
            if flag.startswith("--") and flag != "--":
                assert flag in options, f"{where}: `portreg {' '.join(words)}`: no {flag}"


@pytest.mark.parametrize(
    ("argv", "err"),
    [
        (
            ["release", "invoice", "--prune"],
            "release: unrecognized arguments: --prune (see `portreg release --help`)",
        ),
        (
            ["query", "invoice", "--strict"],
            "query: unrecognized arguments: --strict (see `portreg query --help`)",
        ),
        (
            ["fix", "--dryrun"],
            "fix: unrecognized arguments: --dryrun (did you mean --dry-run?)",
        ),
        (
            ["export", "-o", "yaml"],
            "export: argument -o/--output: invalid choice: 'yaml' (choose from 'markdown', "
            "'json', 'csv', 'env', 'html') (see `portreg export --help`)",
        ),
    ],
    ids=["other-commands-option", "another", "typo", "format-typo"],
)
def test_a_usage_error_names_the_command_and_suggests_only_its_own_options(
    seed_repo: Path, cli: CliRunner, argv: list[str], err: str
) -> None:
    run = cli("--root", str(seed_repo), *argv)
    assert (run.code, run.out, run.err) == (2, "", f"portreg: error: {err}\n")


def test_assign_dry_run_as_json_is_json_with_the_diff_and_writes_nothing(
    seed_repo: Path, cli: CliRunner
) -> None:
    import json

    (seed_repo / "kind-config.yaml").write_text(  # the seed's cluster: NodePorts derived
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n"
    )
    before = tree(seed_repo)  # the work tree (the lock lives in .git, as git's own do)
    run = cli("--root", str(seed_repo), "assign", "payroll", "-o", "json", "--dry-run")
    assert (run.code, run.err) == (0, "(dry run: nothing was written)\n")
    result = json.loads(run.out)
    assert {k: result[k] for k in ("service", "port", "node_port", "new", "dry_run")} == {
        "service": "payroll",
        "port": 8003,
        "node_port": 31003,
        "new": True,
        "dry_run": True,
    }
    assert result["changed_files"] == ["scripts/port-registry.json"]
    assert result["diff"] == cli("--root", str(seed_repo), "assign", "payroll", "--dry-run").out
    assert '+    "payroll": 8003\n' in result["diff"]
    assert tree(seed_repo) == before


@pytest.mark.parametrize("port", ["٨٠٠٥", "8_005", "+8005", " 8005", "0x1F45", "99999999999"])
def test_port_takes_ascii_digits_only(seed_repo: Path, cli: CliRunner, port: str) -> None:
    before = tree(seed_repo)
    run = cli("--root", str(seed_repo), "assign", "payroll", "--port", port)
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"portreg: error: assign: argument --port: expected a port number (ASCII digits), "
        f"got {port!r} (see `portreg assign --help`)\n"
    )
    assert tree(seed_repo) == before


def test_a_global_option_is_never_suggested_after_a_command(
    seed_repo: Path, cli: CliRunner
) -> None:
    run = cli("--root", str(seed_repo), "assign", "x", "--prot", "8002")
    assert run.err == (
        "portreg: error: assign: unrecognized arguments: --prot 8002 (did you mean --port?)\n"
    )
