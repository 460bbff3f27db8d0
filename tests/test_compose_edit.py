"""compose edits: a service's one published host port moves to its registry port, byte for
byte; several published ports are refused, and said (which is the service's would be a
guess)."""

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
        ("invoice", 8012, '"8002:8002"', '"8012:8002"'),
        ("billing", 8016, "'127.0.0.1:8006:8006/tcp'", "'127.0.0.1:8016:8006/tcp'"),
        ("reporting", 8005, "published: 8015", "published: 8005"),
    ],
    ids=["short", "ip-and-protocol", "long"],
)
def test_one_published_port_moves(service: str, port: int, old: str, new: str) -> None:
    assert COMPOSE.count(old) == 1
    assert set_port("compose.yaml", COMPOSE, service, port) == COMPOSE.replace(old, new)


@pytest.mark.parametrize(("service", "port"), [("invoice", 8002), ("nobody", 8030)])
def test_nothing_to_move_changes_nothing(service: str, port: int) -> None:
    assert set_port("compose.yaml", COMPOSE, service, port) == COMPOSE


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (COMPOSE, "compose.yaml:13: ports 8020: web publishes 2 ports here; which is its port"),
        (
            'services:\n  web:\n    ports: ["8020:80"]\n---\nservices: {}\n',
            "compose.yaml:3: ports 8020: the file holds 2 YAML documents",
        ),
        (
            'services:\n  web:\n    ports: ["8020-8021:80-81"]\n',
            "compose.yaml:3: ports 8020: '8020-8021:80-81' publishes a range of ports",
        ),
    ],
    ids=["several", "documents", "range"],
)
def test_a_guess_is_refused_and_said(text: str, message: str) -> None:
    """fix turns this into a Not fixed line; it never claims a rewrite it did not make."""
    from portreg.errors import FileEditError

    with pytest.raises(FileEditError) as refused:
        set_port("compose.yaml", text, "web", 8021)
    assert refused.value.line().startswith(message)


@pytest.mark.parametrize(
    ("old", "new"),
    [('" 8020:80"', '" 8021:80"'), ('"8020-8020:80"', '"8021-8021:80"')],
    ids=["leading-space", "range-of-one"],
)
def test_only_the_digits_of_the_host_port_change(old: str, new: str) -> None:
    text = f"services:\n  web:\n    ports:\n      - {old}\n"
    assert set_port("compose.yaml", text, "web", 8021) == text.replace(old, new)
