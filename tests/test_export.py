"""export: pure renderers (whole-output expectations) and the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portreg.commands.export import render_csv, render_env, render_json, render_markdown
from portreg.model import Assignment

ROWS = [
    Assignment("invoice", 8002, 31002),
    Assignment("general-ledger", 8001, 31001),
    Assignment("accounts-receivable", 8003, 31003),
]


def test_markdown_is_an_aligned_table_sorted_by_port():
    assert render_markdown(ROWS) == (
        "| Service             | Port | NodePort |\n"
        "| ------------------- | ---: | -------: |\n"
        "| general-ledger      | 8001 |    31001 |\n"
        "| invoice             | 8002 |    31002 |\n"
        "| accounts-receivable | 8003 |    31003 |\n"
    )


def test_markdown_without_services_is_just_the_header():
    assert render_markdown([]) == ("| Service | Port | NodePort |\n| ------- | ---: | -------: |\n")


def test_env_lines_are_sourceable():
    assert render_env(ROWS) == (
        "GENERAL_LEDGER_PORT=8001\nGENERAL_LEDGER_NODE_PORT=31001\n"
        "INVOICE_PORT=8002\nINVOICE_NODE_PORT=31002\n"
        "ACCOUNTS_RECEIVABLE_PORT=8003\nACCOUNTS_RECEIVABLE_NODE_PORT=31003\n"
    )


def test_csv_has_service_port_node_port():
    assert render_csv(ROWS) == (
        "service,port,node_port\n"
        "general-ledger,8001,31001\ninvoice,8002,31002\naccounts-receivable,8003,31003\n"
    )


def test_json_is_a_list_of_objects():
    assert json.loads(render_json(ROWS)) == [
        {"service": "general-ledger", "port": 8001, "node_port": 31001},
        {"service": "invoice", "port": 8002, "node_port": 31002},
        {"service": "accounts-receivable", "port": 8003, "node_port": 31003},
    ]


@pytest.mark.parametrize("fmt", ["markdown", "json", "csv", "env", "html"])
def test_export_command_writes_stdout(seed_repo: Path, cli, fmt):
    (seed_repo / "kind-config.yaml").write_text(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n"
    )
    run = cli("--root", str(seed_repo), "export", "--format", fmt)
    assert run.code == 0
    assert "8002" in run.out
    assert "31002" in run.out  # NodePorts in every format, where the repo derives them


def test_export_to_a_file(seed_repo: Path, cli, tmp_path: Path):
    (seed_repo / "kind-config.yaml").write_text(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n"
    )
    target = tmp_path / "ports.env"
    run = cli("--root", str(seed_repo), "export", "-o", "env", "--out", str(target))
    assert run.code == 0
    assert run.out == ""
    assert target.read_text() == (
        "GENERAL_LEDGER_PORT=8001\nGENERAL_LEDGER_NODE_PORT=31001\n"
        "INVOICE_PORT=8002\nINVOICE_NODE_PORT=31002\n"
    )


def test_export_onto_a_folder_is_a_clear_error(seed_repo: Path, cli, tmp_path: Path):
    run = cli("--root", str(seed_repo), "export", "--out", str(tmp_path))
    assert run.code == 2
    assert run.err.startswith("portreg: error:")
    assert "Traceback" not in run.err


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (".git/config", "is inside a git folder"),
        (".git/hooks/post-checkout", "is inside a git folder"),
        ("scripts/port-registry.json", "is portreg's own file"),
        ("scripts/../scripts/port-registry.json", "is portreg's own file"),
        ("portreg.toml", "is portreg's own file"),
        ("missing/ports.md", "does not exist (create it first)"),
    ],
)
def test_out_never_writes_into_git_over_portregs_files_or_into_a_missing_folder(
    seed_repo: Path, cli, out: str, message: str
) -> None:
    (seed_repo / "portreg.toml").write_text("first-port = 8001\n")
    (seed_repo / ".git" / "hooks").mkdir(parents=True, exist_ok=True)
    (seed_repo / ".git" / "config").write_text("[core]\n")
    before = {p: p.read_bytes() for p in seed_repo.rglob("*") if p.is_file()}
    run = cli("export", "--out", out, cwd=seed_repo)
    assert (run.code, run.out) == (2, "")
    assert run.err.startswith(f"portreg: error: {out}: ")
    assert message in run.err
    assert run.err.count("\n") == 1
    assert {p: p.read_bytes() for p in seed_repo.rglob("*") if p.is_file()} == before
    assert not (seed_repo / "missing").exists()


def test_out_never_writes_into_a_separate_git_dir(tmp_path: Path, cli) -> None:
    import subprocess

    root, git_dir = tmp_path / "repo", tmp_path / "elsewhere.git"
    root.mkdir()
    subprocess.run(["git", "init", "-q", f"--separate-git-dir={git_dir}", str(root)], check=True)
    description = (git_dir / "description").read_bytes()
    run = cli("--root", str(root), "export", "--out", str(git_dir / "description"))
    assert (run.code, run.out) == (2, "")
    assert "is inside a git folder" in run.err
    assert (git_dir / "description").read_bytes() == description
