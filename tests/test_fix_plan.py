"""reconcile and fix planning as pure functions of Facts, and ``--live`` reading /proc."""

from __future__ import annotations

from pathlib import Path

from portreg.check.facts import Facts
from portreg.check.live import listeners, parse_proc_net
from portreg.check.repair import order_moves, plan_fix, plan_reconcile
from portreg.config import Settings
from portreg.model import RegistryState
from portreg.model.step import Move
from portreg.targets.base import SERVICE, Observation

V = "helm/rerp-microservice/values"


def make(assignments: dict[str, int], *observations: Observation, **values: str) -> Facts:
    return Facts(
        settings=Settings(root=Path("/repo")),
        state=RegistryState(assignments=assignments, next_port=8001, reserved_ports=(8080,)),
        registry_path="scripts/port-registry.json",
        observations=observations,
        values_files={s.replace("_", "-"): p for s, p in values.items()},
    )


def helm(service: str, port: int) -> Observation:
    return Observation("helm", f"{V}/{service}.yaml", 3, port, "service.port", "port", service)


def kind(service: str, port: int) -> Observation:
    return Observation("kind", "kind-config.yaml", 9, port, "hostPort", "port", service)


def test_reconcile_keeps_a_free_helm_port_else_takes_the_lowest_free():
    facts = make(
        {"a": 8001},
        helm("b", 8001),
        helm("c", 8005),
        helm("d", 8080),
        b=f"{V}/b.yaml",
        c=f"{V}/c.yaml",
        d=f"{V}/d.yaml",
    )
    plan = plan_reconcile(facts)
    assert dict(plan.state.assignments) == {"a": 8001, "b": 8002, "c": 8005, "d": 8003}
    assert plan.messages == [
        "➕ Adopted 'b' on port 8002 (8001 belongs to a)",
        f"➕ Adopted 'c' on its port 8005 ({V}/c.yaml:3)",
        "➕ Adopted 'd' on port 8003 (8080 is reserved)",
    ]


def test_reconcile_two_unknown_services_on_one_port_first_keeps_it():
    facts = make({}, helm("x", 8004), helm("y", 8004), x=f"{V}/x.yaml", y=f"{V}/y.yaml")
    # a tie (one file each): the first keeps it, y takes the lowest free port
    assert dict(plan_reconcile(facts).state.assignments) == {"x": 8004, "y": 8001}


def test_fix_registry_duplicate_first_assigned_keeps_it():
    plan = plan_fix(make({"a": 8001, "b": 8001, "c": 8002}, helm("b", 8001)))
    assert dict(plan.state.assignments) == {"a": 8001, "b": 8003, "c": 8002}
    assert plan.moves == [Move("b", 8003, frozenset({"helm"}))]


def test_fix_out_of_range_and_reserved_registry_ports():
    plan = plan_fix(make({"a": 9500, "b": 8080}))
    assert dict(plan.state.assignments) == {"a": 8001, "b": 8002}


def test_fix_moves_a_stranger_off_a_registered_port_or_prunes_it():
    facts = make({"a": 8001}, kind("legacy", 8001))
    plan = plan_fix(facts)
    assert plan.moves == [Move("legacy", 8002, frozenset({"kind"}))]
    assert plan.state == facts.state  # a stranger is not adopted
    pruned = plan_fix(facts, prune=True)
    assert (pruned.moves, pruned.removals) == ([], [("kind", "legacy")])


def test_fix_rewrites_drift_and_notes_what_it_cannot_do():
    tilt = Observation("tilt", "Tiltfile", 4, 8001, "port_forwards", "port", "other")
    # a Service's own port is in-cluster: it never meets a's host port
    manifest = Observation("manifests", "k8s/svc.yaml", 5, 8001, "port", "other", "other", SERVICE)
    compose = Observation("compose", "c.yaml", 3, 8001, "ports", "port", "db", group="compose:c")
    foreign = Observation("compose", "c.yaml", 7, 5432, "ports", "port", "pg", group="compose:c")
    replica = Observation("compose", "c.yaml", 9, 5432, "ports", "port", "pg2", group="compose:c")
    facts = make({"a": 8001, "b": 8002}, helm("b", 8009), tilt, manifest, compose, foreign, replica)
    plan = plan_fix(facts)
    # the Tiltfile's forward and compose's published port move off a's port
    assert plan.moves == [
        Move("other", 8003, frozenset({"tilt", "manifests"})),
        Move("db", 8004, frozenset({"compose"})),
        Move("b", 8002, frozenset({"helm"})),
    ]
    # two services of one project on 5432, outside the range: foreign, said, never moved
    assert plan.warnings == [
        "⚠️  Not fixed: c.yaml:9: port 5432 is held by both pg (c.yaml:7) and pg2 (c.yaml:9); "
        "edit c.yaml:9 by hand"
    ]


def test_moves_that_vacate_a_port_go_first():
    facts = make({"a": 8002, "b": 8003}, kind("a", 8003), kind("b", 8004))
    # a's kind entry sits on 8003, where b must go: a moves first
    moves = [Move("b", 8003), Move("a", 8002)]
    assert order_moves(facts, moves) == [Move("a", 8002), Move("b", 8003)]


PROC_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F41 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1
   1: 0100007F:1F42 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1
"""


def test_parse_proc_net_listening_sockets_only():
    assert parse_proc_net(PROC_TCP) == {8001: 4242}


ON_ADDRESSES = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F41 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 11 1
   1: 0200007F:1F42 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12 1
   2: 00000000:1F43 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 13 1
"""


def test_parse_proc_net_for_one_loopback_address_keeps_it_and_every_address():
    """An instance on 127.0.0.2 meets a listener on 127.0.0.2 or on 0.0.0.0, not one on
    127.0.0.1 (another instance's)."""
    assert parse_proc_net(ON_ADDRESSES) == {8001: 11, 8002: 12, 8003: 13}
    assert parse_proc_net(ON_ADDRESSES, "127.0.0.2") == {8002: 12, 8003: 13}


def test_listeners_from_a_fake_proc(tmp_path: Path):
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_text(PROC_TCP)
    (tmp_path / "77" / "fd").mkdir(parents=True)
    (tmp_path / "77" / "comm").write_text("uvicorn\n")
    (tmp_path / "77" / "fd" / "3").symlink_to("socket:[4242]")
    assert listeners([8001, 8002], proc=tmp_path) == {8001: "uvicorn (pid 77)"}


def test_listeners_fall_back_to_binding(tmp_path: Path):
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert listeners([port], proc=tmp_path) == {port: ""}


def test_a_contested_port_goes_to_the_service_the_most_files_name():
    """A values file copied from elsewhere loses to the service kind and Tilt both name."""
    tilt = Observation("tilt", "Tiltfile", 4, 8004, "port_forwards", "port", "billing")
    facts = make(
        {},
        helm("copied", 8004),
        kind("billing", 8004),
        tilt,
        helm("late", 8006),
        Observation("compose", "compose.yaml", 2, 8006, "ports", "port", "other"),
        copied=f"{V}/copied.yaml",
        late=f"{V}/late.yaml",
    )
    plan = plan_reconcile(facts)
    assert dict(plan.state.assignments) == {
        "copied": 8001,
        "late": 8006,  # a tie (one file each): the first in file order keeps it
        "billing": 8004,
        "other": 8002,  # the lowest free port
    }
    assert plan.messages[0] == (
        "➕ Adopted 'copied' on port 8001 (8004 goes to billing, which 2 files name "
        "(1 name copied))"
    )


def test_infrastructure_outside_the_range_is_never_adopted():
    postgres = Observation("kind", "kind-config.yaml", 5, 5433, "hostPort", "port", "postgres")
    assert plan_reconcile(make({}, postgres)).moves == []


def test_the_ephemeral_range_is_the_kernels_else_linuxs_default(tmp_path: Path):
    from portreg.check.live import ephemeral_range

    assert ephemeral_range(tmp_path) == (32768, 60999)
    (tmp_path / "sys/net/ipv4").mkdir(parents=True)
    (tmp_path / "sys/net/ipv4/ip_local_port_range").write_text("40000\t50000\n")
    assert ephemeral_range(tmp_path) == (40000, 50000)
    (tmp_path / "sys/net/ipv4/ip_local_port_range").write_text("garbage\n")
    assert ephemeral_range(tmp_path) == (32768, 60999)
