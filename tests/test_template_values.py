"""A values field the chart computes (``port: "{{ .Values.global.invoicePort }}"``) holds no
port for portreg: ``update-configs`` and ``fix`` leave it as it is, say so with its
``file:line``, and still write the other fields (issue 19, hostile tester)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import CliRunner

VALUES = "helm/rerp-microservice/values/invoice.yaml"
BEFORE = """\
service:
  name: invoice
  type: NodePort
  port: "{{ .Values.global.invoicePort }}"
  containerPort: 8002
  nodePort: 30802   # copied from PriceWhisperer: wrong formula
"""
AFTER = BEFORE.replace("30802", "31002")
WARNING = (
    f"⚠️  helm: {VALUES}:4: service.port is a template ({{{{ .Values.global.invoicePort }}}}); "
    "left as it is: set the value it names by hand\n"
)


@pytest.mark.parametrize("command", [["update-configs", "invoice"], ["fix"]])
def test_a_template_reference_is_left_and_the_other_fields_are_written(
    rerp_example: Path, cli: CliRunner, command: list[str]
) -> None:
    (rerp_example / VALUES).write_text(BEFORE)
    run = cli("--root", str(rerp_example), *command)
    assert (rerp_example / VALUES).read_text() == AFTER
    assert WARNING in run.err
    assert run.code == 0, run.err
    check = cli("--root", str(rerp_example), "check")
    assert VALUES not in check.out  # check reads no port there either
