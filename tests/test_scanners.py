"""The read-only scanners on inline strings: Tiltfile, compose, Kubernetes manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from portreg.config import ScannerSettings, Settings
from portreg.errors import PortregError
from portreg.io.workspace import Workspace
from portreg.targets import build_targets
from portreg.targets.base import UNREAD, Observation
from portreg.targets.compose import ComposeTarget, published_short
from portreg.targets.compose import scan_text as scan_compose
from portreg.targets.in_use import ports_in_use
from portreg.targets.manifests import scan_text as scan_manifests
from portreg.targets.tilt import TiltTarget, local_port
from portreg.targets.tilt import scan_text as scan_tilt


def ports(found: list[Observation]) -> list[tuple[int, int, str | None]]:
    return [(o.line, o.port, o.service) for o in found]


# ------------------------------------------------------------------ Tiltfile

TILTFILE = """\
# Tiltfile
SERVICE_PORTS = {
    'invoice': 8002,   # billing
    "general-ledger": '8001',
}
OTHER = {'replicas': 3}
k8s_resource('invoice', port_forwards='8002:8002')
k8s_resource(workload='general-ledger',
             port_forwards=['localhost:8001:8001', port_forward(9001, 9001, name='debug')])
k8s_resource('x', port_forwards=port_forward(local_port=7000, container_port=80))
port_forward(6000, 6000)
k8s_resource('y', port_forwards=8003, labels=['a'])
k8s_resource('z', port_forwards=str(8000 + 5))  # computed: named, not guessed
# port_forwards='9999:9999' in a comment is not read
"""


def test_tiltfile_literals_with_their_resource():
    assert ports(scan_tilt("Tiltfile", TILTFILE)) == [
        (3, 8002, "invoice"),
        (4, 8001, "general-ledger"),
        (7, 8002, "invoice"),
        (9, 8001, "general-ledger"),
        (9, 9001, "general-ledger"),
        (10, 7000, "x"),
        (11, 6000, None),
        (12, 8003, "y"),
        (13, 0, "z"),
    ]
    unread = [o for o in scan_tilt("Tiltfile", TILTFILE) if o.namespace == UNREAD]
    assert [(o.field, o.role) for o in unread] == [("port_forwards=str(8000 + 5)", "other")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(8001, 8001), ("8001", 8001), ("8001:80", 8001), ("localhost:8001:80", 8001), ("x", None)],
    ids=["int", "str", "local:remote", "host:local:remote", "junk"],
)
def test_tilt_local_port(value, expected):
    assert local_port(value) == expected


def test_tiltfile_that_cannot_be_parsed_names_its_line():
    with pytest.raises(PortregError) as caught:
        scan_tilt("Tiltfile", "x = 1\nk8s_resource('a',\n  port_forwards='8001:8001'\n")
    assert caught.value.line() == "Tiltfile:2: cannot read the Tiltfile ('(' was never closed)"


# ------------------------------------------------------------------- compose

COMPOSE = """\
# deps
services:
  db:
    ports:
      - "5432:5432" # database
      - 127.0.0.1:8001:8001
      - "[::1]:6001:6001"
      - "9000-9002:9000-9002"
      - "1025"        # container port only
      - 22:22         # sexagesimal in YAML 1.1, still a port pair
      - "53:53/udp"   # not TCP
      - ${PORT:-8005}:80
  cache:
    ports:
      - target: 6379
        published: "6380"
      - target: 6379
        published: 6381
        protocol: udp
"""


def test_compose_published_host_ports_short_and_long():
    assert ports(scan_compose("compose.yaml", COMPOSE)) == [
        (5, 5432, "db"),
        (6, 8001, "db"),
        (7, 6001, "db"),
        (8, 9000, "db"),
        (8, 9001, "db"),
        (8, 9002, "db"),
        (10, 22, "db"),
        (12, 8005, "db"),  # the default of ${PORT:-8005}: no .env gives PORT a value
        (16, 6380, "cache"),
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("8001:80", [8001]), ("8001", []), ("host.docker.internal:8001:80", [8001]), ("a:b", [])],
)
def test_compose_short_syntax(spec, expected):
    assert published_short(spec) == expected


def test_compose_that_is_not_yaml_names_its_line():
    with pytest.raises(PortregError) as caught:
        scan_compose("compose.yaml", "services:\n  a:\n    ports: [\n")
    assert caught.value.where is not None
    assert caught.value.where.startswith("compose.yaml:")


# ----------------------------------------------------------------- manifests

MANIFESTS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {port: "8001"}
---
# the Service
apiVersion: v1
kind: Service
metadata:
  name: invoice
spec:
  type: NodePort
  ports:
    - port: 8002
      targetPort: http
      nodePort: 31002
    - port: "{{ .Values.port }}"
---
apiVersion: v1
kind: List
items:
  - kind: Service
    metadata: {name: ledger}
    spec:
      ports: [{port: 8001}]
"""


def test_manifests_services_only_multi_document():
    found = scan_manifests("k8s/a.yaml", MANIFESTS)
    assert [(o.line, o.port, o.role, o.service) for o in found] == [
        (14, 8002, "other", "invoice"),  # a Service's own port: in-cluster, never governed
        (16, 31002, "node_port", "invoice"),
        (25, 8001, "other", "ledger"),
    ]


# ------------------------------------------------------ targets and switches


def test_scanners_are_registered_after_helm_and_kind(tmp_path: Path):
    names = [t.name for t in build_targets(Settings(root=tmp_path))]
    assert names == ["helm", "kind", "tilt", "compose", "manifests"]


def test_each_scanner_can_be_switched_off(tmp_path: Path):
    off = ScannerSettings(enabled=False)
    settings = Settings(root=tmp_path, tilt=off, compose=off, scanners={"manifests": off})
    assert [t.name for t in build_targets(settings)] == ["helm", "kind"]


def test_scanner_reads_configured_files_and_never_edits(tmp_path: Path):
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "Tiltfile").write_text("k8s_resource('a', port_forwards=8001)\n")
    settings = Settings(root=tmp_path, tilt=ScannerSettings(files=("dev/Tiltfile",)))
    ws = Workspace(tmp_path)
    tilt = TiltTarget(settings)
    assert ports(tilt.scan(ws)) == [(1, 8001, "a")]
    assert ports_in_use(ws, [tilt]) == {8, 8001}  # the 8 of k8s_resource too: a superset
    assert tilt.remove(ws, "a") == []
    assert ws.edits() == []


def test_a_file_check_cannot_parse_still_counts_for_assign(tmp_path: Path):
    (tmp_path / "compose.yaml").write_text("services: [\n  port: 8001\n")
    assert ports_in_use(Workspace(tmp_path), [ComposeTarget(Settings(root=tmp_path))]) == {8001}
