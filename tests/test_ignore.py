"""An explicit way to leave things alone: ignored items are neither reported nor edited,
and ``check --format json`` lists what was ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CliRunner

V = "helm/rerp-microservice/values"
LEGACY = "service:\n  port: 8001\n  nodePort: 30801  # sibling formula, left as is\n"
INVOICE_INLINE = (
    "service:\n  port: 8002\n  containerPort: 8002\n"
    "  nodePort: 30802  # portreg: ignore[PR005] (the old cluster still reads it)\n"
)


@pytest.fixture
def ignoring(seed_repo: Path) -> Path:
    (seed_repo / V).mkdir(parents=True)
    (seed_repo / V / "general-ledger.yaml").write_text(
        "service:\n  port: 8001\n  containerPort: 8001\n  nodePort: 31001\n"
    )
    (seed_repo / V / "invoice.yaml").write_text(INVOICE_INLINE)
    (seed_repo / "helm/legacy").mkdir(parents=True)
    (seed_repo / "helm/legacy/gl.yaml").write_text(LEGACY)
    return seed_repo


def check_json(cli: CliRunner, root: Path) -> dict[str, list[dict[str, object]]]:
    run = cli("--root", str(root), "check", "--format", "json")
    document: dict[str, list[dict[str, object]]] = json.loads(run.out)
    return document


def test_an_inline_ignore_hides_that_code_on_that_line_only(ignoring: Path, cli: CliRunner) -> None:
    document = check_json(cli, ignoring)
    reported = {(f["code"], f["path"]) for f in document["findings"]}
    ignored = {(f["code"], f["path"], f["line"]) for f in document["ignored"]}
    assert ("PR005", f"{V}/invoice.yaml") not in reported
    assert ("PR005", f"{V}/invoice.yaml", 4) in ignored
    run = cli("--root", str(ignoring), "check")
    assert run.code == 0
    assert "ignored as the repo asks" in run.out.splitlines()[-1]


def test_fix_leaves_an_inline_ignored_line_alone_only_when_it_ignores_every_code(
    ignoring: Path, cli: CliRunner
) -> None:
    """`ignore[PR005]` hides one finding; `ignore` alone also keeps fix off the line."""
    text = INVOICE_INLINE.replace("ignore[PR005]", "ignore")
    (ignoring / V / "invoice.yaml").write_text(text)
    assert cli("--root", str(ignoring), "fix").code == 0
    assert (ignoring / V / "invoice.yaml").read_text() == text


@pytest.mark.parametrize(
    ("ignore", "field", "values"),
    [
        ('files = ["helm/legacy/*.yaml"]', "path", {"helm/legacy/gl.yaml"}),
        ('codes = ["PR005", "PR014"]', "code", {"PR005", "PR014"}),
        ("ports = [30801, 30802]", "port", {30801, 30802}),
    ],
    ids=["files", "codes", "ports"],
)
def test_configured_ignores_are_neither_reported_nor_edited(
    ignoring: Path, cli: CliRunner, ignore: str, field: str, values: set[object]
) -> None:
    (ignoring / "portreg.toml").write_text(
        '[helm]\nvalues = "helm/**/{service}.yaml"\n\n[ignore]\n' + ignore + "\n"
    )
    (ignoring / V / "invoice.yaml").write_text(INVOICE_INLINE.replace("  # portreg:", "  #"))
    document = check_json(cli, ignoring)
    assert not {f[field] for f in document["findings"]} & values
    assert {f[field] for f in document["ignored"]} <= values
    assert document["ignored"]
    cli("--root", str(ignoring), "fix")
    assert (ignoring / "helm/legacy/gl.yaml").read_text() == LEGACY


def test_an_ignored_service_is_never_adopted(seed_repo: Path, cli: CliRunner) -> None:
    (seed_repo / V).mkdir(parents=True)
    (seed_repo / V / "postgres.yaml").write_text("service:\n  port: 5433\n")
    (seed_repo / "portreg.toml").write_text('[ignore]\nservices = ["postgres"]\n')
    before = (seed_repo / "scripts/port-registry.json").read_text()
    run = cli("--root", str(seed_repo), "reconcile")
    assert run.code == 0
    assert (seed_repo / "scripts/port-registry.json").read_text() == before
    assert cli("--root", str(seed_repo), "check").code == 0


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('[ignore]\ncodes = ["E501"]\n', "ignore.codes: 'E501' is not a finding code"),
        ('[ignore]\nservices = ["Bad_Name"]\n', "ignore.services: 'Bad_Name' is not a service"),
        ('[ignore]\nfiles = ["../x"]\n', "ignore.files[0]: ../x leads outside the repo"),
        ("[ignore]\nports = [70000]\n", "ignore.ports[0]: 70000 is not a TCP port"),
    ],
)
def test_a_bad_ignore_is_a_config_error(
    seed_repo: Path, cli: CliRunner, toml: str, needle: str
) -> None:
    (seed_repo / "portreg.toml").write_text(toml)
    run = cli("--root", str(seed_repo), "check")
    assert run.code == 2
    assert needle in run.err


def test_a_clash_with_an_ignored_service_is_ignored_too(seed_repo: Path, cli: CliRunner) -> None:
    (seed_repo / V).mkdir(parents=True)
    (seed_repo / V / "general-ledger.yaml").write_text(
        "service:\n  port: 8001\n  containerPort: 8001\n  nodePort: 31001\n"
    )
    (seed_repo / "kind-config.yaml").write_text(
        "kind: Cluster\nnodes:\n- role: control-plane\n  extraPortMappings:\n"
        "  # General Ledger Service\n  - containerPort: 31001\n    hostPort: 8001\n"
    )
    (seed_repo / "Tiltfile").write_text("k8s_resource('legacy', port_forwards='8001:8001')\n")
    before = check_json(cli, seed_repo)
    # another service forwards general-ledger's host port: a clash of two services
    assert [f["code"] for f in before["findings"] if f["service"] == "legacy"] == ["PR002"]
    (seed_repo / "portreg.toml").write_text('[ignore]\nservices = ["legacy"]\n')
    after = check_json(cli, seed_repo)
    assert [f["holder"] for f in after["findings"] if f["severity"] == "error"] == []
    assert "PR002" in [f["code"] for f in after["ignored"]]
    assert cli("--root", str(seed_repo), "check").code == 0
    assert cli("--root", str(seed_repo), "fix").code == 0


@pytest.mark.parametrize(
    "ignore", ['files = ["helm/**"]', 'codes = ["PR017"]', 'services = ["invoice"]']
)
def test_an_ignored_unreadable_file_is_neither_reported_nor_named_by_fix(
    seed_repo: Path, cli: CliRunner, ignore: str
) -> None:
    (seed_repo / V).mkdir(parents=True)
    (seed_repo / V / "invoice.yaml").write_text("service: foo\n")
    (seed_repo / V / "general-ledger.yaml").write_text(
        "service:\n  port: 8001\n  containerPort: 8001\n  nodePort: 31001\n"
    )
    assert cli("--root", str(seed_repo), "check").code == 1  # PR017 on invoice.yaml
    (seed_repo / "portreg.toml").write_text(f"[kind]\nenabled = false\n[ignore]\n{ignore}\n")
    document = check_json(cli, seed_repo)
    assert [f["code"] for f in document["findings"] if f["severity"] == "error"] == []
    assert [(f["code"], f["service"]) for f in document["ignored"]] == [("PR017", "invoice")]
    run = cli("--root", str(seed_repo), "fix")
    assert (run.code, run.err) == (0, "")
