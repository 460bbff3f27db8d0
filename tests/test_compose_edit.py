"""compose edits: a service's one published host port moves to its registry port, byte for
byte; several published ports are left alone (which is the service's would be a guess)."""

from __future__ import annotations

import pytest

from portreg.targets.compose import set_port

COMPOSE = """\
services:
  invoice:
    image: rerp-invoice   # the API
    ports:
      - "8002:8002"
  billing:
    ports: ['127.0.0.1:8006:8006/tcp']
  reporting:
    ports:
      - published: 8015   # stale
        target: 8005
  web:
    ports: ["8020:80", "9229:9229"]
  db:
    ports: ["5433:5432"]
"""


@pytest.mark.parametrize(
    ("service", "port", "old", "new"),
    [
        ("invoice", 8012, '"8002:8002"', '"8012:8012"'),
        ("billing", 8016, "'127.0.0.1:8006:8006/tcp'", "'127.0.0.1:8016:8016/tcp'"),
        ("reporting", 8005, "published: 8015", "published: 8005"),
    ],
    ids=["short", "ip-and-protocol", "long"],
)
def test_one_published_port_moves(service: str, port: int, old: str, new: str) -> None:
    assert COMPOSE.count(old) == 1
    assert set_port("compose.yaml", COMPOSE, service, port) == COMPOSE.replace(old, new)


@pytest.mark.parametrize(("service", "port"), [("web", 8021), ("invoice", 8002), ("nobody", 8030)])
def test_nothing_to_move_or_a_guess_changes_nothing(service: str, port: int) -> None:
    assert set_port("compose.yaml", COMPOSE, service, port) == COMPOSE
