"""HelmTarget on a Workspace: whole-file edits, missing files, scaffolding, scans."""

from __future__ import annotations

from pathlib import Path

import pytest

from portreg.config import HelmSettings, Settings
from portreg.config.detect import SEED_SET, SEED_VALUES
from portreg.config.record import replace
from portreg.errors import FileEditError
from portreg.io.workspace import Workspace
from portreg.model import Assignment
from portreg.targets.base import CONTAINER, NODE, SERVICE, Observation
from portreg.targets.helm import HelmTarget
from portreg.targets.in_use import ports_in_use

VALUES_DIR = "helm/rerp-microservice/values"
INVOICE = Assignment("invoice", 8002, 31002)

BEFORE = """\
# ⚠️ PORT CONFIGURATION REFERENCE:
#   port 8002 -> NodePort 31002 (see scripts/port-registry.json) 🚢

replicaCount: 1

service:
  type: NodePort
  name: "invoice-old"  # renamed by portreg
  port: 30802
  containerPort: 30802
  nodePort: 30802
  annotations: {prometheus.io/scrape: "true"}

image:
  repository: ghcr.io/rerp/rerp
  pullPolicy: IfNotPresent

env:
  - name: DATABASE_URL
    valueFrom:
      secretKeyRef: {name: db, key: url}
"""

AFTER = """\
# ⚠️ PORT CONFIGURATION REFERENCE:
#   port 8002 -> NodePort 31002 (see scripts/port-registry.json) 🚢

replicaCount: 1

service:
  type: NodePort
  name: "invoice"  # renamed by portreg
  port: 8002
  containerPort: 8002
  nodePort: 31002
  annotations: {prometheus.io/scrape: "true"}

image:
  repository: ghcr.io/rerp/rerp
  pullPolicy: IfNotPresent
  name: rerp-invoice

env:
  - name: DATABASE_URL
    valueFrom:
      secretKeyRef: {name: db, key: url}
app:
  serviceName: invoice
  binaryName: invoice_service_api
"""


def seed_settings(root: Path) -> Settings:
    """Settings for the seed's layout (``init`` finds it in a repo's files)."""
    return replace(Settings(root=root), helm=HelmSettings(values=SEED_VALUES, set=SEED_SET))


def _setup(tmp_path: Path, text: str | None, name: str = "invoice") -> Path:
    folder = tmp_path / VALUES_DIR
    folder.mkdir(parents=True)
    path = folder / f"{name}.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def _run(
    tmp_path: Path, settings: Settings | None = None, **kwargs: bool
) -> tuple[Workspace, list[str]]:
    ws = Workspace(tmp_path)
    target = HelmTarget(settings or seed_settings(tmp_path))
    return ws, target.update(ws, INVOICE, **kwargs)


def test_update_edits_only_the_values(tmp_path: Path) -> None:
    path = _setup(tmp_path, BEFORE)
    ws, warnings = _run(tmp_path)
    assert warnings == []
    assert ws.read(path) == AFTER
    [edit] = ws.edits()
    assert edit.display == f"{VALUES_DIR}/invoice.yaml"


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    _setup(tmp_path, AFTER)
    ws, warnings = _run(tmp_path)
    assert warnings == []
    assert ws.edits() == []


def test_crlf_file_stays_crlf(tmp_path: Path) -> None:
    path = _setup(tmp_path, BEFORE.replace("\n", "\r\n"))
    ws, _ = _run(tmp_path)
    assert ws.read(path) == AFTER.replace("\n", "\r\n")


def test_missing_file_warns_in_the_seeds_words(tmp_path: Path) -> None:
    ws, warnings = _run(tmp_path)
    assert warnings == [
        "⚠️  Helm values file not found: helm/rerp-microservice/values/invoice.yaml\n"
        "   Create it with: portreg assign invoice --scaffold"
    ]
    assert ws.edits() == []


def test_scaffold_creates_the_file(tmp_path: Path) -> None:
    path = _setup(tmp_path, None)
    ws, warnings = _run(tmp_path, scaffold=True)
    assert warnings == []
    assert (
        ws.read(path)
        == """\
# Helm values for invoice, created by portreg.
# ⚠️ PORT CONFIGURATION REFERENCE: the ports below are managed by portreg
# (`portreg query invoice` shows them; `portreg assign invoice --force` changes them).
service:
  name: invoice
  port: 8002
  containerPort: 8002
  nodePort: 31002
image:
  name: rerp-invoice
app:
  serviceName: invoice
  binaryName: invoice_service_api
"""
    )
    [edit] = ws.edits()
    assert edit.before is None


def test_configured_template_and_set_table(tmp_path: Path) -> None:
    path = _setup(tmp_path, None)
    (tmp_path / "values.tmpl").write_text("# {service_title}\nservice:\n  port: 1\n")
    helm = HelmSettings(
        values=SEED_VALUES,
        template="values.tmpl",
        set=(("service.port", "{port}"), ("labels.team", "{SERVICE_UPPER}")),
    )
    ws, _ = _run(tmp_path, replace(seed_settings(tmp_path), helm=helm))
    assert ws.read(path) == "# Invoice\nservice:\n  port: 8002\nlabels:\n  team: INVOICE\n"


def test_missing_configured_template_is_refused(tmp_path: Path) -> None:
    _setup(tmp_path, None)
    settings = replace(
        seed_settings(tmp_path), helm=HelmSettings(values=SEED_VALUES, template="nope.tmpl")
    )
    with pytest.raises(FileEditError, match="template not found"):
        _run(tmp_path, settings)


def test_unparsable_values_file_is_refused_with_line(tmp_path: Path) -> None:
    _setup(tmp_path, "service:\n  port: [8001\n")
    with pytest.raises(FileEditError) as caught:
        _run(tmp_path)
    assert caught.value.where is not None
    assert caught.value.where.startswith(f"{VALUES_DIR}/invoice.yaml:")


def test_service_as_list_is_refused(tmp_path: Path) -> None:
    _setup(tmp_path, "service: [a, b]\n")
    with pytest.raises(FileEditError) as caught:
        _run(tmp_path)
    assert caught.value.line() == (
        f"{VALUES_DIR}/invoice.yaml:1: service is a list, expected a mapping "
        "(fix the file by hand, then run again)"
    )


def test_remove_deletes_the_services_own_values_file(tmp_path: Path) -> None:
    path = _setup(tmp_path, BEFORE)
    ws = Workspace(tmp_path)
    assert HelmTarget(seed_settings(tmp_path)).remove(ws, "invoice") == []
    [edit] = ws.edits()
    assert (edit.path, edit.before, edit.after) == (path, BEFORE, None)


def test_remove_never_deletes_a_shared_values_file(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text(BEFORE)
    helm = HelmSettings(values="values.yaml")
    ws = Workspace(tmp_path)
    assert HelmTarget(replace(seed_settings(tmp_path), helm=helm)).remove(ws, "invoice") == []
    assert ws.edits() == []


def test_used_ports_and_scan(tmp_path: Path) -> None:
    _setup(tmp_path, BEFORE)
    (tmp_path / VALUES_DIR / "general-ledger.yaml").write_text(
        "service:\n  port: 8001\n  nodePort: 31001\n"
    )
    ws = Workspace(tmp_path)
    target = HelmTarget(seed_settings(tmp_path))
    assert ports_in_use(ws, [target]) >= {8001, 31001, 30802}
    gl = f"{VALUES_DIR}/general-ledger.yaml"
    inv = f"{VALUES_DIR}/invoice.yaml"
    assert target.scan(ws) == [
        # the NodePort convention (a nodePort, or type: NodePort): the registry governs them
        Observation("helm", gl, 2, 8001, "service.port", "port", "general-ledger", SERVICE),
        Observation("helm", gl, 3, 31001, "service.nodePort", "node_port", "general-ledger", NODE),
        Observation("helm", inv, 9, 30802, "service.port", "port", "invoice", SERVICE),
        Observation(
            "helm", inv, 10, 30802, "service.containerPort", "container_port", "invoice", CONTAINER
        ),
        Observation("helm", inv, 11, 30802, "service.nodePort", "node_port", "invoice", NODE),
    ]


def test_a_scaffolded_header_names_no_port_so_it_never_goes_stale(tmp_path: Path) -> None:
    """After `assign --force` moves the service, the comment still tells the truth."""
    path = _setup(tmp_path, None)
    ws, _ = _run(tmp_path, scaffold=True)
    header = [line for line in (ws.read(path) or "").splitlines() if line.startswith("#")]
    assert header
    assert not any(char.isdigit() for line in header for char in line)
