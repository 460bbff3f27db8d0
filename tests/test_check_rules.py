"""Each rule on hand-built Facts: the code it reports, where, and what it leaves to others."""

from __future__ import annotations

from pathlib import Path

import pytest

from portreg.check import rules
from portreg.check.facts import Facts
from portreg.check.findings import Finding, counts, exit_code
from portreg.config import KindSettings, Settings
from portreg.errors import Problem
from portreg.model import RegistryState
from portreg.targets.base import NODE, Observation

REG = "scripts/port-registry.json"
VALUES = "helm/rerp-microservice/values"


def registry_text(assignments: dict[str, int]) -> str:
    lines = [f'    "{s}": {p},' for s, p in assignments.items()]
    return '{\n  "assignments": {\n' + "\n".join(lines) + "\n  }\n}\n"


def make(
    assignments: dict[str, int],
    *observations: Observation,
    settings: Settings | None = None,
    values: dict[str, str] | None = None,
    kind: str | None = None,
    **more: object,
) -> Facts:
    return Facts(
        settings=settings or Settings(root=Path("/repo")),
        state=RegistryState(assignments=assignments, reserved_ports=(8080,)),
        registry_path=REG,
        registry_text=registry_text(assignments),
        observations=observations,
        values_files=values
        if values is not None
        else {s: f"{VALUES}/{s}.yaml" for s in assignments},
        kind_config=kind,
        **more,  # type: ignore[arg-type]
    )


def helm(service: str, port: int, role: str = "port", line: int = 3) -> Observation:
    field = {"port": "service.port", "container_port": "service.containerPort"}.get(
        role, "service.nodePort"
    )
    return Observation("helm", f"{VALUES}/{service}.yaml", line, port, field, role, service)


def kind(service: str | None, port: int, role: str = "port", line: int = 9) -> Observation:
    field = "hostPort" if role == "port" else "containerPort"
    if role == "port":
        return Observation("kind", "kind-config.yaml", line, port, field, role, service)
    # a containerPort reaches a NodePort: the link that says the repo derives NodePorts
    return Observation(
        "kind", "kind-config.yaml", line, port, field, role, service, NODE, link=True
    )


def hits(rule: rules.Check, facts: Facts) -> list[tuple[str, int]]:
    return [(h.path, h.line) for h in rule(facts)]


def test_registry_duplicate_named_at_the_second_holder():
    facts = make({"a": 8001, "b": 8001})
    [hit] = rules.registry_duplicates(facts)
    assert (hit.path, hit.line) == (REG, 4)
    assert "both a (scripts/port-registry.json:3) and b" in hit.message


def test_collision_names_both_holders_and_files():
    other = Observation("compose", "compose.yaml", 5, 8001, "ports", "port", "billing")
    [hit] = rules.port_collisions(make({"a": 8001}, other))
    assert hit.message == (
        "port 8001 is held by both a (scripts/port-registry.json:3) and billing (compose.yaml:5)"
    )
    assert hit.hint == "run `portreg fix`"  # fix moves a compose service's published port
    manifest = Observation("manifests", "k8s/svc.yaml", 7, 8001, "port", "port", "billing")
    [hit] = rules.port_collisions(make({"a": 8001}, manifest))
    assert hit.hint == "edit k8s/svc.yaml:7 by hand"  # manifests stay the user's


def test_collision_between_two_unregistered_files_once():
    first, second = helm("x", 8010), kind("y", 8010)
    facts = make({}, first, second, helm("x", 8010, "container_port"))
    assert hits(rules.port_collisions, facts) == [("kind-config.yaml", 9)]


def test_collision_left_to_the_drift_rule_and_to_pr001():
    facts = make({"a": 8001, "b": 8002, "c": 8002}, helm("b", 8001), helm("c", 8002))
    assert hits(rules.port_collisions, facts) == []
    assert hits(rules.helm_port, facts) == [(f"{VALUES}/b.yaml", 3)]
    [drift] = rules.helm_port(facts)
    assert drift.message == "service.port is 8001, the registry gives b 8002; 8001 belongs to a"


def test_unnamed_entry_on_a_registered_port_is_that_services_own():
    facts = make({"a": 8001}, kind(None, 8001), kind=("kind-config.yaml"))
    assert hits(rules.port_collisions, facts) == []
    assert hits(rules.kind_missing, facts) == []


def test_helm_container_port_drift():
    facts = make({"a": 8001}, helm("a", 8001), helm("a", 8011, "container_port", 4))
    assert hits(rules.helm_container_port, facts) == [(f"{VALUES}/a.yaml", 4)]


def test_helm_node_port_sibling_formula_registered_and_unknown():
    facts = make(
        {"a": 8001},
        helm("a", 30801, "node_port", 5),
        helm("x", 8002),
        helm("x", 30802, "node_port", 5),
        values={"a": f"{VALUES}/a.yaml", "x": f"{VALUES}/x.yaml"},
    )
    found = list(rules.helm_node_port(facts))
    assert [(h.path, h.line) for h in found] == [(f"{VALUES}/a.yaml", 5), (f"{VALUES}/x.yaml", 5)]
    assert found[0].message == (
        "service.nodePort is 30801, the formula gives 31001 (31000 + (8001 - 8000))"
    )
    assert hits(rules.node_port_range, facts) == []  # PR005 already says it


def test_values_file_for_unknown_service_and_registered_without_one():
    facts = make({"a": 8001}, helm("x", 8005), values={"x": f"{VALUES}/x.yaml"})
    assert hits(rules.helm_unknown_service, facts) == [(f"{VALUES}/x.yaml", 3)]
    assert hits(rules.helm_missing_values, facts) == [(REG, 3)]


def test_kind_drift_per_field():
    facts = make({"a": 8001}, kind("a", 8003, line=10), kind("a", 31001, "node_port", 9))
    assert hits(rules.kind_drift, facts) == [("kind-config.yaml", 10)]
    facts = make({"a": 8001}, kind("a", 8001, line=10), kind("a", 30801, "node_port", 9))
    assert hits(rules.kind_drift, facts) == [("kind-config.yaml", 9)]


def test_kind_stranger_on_a_registered_port_is_pr009_not_pr002():
    facts = make({"a": 8001}, kind("legacy", 8001))
    assert hits(rules.kind_stranger, facts) == [("kind-config.yaml", 9)]
    assert hits(rules.port_collisions, facts) == []


def test_kind_missing_only_when_kind_config_exists():
    assert hits(rules.kind_missing, make({"a": 8001})) == []
    assert hits(rules.kind_missing, make({"a": 8001}, kind="kind-config.yaml")) == [(REG, 3)]


def test_out_of_range_and_reserved():
    facts = make({"a": 9500, "b": 8080}, kind("x", 8080))
    assert hits(rules.out_of_range, facts) == [(REG, 3)]
    # reserved: portreg hands 8080 to no service; a file binding it (x's kind mapping) is fine
    assert hits(rules.reserved_in_use, facts) == [(REG, 4)]


@pytest.mark.parametrize(
    ("port", "expected"),
    [(31500, []), (30500, []), (8001, ["Kubernetes' 30000-32767"])],
    # a mapping no registered service owns (PostgreSQL on 30432) is not held to portreg's range
    ids=["in-range", "outside-configured-not-portregs", "outside-kubernetes"],
)
def test_node_port_range(port, expected):
    manifest = Observation("manifests", "k8s/s.yaml", 7, port, "nodePort", "node_port", "web")
    found = [h.message for h in rules.node_port_range(make({}, manifest))]
    assert len(found) == len(expected)
    assert all(text in message for text, message in zip(expected, found, strict=True))


@pytest.mark.parametrize(
    ("size", "band"),
    [(2768, 86), (16, 0), (17, 16), (100, 16), (1000, 31), (5000, 128), (65536, 128)],
)
def test_static_band_kep_3668(size, band):
    assert rules.static_band(size) == band


def test_static_band_note_once_at_the_config():
    assert list(rules.static_band_note(make({}, config_path="portreg.toml"))) == []  # no NodePort
    # portreg's default range is no news about the repo
    assert list(rules.static_band_note(make({}, kind(None, 31001, "node_port")))) == []
    chosen = Settings(root=Path("/r"), node_port_range=(31000, 32767))
    facts = make({}, kind(None, 31001, "node_port"), config_path="portreg.toml", settings=chosen)
    [hit] = rules.static_band_note(facts)
    assert (hit.path, hit.line) == ("portreg.toml", 1)
    assert "30000-30085 (KEP-3668)" in hit.message
    inside = Settings(root=Path("/r"), node_port_range=(30000, 30050))
    assert (
        list(rules.static_band_note(make({}, kind(None, 30001, "node_port"), settings=inside)))
        == []
    )


def test_kind_host_port_in_skip_host_ports():
    settings = Settings(root=Path("/r"), kind=KindSettings(skip_host_ports=((9000, 9099),)))
    facts = make({"a": 9010}, kind("a", 9010), settings=settings)
    assert hits(rules.kind_skipped, facts) == [("kind-config.yaml", 9)]
    # a mapping no registered service owns is not portreg's to judge
    stranger = make({"a": 8001}, kind("tool", 9010), settings=settings)
    assert hits(rules.kind_skipped, stranger) == []


def test_listening_port_names_the_process():
    facts = make({"a": 8001, "b": 8002}, listeners={8002: "python3 (pid 7)"})
    [hit] = rules.listening(facts)
    assert (hit.path, hit.line) == (REG, 4)
    assert "by python3 (pid 7)" in hit.message
    assert list(rules.listening(make({"a": 8001}))) == []


def test_scanned_drift_warns_unless_the_port_is_someone_elses():
    tilt = Observation("tilt", "Tiltfile", 3, 8015, "port_forwards", "port", "a")
    assert hits(rules.scanned_drift, make({"a": 8001}, tilt)) == [("Tiltfile", 3)]
    tilt = Observation("tilt", "Tiltfile", 3, 8002, "port_forwards", "port", "a")
    facts = make({"a": 8001, "b": 8002}, tilt)
    assert hits(rules.scanned_drift, facts) == []
    assert hits(rules.port_collisions, facts) == [("Tiltfile", 3)]


def test_unreadable_file():
    facts = make({}, unreadable=(Problem("compose.yaml", 4, "not valid YAML"),))
    assert hits(rules.unreadable, facts) == [("compose.yaml", 4)]


def test_codes_are_unique_and_stable():
    """Every @rule is in RULES once, in code order; no code is skipped or reused, and a
    rule's docstring names its own code."""
    codes = [rule.code for rule in rules.RULES]
    assert codes == [f"PR{n:03d}" for n in range(1, len(codes) + 1)]
    assert len({rule.name for rule in rules.RULES}) == len(codes)
    for rule in rules.RULES:
        assert (rule.check.__doc__ or "").startswith(rule.code), rule.code


def test_exit_code_and_counts():
    warning = Finding("PR007", "warning", REG, 1, "m")
    error = Finding("PR003", "error", REG, 1, "m")
    assert exit_code([warning]) == 0
    assert exit_code([warning], strict=True) == 1
    assert exit_code([error]) == 1
    assert counts([warning, error]) == {"error": 1, "warning": 1, "info": 0}
