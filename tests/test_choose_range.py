"""The range init chooses: the services' run of ports, an outlier left foreign."""

from __future__ import annotations

import pytest

from portreg.config.choose import choose_ports


def chosen(*ports: int) -> tuple[int, int]:
    choice = choose_ports([], {f"svc-{i}": port for i, port in enumerate(ports)})
    return choice.table["first-port"], choice.table["last-port"]


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ((8001, 8002, 8040), (8001, 8999)),  # the usual dev ports keep the default range
        ((3000, 3001, 3050), (3000, 3099)),  # elsewhere: the whole hundreds around them
        ((8001, 8002, 25565), (8001, 8999)),  # a game server's port stays foreign
        ((3000, 3001, 25565), (3000, 3099)),
        ((9100, 9101, 9150, 65500), (9100, 9199)),
        ((65401, 65500), (65401, 65535)),  # the last hundred ends at 65535
    ],
)
def test_the_range_holds_the_run_of_service_ports(
    ports: tuple[int, ...], expected: tuple[int, int]
) -> None:
    assert chosen(*ports) == expected


def test_a_thousand_services_in_a_row_are_one_range_never_cut() -> None:
    """8001-9001: a dense run wider than a thousand ports is one run (a window of 1000
    ports left the last service out, and init --update moved last-port under it)."""
    ports = [8001 + i for i in range(1001)]
    assert chosen(*ports) == (8001, 9099)


def test_the_seeds_formula_ends_the_range_where_its_node_ports_must() -> None:
    """The seed's layout fixes the formula (31000 + (port - 8000)): the range may not run
    past the NodePort band in effect, or the config init writes is one load refuses
    (init --update wrote last-port 9099 beside node-port-range [31000, 32001])."""
    registered = {f"svc-{i}": 8001 + i for i in range(1001)}
    wide = choose_ports([], registered, seed_layout=True, node_port_range=(31000, 32001))
    assert (wide.table["first-port"], wide.table["last-port"]) == (8001, 9001)
    usual = choose_ports([], registered, seed_layout=True)
    assert (usual.table["first-port"], usual.table["last-port"]) == (8001, 8999)
