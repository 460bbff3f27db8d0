"""After an edit it must refuse (a values file with an anchor), ``fix`` still makes every
other edit in the same run and exits 1 naming what is left (issue 19, hostile tester)."""

from __future__ import annotations

from pathlib import Path

from conftest import CliRunner, tree

VALUES = "helm/rerp-microservice/values/accounts-receivable.yaml"
ANCHORED = "service: &svc\n  name: accounts-receivable\n"
MAPPING = """\
  # Invoice Service
  - containerPort: 31002
    hostPort: 8002
    protocol: TCP
"""
ADDED = """\
  # Accounts Receivable Service
  - containerPort: 31003
    hostPort: 8003
    protocol: TCP
"""


def test_one_run_makes_every_edit_it_can_and_exits_1(rerp_example: Path, cli: CliRunner) -> None:
    root = rerp_example
    (root / VALUES).write_text(ANCHORED)
    kind = (root / "kind-config.yaml").read_text()
    run = cli("--root", str(root), "fix")
    assert run.code == 1
    assert run.err == (
        f"⚠️  Not fixed: {VALUES}:1: service has an anchor (&name); portreg does not edit it "
        "(edit this value by hand)\n"
        "❌ 1 edit left that fix cannot make (the Not fixed lines above); make them by hand\n"
    )
    assert (root / VALUES).read_text() == ANCHORED
    assert (root / "kind-config.yaml").read_text() == kind.replace(MAPPING, MAPPING + ADDED)
    done = tree(root)
    again = cli("--root", str(root), "fix")  # nothing was left for a second run to do
    assert tree(root) == done
    # the values file names no port: the chart's defaults decide, and check is green
    assert (again.code, again.out) == (0, "ℹ️  Nothing to fix\n")
    assert cli("--root", str(root), "check").code == 0
