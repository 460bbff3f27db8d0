"""Registry values: parsing, validation, allocation, NodePorts (pure, no disk)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portreg.config import Settings
from portreg.errors import RangeFullError, RegistryError, ServiceNameError
from portreg.model import (
    RegistryState,
    allocate,
    dump_registry,
    parse_registry,
    require_consistent,
    validate_service,
)

from conftest import SEED_REGISTRY

SETTINGS = Settings(root=Path("/repo"))


def state(assignments: dict[str, int], next_port: int | None = None) -> RegistryState:
    return RegistryState(assignments=assignments, next_port=next_port, reserved_ports=(8080,))


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Bad Name!",
        "../../etc/passwd",
        "UPPER",
        "-lead",
        "trail-",
        "a" * 64,
        "іnvoice",  # Cyrillic і: a look-alike
        "inv\x00oice",
        "invoice\n",
        "9lives",
        "in_voice",
    ],
    ids=repr,
)
def test_names_that_are_not_dns_1035_labels_are_refused(name: str) -> None:
    with pytest.raises(ServiceNameError) as error:
        validate_service(name)
    assert "\n" not in error.value.line()
    assert repr(name) in error.value.line()


@pytest.mark.parametrize("name", ["a", "invoice", "general-ledger", "a" * 63, "svc-2"])
def test_dns_1035_labels_are_accepted(name: str) -> None:
    assert validate_service(name) == name


def test_node_port_follows_the_formula_not_the_seeds_example() -> None:
    assert SETTINGS.node_port(8001) == 31001
    assert SETTINGS.node_port(8999) == 31999


def test_allocation_skips_assigned_ports_whatever_next_port_says() -> None:
    # ERRATA 2: next_port 8002 while invoice holds 8002
    assert allocate(SETTINGS, state({"general-ledger": 8001, "invoice": 8002}, 8002)) == 8003


def test_allocation_skips_reserved_and_ports_used_in_files() -> None:
    registry = state({f"s{i}": 8070 + i for i in range(10)}, 8075)
    assert allocate(SETTINGS, registry) == 8081
    assert allocate(SETTINGS, registry, also_taken={8081, 8082}) == 8083


def test_allocation_wraps_to_the_lowest_free_port() -> None:
    registry = state({"a": 8999, "b": 8001}, 9000)
    assert allocate(SETTINGS, registry) == 8002


def test_a_full_range_names_the_range_and_how_to_widen_it() -> None:
    small = Settings(root=Path("/repo"), first_port=8001, last_port=8003, reserved=(8002,))
    with pytest.raises(RangeFullError) as error:
        allocate(small, state({"a": 8001, "b": 8003}))
    assert "8001-8003" in error.value.line()
    assert "last-port" in error.value.line()


def test_the_seed_registry_loads_and_dumps_keeping_its_shape() -> None:
    registry = parse_registry(SEED_REGISTRY, "reg.json")
    assert dict(registry.assignments) == {"general-ledger": 8001, "invoice": 8002}
    out = json.loads(dump_registry(registry.with_port("ar", 8003), "2026-11-27T10:00:00"))
    assert list(out) == ["version", "next_port", "reserved_ports", "assignments", "metadata"]
    assert list(out["assignments"]) == ["general-ledger", "invoice", "ar"]
    assert out["next_port"] == 8004
    assert out["metadata"]["last_updated"] == "2026-11-27T10:00:00"
    assert out["metadata"]["notes"].startswith("Ports start at 8001")


def test_unknown_keys_are_kept() -> None:
    text = '{"owner": "platform", "assignments": {"a": 8001}, "extra": [1, 2]}'
    dumped = json.loads(dump_registry(parse_registry(text, "r"), None))
    assert dumped["owner"] == "platform"
    assert dumped["extra"] == [1, 2]


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ('{"assignments": {', "r.json:1:", "not valid JSON"),
        ('{\n  "assignments": {\n    "a": "8001"\n  }\n}', "r.json:3", "not an integer"),
        ('{\n  "assignments": {\n    "a": -1\n  }\n}', "r.json:3", "not a TCP port"),
        ('{\n  "assignments": {\n    "a": 70000\n  }\n}', "r.json:3", "not a TCP port"),
        ('{"assignments": [8001]}', "r.json:1", "must be an object"),
        ("[1, 2]", "r.json:1", "must be a JSON object"),
        ('{"assignments": {"a": 8001, "a": 8002}}', "r.json", "appears twice"),
        ('{"assignments": {"Bad": 8001}}', "r.json:1", "DNS-1035"),
        ('{"assignments": {"a": true}}', "r.json:1", "not an integer"),
    ],
)
def test_broken_registries_name_file_line_and_problem(text: str, where: str, what: str) -> None:
    with pytest.raises(RegistryError) as error:
        parse_registry(text, "r.json")
    line = error.value.line()
    assert line.startswith(where)
    assert what in line
    assert "\n" not in line


def test_a_port_held_twice_is_refused_for_writing_with_the_line() -> None:
    text = '{\n  "assignments": {\n    "a": 8001,\n    "b": 8001\n  }\n}\n'
    registry = parse_registry(text, "r.json")
    with pytest.raises(RegistryError) as error:
        require_consistent(registry, "r.json", text)
    assert error.value.line().startswith("r.json:4: port 8001 is assigned twice (a and b)")
    assert "portreg fix" in error.value.line()


def test_a_huge_registry_is_refused_without_parsing() -> None:
    with pytest.raises(RegistryError, match="MB"):
        parse_registry(" " * (9 * 1024 * 1024) + "{}", "r.json")


@given(st.lists(st.sampled_from(["assign", "release"]), max_size=60), st.randoms())
def test_allocation_keeps_ports_unique_in_range_and_off_reserved(ops: list[str], rnd) -> None:  # type: ignore[no-untyped-def]
    small = Settings(root=Path("/r"), first_port=8001, last_port=8040, reserved=(8010, 8020))
    registry = RegistryState()
    for index, op in enumerate(ops):
        if op == "assign" and len(registry.assignments) < 38:
            registry = registry.with_port(f"s{index}", allocate(small, registry))
        elif registry.assignments:
            registry = registry.without(rnd.choice(sorted(registry.assignments)))
        ports = list(registry.assignments.values())
        assert len(ports) == len(set(ports))
        assert all(8001 <= p <= 8040 and p not in (8010, 8020) for p in ports)


@given(
    base=st.integers(min_value=0, max_value=65535),
    offset=st.integers(min_value=0, max_value=65535),
    port=st.integers(min_value=1, max_value=65535),
)
def test_the_formulas_text_says_what_its_arithmetic_does(base: int, offset: int, port: int) -> None:
    """One declaration: the text every message and page shows computes the same number."""
    from portreg.config.formula import formula_text, node_port, port_for

    assert eval(formula_text(base, offset, port)) == node_port(base, offset, port)
    assert port_for(base, offset, node_port(base, offset, port)) == port  # its inverse
