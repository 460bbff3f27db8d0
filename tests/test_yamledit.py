"""yamledit: byte-exact edits, refusals, list helpers, and a property test over generated files."""

from __future__ import annotations

import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portreg.edit import yaml as yamledit
from portreg.edit.yaml import Select, append_item, parse_path, remove_item, set_values
from portreg.errors import FileEditError

VALUES = """\
# ⚠️ PORT CONFIGURATION REFERENCE:
#   service.port     = 8001 (from scripts/port-registry.json) 🚀
#   service.nodePort = 31001

service:
  name: 'general-ledger'   # keep these quotes
  port: 8001 # the service port
  containerPort: "8001"
  selector: {app: gl, tier: "api"}

image:
  repository: ghcr.io/example/rerp
  tag: "v1.2.3"

env:
  - name: RUST_LOG
    value: info
  - name: GREETING
    value: "héllo 😀"
"""

CHANGES: dict[yamledit.Path, yamledit.Scalar] = {
    ("service", "port"): 8002,
    ("service", "containerPort"): 8002,
    ("service", "nodePort"): 31002,
    ("service", "name"): "invoice",
    ("image", "name"): "rerp-invoice",
    ("app", "serviceName"): "invoice",
    ("app", "binaryName"): "invoice_service_api",
}

EXPECTED = """\
# ⚠️ PORT CONFIGURATION REFERENCE:
#   service.port     = 8001 (from scripts/port-registry.json) 🚀
#   service.nodePort = 31001

service:
  name: 'invoice'   # keep these quotes
  port: 8002 # the service port
  containerPort: "8002"
  selector: {app: gl, tier: "api"}
  nodePort: 31002

image:
  repository: ghcr.io/example/rerp
  tag: "v1.2.3"
  name: rerp-invoice

env:
  - name: RUST_LOG
    value: info
  - name: GREETING
    value: "héllo 😀"
app:
  serviceName: invoice
  binaryName: invoice_service_api
"""


def test_set_values_whole_file() -> None:
    assert set_values(VALUES, CHANGES, "v.yaml") == EXPECTED


def test_set_values_is_idempotent() -> None:
    assert set_values(EXPECTED, CHANGES, "v.yaml") == EXPECTED


def test_crlf_and_missing_final_newline_are_kept() -> None:
    before = VALUES.replace("\n", "\r\n").removesuffix("\r\n")
    after = set_values(before, CHANGES, "v.yaml")
    assert after == EXPECTED.replace("\n", "\r\n").removesuffix("\r\n")


def test_four_space_indent_and_document_markers() -> None:
    before = "---\nservice:\n    port: 8001\n...\n"
    after = set_values(before, {("service", "nodePort"): 31001, ("app", "x"): "y"}, "v")
    assert after == "---\nservice:\n    port: 8001\n    nodePort: 31001\napp:\n    x: y\n...\n"


def test_byte_order_mark_and_empty_file() -> None:
    assert set_values("\ufeffa: 1\n", {("a",): 2}, "v") == "\ufeffa: 2\n"
    assert set_values("", {("a", "b"): 2}, "v") == "a:\n  b: 2\n"
    assert set_values("# only a comment\n", {("a",): 1}, "v") == "# only a comment\na: 1\n"


def test_flow_maps_and_empty_keys() -> None:
    assert set_values("a: {x: 1}\n", {("a", "y"): 2}, "v") == "a: {x: 1, y: 2}\n"
    assert set_values("a: {}\n", {("a", "y"): "yes"}, "v") == 'a: {y: "yes"}\n'
    assert set_values("a:\nb: 1\n", {("a", "y"): 2}, "v") == "a:\n  y: 2\nb: 1\n"
    assert set_values("a:\nb: 1\n", {("a",): 2}, "v") == "a: 2\nb: 1\n"


def test_values_that_need_quotes_get_them() -> None:
    assert set_values("a: x\n", {("a",): "yes"}, "v") == 'a: "yes"\n'
    assert set_values("a: x\n", {("a",): "8001"}, "v") == 'a: "8001"\n'
    assert set_values("a: x\n", {("a",): "http://h:1/a"}, "v") == "a: http://h:1/a\n"
    assert set_values("a: 'x'\n", {("a",): "it's"}, "v") == "a: 'it''s'\n"


def test_block_literals_are_untouched() -> None:
    before = "a:\n  script: |\n    echo hi\n\n  port: 1\nb: |+\n  keep\n\n"
    after = set_values(before, {("a", "port"): 2, ("a", "z"): 3, ("c",): 4}, "v")
    assert after == "a:\n  script: |\n    echo hi\n\n  port: 2\n  z: 3\nb: |+\n  keep\n\nc: 4\n"


def test_list_index_and_select_paths() -> None:
    before = "servers:\n- url: http://a:1\n  description: prod\n- url: http://l:1\n  description: local\n"
    path = parse_path("servers[?description=='local'].url")
    assert path == ("servers", Select("description", "local"), "url")
    after = set_values(before, {path: "http://l:8002", ("servers", 0, "x"): 1}, "o")
    assert after == (
        "servers:\n- url: http://a:1\n  description: prod\n  x: 1\n"
        "- url: http://l:8002\n  description: local\n"
    )


def test_parse_path_errors() -> None:
    assert parse_path("a.b[0].c") == ("a", "b", 0, "c")
    with pytest.raises(ValueError, match="bad path"):
        parse_path("a..b")
    with pytest.raises(ValueError, match="empty"):
        parse_path("")


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        pytest.param("service: [a, b]\n", "f.yaml:1", "service is a list", id="list-for-mapping"),
        pytest.param("- a\n- b\n", "f.yaml:1", "the document is a list", id="list-document"),
        pytest.param("service: web\n", "f.yaml:1", "a scalar ('web')", id="scalar-for-mapping"),
        pytest.param("a: [\n", "f.yaml:2", "not valid YAML", id="syntax"),
        pytest.param("service:\n\tport: 1\n", "f.yaml:2", "tab", id="tabs"),
        pytest.param("a: 1\nb: 2\na: 3\n", "f.yaml:3", "appears twice", id="duplicate-key"),
        pytest.param("service:\n  port: 1\n  port: 2\n", "f.yaml:3", "twice", id="dup-leaf"),
        pytest.param("service: &s\n  port: 1\n", "f.yaml:1", "anchor", id="anchor"),
        pytest.param("p: &p 1\nservice:\n  port: *p\n", "f.yaml:3", "alias", id="alias"),
        pytest.param("service:\n  port: !!str 1\n", "f.yaml:2", "tag", id="tag"),
        pytest.param("service:\n  port: |\n    1\n", "f.yaml:2", "block scalar", id="block"),
        pytest.param("service:\n  port: {a: 1}\n", "f.yaml:2", "a mapping", id="mapping-leaf"),
        pytest.param("a: 1\n---\nb: 2\n", "f.yaml:2", "single document", id="two-docs"),
    ],
)
def test_refusals_name_file_and_line(text: str, where: str, message: str) -> None:
    with pytest.raises(FileEditError) as caught:
        set_values(text, {("service", "port"): 8002}, "f.yaml")
    assert caught.value.where == where
    assert message in caught.value.message


def test_tags_are_never_constructed() -> None:
    text = "x: !!python/object/apply:os.system ['echo pwned']\n"
    assert set_values(text, {("a",): 1}, "f") == text + "a: 1\n"


def test_alias_bomb_is_cheap() -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        name, previous = chr(97 + i), chr(96 + i)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    text = "\n".join(lines) + "\n"
    started = time.perf_counter()
    assert set_values(text, {("service", "port"): 1}, "f").endswith("service:\n  port: 1\n")
    assert time.perf_counter() - started < 1


def test_missing_list_item_is_refused() -> None:
    with pytest.raises(FileEditError, match=r"servers\[3\] does not exist"):
        set_values("servers:\n- url: a\n", {("servers", 3, "url"): "b"}, "f")


# --------------------------------------------------------------------- lists

KIND_ITEM: list[tuple[str, yamledit.Scalar]] = [
    ("containerPort", 31002),
    ("hostPort", 8002),
    ("protocol", "TCP"),
]


def test_append_keeps_indented_dash_style() -> None:
    before = "list:\n    # A\n    -   k: 1\n        v: 2\nnext: 1\n"
    after = append_item(before, ("list",), [("k", 3)], source="f", comment="B")
    assert after == "list:\n    # A\n    -   k: 1\n        v: 2\n    # B\n    -   k: 3\nnext: 1\n"


def test_append_creates_list_in_file_style() -> None:
    before = "nodes:\n  - role: control-plane\n"
    after = append_item(before, ("nodes", 0, "ports"), KIND_ITEM, source="f", comment="# X")
    assert after == (
        "nodes:\n  - role: control-plane\n    ports:\n      # X\n      - containerPort: 31002\n"
        "        hostPort: 8002\n        protocol: TCP\n"
    )


def test_append_to_empty_flow_list_and_empty_key() -> None:
    expected = "a:\n- containerPort: 31002\n  hostPort: 8002\n  protocol: TCP\nb: 1\n"
    assert append_item("a: []\nb: 1\n", ("a",), KIND_ITEM, source="f") == expected
    assert append_item("a:\nb: 1\n", ("a",), KIND_ITEM, source="f") == expected


def test_append_refuses_non_empty_flow_list() -> None:
    with pytest.raises(FileEditError, match="flow list"):
        append_item("a: [{x: 1}]\n", ("a",), KIND_ITEM, source="f")


def test_remove_item_with_its_comment_and_last_item_key() -> None:
    before = "a:\n# one\n- x: 1\n# two\n- x: 2\nb: 1\n"
    once = remove_item(before, ("a",), 0, source="f", comment="# one")
    assert once == "a:\n# two\n- x: 2\nb: 1\n"
    assert remove_item(once, ("a",), 0, source="f", comment="# two") == "b: 1\n"
    assert remove_item("a:\n- x: 1", ("a",), 0, source="f", comment=None) == ""
    assert remove_item("k: 1\na:\n- x: 1", ("a",), 0, source="f", comment=None) == "k: 1"


def test_remove_keeps_a_comment_that_is_not_the_items() -> None:
    before = "a:\n# unrelated\n- x: 1\n- x: 2\n"
    assert (
        remove_item(before, ("a",), 0, source="f", comment="# mine") == "a:\n# unrelated\n- x: 2\n"
    )


def test_remove_first_key_of_an_item_becomes_empty_flow_list() -> None:
    before = "n:\n- a:\n  - x: 1\n  b: 2\n"
    assert (
        remove_item(before, ("n", 0, "a"), 0, source="f", comment=None) == "n:\n- a: []\n  b: 2\n"
    )


# ---------------------------------------------------------- property test

_KEY = st.sampled_from(["name", "port", "replicas", "enabled", "tag", "note", "extra"])
_PLAIN = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
_VALUE = st.one_of(
    st.integers(min_value=0, max_value=99999).map(str),
    _PLAIN,
    _PLAIN.map(lambda s: f'"{s} 😀"'),
    _PLAIN.map(lambda s: f"'{s}'"),
    _PLAIN.map(lambda s: f"{{a: {s}, b: 1}}"),
    _PLAIN.map(lambda s: f"[{s}, x]"),
)
_COMMENT = st.sampled_from(["", "  # c", " # ⚠️ port", ""])


@st.composite
def values_files(draw: st.DrawFn) -> str:
    """A values file with comments, blank lines, nested sections, flow maps and lists."""
    lines = [draw(st.sampled_from(["# ⚠️ PORT CONFIGURATION REFERENCE:", "---", "# header"]))]
    indent = draw(st.sampled_from([2, 4]))
    for section in draw(
        st.lists(st.sampled_from(["service", "image", "app", "other"]), unique=True, max_size=4)
    ):
        lines.append(f"{section}:{draw(_COMMENT)}")
        for key in draw(st.lists(_KEY, unique=True, max_size=4)):
            lines.append(f"{' ' * indent}{key}: {draw(_VALUE)}{draw(_COMMENT)}")
            if draw(st.booleans()):
                lines.append(draw(st.sampled_from(["", "# between", f"{' ' * indent}# nested"])))
        if draw(st.booleans()):
            lines += [f"{' ' * indent}items:", f"{' ' * indent}- a: 1", f"{' ' * indent}  b: two"]
        if len(lines) == 2:
            lines.append(f"{' ' * indent}placeholder: 0")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines)
    return text + newline if draw(st.booleans()) else text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=values_files())
def test_property_update_sets_values_and_keeps_other_lines(text: str) -> None:
    try:
        after = set_values(text, CHANGES, "v.yaml")
    except FileEditError as exc:  # a generated `port: [x, y]` or `service: {...}` is refused
        refused = exc.message
    else:
        refused = ""
    if refused:
        assert "expected a mapping" in refused or "single-line" in refused
        return
    loaded = yaml.safe_load(after)
    for path, value in CHANGES.items():
        node = loaded
        for key in path:
            node = node[key]
        assert node in (value, str(value))
    before_lines = text.splitlines()
    after_lines = after.splitlines()
    edited = {"port", "containerPort", "nodePort", "name", "serviceName", "binaryName"}
    kept = [line for line in before_lines if line.strip().split(":")[0] not in edited]
    remaining = iter(after_lines)
    assert all(line in remaining for line in kept), "a line outside the edits changed or moved"
    assert ("\r\n" in after) == ("\r\n" in text)
    assert after.endswith(("\n", "\r\n")) == text.endswith(("\n", "\r\n")) or not text.strip()
