"""The etcd store against real etcd processes (tests/etcd_util.py starts and stops them)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from conftest import SEED_REGISTRY, CliRunner, tree
from fault_injector import FAULTY_PORTREG

if TYPE_CHECKING:
    from etcd_util import EtcdCluster

pytest_plugins = ["etcd_util"]
pytestmark = pytest.mark.etcd

# The store does not depend on the config file targets, so they are off here.
# ends inside [etcd] so tests can add keys to it; a generous timeout for loaded CI machines
TOML = "[helm]\nenabled = false\n[kind]\nenabled = false\n[etcd]\ntimeout = 10.0\n"


@dataclass(frozen=True)
class KeyOn:
    """One registry key on one etcd cluster."""

    cluster: EtcdCluster
    key: str

    @property
    def url(self) -> str:
        return self.cluster.url(self.key)

    def get(self) -> bytes | None:
        return self.cluster.get(self.key)

    def put(self, value: str | bytes) -> None:
        self.cluster.put(self.key, value)

    def revision(self) -> int:
        return self.cluster.revision(self.key)

    def assignments(self) -> dict[str, int]:
        return registry_in(self.cluster, self.key)


@pytest.fixture
def etcd(etcd_server: EtcdCluster, etcd_key: str) -> KeyOn:
    """A fresh key on the module's shared etcd."""
    return KeyOn(etcd_server, etcd_key)


@pytest.fixture
def own_etcd(etcd_private: EtcdCluster, etcd_key: str) -> KeyOn:
    """A key on an etcd of this test's own."""
    return KeyOn(etcd_private, etcd_key)


@pytest.fixture
def etcd_repo(repo: Path) -> Path:
    (repo / "portreg.toml").write_text(TOML)
    return repo


def portreg_process(
    repo: Path, url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """``python -m portreg ARGS`` as a separate process, as a CI job would run it (with
    the tests' fault injector installed when ``env`` names a fault)."""
    environ = {**os.environ, "PORTREG_STORE": url, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    program = (
        FAULTY_PORTREG if "PORTREG_FAULT" in (env or {}) else (sys.executable, "-m", "portreg")
    )
    return subprocess.Popen(
        [*program, *args],
        cwd=repo,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def registry_in(cluster: EtcdCluster, key: str) -> dict[str, int]:
    raw = cluster.get(key)
    assert raw is not None
    return dict(json.loads(raw)["assignments"])


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("portreg: error: "), err
    return lines[0]


# ------------------------------------------------------------ every command


@pytest.mark.parametrize("named_by", ["flag", "env", "config"])
def test_every_command_works_on_etcd(
    etcd: KeyOn,
    etcd_repo: Path,
    cli: CliRunner,
    named_by: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = etcd.url
    flags: list[str] = []
    if named_by == "flag":
        flags = ["--store", url]
    elif named_by == "env":
        monkeypatch.setenv("PORTREG_STORE", url)
    else:
        (etcd_repo / "portreg.toml").write_text(f'store = "{url}"\n{TOML}')
    before = tree(etcd_repo)

    def run(*args: str) -> tuple[int, str, str]:
        result = cli(*flags, *args, cwd=etcd_repo)
        return result.code, result.out, result.err

    assert run("assign", "invoice")[:2] == (
        0,
        f"✅ Assigned port 8001 to service 'invoice'\n   Created {url}\n",  # no NodePorts here
    )
    assert run("assign", "general-ledger")[0] == 0
    assert run("assign", "invoice")[1] == "ℹ️  Service 'invoice' already has port 8001\n"
    assert run("query", "general-ledger")[1] == "Service 'general-ledger': Port 8002\n"
    code, out, _ = run("list")
    assert code == 0
    assert "  invoice                     Port: 8001\n" in out
    assert out.endswith("Total: 2 services\n")
    revision = etcd.revision()
    assert run("assign", "billing", "--dry-run")[0] == 0
    assert etcd.revision() == revision
    assert run("release", "general-ledger")[:2] == (
        0,
        f"✅ Released port 8002 from service 'general-ledger'\n   Updated {url}\n",
    )
    assert run("query", "general-ledger")[0] == 1
    assert run("release", "general-ledger")[0] == 1
    assert etcd.assignments() == {"invoice": 8001}
    assert tree(etcd_repo) == before, "the etcd store wrote a local file"


# ------------------------------------------------------------- concurrency


def run_workers(
    repo: Path, url: str, workers: int, calls: int, during: Callable[[int], None] | None = None
) -> dict[str, int]:
    """``workers`` threads, each running ``calls`` portreg processes in turn; service -> port.

    ``during(done)`` is called after every finished process (to kill a member mid-run).
    """
    results: dict[str, int] = {}
    failures: list[str] = []
    lock = threading.Lock()

    def worker(number: int) -> None:
        for call in range(calls):
            service = f"svc-{number}-{call}"
            process = portreg_process(repo, url, "assign", service, "--json")
            out, err = process.communicate(timeout=60)
            with lock:
                if process.returncode != 0:
                    failures.append(f"{service}: exit {process.returncode}: {err.strip()}")
                else:
                    results[service] = json.loads(out)["port"]
                if during is not None:
                    during(len(results) + len(failures))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, "\n".join(failures)
    return results


def test_five_processes_assign_twenty_each_at_once(etcd: KeyOn, etcd_repo: Path) -> None:
    url = etcd.url
    ports = run_workers(etcd_repo, url, workers=5, calls=20)
    assert len(ports) == 100
    assert len(set(ports.values())) == 100, "one port was given twice"
    assert etcd.assignments() == ports, "an assignment was lost"


def test_update_configs_edits_local_files_after_the_etcd_commit(
    etcd: KeyOn, tmp_path: Path, cli: CliRunner
) -> None:
    root = tmp_path / "rerp"
    shutil.copytree(Path(__file__).parent.parent / "examples" / "rerp", root)
    seed = (root / "scripts" / "port-registry.json").read_text()
    assert cli("--root", str(root), "--store", etcd.url, "store", "push").code == 0
    run = cli(
        "--root",
        str(root),
        "--store",
        etcd.url,
        "assign",
        "accounts-receivable",
        "--update-configs",
    )
    assert run.code == 0, run.err
    assert etcd.assignments()["accounts-receivable"] == 8003
    assert "hostPort: 8003" in (root / "kind-config.yaml").read_text()
    values = (root / "helm/rerp-microservice/values/accounts-receivable.yaml").read_text()
    assert "nodePort: 31003" in values
    assert (
        root / "scripts" / "port-registry.json"
    ).read_text() == seed  # the file store is not the store


def test_processes_on_one_checkout_take_turns_editing_local_files(
    etcd: KeyOn, tmp_path: Path, cli: CliRunner
) -> None:
    root = tmp_path / "rerp"
    shutil.copytree(Path(__file__).parent.parent / "examples" / "rerp", root)
    assert cli("--root", str(root), "--store", etcd.url, "store", "push").code == 0
    processes = [
        portreg_process(root, etcd.url, "assign", f"svc-{n}", "--update-configs") for n in range(8)
    ]
    for process in processes:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    kind = yaml.safe_load((root / "kind-config.yaml").read_text())
    mapped = {m["hostPort"] for m in kind["nodes"][0]["extraPortMappings"]}
    assert mapped == set(etcd.assignments().values()), "a kind mapping was lost in a race"


def test_a_run_killed_between_local_writes_is_finished_by_the_next(
    etcd: KeyOn, own_etcd: KeyOn, tmp_path: Path, cli: CliRunner
) -> None:
    example = Path(__file__).parent.parent / "examples" / "rerp"
    trees = {}
    for name, store, fault in (("clean", own_etcd, ""), ("killed", etcd, "between-writes:kill")):
        root = tmp_path / name
        shutil.copytree(example, root)
        assert cli("--root", str(root), "--store", store.url, "store", "push").code == 0
        process = portreg_process(
            root,
            store.url,
            "assign",
            "accounts-receivable",
            "--update-configs",
            env={"PORTREG_FAULT": fault} if fault else None,
        )
        process.communicate(timeout=60)
        assert process.returncode == (-9 if fault else 0)
        if fault:
            assert tree(root) != trees["clean"], "the kill should leave a half-written tree"
            finish = cli(
                "--root", str(root), "--store", store.url, "update-configs", "accounts-receivable"
            )
            assert finish.code == 0, finish.err
        trees[name] = tree(root)
    assert trees["killed"] == trees["clean"]


def test_cluster_completes_when_the_leader_is_killed_mid_run(
    etcd_cluster3: EtcdCluster, etcd_key: str, etcd_repo: Path
) -> None:
    leader = etcd_cluster3.leader()
    # the doomed member first in the URL, so every later process must fail over
    order = [leader, *(m for m in etcd_cluster3.members if m is not leader)]
    url = etcd_cluster3.url(etcd_key, order)

    def kill_after_eight(done: int) -> None:
        if done == 8 and leader.alive():
            leader.kill()

    ports = run_workers(etcd_repo, url, workers=3, calls=8, during=kill_after_eight)
    assert not leader.alive()
    assert len(ports) == 24
    assert len(set(ports.values())) == 24
    assert registry_in(etcd_cluster3, etcd_key) == ports


# ------------------------------------------------------------------ failures


def test_no_etcd_at_the_address_fails_fast_with_one_line(etcd_repo: Path, cli: CliRunner) -> None:
    from etcd_util import free_port

    before = tree(etcd_repo)
    started = time.monotonic()
    result = cli(
        "--store", f"etcd://127.0.0.1:{free_port()}/portreg/x", "assign", "a", cwd=etcd_repo
    )
    assert time.monotonic() - started < 5
    assert result.code == 2
    assert "cannot reach etcd: 127.0.0.1:" in one_line(result.err)
    assert "(connection refused)" in result.err
    assert tree(etcd_repo) == before


def test_unroutable_address_fails_within_a_few_seconds(etcd_repo: Path, cli: CliRunner) -> None:
    started = time.monotonic()
    # TEST-NET-1 (RFC 5737): never routed, so the connect either times out or is refused
    result = cli("--store", "etcd://192.0.2.1:2379/portreg/x", "list", cwd=etcd_repo)
    assert time.monotonic() - started < 5
    assert result.code == 2
    assert "cannot reach etcd: 192.0.2.1:2379" in one_line(result.err)


def test_etcd_stopped_mid_command_changes_nothing(
    own_etcd: KeyOn, etcd_repo: Path, cli: CliRunner
) -> None:
    url = own_etcd.url
    assert cli("--store", url, "assign", "invoice", cwd=etcd_repo).code == 0
    stored = own_etcd.get()
    before = tree(etcd_repo)
    fault = {"PORTREG_FAULT": "after-plan:pause", "PORTREG_FAULT_PAUSE": "1.5"}
    process = portreg_process(etcd_repo, url, "assign", "billing", env=fault)
    time.sleep(0.8)  # the process has read the registry and is pausing before its commit
    own_etcd.cluster.members[0].stop()
    _, err = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "cannot reach etcd" in one_line(err)
    assert tree(etcd_repo) == before
    own_etcd.cluster.members[0].start()
    assert own_etcd.cluster.wait_healthy()
    assert own_etcd.get() == stored


def test_conflicts_past_the_retry_bound_give_up(etcd: KeyOn, etcd_repo: Path) -> None:
    (etcd_repo / "portreg.toml").write_text(f"{TOML}retries = 1\n")
    url = etcd.url
    # paused after planning long enough that the put surely lands in between, even on a busy machine
    fault = {"PORTREG_FAULT": "after-plan:pause", "PORTREG_FAULT_PAUSE": "4"}
    process = portreg_process(etcd_repo, url, "assign", "billing", env=fault)
    time.sleep(2)
    etcd.put(SEED_REGISTRY)  # someone else wins the race
    _, err = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "changed the registry first, 1 times in a row; gave up" in one_line(err)
    assert etcd.get() == SEED_REGISTRY.encode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(b"hello, not json", "not valid JSON", id="text"),
        pytest.param(b"[1, 2]", "the registry must be a JSON object", id="json-list"),
        pytest.param(b"\xff\xfe\x00binary", "binary data, not a registry", id="binary"),
        pytest.param(b'{"assignments": {"a": "x"}}', "is not an integer", id="bad-port"),
    ],
)
def test_a_key_holding_something_else_is_one_line_exit_2(
    etcd: KeyOn,
    etcd_repo: Path,
    cli: CliRunner,
    value: bytes,
    message: str,
) -> None:
    etcd.put(value)
    url = etcd.url
    for command in (["assign", "x"], ["list"], ["store", "status"]):
        result = cli("--store", url, *command, cwd=etcd_repo)
        assert result.code == 2, command
        line = one_line(result.err)
        assert message in line
        assert url in line
    assert etcd.get() == value


# ---------------------------------------------------------------------- auth


@pytest.fixture
def auth_etcd(own_etcd: KeyOn) -> KeyOn:
    own_etcd.cluster.enable_auth("root", "s3cret")
    return own_etcd


def test_auth_with_the_password_from_the_environment(
    auth_etcd: KeyOn, etcd_repo: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    (etcd_repo / "portreg.toml").write_text(f'{TOML}username = "root"\n')
    monkeypatch.setenv("PORTREG_ETCD_PASSWORD", "s3cret")
    result = cli("--store", auth_etcd.url, "assign", "invoice", cwd=etcd_repo)
    assert result.code == 0, result.err
    assert "Assigned port 8001" in result.out


AUTH_FAILURES = {
    "wrong-password": ('username = "root"', "wrong", "authentication failed for user 'root'"),
    "no-username": ("", None, "etcd requires authentication"),
    "no-password": ('username = "root"', None, "$PORTREG_ETCD_PASSWORD is not set"),
}


@pytest.mark.parametrize("case", AUTH_FAILURES.values(), ids=AUTH_FAILURES.keys())
def test_auth_failures_are_one_line_exit_2(
    auth_etcd: KeyOn,
    etcd_repo: Path,
    cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str | None, str],
) -> None:
    toml, password, message = case
    (etcd_repo / "portreg.toml").write_text(f"{TOML}{toml}\n")
    if password is None:
        monkeypatch.delenv("PORTREG_ETCD_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("PORTREG_ETCD_PASSWORD", password)
    before = tree(etcd_repo)
    result = cli("--store", auth_etcd.url, "assign", "invoice", cwd=etcd_repo)
    assert result.code == 2
    assert message in one_line(result.err)
    assert tree(etcd_repo) == before


# ----------------------------------------------------------- store commands

# Not the formatting portreg writes (4-space indent, no final newline, non-ASCII):
# a round trip must not rewrite the document.
ODD_REGISTRY = SEED_REGISTRY.replace("  ", "    ").replace("conflicts", "conflicts — ✓").rstrip()


def test_store_push_then_pull_round_trips_byte_for_byte(
    etcd: KeyOn, etcd_repo: Path, cli: CliRunner
) -> None:
    registry = etcd_repo / "scripts" / "port-registry.json"
    registry.write_bytes(ODD_REGISTRY.encode())
    url = etcd.url
    pushed = cli("--store", url, "store", "push", cwd=etcd_repo)
    assert pushed.code == 0, pushed.err
    assert pushed.out.startswith(f"✅ Pushed scripts/port-registry.json (2 services) to {url}\n")
    assert etcd.get() == ODD_REGISTRY.encode()
    registry.unlink()
    pulled = cli("--store", url, "store", "pull", cwd=etcd_repo)
    assert pulled.code == 0, pulled.err
    assert registry.read_bytes() == ODD_REGISTRY.encode()
    again = cli("--store", url, "store", "pull", cwd=etcd_repo)
    assert again.out == f"ℹ️  scripts/port-registry.json already matches {url}\n"


def test_a_pull_killed_mid_write_is_finished_by_the_next_command(
    etcd: KeyOn, etcd_repo: Path
) -> None:
    """store pull journals its write, as every writing command does."""
    etcd.put(ODD_REGISTRY)
    registry = etcd_repo / "scripts" / "port-registry.json"
    killed = portreg_process(
        etcd_repo, etcd.url, "store", "pull", env={"PORTREG_FAULT": "after-stage:kill"}
    )
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert not registry.exists()
    assert (etcd_repo / ".git/portreg.journal").is_file()
    again = portreg_process(etcd_repo, etcd.url, "store", "pull")
    out, err = again.communicate(timeout=60)
    assert (again.returncode, out, err) == (
        0,
        f"ℹ️  scripts/port-registry.json already matches {etcd.url}\n",
        "",
    )
    assert registry.read_bytes() == ODD_REGISTRY.encode()
    assert not (etcd_repo / ".git/portreg.journal").exists()


def test_store_push_refuses_to_overwrite_without_force(
    etcd: KeyOn, seed_repo: Path, cli: CliRunner
) -> None:
    (seed_repo / "portreg.toml").write_text(TOML)
    url = etcd.url
    etcd.put("{}\n")
    refused = cli("--store", url, "store", "push", cwd=seed_repo)
    assert refused.code == 2
    assert "already holds a registry" in one_line(refused.err)
    assert "--force" in refused.err
    assert etcd.get() == b"{}\n"
    forced = cli("--store", url, "store", "push", "--force", cwd=seed_repo)
    assert forced.code == 0, forced.err
    assert etcd.get() == SEED_REGISTRY.encode()


def test_store_status(etcd: KeyOn, seed_repo: Path, cli: CliRunner) -> None:
    url = etcd.url
    empty = cli("--store", url, "store", "status", cwd=seed_repo)
    assert empty.code == 0
    assert "Revision:  (key not set; run `portreg store push`)" in empty.out
    assert cli("--store", url, "store", "push", cwd=seed_repo).code == 0
    status = cli("--store", url, "store", "status", cwd=seed_repo)
    revision = etcd.revision()
    endpoint = etcd.cluster.members[0].endpoint
    assert status.out.startswith(
        f"Store:     {url}\nEndpoint:  {endpoint}\nKey:       {etcd.key}\n"
        f"Revision:  {revision} (cluster "
    )
    assert status.out.endswith("Services:  2\n")
    as_json = cli("--store", url, "store", "status", "-o", "json", cwd=seed_repo)
    assert (as_json.code, json.loads(as_json.out)) == (
        0,
        {
            "location": url,
            "endpoint": endpoint,
            "key": etcd.key,
            "revision": revision,
            "cluster_revision": json.loads(as_json.out)["cluster_revision"],
            "services": 2,
        },
    )
    assert json.loads(as_json.out)["cluster_revision"] >= revision


def test_store_pull_of_an_empty_key_and_push_of_no_file(
    etcd: KeyOn, etcd_repo: Path, cli: CliRunner
) -> None:
    url = etcd.url
    pulled = cli("--store", url, "store", "pull", cwd=etcd_repo)
    assert pulled.code == 2
    assert "the key holds no registry yet" in one_line(pulled.err)
    pushed = cli("--store", url, "store", "push", cwd=etcd_repo)
    assert pushed.code == 2
    assert "no registry file at scripts/port-registry.json" in one_line(pushed.err)


# ----------------------------------------------------------------------- TLS


def test_tls_with_a_client_certificate(
    etcd_tls: EtcdCluster, etcd_key: str, etcd_repo: Path, cli: CliRunner
) -> None:
    tls = etcd_tls.tls
    assert tls is not None
    url = etcd_tls.url(etcd_key)
    assert url.startswith("etcds://")
    (etcd_repo / "portreg.toml").write_text(
        f'{TOML}ca = "{tls.ca}"\ncert = "{tls.cert}"\nkey = "{tls.key}"\n'
    )
    result = cli("--store", url, "assign", "invoice", cwd=etcd_repo)
    assert result.code == 0, result.err
    assert cli("--store", url, "query", "invoice", cwd=etcd_repo).out.startswith(
        "Service 'invoice': Port 8001"
    )


def test_tls_without_a_client_certificate_is_refused_in_one_line(
    etcd_tls: EtcdCluster, etcd_key: str, etcd_repo: Path, cli: CliRunner
) -> None:
    assert etcd_tls.tls is not None
    (etcd_repo / "portreg.toml").write_text(f'{TOML}ca = "{etcd_tls.tls.ca}"\n')
    result = cli("--store", etcd_tls.url(etcd_key), "list", cwd=etcd_repo)
    assert result.code == 2
    assert "cannot reach etcd" in one_line(result.err)
