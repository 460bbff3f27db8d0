"""Numbers read as kind, Helm and kubectl read them (YAML 1.1 through go-yaml v2), duplicate
port keys reported, a JSON target holding NaN refused in one line: whole files, real CLI runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from portreg.config import Settings
from portreg.model import yaml11_int
from portreg.targets import compose, manifests
from portreg.targets.kind import KindTarget

from conftest import CliRunner


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("8001", 8001),
        ("017501", 8001),  # a leading zero is octal
        ("0x1F41", 8001),
        ("0X1F41", 8001),
        ("0o17501", 8001),  # Go's base 0 reads 0o too
        ("8_001", 8001),
        ("+8001", 8001),
        ("-8001", -8001),
        ("08001", 8001),  # no octal: a float, and a whole one
        ("8001.0", 8001),
        ("8001.5", None),
        ("1:20", None),  # YAML 1.1 sexagesimal: go-yaml v2 reads a string
        ("_8001", None),  # go-yaml looks at the first character before dropping '_'
        ("٨٠٠١", None),
        (" 8001", None),
        ("inf", None),
        ("0x", None),
        ("9" * 5000, None),
    ],
)
def test_yaml11_int_reads_as_go_yaml_v2(text: str, number: int | None) -> None:
    assert yaml11_int(text) == number


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


KIND_BEFORE = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  extraPortMappings:
  # General Ledger Service
  - containerPort: 31001
    hostPort: 017501  # octal: kind reads 8001
    protocol: TCP
  # Invoice Service
  - containerPort: 0x7A3A
    hostPort: 017503
    protocol: TCP
"""
KIND_AFTER = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  extraPortMappings:
  # General Ledger Service
  - containerPort: 31001
    hostPort: 017501  # octal: kind reads 8001
    protocol: TCP
  # Invoice Service
  - containerPort: 31002
    hostPort: 8002
    protocol: TCP
"""


def test_kind_reads_octal_and_hex_and_fix_writes_decimal(seed_repo: Path, cli: CliRunner) -> None:
    write(seed_repo, {"kind-config.yaml": KIND_BEFORE})
    run = cli("--root", str(seed_repo), "check")
    assert run.code == 1
    # 017501 is general-ledger's 8001: no finding; invoice's 017503 is 8003, 0x7A3A 31290
    assert "kind-config.yaml:8" not in run.out
    assert "kind hostPort 8003 for invoice, the registry gives 8002" in run.out
    assert "kind containerPort 31290 for invoice, the registry gives 31002" in run.out
    assert cli("--root", str(seed_repo), "fix").code in (0, 1)
    assert (seed_repo / "kind-config.yaml").read_text() == KIND_AFTER


def test_a_quoted_kind_port_is_a_string_not_a_port(tmp_path: Path) -> None:
    """kind refuses a string for hostPort: it is no port (not a guess at one)."""
    text = KIND_AFTER.replace("hostPort: 8002", 'hostPort: "8002"')
    target = KindTarget(Settings(root=tmp_path))
    seen = [(o.field, o.port, o.line) for o in target.scan_file("kind-config.yaml", text)]
    assert seen == [
        ("hostPort", 8001, 8),
        ("containerPort", 31001, 7),
        ("containerPort", 31002, 11),
    ]


def test_manifest_reads_yaml11_and_skips_quoted_ports() -> None:
    text = (
        "kind: Service\nmetadata: {name: a}\nspec:\n  ports:\n"
        '  - port: 017501\n    nodePort: 0x7A39\n    targetPort: "8001"\n'
    )
    seen = [(o.field, o.port, o.line) for o in manifests.scan_text("k8s/a.yaml", text)]
    assert seen == [("port", 8001, 5), ("nodePort", 31289, 6)]


def test_compose_keeps_its_own_reading() -> None:
    """Compose is YAML 1.2 (go-yaml v3): its numbers are not read through yaml11_int."""
    text = 'services:\n  a:\n    ports:\n      - "07501:80"\n      - target: 0x50\n        published: 8003\n'
    seen = [(o.port, o.leads_to) for o in compose.scan_text("compose.yaml", text)]
    assert seen == [(7501, 80), (8003, None)]  # 07501 is 3905 to YAML 1.1


HELM_DUPLICATE = """\
service:
  type: NodePort
  port: 8002
  nodePort: 31002
  port: 8003
"""


def test_a_duplicate_helm_port_key_is_reported_and_not_fixed(
    seed_repo: Path, cli: CliRunner
) -> None:
    name = "helm/rerp-microservice/values/invoice.yaml"
    write(seed_repo, {name: HELM_DUPLICATE})
    run = cli("--root", str(seed_repo), "check")
    assert run.code == 1
    assert (
        f"{name}:5: error PR017 duplicate key service.port (lines 3 and 5); "
        "Helm takes the last (8003)"
    ) in run.out
    run = cli("--root", str(seed_repo), "fix")
    assert run.code == 1
    assert f"Not fixed: {name}:5: duplicate key service.port (lines 3 and 5)" in run.out + run.err
    assert (seed_repo / name).read_text() == HELM_DUPLICATE


def test_a_duplicate_helm_section_holding_ports_is_reported(
    seed_repo: Path, cli: CliRunner
) -> None:
    name = "helm/rerp-microservice/values/invoice.yaml"
    write(seed_repo, {name: "service:\n  port: 8002\nimage: {name: x}\nservice:\n  name: x\n"})
    run = cli("--root", str(seed_repo), "check")
    assert f"{name}:4: error PR017 duplicate key service (lines 1 and 4); Helm takes the last" in (
        run.out
    )


def test_a_duplicate_key_that_holds_no_port_is_not_an_error(
    seed_repo: Path, cli: CliRunner
) -> None:
    name = "helm/rerp-microservice/values/invoice.yaml"
    text = "service:\n  port: 8002\n  name: a\n  name: b\n"
    write(seed_repo, {name: text})
    assert "PR017" not in cli("--root", str(seed_repo), "check").out


def test_a_duplicate_kind_port_key_is_reported(seed_repo: Path, cli: CliRunner) -> None:
    text = KIND_AFTER.replace("    hostPort: 8002\n", "    hostPort: 8002\n    hostPort: 8004\n")
    write(seed_repo, {"kind-config.yaml": text})
    run = cli("--root", str(seed_repo), "check")
    assert run.code == 1
    assert (
        "kind-config.yaml:13: error PR017 duplicate key hostPort in one extraPortMappings "
        "entry (lines 12 and 13); kind refuses a config with a key twice"
    ) in run.out
    assert cli("--root", str(seed_repo), "fix").code == 1
    assert (seed_repo / "kind-config.yaml").read_text() == text


def test_a_duplicate_manifest_port_key_is_reported(seed_repo: Path, cli: CliRunner) -> None:
    text = "kind: Service\nmetadata: {name: a}\nspec:\n  ports:\n  - port: 80\n    port: 81\n"
    write(seed_repo, {"k8s/a.yaml": text})
    run = cli("--root", str(seed_repo), "check")
    assert run.code == 1
    assert (
        "k8s/a.yaml:6: error PR017 duplicate key ports.port (lines 5 and 6); "
        "Kubernetes takes the last (81)"
    ) in run.out


JSON_TARGET = """
[[targets]]
name = "openapi-json"
files = "api/{service}.json"
kind = "json"
set = { "servers[?description=='local'].url" = "http://localhost:{port}/v1" }
"""


@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
def test_a_json_target_holding_nan_is_one_error_line(
    seed_repo: Path, cli: CliRunner, word: str
) -> None:
    text = '{\n  "servers": [{"url": "http://localhost:1/v1", "description": "local"}],\n'
    text += f'  "weight": {word}\n}}\n'
    write(seed_repo, {"portreg.toml": JSON_TARGET, "api/invoice.json": text})
    run = cli("--root", str(seed_repo), "update-configs", "invoice")
    assert run.code == 2
    assert run.err == (
        f"portreg: error: api/invoice.json:3: not valid JSON ({word} is not JSON) "
        "(write a number, or null)\n"
    )
    assert (seed_repo / "api/invoice.json").read_text() == text
