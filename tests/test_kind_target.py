"""KindTarget on a Workspace: whole-file edits of kind-config.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from portreg.config import KindSettings, Settings
from portreg.config.record import replace
from portreg.errors import FileEditError
from portreg.io.workspace import Workspace
from portreg.model import Assignment
from portreg.targets.base import HOST, NODE, Observation
from portreg.targets.in_use import ports_in_use
from portreg.targets.kind import KindTarget

INVOICE = Assignment("invoice", 8002, 31002)

HEAD = """\
# kind cluster for RERP 🚀
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
containerdConfigPatches:
- |-
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."localhost:5001"]
    endpoint = ["http://kind-registry:5000"]
nodes:
- role: control-plane
  kubeadmConfigPatches:
  - |
    kind: InitConfiguration
    nodeRegistration:
      kubeletExtraArgs:
        node-labels: "ingress-ready=true"
"""

WITH_GL = (
    HEAD
    + """\
  extraPortMappings:
  # General Ledger Service
  - containerPort: 31001
    hostPort: 8001
    protocol: TCP
- role: worker
"""
)

WITH_BOTH = (
    HEAD
    + """\
  extraPortMappings:
  # General Ledger Service
  - containerPort: 31001
    hostPort: 8001
    protocol: TCP
  # Invoice Service
  - containerPort: 31002
    hostPort: 8002
    protocol: TCP
- role: worker
"""
)


def _run(
    tmp_path: Path, text: str | None, wanted: Assignment = INVOICE, settings: Settings | None = None
) -> tuple[Workspace, list[str], str | None]:
    path = tmp_path / "kind-config.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8", newline="")
    ws = Workspace(tmp_path)
    warnings = KindTarget(settings or Settings(root=tmp_path)).update(ws, wanted)
    return ws, warnings, ws.read(path)


def test_adds_a_mapping_after_the_others(tmp_path: Path) -> None:
    _, warnings, after = _run(tmp_path, WITH_GL)
    assert warnings == []
    assert after == WITH_BOTH


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    ws, _, after = _run(tmp_path, WITH_BOTH)
    assert after == WITH_BOTH
    assert ws.edits() == []


def test_creates_extra_port_mappings(tmp_path: Path) -> None:
    _, _, after = _run(tmp_path, HEAD + "- role: worker\n")
    assert after == HEAD + (
        "  extraPortMappings:\n"
        "  # Invoice Service\n"
        "  - containerPort: 31002\n"
        "    hostPort: 8002\n"
        "    protocol: TCP\n"
        "- role: worker\n"
    )


def test_indented_dash_style_and_crlf(tmp_path: Path) -> None:
    before = (
        "kind: Cluster\r\nnodes:\r\n  - role: control-plane\r\n    extraPortMappings:\r\n"
        "      # General Ledger Service\r\n      - containerPort: 31001\r\n"
        "        hostPort: 8001\r\n        protocol: TCP"
    )
    _, _, after = _run(tmp_path, before)
    assert after == before + (
        "\r\n      # Invoice Service\r\n      - containerPort: 31002\r\n"
        "        hostPort: 8002\r\n        protocol: TCP"
    )


def test_no_nodes_adds_a_control_plane_node(tmp_path: Path) -> None:
    _, _, after = _run(tmp_path, "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n")
    assert after == (
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n"
        "  extraPortMappings:\n  # Invoice Service\n  - containerPort: 31002\n"
        "    hostPort: 8002\n    protocol: TCP\n"
    )


def test_after_force_the_old_entry_is_updated_in_place(tmp_path: Path) -> None:
    _, _, after = _run(tmp_path, WITH_BOTH, Assignment("invoice", 8005, 31005))
    assert after == WITH_BOTH.replace("31002", "31005").replace("8002", "8005")


def test_an_uncommented_entry_with_exact_values_is_recognised(tmp_path: Path) -> None:
    before = WITH_GL.replace("  # General Ledger Service\n", "")
    ws, _, after = _run(tmp_path, before, Assignment("general-ledger", 8001, 31001))
    assert after == before
    assert ws.edits() == []


def test_another_entry_on_the_host_port_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileEditError) as caught:
        _run(tmp_path, WITH_GL, Assignment("billing", 8001, 31001))
    assert caught.value.line() == (
        "kind-config.yaml:18: hostPort 8001 is already bound by the mapping for "
        "'general-ledger' (containerPort 31001); cannot map it for 'billing' "
        "(remove or change that mapping, or give the service another port)"
    )


def test_no_control_plane_node_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileEditError, match="no node with role 'control-plane'"):
        _run(tmp_path, "nodes:\n- role: worker\n")


def test_missing_kind_config_warns(tmp_path: Path) -> None:
    ws, warnings, after = _run(tmp_path, None)
    assert after is None
    assert warnings == ["⚠️  kind config not found: kind-config.yaml (no port mapping added)"]
    assert ws.edits() == []


def test_skip_host_ports_removes_the_services_mapping(tmp_path: Path) -> None:
    settings = replace(Settings(root=tmp_path), kind=KindSettings(skip_host_ports=((8002, 8099),)))
    _, _, after = _run(tmp_path, WITH_BOTH, settings=settings)
    assert after == WITH_GL
    ws, _, again = _run(tmp_path, WITH_GL, settings=settings)
    assert again == WITH_GL
    assert ws.edits() == []


def test_remove_deletes_entry_and_comment(tmp_path: Path) -> None:
    path = tmp_path / "kind-config.yaml"
    path.write_text(WITH_BOTH)
    ws = Workspace(tmp_path)
    target = KindTarget(Settings(root=tmp_path))
    assert target.remove(ws, "invoice") == []
    assert ws.read(path) == WITH_GL
    assert target.remove(ws, "general-ledger") == []
    assert ws.read(path) == HEAD + "- role: worker\n"


def test_remove_by_values_when_the_port_is_known(tmp_path: Path) -> None:
    path = tmp_path / "kind-config.yaml"
    path.write_text(WITH_GL.replace("  # General Ledger Service\n", ""))
    ws = Workspace(tmp_path)
    target = KindTarget(Settings(root=tmp_path))
    target.remove(ws, "general-ledger")
    assert ws.edits() == []
    target.remove(ws, "general-ledger", 8001)
    assert ws.read(path) == HEAD + "- role: worker\n"


def test_scan_and_used_ports(tmp_path: Path) -> None:
    (tmp_path / "kind-config.yaml").write_text(
        WITH_BOTH + "  extraPortMappings:\n  - hostPort: 80\n"
    )
    ws = Workspace(tmp_path)
    target = KindTarget(Settings(root=tmp_path))
    # every number counts (a superset of what check observes), comments' and names' too
    assert ports_in_use(ws, [target]) == {1, 4, 8, 80, 5000, 5001, 8001, 31001, 8002, 31002}
    assert target.scan(ws) == [
        # a hostPort binds this machine and leads to the node's containerPort (a NodePort)
        Observation(
            "kind",
            "kind-config.yaml",
            19,
            8001,
            "hostPort",
            "port",
            "general-ledger",
            HOST,
            leads_to=31001,
        ),
        Observation(
            "kind",
            "kind-config.yaml",
            18,
            31001,
            "containerPort",
            "node_port",
            "general-ledger",
            NODE,
            link=True,
        ),
        Observation(
            "kind",
            "kind-config.yaml",
            23,
            8002,
            "hostPort",
            "port",
            "invoice",
            HOST,
            leads_to=31002,
        ),
        Observation(
            "kind",
            "kind-config.yaml",
            22,
            31002,
            "containerPort",
            "node_port",
            "invoice",
            NODE,
            link=True,
        ),
        Observation("kind", "kind-config.yaml", 27, 80, "hostPort", "port", None),
    ]


FLOW_NODES = (
    "kind: Cluster\n"
    "nodes: [{role: control-plane, extraPortMappings: [{containerPort: 31002, hostPort: 8002}]}]\n"
)


def test_nodes_as_a_flow_sequence_are_read_like_the_block_form(tmp_path: Path) -> None:
    (tmp_path / "kind-config.yaml").write_text(FLOW_NODES)
    target = KindTarget(Settings(root=tmp_path))
    assert target.scan(Workspace(tmp_path)) == [
        Observation("kind", "kind-config.yaml", 2, 8002, "hostPort", "port", None, leads_to=31002),
        Observation(
            "kind",
            "kind-config.yaml",
            2,
            31002,
            "containerPort",
            "node_port",
            None,
            NODE,
            link=True,
        ),
    ]


@pytest.mark.parametrize("verb", ["adds", "removes"])
def test_a_flow_list_of_mappings_is_never_rewritten(tmp_path: Path, verb: str) -> None:
    (tmp_path / "kind-config.yaml").write_text(FLOW_NODES)
    ws = Workspace(tmp_path)
    target = KindTarget(Settings(root=tmp_path))

    def edit() -> None:
        if verb == "adds":
            target.update(ws, Assignment("payroll", 8005, 31005))
        else:
            target.remove(ws, "invoice", 8002)

    with pytest.raises(FileEditError, match=f"is a flow list .*; portreg {verb} items"):
        edit()
    assert ws.edits() == []


def _with_a_stale_copy(root: Path) -> Path:
    kind = root / "kind-config.yaml"
    stale = "  # Invoice Service\n  - containerPort: 31010\n    hostPort: 8010\n    protocol: TCP\n"
    kind.write_text(kind.read_text().replace("- role: worker", stale + "- role: worker"))
    return root


def test_a_stale_second_mapping_is_said_not_guessed(rerp_example: Path, cli) -> None:
    root = _with_a_stale_copy(rerp_example)
    run = cli("--root", str(root), "fix")
    assert run.code == 1
    assert run.err.startswith(
        "⚠️  Not fixed: kind-config.yaml:23: invoice has 2 mappings (lines 19, 23) "
        "(remove the stale one by hand, then run again)\n"
    )
    check = cli("--root", str(root), "check")
    assert "hint: invoice has 2 mappings: remove the stale one" in check.out
    assert "kind-config.yaml:24: error PR008" in check.out
    again = cli("--root", str(root), "fix")  # claims no rewrite it cannot make
    assert (again.code, again.out) == (1, "ℹ️  Nothing to fix\n")
    assert again.err.startswith("⚠️  Not fixed: kind-config.yaml:23: invoice has 2 mappings")


def test_removing_a_service_removes_every_mapping_it_has(rerp_example: Path, cli) -> None:
    root = _with_a_stale_copy(rerp_example)
    with (root / "portreg.toml").open("a") as config:
        config.write("\n[kind]\nskip-host-ports = [[8001, 8099]]\n")
    run = cli("--root", str(root), "fix")
    assert run.code == 0, run.err
    assert "hostPort: 80" not in (root / "kind-config.yaml").read_text()
    assert cli("--root", str(root), "fix").out == "ℹ️  Nothing to fix\n"
