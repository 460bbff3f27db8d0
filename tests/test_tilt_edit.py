"""Tiltfile edits: a service's literal forwards move to its registry port, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from portreg.errors import PortregError
from portreg.targets.tilt import set_port

from conftest import CliRunner

BEFORE = """\
# -*- mode: Python -*-
PORTS = {'invoice': 8002, "billing": 8006}  # service -> port
k8s_resource('invoice', port_forwards='8002:8002')  # the API
k8s_resource('billing', port_forwards=['8006:8006', 9229])
k8s_resource(workload='reporting', port_forwards=port_forward(8015, 8015, name='r'))
k8s_resource('web', port_forwards='localhost:8020:80')
local_resource('docs', serve_cmd='mkdocs serve -a localhost:8002')
"""


@pytest.mark.parametrize(
    ("service", "port", "changed"),
    [
        (
            "invoice",
            8012,
            [
                ("{'invoice': 8002,", "{'invoice': 8012,"),
                ("port_forwards='8002:8002'", "port_forwards='8012:8002'"),
            ],
        ),
        (
            "billing",
            8016,
            [
                # two forwards (the app and a debugger): which is the service's is a guess
                ('"billing": 8006', '"billing": 8016'),
            ],
        ),
        ("reporting", 8005, [("port_forward(8015, 8015,", "port_forward(8005, 8015,")]),
        ("web", 8021, [("'localhost:8020:80'", "'localhost:8021:80'")]),
        ("invoice", 8002, []),
    ],
    ids=["string-and-dict", "list-and-dict", "port-forward-call", "host-ip", "unchanged"],
)
def test_only_the_services_literals_change(
    service: str, port: int, changed: list[tuple[str, str]]
) -> None:
    expected = BEFORE
    for old, new in changed:
        assert expected.count(old) == 1
        expected = expected.replace(old, new)
    assert set_port("Tiltfile", BEFORE, service, port) == expected


def test_a_computed_or_hex_forward_is_refused_not_guessed() -> None:
    text = "k8s_resource('invoice', port_forwards=0x1F42)\n"
    with pytest.raises(PortregError, match="not a plain literal portreg can rewrite"):
        set_port("Tiltfile", text, "invoice", 8003)
    computed = "BASE = 8000\nk8s_resource('invoice', port_forwards=BASE + 2)\n"
    assert set_port("Tiltfile", computed, "invoice", 8003) == computed  # nothing to read


def test_a_raw_string_forward_is_rewritten_keeping_its_prefix() -> None:
    text = "k8s_resource('invoice',\n    port_forwards=r'8005:8005')  # raw\n"
    assert set_port("Tiltfile", text, "invoice", 8002) == (
        "k8s_resource('invoice',\n    port_forwards=r'8002:8005')  # raw\n"
    )


def test_fix_leaves_a_forward_it_cannot_rewrite_and_fixes_the_rest(
    rerp_example: Path, cli: CliRunner
) -> None:
    root = rerp_example
    with (root / "portreg.toml").open("a") as config:  # Tilt owns the host ports
        config.write("\n[kind]\nskip-host-ports = [[8001, 8099]]\n")
    tiltfile = "k8s_resource('invoice', port_forwards=0x1F45)\n"
    (root / "Tiltfile").write_text(tiltfile)
    values = root / "helm" / "rerp-microservice" / "values" / "invoice.yaml"
    run = cli("--root", str(root), "fix")
    # the stale forward is an error check still reports: fix says so, and exits 1
    assert run.code == 1, run.err
    assert run.err == (
        "⚠️  Not fixed: Tiltfile:1: the forward of port 8005 is not a plain literal portreg "
        "can rewrite (edit it by hand)\n"
        "❌ 1 error left that fix cannot repair; `portreg check` lists them\n"
    )
    assert (root / "Tiltfile").read_text() == tiltfile
    assert "nodePort: 31002" in values.read_text()  # the other files were fixed


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("port_forwards='8002:8002'", "port_forwards='8001:8002'"),
        ("port_forwards=8002", "port_forwards='8001:8002'"),
        ("port_forwards=[8002]", "port_forwards=['8001:8002']"),
        ('port_forwards="8002"', 'port_forwards="8001:8002"'),
        ("port_forwards=' 8002:80'", "port_forwards=' 8001:80'"),
        ("port_forwards='127.0.0.1:8002:80'", "port_forwards='127.0.0.1:8001:80'"),
        ("port_forwards=port_forward(8002)", "port_forwards=port_forward(8001, 8002)"),
        (
            "port_forwards=port_forward(8002, name='x')",
            "port_forwards=port_forward(8001, 8002, name='x')",
        ),
        (
            "port_forwards=port_forward(local_port=8002)",
            "port_forwards=port_forward(local_port=8001, container_port=8002)",
        ),
        (
            "port_forwards=port_forward(local_port=8002, container_port=80)",
            "port_forwards=port_forward(local_port=8001, container_port=80)",
        ),
        (
            "port_forwards=port_forward(container_port=80, local_port=8002)",
            "port_forwards=port_forward(container_port=80, local_port=8001)",
        ),
    ],
)
def test_only_the_host_side_moves(before: str, after: str) -> None:
    text = f"k8s_resource(  'invoice',  {before} )  # 8002 stays\n"
    assert set_port("Tiltfile", text, "invoice", 8001) == text.replace(before, after)


@pytest.mark.parametrize(
    "held",
    ["'80' '02'", "'\\x38002'", "'''8002'''", "u'8002'", "0x1F42", "8_002"],
    ids=["implicit-concatenation", "escape", "triple-quoted", "u-prefix", "hex", "underscore"],
)
def test_a_literal_whose_text_is_not_its_value_is_refused(held: str) -> None:
    text = f"k8s_resource('invoice', port_forwards={held})\n"
    with pytest.raises(PortregError, match="not a plain literal portreg can rewrite") as caught:
        set_port("Tiltfile", text, "invoice", 8001)
    assert caught.value.hint == "edit it by hand"


def test_several_forwards_of_one_service_are_not_guessed() -> None:
    text = "k8s_resource('invoice', port_forwards=['8002:8002', port_forward(9229)])\n"
    assert set_port("Tiltfile", text, "invoice", 8001) == text
