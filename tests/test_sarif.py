"""``portreg check -o sarif``: a SARIF 2.1.0 log for GitHub code scanning, held to the
official schema, through the real CLI."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from portreg import __version__
from portreg.check.findings import Finding
from portreg.check.format import sarif
from portreg.check.rules import RULES

from conftest import CliRunner, sarif_errors

MESSY = Path(__file__).parent / "fixtures" / "messy"
README = Path(__file__).parent.parent / "README.md"
V = "helm/rerp-microservice/values"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    root = tmp_path / "messy"
    shutil.copytree(MESSY, root)
    (root / ".git").mkdir()
    return root


@pytest.fixture
def clean(repo: Path) -> Path:
    """Two services, every file in line, a NodePort range inside the static band: no
    finding at all, not even the KEP-3668 note."""
    (repo / "scripts" / "port-registry.json").write_text(
        '{\n  "version": "1.0",\n  "next_port": 8003,\n  "reserved_ports": [8080],\n'
        '  "assignments": {\n    "general-ledger": 8001,\n    "invoice": 8002\n  }\n}\n'
    )
    (repo / "portreg.toml").write_text(
        "first-port = 8001\nlast-port = 8050\nnode-port-base = 30000\n"
        "node-port-range = [30001, 30050]\n"
    )
    (repo / V).mkdir(parents=True)
    for service, port in (("general-ledger", 8001), ("invoice", 8002)):
        (repo / V / f"{service}.yaml").write_text(
            f"service:\n  port: {port}\n  containerPort: {port}\n  nodePort: {port + 22000}\n"
        )
    return repo


def check(cli: CliRunner, root: Path, *args: str) -> tuple[int, Any]:
    run = cli("--root", str(root), "check", "-o", "sarif", *args)
    return run.code, json.loads(run.out)


def places(results: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    found = []
    for result in results:
        physical = result["locations"][0]["physicalLocation"]
        line = physical.get("region", {}).get("startLine", 0)
        found.append((result["ruleId"], result["level"], physical["artifactLocation"]["uri"], line))
    return found


def test_messy_repo_gives_a_valid_log_with_every_finding_where_json_puts_it(
    cli: CliRunner, messy: Path
):
    code, log = check(cli, messy)
    assert sarif_errors(log) == []
    text = cli("--root", str(messy), "check")
    assert code == text.code == 1
    found = json.loads(cli("--root", str(messy), "check", "-o", "json").out)["findings"]
    results = log["runs"][0]["results"]
    assert places(results) == [
        (f["code"], LEVELS[f["severity"]], f["path"], f["line"]) for f in found
    ]
    assert {"error", "warning", "note"} == {r["level"] for r in results}  # PR014 is a note
    # the fix is in the text a reviewer reads, and in the property bag for machines
    pr002 = next(r for r in results if r["ruleId"] == "PR002")
    assert pr002["message"]["text"] == (
        f"port 8001 is held by both general-ledger (scripts/port-registry.json:6) and billing "
        f"({V}/billing.yaml:4)\nhint: run `portreg reconcile` to adopt it, or `portreg fix --prune`"
    )
    assert pr002["properties"]["holder"] == "general-ledger"
    assert all("suppressions" not in r for r in results)


def test_the_driver_describes_every_rule_and_results_point_at_theirs(cli: CliRunner, messy: Path):
    _, log = check(cli, messy)
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("portreg", __version__)
    assert driver["informationUri"].startswith("https://")
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [rule.code for rule in RULES]
    assert rules[0]["name"] == "RegistryDuplicate"
    assert rules[21]["name"] == "HostPortBoundTwice"
    for descriptor, rule in zip(rules, RULES, strict=True):
        assert re.fullmatch(r"(?:[A-Z][a-z0-9]*)+", descriptor["name"])
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["help"]["text"] == rule.help  # what to do, a sentence or two
        assert descriptor["fullDescription"]["text"].endswith(f". {rule.help}")
        assert descriptor["defaultConfiguration"]["level"] == LEVELS[rule.severity]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == (
            "%SRCROOT%"
        )


def test_clean_repo_gives_a_valid_log_with_no_results(cli: CliRunner, clean: Path):
    code, log = check(cli, clean)
    assert code == 0
    assert sarif_errors(log) == []
    assert log["runs"][0]["results"] == []
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == len(RULES)


def test_strict_and_exit_codes_match_text_mode(cli: CliRunner, clean: Path):
    (clean / V / "invoice.yaml").unlink()  # PR007, a warning
    assert check(cli, clean)[0] == cli("--root", str(clean), "check").code == 0
    code, log = check(cli, clean, "--strict")
    assert code == cli("--root", str(clean), "check", "--strict").code == 1
    assert places(log["runs"][0]["results"]) == [
        ("PR007", "warning", "scripts/port-registry.json", 7)
    ]


def test_ignored_findings_are_suppressed_results_and_do_not_fail(cli: CliRunner, clean: Path):
    values = clean / V / "invoice.yaml"
    values.write_text(values.read_text().replace("30002", "30009"))  # PR005
    assert check(cli, clean)[0] == 1
    (clean / "portreg.toml").write_text(
        (clean / "portreg.toml").read_text() + '\n[ignore]\ncodes = ["PR005"]\n'
    )
    code, log = check(cli, clean)
    assert code == 0
    assert sarif_errors(log) == []
    (result,) = log["runs"][0]["results"]
    assert (result["ruleId"], result["suppressions"][0]["kind"]) == ("PR005", "external")


def fingerprints(log: Any) -> dict[tuple[str, str], str]:
    return {
        (r["ruleId"], r["properties"].get("service", "")): r["partialFingerprints"][
            "portregFinding/v1"
        ]
        for r in log["runs"][0]["results"]
    }


def test_fingerprints_are_stable_across_runs_and_line_moves(cli: CliRunner, messy: Path):
    _, first = check(cli, messy)
    _, again = check(cli, messy)
    assert fingerprints(first) == fingerprints(again)
    keys = [r["partialFingerprints"]["portregFinding/v1"] for r in first["runs"][0]["results"]]
    assert len(set(keys)) == len(keys)  # one alert per finding, none merged
    # a comment added above reporting's port moves the finding, not its alert
    reporting = messy / V / "reporting.yaml"
    reporting.write_text("# owned by the reports team\n" + reporting.read_text())
    _, moved = check(cli, messy)
    before = next(r for r in first["runs"][0]["results"] if r["ruleId"] == "PR003")
    after = next(r for r in moved["runs"][0]["results"] if r["ruleId"] == "PR003")
    region = "region", "startLine"
    assert after["locations"][0]["physicalLocation"][region[0]][region[1]] == (
        before["locations"][0]["physicalLocation"][region[0]][region[1]] + 1
    )
    assert after["partialFingerprints"] == before["partialFingerprints"]
    assert fingerprints(moved) == fingerprints(first)


def test_a_finding_without_a_line_has_no_region_and_stays_valid():
    """SARIF lines start at 1: a finding about a whole file (line 0) names only the file."""
    log = json.loads(sarif([Finding("PR017", "error", "odd dir/x#1.yaml", 0, "unreadable")]))
    assert sarif_errors(log) == []
    (result,) = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "odd%20dir/x%231.yaml", "uriBaseId": "%SRCROOT%"}
    }
    assert result["message"]["text"] == "unreadable"


def test_the_schema_check_can_fail():
    """The validator is no rubber stamp: a level SARIF does not know is an error."""
    log = json.loads(sarif([Finding("PR003", "error", "a.yaml", 3, "m")]))
    log["runs"][0]["results"][0]["level"] = "info"
    del log["runs"][0]["tool"]["driver"]["name"]
    errors = sarif_errors(log)
    assert len(errors) == 2
    assert any("'info' is not one of" in error for error in errors)


def test_readme_checks_table_is_the_rules_table():
    """One description per rule: the README's table says what SARIF's rules say."""
    rows = re.findall(r"^\| (PR\d{3}) \| (\w+) \| (.+) \|$", README.read_text(), re.M)
    assert rows == [(rule.code, rule.severity, rule.summary) for rule in RULES]
