"""The messy real-world repo: every disagreement once, then reconcile + fix make it clean."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import CliRunner, tree

MESSY = Path(__file__).parent / "fixtures" / "messy"
V = "helm/rerp-microservice/values"
REG = "scripts/port-registry.json"

EXPECTED = [
    ("PR018", "error", "Tiltfile", 14),  # reporting forwards 8015, registry 8005
    ("PR002", "error", f"{V}/billing.yaml", 4),  # billing copied general-ledger's 8001
    ("PR006", "error", f"{V}/billing.yaml", 4),  # billing is not registered
    ("PR005", "error", f"{V}/billing.yaml", 6),  # 30801: sibling formula
    ("PR005", "error", f"{V}/general-ledger.yaml", 7),  # 30801 where the formula gives 31001
    ("PR006", "error", f"{V}/notifications.yaml", 4),  # notifications is not registered
    ("PR003", "error", f"{V}/reporting.yaml", 5),  # 8006, registry 8005
    ("PR022", "error", "kind-config.yaml", 10),  # kind and Tilt both bind 8001
    ("PR022", "error", "kind-config.yaml", 14),  # kind and Tilt both bind 8002
    ("PR008", "error", "kind-config.yaml", 21),  # reporting containerPort 31007
    ("PR009", "error", "kind-config.yaml", 26),  # legacy-billing on invoice's 8002
    ("PR002", "error", "kind-config.yaml", 30),  # old-gateway on notifications' Helm 8010
    ("PR014", "info", "portreg.toml", 5),  # KEP-3668 static band of its own range, once
    ("PR001", "error", REG, 9),  # payments and accounts-receivable both on 8003
    ("PR010", "warning", REG, 9),  # payments has no kind mapping
    ("PR007", "warning", REG, 10),  # audit has no values file
    ("PR010", "warning", REG, 10),  # audit has no kind mapping
]


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    root = tmp_path / "messy"
    shutil.copytree(MESSY, root)
    (root / ".git").mkdir()
    return root


def findings(cli: CliRunner, root: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    run = cli("--root", str(root), "check", "--format", "json", *args)
    return run.code, json.loads(run.out)["findings"]


def test_every_disagreement_reported_once_with_file_and_line(cli: CliRunner, messy: Path):
    code, found = findings(cli, messy)
    assert [(f["code"], f["severity"], f["path"], f["line"]) for f in found] == EXPECTED
    assert code == 1


def test_messages_name_both_sides(cli: CliRunner, messy: Path):
    _, found = findings(cli, messy)
    by_place = {(f["code"], f["path"], f["line"]): f["message"] for f in found}
    assert by_place["PR002", f"{V}/billing.yaml", 4] == (
        f"port 8001 is held by both general-ledger ({REG}:6) and billing ({V}/billing.yaml:4)"
    )
    assert by_place["PR002", "kind-config.yaml", 30] == (
        f"port 8010 is held by both notifications ({V}/notifications.yaml:4) and "
        "old-gateway (kind-config.yaml:30)"
    )
    assert "legacy-billing" in by_place["PR009", "kind-config.yaml", 26]
    assert "invoice" in by_place["PR009", "kind-config.yaml", 26]


def comment_lines(root: Path) -> dict[str, list[str]]:
    result = {}
    for name, data in tree(root).items():
        lines = data.decode().splitlines()
        result[name] = [line.strip() for line in lines if line.strip().startswith("#")]
    return result


def declare_tilt_owns_forwarded_host_ports(messy: Path) -> None:
    """What PR022's hint says: Tilt forwards the service ports, so kind maps none of them
    (fixing reporting's stale forward puts it on 8005, where kind maps it too)."""
    config = messy / "portreg.toml"
    config.write_text(config.read_text() + "\n[kind]\nskip-host-ports = [[8001, 8099]]\n")


def test_reconcile_then_fix_leaves_check_clean_and_every_comment(cli: CliRunner, messy: Path):
    declare_tilt_owns_forwarded_host_ports(messy)
    before = tree(messy)
    comments = comment_lines(messy)
    assert cli("--root", str(messy), "reconcile").code == 0
    fixed = cli("--root", str(messy), "fix")
    assert fixed.code == 0, fixed.err
    code, found = findings(cli, messy)
    assert code == 0
    assert {f["severity"] for f in found} <= {"warning", "info"}
    after = tree(messy)
    touched = sorted(name for name in before if before[name] != after.get(name))
    assert touched == [
        "Tiltfile",  # reporting's stale forward 8015 -> 8005
        f"{V}/billing.yaml",
        f"{V}/general-ledger.yaml",
        f"{V}/payments.yaml",
        f"{V}/reporting.yaml",
        "kind-config.yaml",
        REG,
    ]
    # every comment stays but those of the kind mappings fix removed (Tilt owns 8001-8099)
    kept = [line for line in comments["kind-config.yaml"] if not line.endswith(" Service")]
    assert comment_lines(messy) == {**comments, "kind-config.yaml": kept}
    # comments stay even where the value on the same line changed
    assert (
        "  nodePort: 31001     # ⚠️ sibling formula\n" in after[f"{V}/general-ledger.yaml"].decode()
    )


def test_reconcile_says_which_port_and_why(cli: CliRunner, messy: Path):
    run = cli("--root", str(messy), "reconcile")
    # not 8007: kind-config.yaml already binds its NodePort 31007 (the reporting typo)
    assert run.out.splitlines()[:2] == [
        "➕ Adopted 'billing' on port 8008 (8001 belongs to general-ledger)",
        f"➕ Adopted 'notifications' on its port 8010 ({V}/notifications.yaml:4)",
    ]
    assignments = json.loads((messy / REG).read_text())["assignments"]
    assert assignments["billing"] == 8008
    assert assignments["notifications"] == 8010


def test_fix_dry_run_prints_the_plan_and_writes_nothing(cli: CliRunner, messy: Path):
    before = tree(messy)
    run = cli("--root", str(messy), "fix", "--dry-run")
    assert run.code == 0
    # fix adopts first (the one rule for who keeps a contested port), then repairs; what it
    # plans goes to stderr, so stdout is the diff alone (`| patch -p1` reads it)
    assert run.out.startswith("--- a/")
    # mailhog, which only compose names and no finding mentions, is reconcile's to adopt
    assert run.err.splitlines()[:5] == [
        "➕ Adopted 'billing' on port 8008 (8001 belongs to general-ledger)",
        f"➕ Adopted 'notifications' on its port 8010 ({V}/notifications.yaml:4)",
        "➕ Adopted 'legacy-billing' on port 8009 (8002 belongs to invoice)",
        "➕ Adopted 'old-gateway' on port 8011 (8010 belongs to notifications)",
        "🔧 Moved 'payments' from port 8003 to 8012 (8003 is also accounts-receivable's, "
        "which was assigned first)",
    ]
    assert "+        hostPort: 8012" not in run.out  # payments has no kind mapping to move
    assert "-  nodePort: 30801     # ⚠️ sibling formula" in run.out
    assert "Not fixed: kind-config.yaml:10: host port 8001 is bound twice" in run.err
    assert "kind-config.yaml:26" not in run.err  # legacy-billing's mapping moves to 8009
    assert tree(messy) == before


def test_fix_alone_repairs_registry_duplicates_and_drift(cli: CliRunner, messy: Path):
    run = cli("--root", str(messy), "fix")
    # what fix cannot decide (who owns the doubly bound host ports) it says, and exits 1
    assert run.code == 1
    assert run.err.endswith("❌ 3 errors left that fix cannot repair; `portreg check` lists them\n")
    _, found = findings(cli, messy)
    errors = sorted({(f["code"], f["path"]) for f in found if f["severity"] == "error"})
    # fix adopted every service a finding names; who owns host ports is left, and so is
    # reporting's stale forward, which would bind the port kind maps for it twice
    assert errors == [("PR018", "Tiltfile"), ("PR022", "kind-config.yaml")]


def test_fix_prune_removes_kind_strangers(cli: CliRunner, messy: Path):
    assert cli("--root", str(messy), "fix", "--prune").code == 1  # the PR022s stay
    text = (messy / "kind-config.yaml").read_text()
    assert "Legacy Billing" not in text
    assert "Old Gateway" not in text
    assert "# Reporting Service" in text


def test_writing_commands_still_refuse_the_duplicate_registry(cli: CliRunner, messy: Path):
    run = cli("--root", str(messy), "assign", "ledger-two")
    assert run.code == 2
    assert "portreg fix" in run.err


def test_json_findings_carry_service_port_and_the_other_holder(cli: CliRunner, messy: Path):
    _, found = findings(cli, messy)
    by_place = {(f["code"], f["path"], f["line"]): f for f in found}
    collision = by_place["PR002", f"{V}/billing.yaml", 4]
    assert (collision["service"], collision["port"], collision["holder"]) == (
        "billing",
        8001,
        "general-ledger",
    )
    assert collision["hint"] == "run `portreg reconcile` to adopt it, or `portreg fix --prune`"
    duplicate = by_place["PR001", REG, 9]
    assert (duplicate["service"], duplicate["port"], duplicate["holder"]) == (
        "payments",
        8003,
        "accounts-receivable",
    )
    assert all(set(f) >= {"service", "port", "holder", "hint"} for f in found)
