"""docs: the port table between the portreg markers, nothing else changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portreg.edit.markdown import BEGIN, END, begin_line, docs_is_current, replace_table, stale_docs
from portreg.errors import FileEditError
from portreg.io.files import read_text

from conftest import CliRunner

TABLE = "| Service | Port |\n| ------- | ---: |\n| a       | 8001 |\n"

SEED_TABLE = (  # the seed's registry alone: no kind cluster, no Helm values, no NodePorts
    "| Service        | Port |\n"
    "| -------------- | ---: |\n"
    "| general-ledger | 8001 |\n"
    "| invoice        | 8002 |\n"
)


def test_replace_keeps_every_other_byte():
    before = f"# Plan\n\nIntro.\n\n{BEGIN}\nold table\n{END}\n\nOutro, no final newline"
    after = replace_table(before, TABLE)
    assert after == f"# Plan\n\nIntro.\n\n{BEGIN}\n{TABLE}{END}\n\nOutro, no final newline"


def test_crlf_file_stays_crlf():
    before = f"a\r\n{BEGIN}\r\n{END}\r\nb\r\n"
    expected = f"a\r\n{BEGIN}\r\n{TABLE.replace(chr(10), chr(13) + chr(10))}{END}\r\nb\r\n"
    assert replace_table(before, TABLE) == expected


def test_markers_on_one_line_get_the_table_between():
    assert replace_table(f"x {BEGIN}{END} y", TABLE) == f"x {BEGIN}\n{TABLE}{END} y"


def test_is_current_and_begin_line():
    text = replace_table(f"a\nb\n{BEGIN}\n{END}\n", TABLE)
    assert docs_is_current(text, TABLE)
    assert not docs_is_current(text, TABLE + "| b | 8002 |\n")
    assert begin_line(text) == 3
    assert begin_line("no markers") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("no markers here\n", "no <!-- portreg:begin --> marker", id="none"),
        pytest.param(f"{BEGIN}\n", "no <!-- portreg:end --> marker", id="no-end"),
        pytest.param(f"{END}\n{BEGIN}\n", "no <!-- portreg:end --> marker", id="reversed"),
        pytest.param(f"{BEGIN}{END}{BEGIN}{END}", "appears twice", id="twice"),
    ],
)
def test_bad_markers_are_refused(text, message):
    with pytest.raises(FileEditError, match=message):
        replace_table(text, TABLE)


def test_stale_docs_for_check(tmp_path: Path):
    (tmp_path / "ok.md").write_text(f"{BEGIN}\n{TABLE}{END}\n")
    (tmp_path / "old.md").write_text(f"x\n{BEGIN}\nold\n{END}\n")
    (tmp_path / "bare.md").write_text("nothing\n")
    found = stale_docs(["ok.md", "old.md", "bare.md", "gone.md"], TABLE, read_text, tmp_path)
    assert [(p.path, p.line) for p in found] == [
        ("old.md", 2),
        ("bare.md", 1),
        ("gone.md", 1),
    ]
    assert found[0].hint == "run `portreg docs old.md`"


# ------------------------------------------------------------------ command


def test_docs_command_updates_byte_exact(seed_repo: Path, cli):
    plan = seed_repo / "PLAN.md"
    plan.write_bytes(f"# Plan\r\n\r\n{BEGIN}\r\nstale\r\n{END}\r\n\r\nrest".encode())
    run = cli("--root", str(seed_repo), "docs", str(plan))
    assert run.code == 0, run.err
    crlf_table = SEED_TABLE.replace("\n", "\r\n")
    expected = f"# Plan\r\n\r\n{BEGIN}\r\n{crlf_table}{END}\r\n\r\nrest"
    assert plan.read_bytes() == expected.encode()
    assert cli("--root", str(seed_repo), "docs", "--check", str(plan)).code == 0


def test_docs_check_exits_1_when_stale_and_writes_nothing(seed_repo: Path, cli):
    plan = seed_repo / "PLAN.md"
    plan.write_text(f"{BEGIN}\nstale\n{END}\n")
    run = cli("--root", str(seed_repo), "docs", "--check", str(plan))
    assert run.code == 1
    assert "out of date" in run.err
    assert plan.read_text() == f"{BEGIN}\nstale\n{END}\n"


def test_missing_markers_exit_2_and_nothing_is_written(seed_repo: Path, cli):
    good = seed_repo / "GOOD.md"
    bad = seed_repo / "BAD.md"
    good.write_text(f"{BEGIN}\n{END}\n")
    bad.write_text("# no markers\n")
    run = cli("--root", str(seed_repo), "docs", str(good), str(bad))
    assert run.code == 2
    assert run.err.startswith("portreg: error:")
    assert "no <!-- portreg:begin --> marker" in run.err
    assert "Traceback" not in run.err
    assert good.read_text() == f"{BEGIN}\n{END}\n"  # all or nothing


def test_docs_from_settings(seed_repo: Path, cli):
    (seed_repo / "portreg.toml").write_text('docs = ["docs/ports.md"]\n')
    (seed_repo / "docs").mkdir()
    (seed_repo / "docs" / "ports.md").write_text(f"{BEGIN}\n{END}\n")
    run = cli("--root", str(seed_repo), "docs")
    assert (run.code, run.out) == (
        0,
        "✅ Updated the port table in docs/ports.md\n",
    )  # repo-relative
    assert (seed_repo / "docs" / "ports.md").read_text() == f"{BEGIN}\n{SEED_TABLE}{END}\n"
    again = cli("--root", str(seed_repo), "docs")
    assert (again.code, again.out) == (0, "ℹ️  docs/ports.md is up to date\n")


def test_docs_without_files_is_a_clear_error(seed_repo: Path, cli):
    run = cli("--root", str(seed_repo), "docs")
    assert run.code == 2
    assert "docs = [...]" in run.err


def test_check_flags_a_stale_docs_table_until_docs_runs(seed_repo: Path, cli: CliRunner) -> None:
    (seed_repo / "portreg.toml").write_text(
        'docs = ["docs/ports.md"]\n[helm]\nenabled = false\n[kind]\nenabled = false\n'
    )
    (seed_repo / "docs").mkdir()
    (seed_repo / "docs/ports.md").write_text(
        "# Ports\n\n<!-- portreg:begin -->\n<!-- portreg:end -->\n"
    )
    stale = cli("--root", str(seed_repo), "check", "--format", "json")
    found = [f for f in json.loads(stale.out)["findings"] if f["code"] == "PR021"]
    assert [(f["path"], f["line"], f["severity"]) for f in found] == [
        ("docs/ports.md", 3, "warning")
    ]
    assert "portreg docs docs/ports.md" in found[0]["hint"]
    assert cli("--root", str(seed_repo), "docs").code == 0
    fresh = cli("--root", str(seed_repo), "check", "--format", "json")
    assert [f for f in json.loads(fresh.out)["findings"] if f["code"] == "PR021"] == []
