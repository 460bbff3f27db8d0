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
