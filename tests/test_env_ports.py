"""Ports from the environment: compose's ``${INVOICE_PORT:-8002}`` and the Tiltfile idiom
``port_forward(int(os.getenv('INVOICE_PORT', '8002')), 8080)`` are read with the
default as the committed port and the variable named; ``portreg init --env-ports``
rewrites literal host ports into those forms, so a second checkout runs on other ports
with no committed file changed. Held to docker-compose (Debian's) and to Tilt's own
Starlark interpreter where they are installed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from portreg.targets.compose import scan_text as compose_scan

from conftest import CliRunner, git_repo, tree

COMPOSE = """\
# invoice and billing for local runs (8002 is the API)
services:
  invoice:
    image: invoice
    ports:
      - "8002:8080"  # the API, 8002
      - 127.0.0.1:9229:9229
  billing:
    image: billing
    ports:
      - target: 8080
        published: 8006
        protocol: tcp
  ledger:
    image: ledger
    ports:
      - "${LEDGER_PORT:-8010}:8080"
      - "8011:9090"
      - "8080"
      - "5353:5353/udp"
  web:
    image: web
    ports: ["8006:80"]
"""

TILTFILE = """\
# the same services on the cluster
k8s_resource('invoice', port_forwards='8002:8080')  # 8002
k8s_resource('billing', port_forwards=[port_forward(8006, 8080, name='api'), 9230])
k8s_resource(workload='ledger', port_forwards=port_forward(int(os.getenv('LEDGER_PORT', '8010')), 8080))
k8s_resource('web', port_forwards=8006)
"""

COMPOSE_AFTER = """\
# invoice and billing for local runs (8002 is the API)
services:
  invoice:
    image: invoice
    ports:
      - "${INVOICE_PORT:-8002}:8080"  # the API, 8002
      - "127.0.0.1:${INVOICE_9229_PORT:-9229}:9229"
  billing:
    image: billing
    ports:
      - target: 8080
        published: "${BILLING_PORT:-8006}"
        protocol: tcp
  ledger:
    image: ledger
    ports:
      - "${LEDGER_PORT:-8010}:8080"
      - "${LEDGER_8011_PORT:-8011}:9090"
      - "8080"
      - "5353:5353/udp"
  web:
    image: web
    ports: ["${WEB_PORT:-8006}:80"]
"""

TILTFILE_AFTER = """\
# the same services on the cluster
k8s_resource('invoice', port_forwards=port_forward(int(os.getenv('INVOICE_PORT', '8002')), 8080))  # 8002
k8s_resource('billing', port_forwards=[port_forward(int(os.getenv('BILLING_PORT', '8006')), 8080, name='api'), port_forward(int(os.getenv('BILLING_9230_PORT', '9230')), 9230)])
k8s_resource(workload='ledger', port_forwards=port_forward(int(os.getenv('LEDGER_PORT', '8010')), 8080))
k8s_resource('web', port_forwards=port_forward(int(os.getenv('WEB_PORT', '8006')), 8006))
"""

DONE = """\
✅ INVOICE_PORT (default 8002): Tiltfile:2, compose.yaml:6
✅ BILLING_PORT (default 8006): Tiltfile:3, compose.yaml:12
✅ BILLING_9230_PORT (default 9230): Tiltfile:3
✅ WEB_PORT (default 8006): Tiltfile:5, compose.yaml:23
✅ INVOICE_9229_PORT (default 9229): compose.yaml:7
✅ LEDGER_8011_PORT (default 8011): compose.yaml:18
   Updated Tiltfile
   Updated compose.yaml
"""

HINT = (
    "ℹ️  5 host ports in compose files and Tiltfiles are fixed numbers; `portreg init "
    "--env-ports` takes each from the environment (the committed port its default), for "
    "several checkouts"
)


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def services(tmp_path: Path, cli: CliRunner) -> Path:
    """A committed repo: compose file, Tiltfile, portreg.toml and a registry holding
    invoice 8002, billing 8006 and ledger 8010 (web's 8006 clashes with billing's)."""
    root = git_repo(tmp_path, {"compose.yaml": COMPOSE, "Tiltfile": TILTFILE})
    assert cli("--root", str(root), "init").code == 0
    assert cli("--root", str(root), "reconcile").code == 0
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    return root


def test_compose_names_the_variable_of_a_port_written_as_one_reference_with_a_default() -> None:
    text = """\
services:
  api:
    ports:
      - "${API_PORT:-8001}:80"
      - " ${API_PORT-8002} :81"
      - "127.0.0.1:${DEBUG_PORT:-9229}:9229"
      - target: 82
        published: "${API_ADMIN_PORT:-8003}"
      - "8004:83"
      - "${A:-80}${B:-06}:86"
      - "${API_PORT}:87"
"""
    assert [(o.line, o.port, o.variable) for o in compose_scan("compose.yaml", text)] == [
        (4, 8001, "API_PORT"),
        (5, 8002, "API_PORT"),
        (6, 9229, "DEBUG_PORT"),
        (8, 8003, "API_ADMIN_PORT"),
        (9, 8004, None),
        (10, 8006, None),  # two references make one port: which variable is it?
        (11, 0, None),  # no default, no .env: not read (unread, named)
    ]


def test_init_offers_env_ports_then_env_ports_rewrites_the_literal_host_ports(
    tmp_path: Path, cli: CliRunner
) -> None:
    root = git_repo(tmp_path, {"compose.yaml": COMPOSE, "Tiltfile": TILTFILE})
    run = cli("--root", str(root), "init")
    assert run.code == 0, run.err
    assert run.out.splitlines()[-1] == HINT.replace("5 host", "9 host")  # web's, too
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    run = cli("--root", str(root), "init", "--env-ports")
    assert run.code == 0, run.err
    assert (root / "compose.yaml").read_text() == COMPOSE_AFTER
    assert (root / "Tiltfile").read_text() == TILTFILE_AFTER
    again = cli("--root", str(root), "init")
    assert again.code == 0
    assert "--env-ports" not in again.out  # nothing left to offer


def test_env_ports_writes_both_files_and_nothing_else(services: Path, cli: CliRunner) -> None:
    registry = (services / "scripts" / "port-registry.json").read_text()
    run = cli("--root", str(services), "init", "--env-ports")
    assert (run.code, run.out, run.err) == (0, DONE, "")
    assert (services / "compose.yaml").read_text() == COMPOSE_AFTER
    assert (services / "Tiltfile").read_text() == TILTFILE_AFTER
    assert (services / "scripts" / "port-registry.json").read_text() == registry
    assert git(services, "status", "--porcelain", "--ignored").splitlines() == [
        " M Tiltfile",
        " M compose.yaml",
    ]
    before = tree(services)
    run = cli("--root", str(services), "init", "--env-ports")  # a second run changes nothing
    assert (run.code, run.out, run.err) == (
        0,
        "ℹ️  No literal host port in compose files or Tiltfiles: nothing to rewrite\n",
        "",
    )
    assert tree(services) == before


def test_dry_run_prints_the_diff_and_writes_nothing(services: Path, cli: CliRunner) -> None:
    before = tree(services)
    run = cli("--root", str(services), "init", "--env-ports", "--dry-run")
    assert run.code == 0, run.err
    assert tree(services) == before
    assert run.err == DONE.split("   Updated", maxsplit=1)[0] + "(dry run: nothing was written)\n"
    removed = [
        line[1:] for line in run.out.splitlines() if line.startswith("-") and "--" not in line
    ]
    added = [line[1:] for line in run.out.splitlines() if line.startswith("+") and "++" not in line]
    old = [
        line
        for line in (TILTFILE + COMPOSE).splitlines()
        if line not in TILTFILE_AFTER + COMPOSE_AFTER
    ]
    new = [
        line
        for line in (TILTFILE_AFTER + COMPOSE_AFTER).splitlines()
        if line not in TILTFILE + COMPOSE
    ]
    assert (removed, added) == (old, new)
    assert run.out.startswith("--- a/Tiltfile\n+++ b/Tiltfile\n")


def test_check_finds_the_same_before_and_after(services: Path, cli: CliRunner) -> None:
    before = cli("--root", str(services), "check")
    before_json = cli("--root", str(services), "check", "-o", "json")
    assert before.code == 1  # web's 8006 clashes with billing's: a finding that must stay
    assert "port 8006 is held by both billing" in before.out
    assert cli("--root", str(services), "init", "--env-ports").code == 0
    assert cli("--root", str(services), "check") == before
    assert cli("--root", str(services), "check", "-o", "json") == before_json


def test_assign_moves_the_default_of_a_port_from_the_environment(
    tmp_path: Path, cli: CliRunner
) -> None:
    compose = 'services:\n  invoice:\n    ports: ["${INVOICE_PORT:-8002}:8080"]  # 8002\n'
    tiltfile = (
        "k8s_resource('invoice',"
        " port_forwards=port_forward(int(os.getenv('INVOICE_PORT', '8002')), 8080))\n"
    )
    root = git_repo(tmp_path, {"compose.yaml": compose, "Tiltfile": tiltfile})
    assert cli("--root", str(root), "init").code == 0
    assert cli("--root", str(root), "reconcile").code == 0
    run = cli(
        "--root", str(root), "assign", "invoice", "--port", "8005", "--force", "--update-configs"
    )
    assert run.code == 0, run.err
    assert (root / "compose.yaml").read_text() == compose.replace(":-8002}", ":-8005}")
    assert (root / "Tiltfile").read_text() == tiltfile.replace("'8002'", "'8005'")
    assert cli("--root", str(root), "check").code == 0


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ("--git",),
            "init: --env-ports runs on its own, not with --git (run `portreg init --env-ports`"
            " (with --dry-run to see the diff) by itself)",
        ),
        (
            ("--update",),
            "init: --env-ports runs on its own, not with --update (run `portreg init --env-ports`"
            " (with --dry-run to see the diff) by itself)",
        ),
    ],
)
def test_env_ports_with_another_mode_is_one_error_line(
    services: Path, cli: CliRunner, argv: tuple[str, ...], line: str
) -> None:
    before = tree(services)
    run = cli("--root", str(services), "init", "--env-ports", *argv)
    assert (run.code, run.out) == (2, "")
    assert run.err == f"portreg: error: {line}\n"
    assert tree(services) == before


def test_env_ports_without_a_registry_says_to_init_first(tmp_path: Path, cli: CliRunner) -> None:
    root = git_repo(tmp_path, {"compose.yaml": COMPOSE})
    before = tree(root)
    run = cli("--root", str(root), "init", "--env-ports")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "portreg: error: scripts/port-registry.json: init --env-ports rewrites a portreg "
        "repo's files, and this repo has no registry yet (run `portreg init` first)\n"
    )
    assert tree(root) == before


def test_a_broken_file_is_one_line_and_nothing_is_written(services: Path, cli: CliRunner) -> None:
    (services / "Tiltfile").write_text(TILTFILE + "k8s_resource('x',\n")
    before = tree(services)
    run = cli("--root", str(services), "init", "--env-ports")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "portreg: error: Tiltfile:6: cannot read the Tiltfile ('(' was never closed)\n"
    )
    assert tree(services) == before


def test_docker_compose_publishes_the_committed_ports_unless_a_variable_is_set(
    services: Path, cli: CliRunner
) -> None:
    from test_compose_oracle import ORACLE, oracle

    if ORACLE is None:
        pytest.skip("docker-compose (Debian's package) is not installed: no oracle")
    committed = oracle(services, ["compose.yaml"])
    assert committed["invoice"] == {("", 8002), ("127.0.0.1", 9229)}
    assert cli("--root", str(services), "init", "--env-ports").code == 0
    assert oracle(services, ["compose.yaml"]) == committed
    shifted = oracle(services, ["compose.yaml"], {"INVOICE_PORT": "8102", "WEB_PORT": "8106"})
    assert shifted == {
        **committed,
        "invoice": {("", 8102), ("127.0.0.1", 9229)},
        "web": {("", 8106)},
    }


def test_tilt_forwards_the_committed_ports_unless_a_variable_is_set(
    services: Path, cli: CliRunner
) -> None:
    from test_tilt_oracle import host_forwards

    committed = host_forwards(TILTFILE)
    assert cli("--root", str(services), "init", "--env-ports").code == 0
    rewritten = (services / "Tiltfile").read_text()
    assert host_forwards(rewritten) == committed
    env = {"INVOICE_PORT": "8102", "BILLING_9230_PORT": "9330"}
    assert host_forwards(rewritten, env) == [
        ("invoice", ("host", 8102, 8080, "")),
        ("billing", ("host", 8006, 8080, "")),
        ("billing", ("host", 9330, 9230, "")),
        ("ledger", ("host", 8010, 8080, "")),
        ("web", ("host", 8006, 8006, "")),
    ]
    assert committed[0] == ("invoice", ("host", 8002, 8080, ""))
