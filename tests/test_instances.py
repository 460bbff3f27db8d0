"""Several checkouts of one repo at once: real git worktrees, real processes asking at the
same moment, real listeners on every port an instance's environment gives."""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

PORTREG = [sys.executable, "-m", "portreg"]
KIND = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: shop  # the team's cluster
nodes:
- role: control-plane
  extraPortMappings:
  - containerPort: 31002   # invoice
    hostPort: 8002
  - {containerPort: 31003, hostPort: 8003}
"""
TILTFILE = """\
k8s_yaml('k8s.yaml')
k8s_resource('invoice', port_forwards=[port_forward(8012, 8080, name='debug')])
k8s_resource('postgres', port_forwards='5432:5432')
"""
COMPOSE = """\
services:
  web:
    image: nginx
    ports:
      - "${WEB_PORT:-8004}:80"
"""
# a listener on every *_PORT its environment names, all at once; "ok" once bound
LISTEN = """\
import os, socket, sys
held = []
for name, value in sorted(os.environ.items()):
    if name.endswith("_PORT") and value.isdigit():
        s = socket.socket()
        s.bind(("127.0.0.1", int(value)))
        s.listen()
        held.append(s)
print("ok", len(held), flush=True)
sys.stdin.read()
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


def portreg(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PORTREG, "--root", str(root), *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )


def spawn(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*PORTREG, "--root", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


COMMITTED = re.compile(r"\b(8002|8003|8004|8012)\b")


def moved(text: str, shift: int) -> str:
    """``text`` with the shop's committed host ports moved by ``shift``."""
    return COMMITTED.sub(lambda found: str(int(found.group()) + shift), text)


def make_shop(
    folder: Path, origin: str | None = "https://example.com/acme/shop.git", shift: int = 0
) -> Path:
    """A committed repo with kind mappings, Tilt forwards (one infrastructure forward)
    and a compose port taken from the environment; init and reconcile recorded it.
    ``shift`` moves its committed host ports (for tests that bind them for real)."""
    folder.mkdir(parents=True)
    (folder / "kind-config.yaml").write_text(moved(KIND, shift))
    (folder / "Tiltfile").write_text(moved(TILTFILE, shift))
    (folder / "docker-compose.yml").write_text(moved(COMPOSE, shift))
    git(folder, "init", "-q")
    if origin:
        git(folder, "remote", "add", "origin", origin)
    portreg(folder, "init")
    portreg(folder, "reconcile")
    git(folder, "add", "-A")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "shop")
    return folder


def worktrees(main: Path, count: int) -> list[Path]:
    found = []
    for index in range(count):
        path = main.parent / f"{main.name}-wt{index}"
        git(main, "worktree", "add", "-q", "--detach", str(path))
        found.append(path)
    return found


def free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("", port))
        except OSError:
            return False
    return True


@pytest.fixture
def free_shift() -> int:
    """A shift that puts the shop's committed ports, and those of its first four
    instances, where nothing listens now: tests that bind them for real never meet a
    developer's own services (and, in one xdist group, never each other)."""
    for shift in random.sample(range(1000, 20000, 1000), 19):
        ports = [p + shift + 100 * n for p in (8002, 8003, 8004, 8012) for n in range(4)]
        if all(free(port) for port in ports):
            return shift
    pytest.fail("no free band of ports for the shop between 9000 and 28100")


@contextmanager
def ports_lock(mode: int) -> Iterator[None]:
    """The flock on the machine's test ports, whichever xdist worker asks (the kernel
    drops it when the worker dies): exclusive for a test that binds the shop's ports for
    real, shared for one that allocates blocks (allocation skips what listens now, so a
    real listener in the other worker would move the numbers it expects)."""
    with (Path(tempfile.gettempdir()) / "portreg-tests-real-ports.lock").open("a") as held:
        fcntl.flock(held, mode)
        yield


@pytest.fixture
def real_ports() -> Iterator[None]:
    with ports_lock(fcntl.LOCK_EX):
        yield


REAL_PORTS = pytest.mark.usefixtures("real_ports")


@pytest.fixture
def state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Path]:
    folder = tmp_path / "state"
    monkeypatch.setenv("PORTREG_STATE_HOME", str(folder))
    monkeypatch.delenv("PORTREG_LEDGER", raising=False)
    if "real_ports" in request.fixturenames:  # it holds the lock exclusively
        yield folder
        return
    with ports_lock(fcntl.LOCK_SH):
        yield folder


def env_of(root: Path) -> dict[str, str]:
    run = portreg(root, "env", "-o", "json", check=False)
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout))


def host_ports(env: dict[str, str]) -> set[int]:
    return {int(v) for k, v in env.items() if k.endswith("_PORT")}


def blocks(state: Path) -> list[dict[str, object]]:
    return list(json.loads((state / "instances.json").read_text())["instances"])


def shifted(block: dict[str, object]) -> set[int]:
    base = block["base"]
    assert isinstance(base, list)
    offset = block["offset"]
    assert isinstance(offset, int)
    return {port + offset for port in base}


def assert_disjoint(found: list[set[int]]) -> None:
    for index, one in enumerate(found):
        for other in found[index + 1 :]:
            assert one.isdisjoint(other), sorted(one & other)


# ---------------------------------------------------------------- the instance


def test_the_first_checkout_keeps_the_committed_ports(tmp_path: Path, state: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    env = env_of(shop)
    assert env == {
        "INVOICE_PORT": "8012",
        "PORTREG_INSTANCE": "0",
        "PORTREG_OFFSET": "0",
        "TILT_PORT": "10350",
        "WEB_PORT": "8004",
    }


def test_a_second_worktree_gets_every_host_port_shifted(tmp_path: Path, state: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    env_of(shop)
    (second,) = worktrees(shop, 1)
    env = env_of(second)
    config = state / "instances" / f"{second.name}-"
    assert env.pop("KUBECONFIG").startswith(str(config))
    assert env == {
        "COMPOSE_PROJECT_NAME": "shop-1",
        "INVOICE_PORT": "8112",
        "KIND_CLUSTER_NAME": "shop-1",
        "PORTREG_INSTANCE": "1",
        "PORTREG_OFFSET": "100",
        "TILT_PORT": "10450",
        "WEB_PORT": "8104",
    }
    mine = next(b for b in blocks(state) if b["checkout"] == os.path.realpath(second))
    assert shifted(mine) == {5532, 8102, 8103, 8104, 8112, 10450}


def test_instance_shows_the_block_and_names_what_it_cannot_move(
    tmp_path: Path, state: Path
) -> None:
    shop = make_shop(tmp_path / "shop")
    env_of(shop)
    (second,) = worktrees(shop, 1)
    run = portreg(second, "instance")
    lines = run.stdout.splitlines()
    assert lines[0] == "Instance 1 of https://example.com/acme/shop.git (offset +100)"
    assert lines[1] == f"  checkout {os.path.realpath(second)}"
    assert "  INVOICE_PORT          8112  (committed 8012)" in lines
    assert "  TILT_PORT             10450  (committed 10350)" in lines
    assert run.stderr.splitlines() == [
        "⚠️  Tiltfile:2 binds host port 8012 as a literal: every instance binds it "
        "(`portreg init --env-ports` takes it from the environment)",
        "⚠️  Tiltfile:3 binds host port 5432 as a literal: every instance binds it "
        "(`portreg init --env-ports` takes it from the environment)",
    ]


def test_env_prints_lines_a_shell_evaluates(tmp_path: Path, state: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    (second,) = worktrees(shop, 1)
    env_of(shop)
    script = f'eval "$({" ".join(PORTREG)} --root {second} env)"; echo "$WEB_PORT $TILT_PORT"'
    shell = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    assert shell.stdout == "8104 10450\n"
    dotenv = portreg(second, "env", "-o", "dotenv").stdout
    assert "WEB_PORT=8104\n" in dotenv
    assert "export" not in dotenv


def test_exec_runs_the_command_in_the_instance_and_returns_its_code(
    tmp_path: Path, state: Path
) -> None:
    shop = make_shop(tmp_path / "shop")
    env_of(shop)
    (second,) = worktrees(shop, 1)
    run = portreg(second, "exec", "--", "sh", "-c", 'echo "$WEB_PORT"; exit 7', check=False)
    assert (run.returncode, run.stdout, run.stderr) == (7, "8104\n", "")
    # portreg becomes the command: a signal that ends it ends "portreg exec" alike (a
    # shell shows 128 + N), and the pid is the command's own
    killed = portreg(second, "exec", "--", "sh", "-c", "kill -9 $$", check=False)
    assert killed.returncode == -signal.SIGKILL
    missing = portreg(second, "exec", "--", "no-such-command-here", check=False)
    assert missing.returncode == 127
    assert missing.stdout == ""
    assert missing.stderr == (
        "portreg: error: cannot run no-such-command-here: No such file or directory "
        "(is it installed?)\n"
    )
    empty = portreg(second, "exec", check=False)
    assert (empty.returncode, empty.stderr) == (
        2,
        "portreg: error: no command to run (portreg exec -- tilt up)\n",
    )


# ---------------------------------------------------------------- at once, for real


def all_listening(checkouts: list[Path], script: str) -> list[str]:
    """Each checkout's stack (``script`` under ``portreg exec``) started at once; what each
    said once it held its ports (a failed one's error instead), then all stopped."""
    stacks = [
        subprocess.Popen(
            [*PORTREG, "--root", str(root), "exec", "--", sys.executable, "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for root in checkouts
    ]
    try:
        said = [p.stdout.readline() if p.stdout else "" for p in stacks]
    finally:
        errors = [p.communicate(timeout=30)[1] for p in stacks]
    return [line or error for line, error in zip(said, errors, strict=True)]


@REAL_PORTS
def test_worktrees_asking_at_once_get_blocks_that_all_listen_at_once(
    tmp_path: Path, state: Path, free_shift: int
) -> None:
    """Four checkouts ask at the same moment; then each runs a real listener on every port
    its environment gives, all at the same time: none fails to bind."""
    shop = make_shop(tmp_path / "shop", shift=free_shift)
    checkouts = [shop, *worktrees(shop, 3)]
    asking = [spawn(root, "env", "-o", "json") for root in checkouts]
    envs = [json.loads(p.communicate(timeout=120)[0]) for p in asking]
    assert sorted(int(e["PORTREG_INSTANCE"]) for e in envs) == [0, 1, 2, 3]
    assert_disjoint([shifted(b) for b in blocks(state)])
    assert all_listening(checkouts, LISTEN) == ["ok 3\n"] * 4


def test_twenty_processes_in_ten_worktrees_get_ten_distinct_blocks(
    tmp_path: Path, state: Path
) -> None:
    shop = make_shop(tmp_path / "shop")
    checkouts = worktrees(shop, 10)
    asking = [spawn(root, "env", "-o", "json") for root in checkouts for _twice in (1, 2)]
    answers = [p.communicate(timeout=300) for p in asking]
    assert [p.returncode for p in asking] == [0] * 20, answers
    envs = [json.loads(out) for out, _err in answers]
    for first, second in zip(envs[::2], envs[1::2], strict=True):
        assert first == second  # both processes of one checkout got its one block
    assert sorted(int(e["PORTREG_INSTANCE"]) for e in envs[::2]) == list(range(10))
    assert_disjoint([host_ports(e) for e in envs[::2]])
    assert len(blocks(state)) == 10


def test_another_repo_with_the_same_ports_gets_blocks_of_its_own(
    tmp_path: Path, state: Path
) -> None:
    shop = make_shop(tmp_path / "shop")
    other = make_shop(tmp_path / "fork", origin="https://example.com/someone/fork.git")
    env_of(shop)
    env = env_of(other)
    assert env["PORTREG_INSTANCE"] == "1"  # its instance 0 would be the shop's ports
    assert env["WEB_PORT"] == "8104"
    assert_disjoint([shifted(b) for b in blocks(state)])


def ask_and_kill_half(checkouts: list[Path]) -> set[str]:
    """Each checkout asks for its instance at once; every other one is killed (SIGKILL)
    on the way, a little later each time. The checkouts whose process finished."""
    asking = [spawn(root, "instance") for root in checkouts]
    for index, process in enumerate(asking[::2]):
        time.sleep(0.05 * index)
        process.send_signal(signal.SIGKILL)
    for process in asking:
        process.communicate(timeout=120)
    return {
        os.path.realpath(r) for r, p in zip(checkouts, asking, strict=True) if p.returncode == 0
    }


def test_a_process_killed_while_allocating_leaves_the_ledger_whole(
    tmp_path: Path, state: Path
) -> None:
    shop = make_shop(tmp_path / "shop")
    checkouts = worktrees(shop, 8)
    survivors = ask_and_kill_half(checkouts)
    held = blocks(state)  # parses: whole
    assert survivors <= {b["checkout"] for b in held}
    assert_disjoint([shifted(b) for b in held])
    assert not [p for p in state.iterdir() if p.name.endswith(".tmp")]
    # everyone asks again: the killed ones get blocks now, and still none overlaps
    again = [env_of(root) for root in checkouts]
    assert_disjoint([host_ports(e) for e in again])


# ---------------------------------------------------------------- lifecycle


def test_release_frees_the_instance_and_prune_reclaims_gone_checkouts(
    tmp_path: Path, state: Path
) -> None:
    shop = make_shop(tmp_path / "shop")
    env_of(shop)
    first, second = worktrees(shop, 2)
    assert env_of(first)["PORTREG_INSTANCE"] == "1"
    assert env_of(second)["PORTREG_INSTANCE"] == "2"
    assert portreg(first, "instance", "release").stdout == "✅ Released instance 1\n"
    assert portreg(first, "instance", "release").stdout == "ℹ️  no instance here\n"
    git(shop, "worktree", "remove", "--force", str(second))
    pruned = portreg(shop, "instance", "prune").stdout
    assert pruned == (
        "✅ Pruned instance 2 of https://example.com/acme/shop.git "
        f"({os.path.realpath(second)}: gone)\n"
    )
    assert [b["instance"] for b in blocks(state)] == [0]
    assert env_of(first)["PORTREG_INSTANCE"] == "1"


def test_instance_list_shows_every_instance_and_what_is_bound(tmp_path: Path, state: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    env_of(shop)
    (second,) = worktrees(shop, 1)
    env_of(second)
    listing = portreg(shop, "instance", "list", "-o", "json")
    rows = json.loads(listing.stdout)
    assert [(r["instance"], r["gone"]) for r in rows] == [(0, False), (1, False)]
    assert all(isinstance(r["bound"], int) for r in rows)
    text = portreg(shop, "instance", "list").stdout.splitlines()
    assert text[1].startswith("https://example.com/acme/shop.git  instance 1  +100  ")
    assert text[1].endswith(f"ports bound  {os.path.realpath(second)}")


def test_a_new_service_is_covered_at_the_next_env(tmp_path: Path, state: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    env_of(shop)
    (second,) = worktrees(shop, 1)
    env_of(second)
    port = json.loads(portreg(second, "assign", "payroll", "-o", "json").stdout)["port"]
    env = env_of(second)
    assert env["PAYROLL_PORT"] == str(port + 100)
    mine = next(b for b in blocks(state) if b["checkout"] == os.path.realpath(second))
    assert port + 100 in shifted(mine)


def test_no_instance_command_changes_what_git_sees(tmp_path: Path, state: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    checkouts = [shop, *worktrees(shop, 2)]
    before = [git(root, "status", "--porcelain", "--ignored") for root in checkouts]
    for root in checkouts:
        for args in (
            ("instance",),
            ("env",),
            ("env", "-o", "json"),
            ("instance", "list"),
            ("instance", "kind-config"),
            ("exec", "--", "true"),
        ):
            portreg(root, *args)
    assert [git(root, "status", "--porcelain", "--ignored") for root in checkouts] == before


def test_the_instance_kind_config_moves_only_the_host_ports_and_the_name(
    tmp_path: Path, state: Path
) -> None:
    shop = make_shop(tmp_path / "shop")
    env_of(shop)
    (second,) = worktrees(shop, 1)
    path = Path(portreg(second, "instance", "kind-config").stdout.strip())
    assert not path.is_relative_to(second)
    written = path.read_text()
    assert written == KIND.replace("hostPort: 8002", "hostPort: 8102").replace(
        "hostPort: 8003}", "hostPort: 8103}"
    ).replace("name: shop ", "name: shop-1 ")
    expected = yaml.safe_load(KIND)
    expected["name"] = "shop-1"
    for mapping in expected["nodes"][0]["extraPortMappings"]:
        mapping["hostPort"] += 100
    assert yaml.safe_load(written) == expected


def test_a_damaged_ledger_is_one_line_and_left_as_it_was(tmp_path: Path, state: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    state.mkdir()
    (state / "instances.json").write_text('{"version": 1, "instances": [{"repo": 3}]}\n')
    run = portreg(shop, "env", check=False)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr == (
        f"portreg: error: {state}/instances.json: the instance ledger is damaged: an "
        "instance lacks or mistypes a text field (delete it: `portreg instance` records "
        "this checkout again)\n"
    )
    assert (state / "instances.json").read_text() == '{"version": 1, "instances": [{"repo": 3}]}\n'


# ---------------------------------------------------------------- the tools, for real

LITERAL_TILTFILE = """\
k8s_resource('invoice', port_forwards='8012:8080')
k8s_resource('postgres', port_forwards=5432)
"""
LITERAL_COMPOSE = """\
services:
  web:
    image: nginx
    ports:
      - "8004:80"
      - "127.0.0.1:9229:9229"
"""


def make_literal_shop(folder: Path) -> Path:
    """A repo whose Tiltfile and compose file hold literal host ports, then made ready for
    instances by ``init --env-ports`` (committed)."""
    folder.mkdir(parents=True)
    (folder / "kind-config.yaml").write_text(KIND)
    (folder / "Tiltfile").write_text(LITERAL_TILTFILE)
    (folder / "docker-compose.yml").write_text(LITERAL_COMPOSE)
    git(folder, "init", "-q")
    portreg(folder, "init")
    portreg(folder, "reconcile")
    portreg(folder, "init", "--env-ports")
    git(folder, "add", "-A")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "shop")
    return folder


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="no docker-compose (the oracle)")
def test_docker_compose_publishes_each_instances_ports_from_the_committed_file(
    tmp_path: Path, state: Path
) -> None:
    from test_compose_oracle import _published

    shop = make_literal_shop(tmp_path / "shop")
    (second,) = worktrees(shop, 1)

    def published(root: Path) -> set[tuple[str, int]]:
        argv = [*PORTREG, "exec", "--", "docker-compose", "config"]  # run in the checkout
        done = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=True)
        rendered = yaml.safe_load(done.stdout)
        return {
            pair for entry in rendered["services"]["web"]["ports"] for pair in _published(entry)
        }

    assert published(shop) == {("", 8004), ("127.0.0.1", 9229)}
    assert published(second) == {("", 8104), ("127.0.0.1", 9329)}


def test_tilt_forwards_each_instances_ports_from_the_committed_tiltfile(
    tmp_path: Path, state: Path
) -> None:
    """The Tiltfile ``init --env-ports`` wrote, run by Tilt's own Starlark interpreter
    with each instance's environment."""
    from test_tilt_oracle import host_forwards

    shop = make_literal_shop(tmp_path / "shop")
    (second,) = worktrees(shop, 1)
    text = (shop / "Tiltfile").read_text()
    assert host_forwards(text, env_of(shop)) == [
        ("invoice", ("host", 8012, 8080, "")),
        ("postgres", ("host", 5432, 5432, "")),
    ]
    assert host_forwards(text, env_of(second)) == [
        ("invoice", ("host", 8112, 8080, "")),
        ("postgres", ("host", 5532, 5432, "")),
    ]
    assert portreg(second, "instance").stderr == ""  # nothing it cannot move


# ---------------------------------------------------------------- check --live


def listening_in(root: Path) -> subprocess.Popen[str]:
    """The checkout's stack, standing in: a listener on every port its instance gives."""
    process = subprocess.Popen(
        [*PORTREG, "--root", str(root), "exec", "--", sys.executable, "-c", LISTEN],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout
    assert process.stdout.readline().startswith("ok ")
    return process


def live_warnings(root: Path) -> list[str]:
    run = portreg(root, "check", "--live", "-o", "json", check=False)
    return [f["message"] for f in json.loads(run.stdout)["findings"] if f["code"] == "PR016"]


@REAL_PORTS
def test_check_live_names_the_other_checkout_that_holds_a_port(
    tmp_path: Path, state: Path, free_shift: int
) -> None:
    """A worktree that never asked for an instance runs on the committed ports, which the
    first checkout's stack holds: the warning names the process and that checkout."""
    shop = make_shop(tmp_path / "shop", shift=free_shift)
    (second,) = worktrees(shop, 1)
    stack = listening_in(shop)
    try:
        found = live_warnings(second)
    finally:
        stack.communicate(timeout=30)
    pid = r"python[0-9.]* \(pid \d+\)"
    held = re.escape(f"instance 0 of https://example.com/acme/shop.git at {os.path.realpath(shop)}")
    assert len(found) == 2, found
    ports = (8012 + free_shift, 8004 + free_shift)
    for message, port, service in zip(found, ports, ("invoice", "web"), strict=True):
        expected = f"port {port} of {service} is in use on this machine by {pid}, {held}"
        assert re.fullmatch(expected, message), message


@REAL_PORTS
def test_check_live_in_an_instance_looks_at_its_own_ports(
    tmp_path: Path, state: Path, free_shift: int
) -> None:
    shop = make_shop(tmp_path / "shop", shift=free_shift)
    env_of(shop)
    (second,) = worktrees(shop, 1)
    offset = int(env_of(second)["PORTREG_OFFSET"])
    stack = listening_in(shop)  # instance 0's stack is not this instance's business
    try:
        assert live_warnings(second) == []
        mine = listening_in(second)
        try:
            found = live_warnings(second)
        finally:
            mine.communicate(timeout=30)
    finally:
        stack.communicate(timeout=30)
    invoice, web = 8012 + free_shift, 8004 + free_shift
    assert [re.sub(r"by .*", "by ...", message) for message in found] == [
        f"port {invoice + offset} of invoice (this instance's, for {invoice}) is in use on "
        "this machine by ...",
        f"port {web + offset} of web (this instance's, for {web}) is in use on this machine by ...",
    ]


LISTEN_ON_HOST = LISTEN.replace(
    '("127.0.0.1", int(value))', '(os.environ["PORTREG_HOST"], int(value))'
)


@REAL_PORTS
def test_loopback_instances_keep_the_numbers_each_on_its_own_address(
    tmp_path: Path, state: Path, free_shift: int
) -> None:
    shop = make_shop(tmp_path / "shop", shift=free_shift)
    with (shop / "portreg.toml").open("a") as config:
        config.write('\n[instances]\nstrategy = "loopback"\n')
    git(shop, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "loopback")
    checkouts = [shop, *worktrees(shop, 2)]
    envs = [env_of(root) for root in checkouts]
    web = str(8004 + free_shift)
    assert [(e["PORTREG_HOST"], e["WEB_PORT"], e.get("TILT_HOST")) for e in envs] == [
        ("127.0.0.1", web, "127.0.0.1"),
        ("127.0.0.2", web, "127.0.0.2"),
        ("127.0.0.3", web, "127.0.0.3"),
    ]
    assert all_listening(checkouts, LISTEN_ON_HOST) == ["ok 3\n"] * 3
    notice = portreg(checkouts[1], "instance").stderr.splitlines()[-1]
    assert notice == (
        "ℹ️  on 127.0.0.2, this instance's ports are the committed numbers: each file must "
        "bind ${PORTREG_HOST:-127.0.0.1}, which portreg does not check"
    )
    path = Path(portreg(checkouts[1], "instance", "kind-config").stdout.strip())
    mappings = yaml.safe_load(path.read_text())["nodes"][0]["extraPortMappings"]
    assert [(m["hostPort"], m["listenAddress"]) for m in mappings] == [
        (8002 + free_shift, "127.0.0.2"),
        (8003 + free_shift, "127.0.0.2"),
    ]


# ---------------------------------------------------------------- the README's example

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_output(command: str) -> list[str]:
    """The lines the README's worked example shows after ``$ portreg COMMAND``."""
    section = README.read_text().split("### A worked example", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = lines.index(f"$ portreg {command}") + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(("$", "```")))
    return lines[start:end]


def test_the_readme_worked_example_is_what_portreg_prints(tmp_path: Path, state: Path) -> None:
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "kind-config.yaml").write_text(KIND.replace("8003", "8009"))
    (shop / "Tiltfile").write_text(
        "k8s_resource('invoice', port_forwards='8002:8080')\n"
        "k8s_resource('postgres', port_forwards='5432:5432')\n"
    )
    (shop / "docker-compose.yml").write_text(COMPOSE.replace("${WEB_PORT:-8004}", "8004"))
    git(shop, "init", "-q")
    git(shop, "remote", "add", "origin", "git@github.com:acme/shop.git")
    portreg(shop, "init")
    portreg(shop, "reconcile")
    assert portreg(shop, "init", "--env-ports").stdout.splitlines() == readme_output(
        "init --env-ports"
    )
    git(shop, "add", "-A")
    git(shop, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "shop")
    env_of(shop)
    review = tmp_path / "shop-review"
    git(shop, "worktree", "add", "-q", str(review))
    shown = portreg(review, "instance").stdout.splitlines()
    expected = readme_output("instance")
    mine = os.path.realpath(review)
    assert shown[1] == f"  checkout {mine}"
    assert shown[5].startswith(f"  KUBECONFIG            {state}/instances/shop-review-")
    assert shown[:1] + shown[2:5] + shown[6:] == expected[:1] + expected[2:5] + expected[6:]


def every_block(repo: str, checkout: Callable[[int], str]) -> list[dict[str, object]]:
    """Ledger rows holding every block the shop could take (each whose ports stay under
    65536), in ``repo``, the n-th in ``checkout(n)``."""
    base = [5432, 8002, 8003, 8004, 8012, 10350]
    return [
        {
            "repo": repo,
            "checkout": checkout(n),
            "instance": n,
            "offset": n * 100,
            "host": "",
            "base": base,
            "variables": {},
            "created": "2026-01-01T00:00:00Z",
        }
        for n in range(552)
    ]


def test_a_full_ledger_reclaims_the_instances_of_checkouts_that_are_gone(
    tmp_path: Path, state: Path
) -> None:
    """Every block this repo could take is held by checkouts deleted since: the next
    allocation reclaims them rather than failing."""
    shop = make_shop(tmp_path / "shop")
    rows = every_block("https://example.com/old/gone.git", lambda n: f"{tmp_path}/deleted-{n}")
    state.mkdir()
    (state / "instances.json").write_text(json.dumps({"version": 1, "instances": rows}))
    env = env_of(shop)
    assert env["PORTREG_INSTANCE"] == "0"
    assert [b["checkout"] for b in blocks(state)] == [os.path.realpath(shop)]


def test_a_full_ledger_of_live_checkouts_is_one_line(tmp_path: Path, state: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    rows = every_block("https://example.com/other/repo.git", lambda n: str(shop))  # still here
    (second,) = worktrees(shop, 1)
    state.mkdir()
    text = json.dumps({"version": 1, "instances": rows})
    (state / "instances.json").write_text(text)
    run = portreg(second, "env", check=False)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr == (
        f"portreg: error: no free block of 6 host ports for {os.path.realpath(second)} "
        "(`portreg instance prune` reclaims instances whose checkout is gone; "
        "`portreg instance list` shows who holds the rest)\n"
    )
    assert (state / "instances.json").read_text() == text


def test_instance_list_and_prune_run_in_any_folder(tmp_path: Path, state: Path) -> None:
    """They are about the machine, not one repo: no repo around the folder is needed."""
    shop = make_shop(tmp_path / "shop")
    env_of(shop)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [*PORTREG, "instance", *args]
        return subprocess.run(argv, cwd=elsewhere, capture_output=True, text=True, check=True)

    rows = json.loads(run("list", "-o", "json").stdout)
    assert [(r["checkout"], r["instance"]) for r in rows] == [(os.path.realpath(shop), 0)]
    assert run("prune").stdout == "ℹ️  every instance's checkout is still here\n"
    assert not list(elsewhere.iterdir())
