"""The Tiltfile reader on Python's parser: what the old hand lexer got wrong, the
forwards it names but does not guess, exact positions, and 4 MB inputs of every shape."""

from __future__ import annotations

import pytest

from portreg.errors import PortregError
from portreg.targets.base import HOST, NAMED, UNREAD, Observation
from portreg.targets.tilt import scan_text, set_port

Seen = tuple[int, int, str | None, str, int | None]  # line, port, service, address, leads_to


def seen(text: str) -> list[Seen]:
    return [
        (o.line, o.port, o.service, o.address, o.leads_to)
        for o in scan_text("Tiltfile", text)
        if o.namespace in (HOST, NAMED)
    ]


def unread(text: str) -> list[tuple[int, str, str | None]]:
    found = scan_text("Tiltfile", text)
    assert all(o.port == 0 and o.role == "other" for o in found if o.namespace == UNREAD)
    return [(o.line, o.field, o.service) for o in found if o.namespace == UNREAD]


# Each of these ended a string early or refused the file in the old lexer, so a
# forward in the string was read and the real ones after it were not.
LOOKALIKES = """\
NOTE = '''an escaped quote \\''' port_forwards=8009 still inside'''
HELP = "a backslash-newline \\
k8s_resource('ghost', port_forwards=8010) still inside"
# k8s_resource('ghost', port_forwards=8011)
DOC = \"\"\"port_forward(8012, 8012)\"\"\"  # port_forwards=8013
k8s_resource('invoice', port_forwards=8001)
k8s_resource('billing', port_forwards='8001:80')
"""


def test_strings_and_comments_that_look_like_forwards_are_not_read() -> None:
    assert seen(LOOKALIKES) == [(6, 8001, "invoice", "", 8001), (7, 8001, "billing", "", 80)]


def test_every_literal_form_with_its_address_and_container_port() -> None:
    text = """\
k8s_resource(
    'web',
    port_forwards=[
        8001,
        ' 8002:80',
        'localhost:8003:8080',
        '0.0.0.0:8004:80',
        port_forward(8005, 81, name='debug'),
        port_forward(local_port=8006, container_port=82),
        port_forward(8007, host='127.0.0.1'),
    ],
)
k8s_resource(workload='api', port_forwards=port_forward(8008))
PORTS = {'invoice': 8009, 'ledger': '8010', 'nested': {'http': 8011}, 'bad': 'x'}
"""
    assert seen(text) == [
        (4, 8001, "web", "", 8001),
        (5, 8002, "web", "", 80),
        (6, 8003, "web", "localhost", 8080),
        (7, 8004, "web", "", 80),
        (8, 8005, "web", "", 81),
        (9, 8006, "web", "", 82),
        (10, 8007, "web", "127.0.0.1", 8007),
        (13, 8008, "api", "", 8008),
        (14, 8009, "invoice", "", None),
        (14, 8010, "ledger", "", None),
    ]


def test_computed_forwards_are_named_with_their_text_never_guessed() -> None:
    text = """\
BASE = 8000
def app(name, port):
    k8s_resource(name, port_forwards=port)
for name in ['invoice', 'billing']:
    k8s_resource(name, port_forwards=HOST_PORT_FORWARDS[name])
k8s_resource('web', port_forwards=['%d:%d' % (BASE, BASE), port_forward(BASE + 1, 80)])
k8s_resource('api', port_forwards=[p for p in range(8001, 8003)])
k8s_resource('long', port_forwards=str(BASE + 1) + ':' + str(BASE + 1) + ':' + 'and more text here')
app('ledger', 8005)
"""
    assert unread(text) == [
        (3, "port_forwards=port", None),
        (5, "port_forwards=HOST_PORT_FORWARDS[name]", None),
        (6, "port_forwards='%d:%d' % (BASE, BASE)", "web"),
        (6, "port_forward(BASE + 1)", "web"),
        (7, "port_forwards=[p for p in range(8001, 8003)]", "api"),
        (8, "port_forwards=str(BASE + 1) + ':' + str(BASE + 1) + ':' + 'and more text …", "long"),
    ]
    assert seen(text) == []


def test_a_forward_after_non_ascii_text_is_edited_in_place() -> None:
    text = "# café ☕ 𝄞\nk8s_resource('façade', labels=['ü'], port_forwards='8002:80')  # ☕\n"
    assert set_port("Tiltfile", text, "façade", 8001) == text.replace("8002:80", "8001:80")
    with_bom = "\ufeffk8s_resource('a', port_forwards=8002)\n"
    assert set_port("Tiltfile", with_bom, "a", 8001) == (
        "\ufeffk8s_resource('a', port_forwards='8001:8002')\n"
    )


def test_the_lookalikes_do_not_move_with_the_real_forward() -> None:
    new = set_port("Tiltfile", LOOKALIKES, "invoice", 8005)
    assert new == LOOKALIKES.replace("port_forwards=8001)", "port_forwards='8005:8001')")


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("x = 1\ny = 'open\n", 2, "unterminated string literal (detected at line 2)"),
        ("k8s_resource('a',\n  port_forwards=8001\n", 1, "'(' was never closed"),
        ("x = " + "(" * 300 + ")" * 300 + "\n", 1, "too many nested parentheses"),
        ("x = " + "-" * 200_000 + "1\n", 1, "nested too deeply for Python's parser"),
        ("x = 1\0\n", 1, "source code string cannot contain null bytes"),
    ],
    ids=["string", "bracket", "parentheses", "unary", "nul"],
)
def test_a_file_python_refuses_is_one_error_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(PortregError) as caught:
        scan_text("Tiltfile", text)
    assert caught.value.line() == f"Tiltfile:{line}: cannot read the Tiltfile ({reason})"


# --- 4 MB inputs: each shape is read once, in one pass (bench and issue 19: linear) -----

MB4 = 4_000_000
TAIL = "k8s_resource('invoice', port_forwards='8001:80')\n"


def test_a_4mb_comment_line() -> None:
    text = "# " + "port_forwards=8009 " * (MB4 // 19) + "\n" + TAIL
    assert seen(text) == [(2, 8001, "invoice", "", 80)]


def test_a_4mb_string() -> None:
    text = "NOTE = '" + "k8s_resource('x', port_forwards=8009) ".replace("'", '"') * (MB4 // 38)
    text += "'\n" + TAIL
    assert seen(text) == [(2, 8001, "invoice", "", 80)]


def test_100k_forwards() -> None:
    lines = [f"k8s_resource('s{i}', port_forwards='{8001 + i % 999}:80')\n" for i in range(100_000)]
    found = scan_text("Tiltfile", "".join(lines))
    assert len(found) == 100_000
    assert found[-1] == Observation(
        "tilt", "Tiltfile", 100_000, 8001 + 99_999 % 999, "port_forwards", "port", "s99999",
        HOST, "tilt:Tiltfile", "", 80,
    )  # fmt: skip


def test_100k_computed_forwards_on_one_non_ascii_line() -> None:
    text = "k8s_resource('é', port_forwards=[" + ", ".join(["pé"] * 100_000) + "])\n"
    assert unread(text) == [(1, "port_forwards=pé", "é")] * 100_000


def test_4mb_of_nesting_python_refuses_is_one_error_line() -> None:
    text = "x = " + "[" * (MB4 // 2) + "]" * (MB4 // 2) + "\n"
    with pytest.raises(PortregError) as caught:
        scan_text("Tiltfile", text)
    assert (
        caught.value.line() == "Tiltfile:1: cannot read the Tiltfile (too many nested parentheses)"
    )
