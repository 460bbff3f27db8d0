"""``portreg check`` through ``main(argv)``: exit codes and the three output formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CliRunner

V = "helm/rerp-microservice/values"


def values(root: Path, service: str, port: int, node_port: int) -> None:
    folder = root / V
    folder.mkdir(parents=True, exist_ok=True)
    text = f"service:\n  port: {port}\n  containerPort: {port}\n  nodePort: {node_port}\n"
    (folder / f"{service}.yaml").write_text(text)


@pytest.fixture
def clean(seed_repo: Path) -> Path:
    values(seed_repo, "general-ledger", 8001, 31001)
    values(seed_repo, "invoice", 8002, 31002)
    return seed_repo


def test_clean_repo_exits_0_and_says_so(cli: CliRunner, clean: Path):
    run = cli("--root", str(clean), "check")
    assert run.code == 0
    # portreg's default NodePort range is no news about the repo: no KEP-3668 note
    assert run.out == "✅ No port conflicts: every file agrees with the registry\n"
    assert cli("--root", str(clean), "check", "--verbose").out == run.out


def test_the_config_init_writes_gives_no_info_note_either(cli: CliRunner, clean: Path):
    assert cli("--root", str(clean), "init").code == 0  # what init found: nothing to note
    assert "first-port = 8001" in (clean / "portreg.toml").read_text()
    run = cli("--root", str(clean), "check", "--verbose")
    assert (run.code, run.out) == (0, "✅ No port conflicts: every file agrees with the registry\n")


def test_a_range_the_repo_chose_gets_the_note_with_verbose(cli: CliRunner, clean: Path):
    (clean / "portreg.toml").write_text("node-port-range = [31000, 32767]\n")
    run = cli("--root", str(clean), "check")
    assert run.out == "✅ 0 errors, 0 warnings, 1 info (--verbose shows it)\n"
    verbose = cli("--root", str(clean), "check", "--verbose")
    assert verbose.out.splitlines() == [
        "portreg.toml:1: info PR014 node-port-range 31000-32767 lies above "
        "Kubernetes' static NodePort band 30000-30085 (KEP-3668): a Service created without a "
        "nodePort is given one from above the band first, and may take a port portreg hands "
        "out",
        "    hint: give every Service an explicit nodePort, or move node-port-range into the band",
        "✅ 0 errors, 0 warnings, 1 info",
    ]


def test_the_static_band_note_points_at_the_line_that_sets_the_range(cli: CliRunner, clean: Path):
    (clean / "portreg.toml").write_text(
        "# widened\nnode-port-range = [30000, 32767]\nnode-port-base = 31000\n"
    )
    run = cli("--root", str(clean), "check", "--verbose")
    assert run.out.startswith(
        "portreg.toml:2: info PR014 node-port-range 30000-32767 reaches above Kubernetes' "
        "static NodePort band 30000-30085 (KEP-3668)"
    )


def test_warnings_pass_unless_strict(cli: CliRunner, seed_repo: Path):
    values(seed_repo, "general-ledger", 8001, 31001)  # invoice has no values file: a warning
    assert cli("--root", str(seed_repo), "check").code == 0
    assert cli("--root", str(seed_repo), "check", "--strict").code == 1


def test_errors_exit_1_json_is_one_document(cli: CliRunner, clean: Path):
    values(clean, "invoice", 8002, 30802)
    run = cli("--root", str(clean), "check", "--format", "json")
    assert run.code == 1
    document = json.loads(run.out)
    assert document["counts"] == {"error": 1, "warning": 0, "info": 0}
    assert document["findings"][0] == {
        "code": "PR005",
        "severity": "error",
        "path": f"{V}/invoice.yaml",
        "line": 4,
        "message": "service.nodePort is 30802, the formula gives 31002 (31000 + (8002 - 8000))",
        "hint": "run `portreg fix`",
        "service": "invoice",
        "port": 30802,
        "holder": None,
    }


def test_github_annotations(cli: CliRunner, clean: Path):
    values(clean, "invoice", 8002, 30802)
    (clean / "portreg.toml").write_text("node-port-range = [31000, 32767]\n")
    run = cli("--root", str(clean), "check", "--format", "github")
    lines = run.out.splitlines()
    assert lines[0] == (
        f"::error file={V}/invoice.yaml,line=4,title=PR005::service.nodePort is 30802, the "
        "formula gives 31002 (31000 + (8002 - 8000)) (run `portreg fix`)"
    )
    assert len(lines) == 1  # the info note only with --verbose
    verbose = cli("--root", str(clean), "check", "--format", "github", "--verbose")
    notice = verbose.out.splitlines()[1]
    assert notice.startswith("::notice file=portreg.toml,line=1,title=PR014::")


def test_unreadable_registry_exits_2_without_traceback(cli: CliRunner, repo: Path):
    (repo / "scripts" / "port-registry.json").write_text("{not json")
    run = cli("--root", str(repo), "check")
    assert run.code == 2
    assert run.err.startswith("portreg: error: ")
    assert "Traceback" not in run.err


def test_broken_files_become_findings(cli: CliRunner, clean: Path):
    (clean / "compose.yaml").write_text("services:\n  a: [\n")
    (clean / V / "invoice.yaml").write_text("service: {port: 8002\n")
    run = cli("--root", str(clean), "check", "--format", "json")
    found = [(f["code"], f["path"]) for f in json.loads(run.out)["findings"]]
    assert ("PR017", "compose.yaml") in found
    assert ("PR017", f"{V}/invoice.yaml") in found
    assert run.code == 1


def test_live_names_a_listener_on_a_port_only_a_file_binds(
    cli: CliRunner, clean: Path, monkeypatch: pytest.MonkeyPatch
):
    """A database's forward is no registered service, and `tilt up` fails on it alike."""
    from portreg.check import live

    (clean / "docker-compose.yml").write_text(
        "services:\n  postgres:\n    image: postgres\n    ports:\n      - '5432:5432'\n"
    )
    monkeypatch.setattr(live, "listeners", lambda ports, *where: {5432: "postgres (pid 7)"})
    run = cli("--root", str(clean), "check", "--live", "--format", "json")
    found = [
        (f["path"], f["line"], f["message"], f["hint"])
        for f in json.loads(run.out)["findings"]
        if f["code"] == "PR016"
    ]
    assert found == [
        (
            "docker-compose.yml",
            5,
            "port 5432 of postgres (docker-compose.yml:5) is in use on this machine by "
            "postgres (pid 7)",
            "stop that process",
        )
    ]


def test_live_names_a_listener(cli: CliRunner, clean: Path, monkeypatch: pytest.MonkeyPatch):
    from portreg.check import live

    monkeypatch.setattr(live, "listeners", lambda ports, *where: {8002: "python3 (pid 42)"})
    run = cli("--root", str(clean), "check", "--live")
    assert (
        "warning PR016 port 8002 of invoice is in use on this machine by python3 (pid 42)"
        in run.out
    )
    assert run.code == 0
