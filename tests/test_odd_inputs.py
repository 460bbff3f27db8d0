"""Odd but valid inputs read as what they mean: an empty, ``~`` or ``null`` values file is
an empty mapping, and the first assign fills it with the same fields as an empty file."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import CliRunner

VALUES = "helm/rerp-microservice/values/payroll.yaml"
FIELDS = """\
service:
  port: 8003
  containerPort: 8003
  nodePort: 31003
  name: payroll
image:
  name: rerp-payroll
app:
  serviceName: payroll
  binaryName: payroll_service_api
"""


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", FIELDS),
        ("~\n", FIELDS),
        ("null\n", FIELDS),
        ("NULL\n", FIELDS),
        ("---\n", "---\n" + FIELDS),
        ("--- ~\n", "---\n" + FIELDS),
        ("--- null  # filled by portreg\n", "---  # filled by portreg\n" + FIELDS),
        ("~  # nothing yet\n", "# nothing yet\n" + FIELDS),
        ("# header\n~\n# footer\n", "# header\n# footer\n" + FIELDS),
    ],
    ids=[
        "empty",
        "tilde",
        "null",
        "NULL",
        "marker",
        "marker-tilde",
        "marker-null-comment",
        "tilde-comment",
        "between-comments",
    ],
)
def test_an_empty_or_null_values_file_is_an_empty_mapping(
    seed_repo: Path, cli: CliRunner, before: str, after: str
) -> None:
    path = seed_repo / VALUES
    path.parent.mkdir(parents=True)
    path.write_text(before)
    run = cli("--root", str(seed_repo), "assign", "payroll", "--update-configs")
    assert run.code == 0, run.err
    assert path.read_text() == after
    assert cli("--root", str(seed_repo), "check", "--format", "json").code in (0, 1)
    again = cli("--root", str(seed_repo), "update-configs", "payroll")
    assert again.out == "ℹ️  Config files already match the registry\n"
    assert path.read_text() == after


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("service: 5\n", "1: error PR017 service is a scalar ('5'), expected a mapping"),
        ("service:\n  - 8002\n", "2: error PR017 service is a list, expected a mapping"),
        ("- 8002\n", "1: error PR017 the values file is a list, expected a mapping"),
    ],
    ids=["scalar", "list", "top-list"],
)
def test_a_values_file_portreg_cannot_edit_fails_check_as_update_configs_does(
    seed_repo: Path, cli: CliRunner, text: str, message: str
) -> None:
    path = seed_repo / "helm/rerp-microservice/values/invoice.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    run = cli("--root", str(seed_repo), "check")
    assert run.code == 1
    assert f"helm/rerp-microservice/values/invoice.yaml:{message}" in run.out
    assert cli("--root", str(seed_repo), "update-configs", "invoice").code == 2
    assert cli("--root", str(seed_repo), "fix").code == 1
    assert path.read_text() == text


@pytest.mark.parametrize("text", ["", "service:\n", "image:\n  name: x\n"])
def test_a_values_file_without_port_fields_leaves_the_ports_to_the_chart(
    seed_repo: Path, cli: CliRunner, text: str
) -> None:
    """A chart's defaults decide the ports of a values file that names none: check has
    nothing to say and fix writes nothing; update-configs writes them when asked."""
    path = seed_repo / "helm/rerp-microservice/values/invoice.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    run = cli("--root", str(seed_repo), "check", "-o", "json")
    import json

    found = [(f["code"], f["path"]) for f in json.loads(run.out)["findings"]]
    assert [code for code, where in found if where.endswith("invoice.yaml")] == []
    assert cli("--root", str(seed_repo), "fix").out.startswith("ℹ️  Nothing to fix")
    assert path.read_text() == text
    assert cli("--root", str(seed_repo), "update-configs", "invoice").code == 0
    assert "  port: 8002\n  containerPort: 8002\n  nodePort: 31002\n" in path.read_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("service: null\n", "1: error PR017 service is a scalar ('null'), expected a mapping"),
        ("service: ~\n", "1: error PR017 service is a scalar ('~'), expected a mapping"),
        (
            "service:\n  port: 8002\n---\nservice:\n  port: 8005\n",
            "4: error PR017 holds more than one YAML document; a values file is one",
        ),
    ],
    ids=["null", "tilde", "two-documents"],
)
def test_what_the_editor_refuses_check_reports(
    seed_repo: Path, cli: CliRunner, text: str, message: str
) -> None:
    path = seed_repo / "helm/rerp-microservice/values/invoice.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    run = cli("--root", str(seed_repo), "check")
    assert f"helm/rerp-microservice/values/invoice.yaml:{message}" in run.out
    assert cli("--root", str(seed_repo), "update-configs", "invoice").code == 2
    fixed = cli("--root", str(seed_repo), "fix")
    assert fixed.code == 1
    assert "Writing the port fields" not in fixed.out
    assert path.read_text() == text


def test_fix_repairs_a_service_without_filling_its_portless_values_file(
    rerp_example: Path, cli: CliRunner
) -> None:
    root = rerp_example
    assert cli("--root", str(root), "fix").code == 0
    values = root / "helm/rerp-microservice/values/invoice.yaml"
    values.write_text("# only a comment\n")
    env = root / ".env.example"
    env.write_text(env.read_text().replace("localhost:8002", "localhost:8009"))
    assert cli("--root", str(root), "fix").code == 0
    assert values.read_text() == "# only a comment\n"
    assert "localhost:8002" in env.read_text()
    assert cli("--root", str(root), "fix").out == "ℹ️  Nothing to fix\n"
