"""``portreg ports``: every binding portreg reads, by namespace; and the ports it cannot read
(``check --verbose``, ``ports``' "unread")."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portreg.check import scan
from portreg.check.facts import Facts
from portreg.check.format import FORMATS, text
from portreg.commands import ports
from portreg.config import Settings
from portreg.model import RegistryState
from portreg.targets.base import NAMESPACES, UNREAD, Observation

from conftest import CliRunner, tree

REGISTRY = """\
{
  "version": "1.0",
  "next_port": 8003,
  "reserved_ports": [8080],
  "assignments": {
    "billing": 8001,
    "invoice": 8002
  }
}
"""
KIND = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  extraPortMappings:
  # Billing Service
  - containerPort: 31001
    hostPort: 8001
    listenAddress: 127.0.0.1
"""
VALUES = """\
service:
  type: NodePort
  port: 8001
  containerPort: 8080
  nodePort: 31001
"""
CONFIG = """\
[[targets]]
name = "dotenv"
files = ".env"
kind = "text"
line = "{SERVICE_UPPER}_PORT={port}"
"""


@pytest.fixture
def bound(repo: Path) -> Path:
    """A repo binding ports in every namespace: a kind mapping on 127.0.0.1, a values
    file (Service port, container port, NodePort) and a user target's .env line."""
    (repo / "scripts" / "port-registry.json").write_text(REGISTRY)
    (repo / "kind-config.yaml").write_text(KIND)
    values = repo / "helm" / "rerp-microservice" / "values"
    values.mkdir(parents=True)
    (values / "billing.yaml").write_text(VALUES)
    (repo / "portreg.toml").write_text(CONFIG)
    (repo / ".env").write_text("INVOICE_PORT=8002\n")
    return repo


EXPECTED_TEXT = """\
host (this machine): 3 bindings
  ADDRESS    PORT  OWNER    NAME      WHERE                         GROUP    LEADS TO
  127.0.0.1  8001  billing  hostPort  kind-config.yaml:8            cluster  -> node 31001
  *          8001  billing  -         scripts/port-registry.json:6  *
  *          8002  invoice  -         scripts/port-registry.json:7  *

node (the cluster's nodes): 2 bindings
  ADDRESS   PORT  OWNER    NAME              WHERE                                         GROUP    LEADS TO
  -        31001  billing  service.nodePort  helm/rerp-microservice/values/billing.yaml:5  cluster
  -        31001  billing  containerPort     kind-config.yaml:7                            cluster

service (each Service's own address): 1 binding
  ADDRESS  PORT  OWNER    NAME          WHERE                                         GROUP    LEADS TO
  -        8001  billing  service.port  helm/rerp-microservice/values/billing.yaml:3  cluster

container (each pod's or container's own address): 1 binding
  ADDRESS  PORT  OWNER    NAME                   WHERE                                         GROUP    LEADS TO
  -        8080  billing  service.containerPort  helm/rerp-microservice/values/billing.yaml:4  cluster

named (ports files name without binding them: URLs, port tables): 1 binding
  ADDRESS  PORT  OWNER    NAME           WHERE   GROUP    LEADS TO
  -        8002  invoice  INVOICE_PORT=  .env:1  cluster
"""


def test_ports_lists_every_binding_by_namespace(bound: Path, cli: CliRunner) -> None:
    before = tree(bound)
    run = cli("--root", str(bound), "ports")
    assert (run.code, run.err) == (0, "")
    assert run.out == EXPECTED_TEXT
    assert tree(bound) == before  # it writes nothing


def test_ports_json_has_stable_keys_and_the_far_side(bound: Path, cli: CliRunner) -> None:
    run = cli("--root", str(bound), "ports", "-o", "json")
    assert run.code == 0
    document = json.loads(run.out)
    assert list(document) == ["bindings", "unread", "unreadable"]
    keys = ["namespace", "address", "port", "owner", "name", "path", "line", "group"]
    keys += ["source", "role", "leads_to"]
    assert all(list(binding) == keys for binding in document["bindings"])
    kind, registry = document["bindings"][:2]
    assert kind == {
        "namespace": "host",
        "address": "127.0.0.1",
        "port": 8001,
        "owner": "billing",
        "name": "hostPort",
        "path": "kind-config.yaml",
        "line": 8,
        "group": "",
        "source": "kind",
        "role": "port",
        "leads_to": {"namespace": "node", "port": 31001},
    }
    assert registry["group"] == "*"
    assert (registry["source"], registry["name"], registry["leads_to"]) == ("registry", None, None)
    assert [b["namespace"] for b in document["bindings"]] == ["host"] * 3 + ["node"] * 2 + [
        "service",
        "container",
        "named",
    ]
    assert (document["unread"], document["unreadable"]) == ([], [])


def test_a_compose_mapping_leads_to_the_container(repo: Path, cli: CliRunner) -> None:
    (repo / "scripts" / "port-registry.json").write_text(REGISTRY)
    (repo / "compose.yaml").write_text(
        'services:\n  invoice:\n    image: invoice\n    ports:\n      - "8002:8080"\n'
    )
    document = json.loads(cli("--root", str(repo), "ports", "-o", "json").out)
    found = [b for b in document["bindings"] if b["path"] == "compose.yaml"]
    assert [(b["namespace"], b["port"], b["owner"], b["leads_to"]) for b in found] == [
        ("host", 8002, "invoice", {"namespace": "container", "port": 8080})
    ]
    text_run = cli("--root", str(repo), "ports")
    assert "-> container 8080" in text_run.out


def test_an_unreadable_file_is_listed_not_a_crash(bound: Path, cli: CliRunner) -> None:
    (bound / "kind-config.yaml").write_text("kind: Cluster\nnodes: [\n")
    check = cli("--root", str(bound), "check", "-o", "json")
    pr017 = [f for f in json.loads(check.out)["findings"] if f["code"] == "PR017"]
    assert len(pr017) == 1

    run = cli("--root", str(bound), "ports")
    assert (run.code, run.err) == (0, "")
    block = run.out.split("\n\n")[-1]
    where = f"{pr017[0]['path']}:{pr017[0]['line']}"
    assert block == f"unreadable: 1 file\n  {where}: {pr017[0]['message']}\n"
    assert "kind-config.yaml:8" not in run.out  # its bindings are not guessed either
    as_json = json.loads(cli("--root", str(bound), "ports", "-o", "json").out)
    assert as_json["unreadable"] == [
        {"path": pr017[0]["path"], "line": pr017[0]["line"], "message": pr017[0]["message"]}
    ]


@pytest.mark.parametrize("output", ["text", "json"])
def test_a_broken_registry_is_exit_2(bound: Path, cli: CliRunner, output: str) -> None:
    (bound / "scripts" / "port-registry.json").write_text("{")
    run = cli("--root", str(bound), "ports", "-o", output)
    assert run.code == 2
    assert run.out == ""
    assert run.err.startswith("portreg: error: scripts/port-registry.json")


def test_an_empty_repo_says_so(seed_repo: Path, cli: CliRunner) -> None:
    (seed_repo / "scripts" / "port-registry.json").write_text(
        '{"version": "1.0", "next_port": 8001, "assignments": {}}'
    )
    run = cli("--root", str(seed_repo), "ports")
    assert run.out == "No bindings: portreg found no port in the registry or the files.\n"


# ------------------------------------------------------------------ unread

TILT_UNREAD = Observation("tilt", "Tiltfile", 12, 0, "port_forwards=_port_forwards", "other")
TILT_UNREAD = TILT_UNREAD._replace(service="invoice", namespace=UNREAD)
COMPOSE_UNREAD = Observation("compose", "compose.yaml", 5, 0, "${INVOICE_PORT}", "other")
COMPOSE_UNREAD = COMPOSE_UNREAD._replace(namespace=UNREAD)
UNREAD_LINES = [
    "Tiltfile:12: not read: port_forwards=_port_forwards (computed; portreg does not guess)",
    "compose.yaml:5: not read: ${INVOICE_PORT} (computed; portreg does not guess)",
]


def add_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, every scan also finds two ports the files compute (as the Tilt and
    compose readers report them), whatever the readers themselves find."""
    real = scan.scan

    def scan_and_two_unread(*args: Any, **kwargs: Any) -> Any:
        found, problems = real(*args, **kwargs)
        return [*found, COMPOSE_UNREAD, TILT_UNREAD], problems

    monkeypatch.setattr(scan, "scan", scan_and_two_unread)


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> None:
    add_unread(monkeypatch)


def test_check_verbose_names_each_port_it_could_not_read(
    bound: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = cli("--root", str(bound), "check", "-o", "json")
    add_unread(monkeypatch)
    quiet = cli("--root", str(bound), "check")
    verbose = cli("--root", str(bound), "check", "--verbose")
    as_json = cli("--root", str(bound), "check", "-o", "json")

    assert quiet.code == verbose.code == as_json.code == before.code  # not findings
    assert as_json.out == before.out  # no code, no finding, nothing in the JSON
    for line in UNREAD_LINES:
        assert line not in quiet.out
    assert quiet.out.splitlines()[-1].endswith("; 2 ports not read (--verbose names them)")
    lines = verbose.out.splitlines()
    at = lines.index(UNREAD_LINES[0])
    assert lines[at : at + 3] == [*UNREAD_LINES, lines[-1]]  # before the summary
    assert lines[-1].endswith("; 2 ports not read (listed above)")


def test_ports_lists_the_unread_ports(bound: Path, cli: CliRunner, computed: None) -> None:
    run = cli("--root", str(bound), "ports")
    assert run.code == 0
    assert run.out.endswith(
        "\n\nunread: 2 ports a file computes\n  " + "\n  ".join(UNREAD_LINES) + "\n"
    )
    document = json.loads(cli("--root", str(bound), "ports", "-o", "json").out)
    assert document["unread"] == [
        {"path": "Tiltfile", "line": 12, "expression": "port_forwards=_port_forwards",
         "owner": "invoice", "source": "tilt"},
        {"path": "compose.yaml", "line": 5, "expression": "${INVOICE_PORT}",
         "owner": None, "source": "compose"},
    ]  # fmt: skip
    assert all(b["port"] != 0 for b in document["bindings"])  # never a binding of port 0


def test_the_formatter_lists_unread_ports_only_when_verbose() -> None:
    unread = [TILT_UNREAD, COMPOSE_UNREAD]
    assert text([], verbose=True, unread=unread) == "\n".join(
        [
            *UNREAD_LINES,
            "✅ No port conflicts: every file agrees with the registry"
            "; 2 ports not read (listed above)",
            "",
        ]
    )
    assert text([], unread=unread[:1]) == (
        "✅ No port conflicts: every file agrees with the registry"
        "; 1 port not read (--verbose names it)\n"
    )
    assert text([], verbose=True) == text([])  # nothing unread: nothing said
    for output in ("json", "github", "sarif"):  # the other formats take it and add nothing
        assert FORMATS[output]([], unread=unread) == FORMATS[output]([])


# ------------------------------------------------------------- invariants

SETTINGS = Settings(root=Path("/repo"))
observations = st.builds(
    Observation,
    target=st.sampled_from(["kind", "helm", "tilt", "compose"]),
    path=st.sampled_from(["a.yaml", "b/c.yaml", "Tiltfile"]),
    line=st.integers(1, 50),
    port=st.integers(1, 65535),
    field=st.sampled_from(["hostPort", "port", ""]),
    role=st.sampled_from(["port", "other", "node_port"]),
    service=st.sampled_from([None, "billing"]),
    namespace=st.sampled_from(NAMESPACES),
    leads_to=st.one_of(st.none(), st.integers(1, 65535)),
)


@given(
    st.lists(observations, max_size=12),
    st.dictionaries(st.sampled_from(["billing", "invoice", "orders"]), st.integers(8001, 8999)),
)
def test_every_binding_is_listed_once_in_namespace_port_file_order(
    found: list[Observation], assignments: dict[str, int]
) -> None:
    facts = Facts(
        settings=SETTINGS,
        state=RegistryState(assignments=assignments),
        registry_path="scripts/port-registry.json",
        observations=tuple(found),
    )
    view = ports.from_facts(facts)
    assert len(view.bindings) == len(found) + len(assignments)
    keys = [(NAMESPACES.index(b.namespace), b.port, b.path) for b in view.bindings]
    assert keys == sorted(keys)
    registry = [b for b in view.bindings if b.source == "registry"]
    assert sorted((b.owner, b.port) for b in registry) == sorted(assignments.items())
    assert {b.group for b in registry} <= {"*"}
    rendered = ports.as_text(view)
    for name in {b.namespace for b in view.bindings}:
        rows = len(view.namespace(name))
        assert f"\n{name} (" in f"\n{rendered}"
        assert f": {rows} binding{'' if rows == 1 else 's'}\n" in rendered


def test_the_headings_name_every_namespace_in_the_model_order() -> None:
    assert tuple(ports.HEADINGS) == NAMESPACES


# ------------------------------------------------------------ the command


def test_completion_offers_ports_and_its_formats(cli: CliRunner) -> None:
    run = cli("completion", "bash")
    assert "        ports)\n" in run.out
    case = run.out.split("        ports)\n")[1].split("            ;;\n")[0]
    assert "-o|--output) words='text json' ;;" in case


def test_building_the_parser_does_not_load_the_reading_code() -> None:
    """``ports`` is in every parser (``--help``, completion): its module loads no more
    than the standard library until it runs."""
    probe = (
        "import contextlib, io, sys\n"
        "from portreg.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['completion', 'bash'])\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    modules = done.stdout.split()
    assert "portreg.commands.ports" in modules
    assert [m for m in modules if m.startswith(("portreg.check", "portreg.targets", "yaml"))] == []


def host_rows(html: str) -> list[list[str]]:
    """The cells of the host bindings table, as text."""
    table = re.search(r'<section id="host">.*?</section>', html)
    assert table is not None
    rows = re.findall(r"<tr data-port=.*?</tr>", table.group(0))
    return [[re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td.*?</td>", r)] for r in rows]


def test_export_html_lists_the_host_bindings_before_the_map(bound: Path, cli: CliRunner) -> None:
    run = cli("--root", str(bound), "export", "-o", "html")
    assert run.code == 0
    assert host_rows(run.out) == [
        ["127.0.0.1:8001", "billing", "kind-config.yaml:8", "node 31001"],
        ["8001", "billing", "scripts/port-registry.json:6", ""],
        ["8002", "invoice", "scripts/port-registry.json:7", ""],
    ]  # the .env line names invoice's port (a client's), it binds nothing
    assert "<h2>Host ports (3)</h2>" in run.out
    assert run.out.index('<section id="host">') < run.out.index('<details class="map"')
