"""One road: where portreg once had two answers (a fast and a full road, two YAML
parsers, caches), every command now gives the same one. Each test runs the real
CLI on a temp repo and compares whole files, exit codes and stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import SEED_REGISTRY, CliRunner, tree

V = "helm/rerp-microservice/values"
REGISTRY = "scripts/port-registry.json"
OVER_4_MB = 4 * 1024 * 1024 + 1  # bytes: one more than portreg reads as a config file
TOO_LARGE = "file is over 4 MB; refusing to read it as a config file"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())


def values_text(port: int, node_port: int) -> str:
    return f"service:\n  port: {port}\n  containerPort: {port}\n  nodePort: {node_port}\n"


def one_error_line(err: str) -> str:
    """stderr is exactly one ``portreg: error:`` line; returns it without the newline."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert err.endswith("\n")
    assert lines[0].startswith("portreg: error: "), err
    return lines[0]


# ------------------------------------------- (a) empty registry, one document

# What every writing command leaves after giving 'svc' port 8001 in a repo whose
# registry file is empty or `{}`: the whole seed-shaped document, never a bare
# {"assignments": ...}. The timestamp comes from SOURCE_DATE_EPOCH (conftest).
FROM_EMPTY = """\
{
  "version": "1.0",
  "next_port": 8002,
  "reserved_ports": [8080],
  "assignments": {
    "svc": 8001
  },
  "metadata": {
    "description": "Port registry for microservices, managed by portreg",
    "last_updated": "2026-09-21T14:13:20",
    "notes": "Edit with `portreg`, not by hand. NodePort = base + (port - offset)."
  }
}
"""

EMPTY_REGISTRIES = pytest.mark.parametrize(
    "registry", ["", "\n", "{}", "{}\n"], ids=["empty", "newline", "braces", "braces-newline"]
)


@EMPTY_REGISTRIES
@pytest.mark.parametrize(
    "argv",
    [
        ("assign", "svc"),
        ("assign", "svc", "--update-configs"),
        ("assign", "svc", "--json"),
        ("reconcile",),
        ("reconcile", "--update-configs"),
        ("fix",),
    ],
    ids=" ".join,
)
def test_empty_registry_becomes_one_whole_document(
    repo: Path, cli: CliRunner, registry: str, argv: tuple[str, ...]
) -> None:
    write(repo, {REGISTRY: registry})
    if argv[0] in ("reconcile", "fix"):  # both adopt 'svc' from its values file, on 8001
        write(repo, {f"{V}/svc.yaml": values_text(8001, 31001)})
    run = cli("--root", str(repo), *argv)
    assert run.code == 0, run.err
    assert (repo / REGISTRY).read_text() == FROM_EMPTY
    if argv == ("assign", "svc"):
        assert (
            run.out
            == "✅ Assigned port 8001 to service 'svc'\n   Updated scripts/port-registry.json\n"
        )
    if argv[-1] == "--json":
        assert json.loads(run.out) == {
            "service": "svc",
            "port": 8001,
            "node_port": None,  # no kind cluster, no Helm values: none derived
            "new": True,
            "changed_files": [REGISTRY],
        }


@EMPTY_REGISTRIES
def test_fix_without_adopting_on_an_empty_registry_changes_nothing(
    repo: Path, cli: CliRunner, registry: str
) -> None:
    write(repo, {REGISTRY: registry, f"{V}/svc.yaml": values_text(8001, 31001)})
    before = tree(repo)
    run = cli("--root", str(repo), "fix", "--no-adopt")
    assert run.code == 1, run.err  # svc's values file stays unregistered: check fails
    assert run.out.endswith("ℹ️  Nothing to fix\n")
    assert tree(repo) == before


# ------------------------------------------------- (b) a file over 4 MB

KIND_CONFIG = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  extraPortMappings:
  # General Ledger Service
  - containerPort: 31001
    hostPort: 8001
    protocol: TCP
  # Invoice Service
  - containerPort: 31002
    hostPort: 8002
    protocol: TCP
"""


def padded(text: str, size: int) -> str:
    """``text`` plus a comment line, ``size`` bytes in all: still valid YAML."""
    filler = size - len(text.encode()) - 2
    return text + "#" + "x" * filler + "\n"


@pytest.fixture
def rerp(seed_repo: Path) -> Path:
    """The seed registry, both values files and a kind-config, all in line."""
    write(
        seed_repo,
        {
            f"{V}/general-ledger.yaml": values_text(8001, 31001),
            f"{V}/invoice.yaml": values_text(8002, 31002),
            "kind-config.yaml": KIND_CONFIG,
        },
    )
    return seed_repo


OVERSIZED_CASES = [
    pytest.param(f"{V}/invoice.yaml", ("assign", "svc"), id="values-assign"),
    pytest.param(f"{V}/invoice.yaml", ("assign", "svc", "--update-configs"), id="values-assign-uc"),
    pytest.param(
        f"{V}/invoice.yaml", ("assign", "invoice", "--update-configs"), id="values-own-assign-uc"
    ),
    pytest.param(f"{V}/invoice.yaml", ("update-configs", "invoice"), id="values-update-configs"),
    pytest.param(
        f"{V}/invoice.yaml",
        ("reconcile",),
        id="values-reconcile",
    ),
    pytest.param(f"{V}/billing.yaml", ("assign", "svc"), id="new-values-assign"),
    pytest.param(
        f"{V}/billing.yaml",
        ("reconcile",),
        id="new-values-reconcile",
    ),
    pytest.param(f"{V}/invoice.yaml", ("fix",), id="values-fix"),
    pytest.param("kind-config.yaml", ("assign", "svc"), id="kind-assign"),
    pytest.param("kind-config.yaml", ("assign", "svc", "--update-configs"), id="kind-assign-uc"),
    pytest.param("kind-config.yaml", ("update-configs", "invoice"), id="kind-update-configs"),
    pytest.param("kind-config.yaml", ("reconcile",), id="kind-reconcile"),
    pytest.param("kind-config.yaml", ("fix",), id="kind-fix"),
]


@pytest.mark.parametrize(("name", "argv"), OVERSIZED_CASES)
def test_a_file_over_4_mb_is_refused_by_every_command(
    rerp: Path, cli: CliRunner, name: str, argv: tuple[str, ...]
) -> None:
    path = rerp / name  # billing.yaml: the values file of a service the registry lacks
    text = path.read_text() if path.exists() else values_text(8003, 31003)
    path.write_text(padded(text, OVER_4_MB))
    assert path.stat().st_size == OVER_4_MB
    before = tree(rerp)
    run = cli("--root", str(rerp), *argv)
    assert (run.code, run.out) == (2, "")
    line = one_error_line(run.err)
    assert name in line
    assert line.endswith(f": {TOO_LARGE}")
    assert tree(rerp) == before


@pytest.mark.parametrize("name", [f"{V}/invoice.yaml", "kind-config.yaml"])
def test_check_reports_a_file_over_4_mb_as_one_error_and_checks_the_rest(
    rerp: Path, cli: CliRunner, name: str
) -> None:
    """check is a report: one file it cannot read is one PR017 error (exit 1), named by its
    repo path, and every other file is still checked; nothing is written."""
    path = rerp / name
    path.write_text(padded(path.read_text(), OVER_4_MB))
    before = tree(rerp)
    run = cli("--root", str(rerp), "check")
    assert run.code == 1
    assert f"{name}:1: error PR017 {TOO_LARGE}; its ports were not checked\n" in run.out
    assert str(rerp) not in run.out
    assert tree(rerp) == before


def test_a_file_of_exactly_4_mb_is_read(rerp: Path, cli: CliRunner) -> None:
    """The limit is *over* 4 MB: a values file of exactly 4 MB still counts its ports."""
    path = rerp / V / "svc.yaml"
    write(rerp, {f"{V}/svc.yaml": padded(values_text(8003, 31003), OVER_4_MB - 1)})
    assert path.stat().st_size == OVER_4_MB - 1
    run = cli("--root", str(rerp), "assign", "newsvc")
    assert (run.code, run.err) == (0, "")
    assert run.out.startswith("✅ Assigned port 8004 to service 'newsvc'\n")  # 8003 is svc's


# ------------------------------------- (c) a values folder leading out of the repo


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(("assign", "svc", "--update-configs"), id="assign-uc"),
        pytest.param(("assign", "svc", "--update-configs", "--scaffold"), id="assign-scaffold"),
        pytest.param(("assign", "svc"), id="assign"),
        pytest.param(("update-configs", "invoice"), id="update-configs"),
        pytest.param(("reconcile",), id="reconcile"),
    ],
)
def test_a_values_folder_outside_the_repo_is_refused(
    seed_repo: Path, tmp_path: Path, cli: CliRunner, argv: tuple[str, ...]
) -> None:
    outside = tmp_path / "outside"
    write(
        outside,
        {
            "invoice.yaml": values_text(8002, 31002),
            "svc.yaml": "service:\n  name: svc\n  port: 0\n",
        },
    )
    link = seed_repo / V
    link.parent.mkdir(parents=True)
    link.symlink_to(outside, target_is_directory=True)
    repo_before, outside_before = tree(seed_repo), tree(outside)
    run = cli("--root", str(seed_repo), *argv)
    assert (run.code, run.out) == (2, "")
    line = one_error_line(run.err)
    assert f"{V}/" in line
    assert "leads outside the repo" in line
    assert tree(seed_repo) == repo_before
    assert tree(outside) == outside_before
    assert link.is_symlink()
    assert link.readlink() == outside


# ------------------------------- (d) a text target's template, read fresh each run

DOTENV = """\
ALPHA_PORT=8001
BETA_URL=http://localhost:8002
EPSILON_URL=http://localhost:8004
"""


def dotenv_target(line: str) -> str:
    return f'[[targets]]\nname = "dotenv"\nfiles = ".env"\nkind = "text"\nline = "{line}"\n'


def dotenv_lines(root: Path) -> set[tuple[str | None, int]]:
    """(service, port) of each .env line check reads as a port under the current template."""
    from portreg.check import scan
    from portreg.config import load_settings
    from portreg.io.workspace import Workspace
    from portreg.targets import build_targets

    targets = build_targets(load_settings(root))
    observations, _ = scan.scan(Workspace(root), targets)
    return {(obs.service, obs.port) for obs in observations if obs.target == "dotenv"}


def test_a_changed_text_template_never_hands_out_a_port_the_file_holds(
    repo: Path, cli: CliRunner
) -> None:
    """Each template reads a different line of .env as a port; assign skips both, every run.

    Under the first template only ALPHA_PORT=8001 is a port line, under the second only the
    two _URL lines; a reader that trusted the template (or remembered the first run's reading)
    would hand out 8002 first and 8004 second.
    """
    write(
        repo,
        {
            REGISTRY: '{"assignments": {}, "next_port": 8001}\n',
            ".env": DOTENV,
            "portreg.toml": dotenv_target("{SERVICE_UPPER}_PORT={port}"),
        },
    )
    assert dotenv_lines(repo) == {("alpha", 8001)}  # the premise: what the template reads
    first = cli("--root", str(repo), "assign", "gamma", "--json")
    assert (first.code, first.err) == (0, "")
    assert json.loads(first.out)["port"] == 8003

    write(repo, {"portreg.toml": dotenv_target("{SERVICE_UPPER}_URL=http://localhost:{port}")})
    assert dotenv_lines(repo) == {("beta", 8002), ("epsilon", 8004)}
    second = cli("--root", str(repo), "assign", "delta", "--json")
    assert (second.code, second.err) == (0, "")
    assert json.loads(second.out)["port"] == 8005

    assert (repo / ".env").read_text() == DOTENV
    assert json.loads((repo / REGISTRY).read_text()) == {
        "assignments": {"gamma": 8003, "delta": 8005},
        "next_port": 8006,
        "reserved_ports": [],
    }


# ----------------------------------- (e) a values file libyaml rejects, one answer

# A literal block whose first blank line is indented deeper than its text.
LIBYAML_REJECTS = "notes: |\n      \n  text\nservice:\n  port: 8002\n"


def test_libyaml_and_pure_pyyaml_reject_the_text() -> None:
    """The premise of the next test: both PyYAML loaders refuse LIBYAML_REJECTS."""
    with pytest.raises(yaml.YAMLError):
        yaml.compose(LIBYAML_REJECTS, Loader=yaml.SafeLoader)
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        with pytest.raises(yaml.YAMLError):
            yaml.compose(LIBYAML_REJECTS, Loader=loader)


@pytest.mark.parametrize(
    ("service", "argv"),
    [
        pytest.param("invoice", ("assign", "invoice", "--update-configs"), id="assign-registered"),
        pytest.param("billing", ("assign", "billing", "--update-configs"), id="assign-new"),
        pytest.param("invoice", ("update-configs", "invoice"), id="update-configs"),
    ],
)
def test_a_values_file_libyaml_rejects_is_refused(
    seed_repo: Path, cli: CliRunner, service: str, argv: tuple[str, ...]
) -> None:
    write(seed_repo, {f"{V}/{service}.yaml": LIBYAML_REJECTS})
    before = tree(seed_repo)
    run = cli("--root", str(seed_repo), *argv)
    assert (run.code, run.out) == (2, "")
    line = one_error_line(run.err)
    assert line.startswith(f"portreg: error: {V}/{service}.yaml:3: not valid YAML"), line
    assert tree(seed_repo) == before
    assert (seed_repo / REGISTRY).read_text() == SEED_REGISTRY


# ------------- (f) assign, reconcile and fix pick a free port the same way


KIND_NODE_PORT_TAKEN = """\
kind: Cluster
nodes:
- role: control-plane
  extraPortMappings:
  - containerPort: 31001
    hostPort: 8001
  - containerPort: 31002
    hostPort: 9002
"""


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(("assign", "newsvc"), id="assign"),
        pytest.param(("reconcile",), id="reconcile"),
        pytest.param(("fix",), id="fix"),
    ],
)
def test_reconcile_fix_and_assign_skip_the_same_ports(
    repo: Path, cli: CliRunner, argv: tuple[str, ...]
) -> None:
    """8002 is free in the registry, but its NodePort 31002 is bound in kind-config.yaml:
    assign (a new service), reconcile (adopting one with no port) and fix (moving one off
    the reserved 8080) all give 8003."""
    registry = {"general-ledger": 8001} | ({"newsvc": 8080} if argv[0] == "fix" else {})
    write(
        repo,
        {
            REGISTRY: json.dumps({"reserved_ports": [8080], "assignments": registry}) + "\n",
            f"{V}/general-ledger.yaml": values_text(8001, 31001),
            f"{V}/newsvc.yaml": "service:\n  name: newsvc\n",  # no port yet
            "kind-config.yaml": KIND_NODE_PORT_TAKEN,
        },
    )
    run = cli("--root", str(repo), *argv)
    assert run.code == 0, run.err
    assert json.loads((repo / REGISTRY).read_text())["assignments"] == {
        "general-ledger": 8001,
        "newsvc": 8003,
    }
