"""blockyaml gives exactly libyaml's nodes, or declines: never a different reading."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portreg.yamledit import blockyaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def shape(node: Any) -> object:
    """Everything yamledit reads from a node, as plain data."""
    if node is None:
        return None
    marks = (
        (node.start_mark.line, node.start_mark.column),
        (node.end_mark.line, node.end_mark.column),
    )
    if node.id == "scalar":
        return ("scalar", node.tag, node.style or "", node.value, marks)
    if node.id == "mapping":
        pairs = tuple((shape(k), shape(v)) for k, v in node.value)
        return ("mapping", node.tag, node.flow_style, pairs, marks)
    return ("sequence", node.tag, node.flow_style, tuple(shape(i) for i in node.value), marks)


def same_or_declined(text: str) -> bool:
    """True when blockyaml composed ``text`` (and then it must equal libyaml)."""
    mine = blockyaml.compose(text)
    if mine is blockyaml.DECLINED:
        return False
    reference = yaml.compose(text, Loader=LOADER)  # raises if blockyaml accepted invalid YAML
    assert shape(mine) == shape(reference), text
    return True


KIND = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  kubeadmConfigPatches:
  - |
    kind: InitConfiguration
  extraPortMappings:
  # Invoice Service
  - containerPort: 31002
    hostPort: 8002
    protocol: TCP
"""

VALUES = """\
# ⚠️ PORT CONFIGURATION REFERENCE: managed by portreg
image:
  name: "rerp-invoice"   # quoted
  tag: 'latest'
service:
  name: invoice
  port: 8002

  nodePort: 31002
app:
  serviceName: invoice
  env:
    - name: RUST_LOG
      value: info
  script: |
    echo one

    echo two
  empty:
"""


@pytest.mark.parametrize(
    "text",
    [
        VALUES,
        KIND.replace("  - |\n    kind: InitConfiguration\n", "  - kind: Init\n"),
        "a: 1",
        "a: 1\n\n\n",
        "",
        "# only a comment\n",
        "list:\n- a\n-  b\nnext: 2\n",
        "- a: 1\n  b: 2\n- c: 3\n",
        "x:\n  k: |\n    a\n  z: 1\n",
        "x:\n  k: |-\n    a\n\n\ny: 1\n",
        "k: |\n  a\n# c\nz: 1\n",
        "a: ~\nb: yes\nc: Off\nd: 0\ne: 17\nf: 'it''s'\ng: \"q\"\nh: null\n",
        "8080: port\nyes: bool key\n",
        "a:   \nb: 1\n",
        "url: http://localhost:8001/api/v1/x\npaths: {}\ntags: []  # none\n",
        "servers:\n  - url: http://a:1/b\n    description: local\nz: a:b\n",
        "a:  \n  b: 1\nc:  # note\n  - x\n",
        "a:   spaced   value   # comment\n",
    ],
)
def test_files_in_the_subset_compose_as_libyaml_does(text: str):
    assert same_or_declined(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\r\nb: 2\r\n",  # CRLF
        "a:\t1\n",
        "---\na: 1\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: {b: 1}\n",
        "a: [1, 2]\n",
        "a: >\n  folded\n",
        "a: |2\n   x\n",
        "a: b#c\n",
        "a: b: c\n",
        "a: b:\n",
        "a: {}x\n",
        "a: {}#x\n",
        "a: {b}\n",
        "a: 08\n",
        "a: 1e3\n",
        "a: 0x1F\n",
        "a: 2024-01-01\n",
        "a: 'multi\n  line'\n",
        'a: "esc\\n"\n',
        "a: plain\n  continued\n",
        "? complex\n: key\n",
        "a: <<\n",
        "a: x\n  b: 1\n",  # an error libyaml must report, not us
        "a: 1\n- b\n",
        "\ufeffa: 1\n",
        "a: é\n",
        "x:\n  k: |\n    a",
    ],
)
def test_anything_else_is_declined(text: str):
    assert blockyaml.compose(text) is blockyaml.DECLINED


WORDS = st.sampled_from(
    [
        "a",
        "name",
        "port",
        "8001",
        "0",
        "07",
        "yes",
        "No",
        "null",
        "~",
        "true",
        "x-y",
        "a.b/c",
        "http",
        "v1",
        "_k",
        "TCP",
        "on",
        "1.5",
        "-3",
        "+1",
        "Null",
        "é",
    ]
)
SCALARS = st.one_of(
    WORDS,
    WORDS.map(lambda w: f"'{w}'"),
    WORDS.map(lambda w: f'"{w}"'),
    st.sampled_from(
        ["'it''s'", "a b", "a  b", "x # c", "", "  ", "a:b", "a: b", "#x", "'a' b", "a:", "1.0.0"]
    ),
    st.sampled_from(["{}", "[]", "{} # c", "[ ]", "{a: 1}", "http://h:80/p", "x:y:z", "08:30"]),
)


@st.composite
def documents(draw: st.DrawFn, depth: int = 0, column: int = 0) -> list[str]:
    """Lines of a block document: mappings, lists, literals, blanks and comments."""
    lines: list[str] = []
    step = draw(st.sampled_from([2, 4]))
    for _ in range(draw(st.integers(1, 4))):
        pad = " " * column
        if draw(st.booleans()) and depth < 3:
            choice = draw(st.sampled_from(["map", "list", "indentless", "literal"]))
            key = draw(WORDS)
            lines.append(f"{pad}{key}:")
            if choice == "map":
                lines += draw(documents(depth + 1, column + step))
            elif choice in ("list", "indentless"):
                dash = column if choice == "indentless" else column + step
                for _ in range(draw(st.integers(1, 3))):
                    if draw(st.booleans()):
                        inner = draw(documents(depth + 1, dash + 2))
                        lines.append(" " * dash + "- " + inner[0].lstrip(" "))
                        lines += inner[1:]
                    else:
                        lines.append(" " * dash + "- " + draw(SCALARS))
            else:
                lines[-1] += " |" + draw(st.sampled_from(["", "-"]))
                for text in draw(st.lists(st.sampled_from(["x", "", "  y", "# z"]), min_size=1)):
                    lines.append(f"{pad}{' ' * step}{text}" if text else "")
        else:
            lines.append(
                f"{pad}{draw(WORDS)}: {draw(SCALARS)}".rstrip(" ")
                + draw(st.sampled_from(["", "  # note", " #"]))
            )
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "# comment", f"{pad}# indented", "   "])))
    return lines


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.booleans())
def test_generated_documents_compose_as_libyaml_does_or_are_declined(lines: list[str], final: bool):
    text = "\n".join(lines) + ("\n" if final else "")
    try:
        yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError:
        assert blockyaml.compose(text) is blockyaml.DECLINED
        assert blockyaml.compose(text, tags=False) is blockyaml.DECLINED
        return
    same_or_declined(text)


@settings(max_examples=300)
@given(documents(), st.integers(0, 10_000), st.sampled_from(list(" -:#'\"|\n\tx1")))
def test_damaged_documents_are_never_misread(lines: list[str], where: int, char: str):
    text = "\n".join(lines) + "\n"
    where %= len(text)
    for damaged in (text[:where] + char + text[where:], text[:where] + text[where + 1 :]):
        try:
            yaml.compose(damaged, Loader=LOADER)
        except yaml.YAMLError:
            assert blockyaml.compose(damaged) is blockyaml.DECLINED, damaged
            assert blockyaml.compose(damaged, tags=False) is blockyaml.DECLINED, damaged
            continue
        same_or_declined(damaged)


def test_plain_scalars_resolve_as_pyyaml_does():
    resolver = yaml.resolver.Resolver()
    for text in [
        "8001",
        "0",
        "007",
        "08",
        "yes",
        "Yes",
        "yEs",
        "~",
        "null",
        "NULL",
        "nUll",
        "true",
        "off",
        "abc",
        "/api",
        "~x",
        "_x",
        "x1",
        "1.0",
        "-1",
        "+1",
        ".inf",
        "=",
    ]:
        mine = blockyaml.resolve_plain(text)
        if mine is not None:
            assert mine == resolver.resolve(yaml.ScalarNode, text, (True, False)), text
