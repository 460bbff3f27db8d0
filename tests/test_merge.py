"""The registry's three-way merge, as values (no git here; see test_merge_git.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portreg.commands.merge import Reassignment, merge_states, merge_texts
from portreg.config import Settings
from portreg.errors import RegistryError
from portreg.model import RegistryState, parse_registry

SETTINGS = Settings(root=Path("/repo"))


def doc(assignments: dict[str, int], **extra: Any) -> str:
    document: dict[str, Any] = {
        "version": "1.0",
        "next_port": max(assignments.values(), default=8000) + 1,
        "reserved_ports": [8080],
        "assignments": assignments,
        "metadata": {"last_updated": "2026-01-01T00:00:00"},
    }
    document.update(extra)
    return json.dumps(document, indent=2) + "\n"


def state(assignments: dict[str, int], **extra: Any) -> RegistryState:
    return parse_registry(doc(assignments, **extra), "registry")


def merged(base: dict[str, int], ours: dict[str, int], theirs: dict[str, int]) -> dict[str, int]:
    result = merge_states(SETTINGS, state(base), state(ours), state(theirs))
    return dict(result.state.assignments)


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "expected"),
    [
        pytest.param({"a": 8001}, {"a": 8001}, {"a": 8001}, {"a": 8001}, id="nothing-changed"),
        pytest.param(
            {"a": 8001}, {"a": 8001, "b": 8002}, {"a": 8001}, {"a": 8001, "b": 8002}, id="ours-adds"
        ),
        pytest.param(
            {"a": 8001},
            {"a": 8001},
            {"a": 8001, "c": 8003},
            {"a": 8001, "c": 8003},
            id="theirs-adds",
        ),
        pytest.param(
            {"a": 8001},
            {"a": 8001, "b": 8002},
            {"a": 8001, "c": 8003},
            {"a": 8001, "b": 8002, "c": 8003},
            id="union",
        ),
        pytest.param(
            {"a": 8001, "b": 8002},
            {"a": 8001},
            {"a": 8001, "b": 8002},
            {"a": 8001},
            id="ours-releases",
        ),
        pytest.param(
            {"a": 8001, "b": 8002},
            {"a": 8001, "b": 8002},
            {"a": 8001},
            {"a": 8001},
            id="theirs-releases",
        ),
        pytest.param({"a": 8001}, {"a": 8001}, {"a": 8005}, {"a": 8005}, id="theirs-moves"),
        pytest.param({"a": 8001}, {"a": 8004}, {"a": 8005}, {"a": 8004}, id="both-move-ours-wins"),
        pytest.param({}, {"a": 8001}, {"a": 8002}, {"a": 8001}, id="both-add-same-ours-wins"),
        pytest.param({}, {"a": 8001}, {"a": 8001}, {"a": 8001}, id="both-add-identical"),
    ],
)
def test_assignments_merge(base, ours, theirs, expected):
    assert merged(base, ours, theirs) == expected


def test_port_clash_keeps_ours_and_moves_theirs_to_next_free_port():
    base = state({"ledger": 8001})
    ours = state({"ledger": 8001, "billing": 8002})
    theirs = state({"ledger": 8001, "invoice": 8002})
    result = merge_states(SETTINGS, base, ours, theirs)
    assert dict(result.state.assignments) == {"ledger": 8001, "billing": 8002, "invoice": 8003}
    assert result.reassigned == (Reassignment("invoice", 8002, 8003, "billing"),)
    assert result.state.next_port == 8004
    assert "'invoice' now has port 8003" in result.reassigned[0].describe()


def test_clash_skips_reserved_and_ports_above_the_hint():
    base = state({"ledger": 8001})
    ours = state({"ledger": 8001, "billing": 8079}, next_port=8080)
    theirs = state({"ledger": 8001, "invoice": 8079}, next_port=8080)
    result = merge_states(SETTINGS, base, ours, theirs)
    assert result.state.assignments["invoice"] == 8081  # 8080 is reserved


def test_theirs_port_that_ours_reserved_is_moved():
    base = state({"ledger": 8001}, reserved_ports=[8080])
    ours = state({"ledger": 8001}, reserved_ports=[8080, 8002])
    theirs = state({"ledger": 8001, "invoice": 8002}, reserved_ports=[8080])
    result = merge_states(SETTINGS, base, ours, theirs)
    assert result.state.assignments["invoice"] == 8003
    assert result.reassigned[0].kept_by is None
    assert "a reservation" in result.reassigned[0].describe()


def test_reserved_ports_merge_as_sets():
    base = state({}, reserved_ports=[8080, 8090])
    ours = state({}, reserved_ports=[8080, 8090, 8100])
    theirs = state({}, reserved_ports=[8080, 8200])  # theirs unreserved 8090
    result = merge_states(SETTINGS, base, ours, theirs)
    assert result.state.reserved_ports == (8080, 8100, 8200)


def test_next_port_is_one_past_the_highest_never_below_a_hint():
    base = state({"a": 8001})
    ours = state({"a": 8001, "b": 8002}, next_port=8002)  # the seed's stale hint
    theirs = state({"a": 8001, "c": 8010}, next_port=8011)
    assert merge_states(SETTINGS, base, ours, theirs).state.next_port == 8011


def test_unknown_keys_and_order_are_kept():
    base = state({"a": 8001}, owner="team-a")
    ours = state({"a": 8001}, owner="team-a", x_ours=1)
    theirs = state({"a": 8001}, owner="team-b", x_theirs=[2])
    text, _ = merge_texts(
        SETTINGS,
        doc({"a": 8001}, owner="team-a"),
        doc({"a": 8001}, owner="team-a", x_ours=1),
        doc({"a": 8001}, owner="team-b", x_theirs=[2]),
        "r.json",
    )
    document = json.loads(text)
    assert document["owner"] == "team-b"
    assert document["x_ours"] == 1
    assert document["x_theirs"] == [2]
    assert list(document)[:5] == [
        "version",
        "next_port",
        "reserved_ports",
        "assignments",
        "metadata",
    ]
    assert merge_states(SETTINGS, base, ours, theirs).state.document["owner"] == "team-b"


def test_last_updated_is_the_later_side_not_the_clock():
    older = doc({"a": 8001}, metadata={"last_updated": "2026-01-01T00:00:00"})
    ours = doc({"a": 8001, "b": 8002}, metadata={"last_updated": "2026-02-01T00:00:00"})
    theirs = doc({"a": 8001, "c": 8003}, metadata={"last_updated": "2026-03-01T00:00:00"})
    text, _ = merge_texts(SETTINGS, older, ours, theirs, "r.json")
    assert json.loads(text)["metadata"]["last_updated"] == "2026-03-01T00:00:00"


def test_missing_base_is_an_empty_registry():
    text, result = merge_texts(SETTINGS, "", doc({"a": 8001}), doc({"b": 8001}), "r.json")
    assert dict(result.state.assignments) == {"a": 8001, "b": 8002}
    assert text.endswith("}\n")


def test_unparseable_side_is_a_registry_error():
    with pytest.raises(RegistryError, match="not valid JSON") as caught:
        merge_texts(SETTINGS, doc({}), doc({"a": 8001}), "<<<<<<< HEAD\n", "r.json")
    assert caught.value.where == "r.json (theirs):1:1"
