"""Issue 20, part 4: the traps a newcomer fell into on a small repo of their own, each
held by a real CLI run: its exact output and exit code, and the files before and after."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import CliRunner, tree

QUICK_START = """\
Quick start:
  portreg init            write portreg.toml and an empty registry
  portreg check           report every port clash and file out of line
  portreg fix --dry-run   preview the edits that make `check` pass (then: portreg fix)
"""


def test_portreg_alone_prints_the_short_help_starting_with_the_quick_start(
    cli: CliRunner,
) -> None:
    run = cli()
    assert (run.code, run.err) == (0, "")
    assert run.out.startswith(QUICK_START + "\nCommands:\n  assign          assign the next")
    assert "  merge-driver    git merge driver for the registry (%O %A %B)\n" in run.out
    assert "__complete" not in run.out
    assert run.out.endswith(
        "\n`portreg COMMAND --help` says more about one; `portreg --help`: every option.\n"
    )


def test_the_top_level_help_has_the_quick_start_too(cli: CliRunner) -> None:
    run = cli("--help")
    assert run.code == 0
    assert run.out.split("\n\n")[1] + "\n" == QUICK_START


def test_init_force_without_compat_script_is_a_usage_error(repo: Path, cli: CliRunner) -> None:
    before = tree(repo)
    run = cli("init", "--force", cwd=repo)
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "portreg: error: init: --force replaces scripts/assign-port.py, so it needs "
        "--compat-script (run `portreg init --compat-script --force`, or drop --force)\n"
    )
    assert tree(repo) == before


def test_list_and_every_export_format_share_one_order_by_port(
    repo: Path, cli: CliRunner
) -> None:
    # registry order, name order and port order all differ
    (repo / "scripts" / "port-registry.json").write_text(
        '{"assignments": {"orders": 8003, "billing": 8005, "audit": 8004}}\n'
    )
    root = ("--root", str(repo))
    assert cli(*root, "list").out == (
        "Port Assignments:\n"
        "--------------------------------------------------\n"
        "  orders                      Port: 8003  NodePort: 31003\n"
        "  audit                       Port: 8004  NodePort: 31004\n"
        "  billing                     Port: 8005  NodePort: 31005\n"
        "--------------------------------------------------\n"
        "\n"
        "Total: 3 services\n"
    )
    assert cli(*root, "export", "-o", "csv").out == (
        "service,port,node_port\norders,8003,31003\naudit,8004,31004\nbilling,8005,31005\n"
    )
    assert cli(*root, "export", "-o", "markdown").out == (
        "| Service | Port | NodePort |\n"
        "| ------- | ---: | -------: |\n"
        "| orders  | 8003 |    31003 |\n"
        "| audit   | 8004 |    31004 |\n"
        "| billing | 8005 |    31005 |\n"
    )
    assert cli(*root, "export", "-o", "env").out.splitlines()[::2] == [
        "ORDERS_PORT=8003",
        "AUDIT_PORT=8004",
        "BILLING_PORT=8005",
    ]
    for listing in (cli(*root, "list", "-o", "json").out, cli(*root, "export", "-o", "json").out):
        assert [row["service"] for row in json.loads(listing)] == ["orders", "audit", "billing"]
