"""``assign`` and ``check`` hold together: every port ``check`` observes in a repo's
files is one ``assign`` skips, so ``assign`` never hands out a port (or a NodePort)
a file already uses.

Repos are generated: Helm values files in block and flow style, kind-config
``extraPortMappings`` as block items, flow items and a flow sequence, a Tiltfile
with ``port_forwards``, a compose file with short and long port syntax and a
Kubernetes Service manifest. Port numbers are ASCII decimal digits. The ways to
spell a port that are not a plain run of digits (ranges, Starlark int
literals, string escapes) are pinned one by one at the end.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portreg.api import Registry
from portreg.check import scan
from portreg.cli import main
from portreg.config import load_settings
from portreg.io.workspace import Workspace
from portreg.targets import Observation, build_targets
from portreg.targets.in_use import numbers_in, ports_in_use

from conftest import without_notice

SERVICES = ("alpha", "beta", "gamma-api", "delta")
# Near the bottom of the range and its NodePorts, where `assign` looks first.
PORTS = st.integers(8001, 8040)
NODE_PORTS = st.integers(31001, 31040)
ANY_PORT = st.one_of(PORTS, NODE_PORTS, st.sampled_from([80, 443, 8080, 9000]))


@dataclass
class Repo:
    """Generated files, and the ports written where ``check`` surely reads a port."""

    files: dict[str, str] = field(default_factory=dict)
    read_ports: set[int] = field(default_factory=set)
    registry: dict[str, int] = field(default_factory=dict)


def title(service: str) -> str:
    return " ".join(part.capitalize() for part in service.split("-"))


def draw_scalar(draw: st.DrawFn, value: int, repo: Repo, *, quoted_read: bool = True) -> str:
    """``value`` as a YAML scalar: plain, quoted, or with a leading zero (read iff <= 5
    digits: ``08001`` is 8001 to YAML 1.1, ``031001`` octal). A quoted port is read in a
    Helm values file only (``quoted_read``): kind and Kubernetes refuse a string there."""
    form = draw(st.sampled_from(["plain", "double", "single", "zero"]))
    if form == "zero":
        text = f"0{value}"
        if len(text) <= 5:
            repo.read_ports.add(value)
        return text
    if form == "plain" or quoted_read:
        repo.read_ports.add(value)
    return {"plain": str(value), "double": f'"{value}"', "single": f"'{value}'"}[form]


def draw_comment(draw: st.DrawFn) -> str:
    """Nothing, or a trailing comment that may hold a number (assign skips those too)."""
    number = draw(st.one_of(st.none(), ANY_PORT))
    return "" if number is None else f"  # was {number}"


# ------------------------------------------------------------------ files


def helm_values(draw: st.DrawFn, repo: Repo, service: str) -> None:
    keys = draw(
        st.lists(st.sampled_from(["port", "containerPort", "nodePort"]), unique=True, min_size=1)
    )
    pairs = []
    for key in keys:
        value = draw(NODE_PORTS if key == "nodePort" else PORTS)
        pairs.append((key, draw_scalar(draw, value, repo)))
    style = draw(st.sampled_from(["block", "flow", "flow-lines"]))
    head = f"# Helm values for {service}\n"
    if style == "block":
        body = "".join(f"  {k}: {v}{draw_comment(draw)}\n" for k, v in pairs)
        text = f"{head}service:\n  name: {service}\n{body}image:\n  name: rerp-{service}\n"
    elif style == "flow":
        inner = ", ".join(f"{k}: {v}" for k, v in pairs)
        text = f"{head}service: {{name: {service}, {inner}}}\nimage: {{name: rerp-{service}}}\n"
    else:
        inner = ",\n".join(f"  {k}: {v}" for k, v in pairs)
        text = f"{head}service: {{\n  name: {service},\n{inner}\n}}\n"
    repo.files[f"helm/rerp-microservice/values/{service}.yaml"] = text


def kind_mapping(draw: st.DrawFn, repo: Repo, style: str) -> str:
    # check does not read a flow list (see test_check_reads_a_flow_list_of_port_mappings):
    # its ports are in the file (assign skips them) but not counted as read
    sink = Repo() if style == "flow-sequence" else repo
    container = draw_scalar(draw, draw(st.one_of(NODE_PORTS, PORTS)), sink, quoted_read=False)
    host = draw_scalar(draw, draw(PORTS), sink, quoted_read=False)
    fields = [("containerPort", container), ("hostPort", host), ("protocol", "TCP")]
    if draw(st.booleans()):
        fields.reverse()
    if style == "flow-sequence":
        return "{" + ", ".join(f"{k}: {v}" for k, v in fields) + "}"
    comment = ""
    owner = draw(st.one_of(st.none(), st.sampled_from(SERVICES)))
    if owner is not None:
        comment = f"  # {title(owner)} Service\n"
    if style == "flow-items":
        return comment + "  - {" + ", ".join(f"{k}: {v}" for k, v in fields) + "}\n"
    first, *rest = fields
    lines = [f"  - {first[0]}: {first[1]}\n"] + [f"    {k}: {v}\n" for k, v in rest]
    return comment + "".join(lines)


def kind_config(draw: st.DrawFn, repo: Repo) -> None:
    text = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n"
    roles = ["control-plane"] + (["worker"] if draw(st.booleans()) else [])
    for role in roles:
        style = draw(st.sampled_from(["block", "flow-items", "flow-sequence"]))
        count = draw(st.integers(1, 4))
        mappings = [kind_mapping(draw, repo, style) for _ in range(count)]
        text += f"- role: {role}\n"
        if style == "flow-sequence":
            text += "  extraPortMappings: [" + ", ".join(mappings) + "]\n"
        else:
            text += "  extraPortMappings:\n" + "".join(mappings)
    repo.files["kind-config.yaml"] = text


def tilt_forward(draw: st.DrawFn, repo: Repo) -> str:
    """One ``port_forwards`` element: an int, 'HOST', 'HOST:CONTAINER' or 'ip:HOST:CONTAINER'."""
    host = draw(PORTS)
    container = draw(ANY_PORT)
    repo.read_ports.add(host)
    form = draw(st.sampled_from(["int", "str", "pair", "localhost", "call"]))
    quote = draw(st.sampled_from(["'", '"']))
    if form == "int":
        return str(host)
    if form == "str":
        return f"{quote}{host}{quote}"
    if form == "pair":
        return f"{quote}{host}:{container}{quote}"
    if form == "localhost":
        return f"{quote}localhost:{host}:{container}{quote}"
    return f"port_forward({host}, {container}, name='web')"


def tiltfile(draw: st.DrawFn, repo: Repo) -> None:
    lines = ["# -*- mode: Python -*-", "load('ext://restart_process', 'docker_build_with_restart')"]
    for service in draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=4)):
        forwards = [tilt_forward(draw, repo) for _ in range(draw(st.integers(1, 3)))]
        value = (
            forwards[0]
            if len(forwards) == 1 and draw(st.booleans())
            else ("[" + ", ".join(forwards) + "]")
        )
        name = f"'{service}'" if draw(st.booleans()) else f"workload='{service}'"
        lines.append(f"k8s_resource({name}, port_forwards={value}, labels=['rerp'])")
    if draw(st.booleans()):
        ports = {s: draw(PORTS) for s in SERVICES[:2]}
        repo.read_ports |= set(ports.values())
        lines.append("SERVICE_PORTS = {" + ", ".join(f"'{s}': {p}" for s, p in ports.items()) + "}")
    repo.files["Tiltfile"] = "\n".join(lines) + "\n"


def compose_port(draw: st.DrawFn, repo: Repo, flow: bool) -> str:
    host = draw(PORTS)
    container = draw(ANY_PORT)
    form = draw(st.sampled_from(["short", "ip", "long", "udp", "container-only"]))
    if form in ("short", "ip", "long"):
        repo.read_ports.add(host)
    if form == "short":
        return f'"{host}:{container}"'
    if form == "ip":
        return f'"127.0.0.1:{host}:{container}"'
    if form == "udp":
        return f'"{host}:{container}/udp"'  # not TCP: no port anyone holds, still skipped
    if form == "container-only":
        return f'"{container}"'  # an ephemeral host port
    if flow:
        return f"{{target: {container}, published: {host}, protocol: tcp}}"
    return f"target: {container}\n        published: {host}\n        protocol: tcp"


def compose_file(draw: st.DrawFn, repo: Repo) -> None:
    text = "services:\n"
    for service in draw(st.lists(st.sampled_from(SERVICES), unique=True, min_size=1)):
        flow = draw(st.booleans())
        entries = [compose_port(draw, repo, flow) for _ in range(draw(st.integers(1, 3)))]
        text += f"  {service}:\n    image: ghcr.io/rerp/{service}\n"
        if flow:
            text += "    ports: [" + ", ".join(entries) + "]\n"
        else:
            text += "    ports:\n" + "".join(f"      - {e}\n" for e in entries)
    repo.files["compose.yaml"] = text


def manifest(draw: st.DrawFn, repo: Repo) -> None:
    service = draw(st.sampled_from(SERVICES))
    port = draw_scalar(draw, draw(PORTS), repo, quoted_read=False)
    node = draw_scalar(draw, draw(NODE_PORTS), repo, quoted_read=False)
    if draw(st.booleans()):
        ports = f"  ports:\n  - port: {port}\n    nodePort: {node}\n"
    else:
        ports = f"  ports: [{{port: {port}, nodePort: {node}}}]\n"
    repo.files["k8s/service.yaml"] = (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {service}\nspec:\n"
        f"  type: NodePort\n{ports}"
    )


@st.composite
def repos(draw: st.DrawFn) -> Repo:
    repo = Repo()
    for service in draw(st.lists(st.sampled_from(SERVICES), unique=True, max_size=3)):
        helm_values(draw, repo, service)
    for part in (kind_config, tiltfile, compose_file, manifest):
        if draw(st.booleans()):
            part(draw, repo)
    names = draw(st.lists(st.sampled_from(SERVICES), unique=True, max_size=2))
    ports = draw(st.lists(PORTS, unique=True, min_size=len(names), max_size=len(names)))
    repo.registry = dict(zip(names, ports, strict=True))
    return repo


# ------------------------------------------------------------------ helpers


@contextlib.contextmanager
def built(repo: Repo) -> Iterator[Path]:
    """The repo on disk, in a fresh temp folder (hypothesis reuses function fixtures)."""
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp, "repo")
        (root / ".git").mkdir(parents=True)
        files = dict(repo.files)
        files["scripts/port-registry.json"] = json.dumps({"assignments": repo.registry}) + "\n"
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        yield root


def observe(root: Path) -> tuple[list[Observation], set[int]]:
    """``check``'s observations and ``assign``'s skip set, from the same targets."""
    targets = build_targets(load_settings(root))
    observations, unreadable = scan.scan(Workspace(root), targets)
    assert unreadable == [], unreadable  # every generated file parses: nothing is vacuous
    return observations, ports_in_use(Workspace(root), targets)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# (the autouse conftest fixture sets environment variables only: the same for every example)
BOUNDED = settings(
    max_examples=50,
    deadline=None,
    database=None,
)


# ------------------------------------------------------------------ properties


@BOUNDED
@given(repos())
def test_every_observed_port_is_in_the_skip_set(repo: Repo) -> None:
    with built(repo) as root:
        observations, skipped = observe(root)
    observed = {obs.port for obs in observations}
    assert repo.read_ports <= observed  # the generator wrote them where check reads ports
    assert observed <= skipped, sorted(observed - skipped)


@BOUNDED
@given(repos())
def test_assign_hands_out_no_observed_port_or_node_port(repo: Repo) -> None:
    with built(repo) as root:
        observations, _ = observe(root)
        formula = Registry.open(root).settings  # the formula the repo's mappings derive
        code, out, err = run_cli("--root", str(root), "assign", "newsvc", "--json")
        registry = json.loads((root / "scripts/port-registry.json").read_text())
    assert (code, without_notice(err)) == (0, "")
    given_out = json.loads(out)
    port, node_port = given_out["port"], given_out["node_port"]
    observed = {obs.port for obs in observations}
    assert port not in observed
    # a NodePort exists only where the repo derives them (a lone manifest's nodePort
    # 31001 is no reason to skip 8001 in a repo without kind or Helm)
    derived = formula.derives_node_ports
    assert node_port == (formula.node_port(port) if derived else None)
    assert node_port not in observed
    assert port not in repo.registry.values()
    assert registry["assignments"] == {**repo.registry, "newsvc": port}


# ------------------------------- spellings of a port that are not a run of digits

KIND_OCTAL = (
    "kind: Cluster\nnodes:\n- role: control-plane\n  extraPortMappings:\n"
    "  - containerPort: 31002\n    hostPort: 017502\n"
)
GAPS = [
    pytest.param(
        "compose.yaml",
        'services:\n  a:\n    ports: ["8001-8003:8001-8003"]\n',
        id="compose-short-range",
    ),
    pytest.param(
        "compose.yaml",
        'services:\n  a:\n    ports:\n      - target: 80\n        published: "8001-8003"\n',
        id="compose-long-range",
    ),
    pytest.param("Tiltfile", "k8s_resource('a', port_forwards=0x1F42)\n", id="tilt-hex"),
    pytest.param("Tiltfile", "k8s_resource('a', port_forwards=0o17502)\n", id="tilt-octal"),
    pytest.param("Tiltfile", "k8s_resource('a', port_forwards=8_002)\n", id="tilt-underscore"),
    pytest.param("Tiltfile", "k8s_resource('a', port_forwards='\\x38002')\n", id="tilt-escape"),
    pytest.param(
        "helm/rerp-microservice/values/a.yaml",
        'service:\n  port: "\\x38002"\n',
        id="helm-yaml-escape",
    ),
    pytest.param(
        "helm/rerp-microservice/values/a.yaml",
        'service:\n  port: "80\\\n    02"\n',
        id="helm-yaml-escaped-line-break",
    ),
    pytest.param(
        "k8s/service.yaml",
        "kind: Service\nmetadata: {name: a}\nspec:\n  ports:\n  - {port: 0x1F42}\n",
        id="manifest-yaml11-hex",
    ),
    pytest.param("kind-config.yaml", KIND_OCTAL, id="kind-yaml11-octal"),
]


@pytest.mark.parametrize(("name", "text"), GAPS)
def test_literal_forms_check_reads_are_skipped(tmp_path: Path, name: str, text: str) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    observations, skipped = observe(root)
    observed = {obs.port for obs in observations}
    assert 8002 in observed  # check does read 8002 here
    assert observed <= skipped, sorted(observed - skipped)


def test_assign_skips_every_port_of_a_compose_range(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / "compose.yaml").write_text('services:\n  a:\n    ports: ["8001-8003:8001-8003"]\n')
    code, out, err = run_cli("--root", str(root), "assign", "newsvc", "--json")
    assert (code, without_notice(err)) == (0, "")
    assert json.loads(out)["port"] == 8004


MAPPING_LISTS = {
    "block": "  extraPortMappings:\n  - containerPort: 31001\n    hostPort: 8001\n",
    "flow-items": "  extraPortMappings:\n  - {containerPort: 31001, hostPort: 8001}\n",
    "flow-list": "  extraPortMappings: [{containerPort: 31001, hostPort: 8001}]\n",
}


@pytest.mark.parametrize(
    "style",
    [
        "block",
        "flow-items",
        pytest.param("flow-list"),
    ],
)
def test_check_reads_a_flow_list_of_port_mappings(tmp_path: Path, style: str) -> None:
    """The same mapping in any YAML style: check observes it and finds the repo in line."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    files = {
        "scripts/port-registry.json": '{"assignments": {"general-ledger": 8001}}\n',
        "helm/rerp-microservice/values/general-ledger.yaml": (
            "service:\n  port: 8001\n  containerPort: 8001\n  nodePort: 31001\n"
        ),
        "kind-config.yaml": "kind: Cluster\nnodes:\n- role: control-plane\n" + MAPPING_LISTS[style],
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    observations, _ = observe(root)
    kind = {(obs.field, obs.port) for obs in observations if obs.target == "kind"}
    assert kind == {("hostPort", 8001), ("containerPort", 31001)}
    code, out, err = run_cli("--root", str(root), "check", "--format", "json")
    assert (code, without_notice(err)) == (0, "")
    assert [finding["code"] for finding in json.loads(out)["findings"]] == []


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet="0123456789abfoxXOB_-:\\\n \t\"'uU", max_size=60))
def test_numbers_in_reads_any_text_without_failing(text: str) -> None:
    """Any text, however odd its digits, gives a set of ports in 1-65535 (never an error)."""
    assert all(1 <= port <= 65535 for port in numbers_in(text))


def test_a_negative_yaml_number_is_no_port() -> None:
    """``-01`` is -1 to YAML 1.1 (hypothesis found ``0-01`` giving -1)."""
    assert numbers_in("0-01") == {1}
