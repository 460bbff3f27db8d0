"""Choosing blocks (pure): whatever the repos' ports and the order checkouts ask in, no
two blocks meet, and a further instance never lands where the machine rules it out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portreg.model.instances import Block, InstanceError, Machine, choose, stride, suffixed

MACHINE = Machine(ephemeral=(32768, 60999), node_ports=(30000, 32767), listening={})


def wanted(repo: str, checkout: str, base: set[int]) -> Block:
    return Block(repo, checkout, 0, 0, "", tuple(sorted(base)), (), "2026-12-07T00:00:00Z")


ports = st.sets(st.integers(1024, 29999), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    bases=st.lists(ports, min_size=1, max_size=3),
    asks=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 5)), min_size=1, max_size=25),
    listening=st.sets(st.integers(1024, 29999), max_size=30),
)
def test_no_two_blocks_meet(
    bases: list[set[int]], asks: list[tuple[int, int]], listening: set[int]
) -> None:
    machine = Machine(
        MACHINE.ephemeral, MACHINE.node_ports, dict.fromkeys(listening, frozenset({""}))
    )
    ledger: list[Block] = []
    for repo_index, checkout_index in asks:
        repo = repo_index % len(bases)
        want = wanted(f"repo{repo}", f"/w/{repo}/{checkout_index}", bases[repo])
        mine = next((b for b in ledger if b.checkout == want.checkout), None)
        try:
            placed = choose(want, ledger, machine, keep=mine)
        except InstanceError:
            continue
        if mine is not None:
            assert placed == mine  # asking again keeps the block
        ledger = [b for b in ledger if b.checkout != want.checkout] + [placed]
        if placed.instance:
            assert not any(machine.rules_out(port) for port in placed.ports)
        else:
            assert placed.ports == frozenset(bases[repo])
    for index, one in enumerate(ledger):
        for other in ledger[index + 1 :]:
            assert one.ports.isdisjoint(other.ports), (one, other)
            assert (one.repo, one.instance) != (other.repo, other.instance)


def test_the_first_checkout_keeps_the_committed_ports_and_the_next_shifts_by_the_stride() -> None:
    base = {8001, 8002, 8003, 5432, 10350}
    first = choose(wanted("shop", "/a", base), [], MACHINE)
    second = choose(wanted("shop", "/b", base), [first], MACHINE)
    assert (first.instance, first.offset) == (0, 0)
    assert (second.instance, second.offset) == (1, 100)
    assert second.ports == {8101, 8102, 8103, 5532, 10450}


def test_the_stride_clears_the_block_itself() -> None:
    assert stride({8001, 8050}) == 100
    assert stride(range(8001, 8151)) == 200  # 150 services: 100 would meet instance 0
    assert stride({8001, 8101}) == 200


def test_a_block_that_would_enter_the_node_port_range_skips_it() -> None:
    base = {29950}
    ledger = [choose(wanted("r", "/0", base), [], MACHINE)]
    placed = choose(wanted("r", "/1", base), ledger, MACHINE)
    # 30050 .. 32750 are NodePorts, 32850 .. 60950 ephemeral: the next clear block is above
    assert placed.ports == {61050}
    assert placed.instance == 311


def test_a_port_something_listens_on_is_never_handed_out() -> None:
    machine = Machine(MACHINE.ephemeral, MACHINE.node_ports, {8102: frozenset({"127.0.0.1"})})
    base = {8002}
    ledger = [choose(wanted("r", "/0", base), [], machine)]
    assert choose(wanted("r", "/1", base), ledger, machine).ports == {8202}


def test_loopback_keeps_the_numbers_on_an_address_of_its_own() -> None:
    base = {8001, 8002}
    first = choose(wanted("r", "/0", base), [], MACHINE, "loopback")
    second = choose(wanted("r", "/1", base), [first], MACHINE, "loopback")
    assert (first.host, second.host) == ("127.0.0.1", "127.0.0.2")
    assert first.ports == second.ports == {8001, 8002}
    offset = choose(wanted("other", "/x", base), [first, second], MACHINE)
    assert offset.ports.isdisjoint(base)  # every address meets 127.0.0.1


def test_a_loopback_block_is_ruled_out_only_by_a_listener_on_its_address() -> None:
    """Another instance's stack on 127.0.0.1 leaves 127.0.0.3 free; a listener on every
    address, or on 127.0.0.2 itself, does not."""
    base = {8001, 8002}
    first = choose(wanted("r", "/0", base), [], MACHINE, "loopback")
    busy = {8001: frozenset({"127.0.0.1"}), 8002: frozenset({"127.0.0.2"})}
    machine = Machine(MACHINE.ephemeral, MACHINE.node_ports, busy)
    assert choose(wanted("r", "/1", base), [first], machine, "loopback").host == "127.0.0.3"
    everywhere = Machine(MACHINE.ephemeral, MACHINE.node_ports, {8001: frozenset({""})})
    with pytest.raises(InstanceError, match="no free block"):
        choose(wanted("r", "/1", base), [first], everywhere, "loopback")


def test_names_are_suffixed_past_instance_zero() -> None:
    assert suffixed("Shop_App", 0) == "shop-app"
    assert suffixed("shop", 2) == "shop-2"
    assert suffixed("!!!", 1) == "portreg-1"


def test_a_kept_block_keeps_its_own_listeners_but_not_a_new_port_something_holds() -> None:
    first = choose(wanted("shop", "/a", {8002}), [], MACHINE)
    second = choose(wanted("shop", "/b", {8002}), [first], MACHINE)
    assert (second.instance, second.offset) == (1, 100)
    # its own stack listens on 8102: asking again keeps the block
    busy = MACHINE._replace(listening={8102: frozenset({""})})
    assert choose(wanted("shop", "/b", {8002}), [first, second], busy, keep=second) == second
    # the repo gained a port whose shifted number something else listens on: the block
    # moves to one clear of it instead of handing 9100 out
    other = MACHINE._replace(listening={8102: frozenset({""}), 9100: frozenset({""})})
    grown = choose(wanted("shop", "/b", {8002, 9000}), [first, second], other, keep=second)
    assert (grown.instance, grown.offset) == (2, 200)


def test_a_port_too_high_to_shift_is_named_as_the_cause() -> None:
    first = choose(wanted("shop", "/a", {8002, 65500}), [], MACHINE)
    with pytest.raises(InstanceError) as caught:
        choose(wanted("shop", "/b", {8002, 65500}), [first], MACHINE)
    assert caught.value.message == (
        "no further instance for /b: its host port 65500 shifted by 100 is past 65535"
    )
    assert caught.value.hint == (
        'move that port lower, or set [instances] strategy = "loopback" (the same numbers '
        "on 127.0.0.N)"
    )
