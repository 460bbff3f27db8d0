"""Instances as a user meets them after a while: a shell that ran another instance's
``env``, two repos of one name, Ctrl-C under ``exec``, a committed file naming
``PATH``, a checkout outside git, a token in the origin URL, a port near the NodePort
range. Each is a defect a hostile review found; each test runs the real CLI."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portreg.check.live import ephemeral_range
from portreg.config import SERVICE_LABEL
from portreg.model import port_variable
from test_instances import PORTREG, env_of, git, make_shop, portreg, ports_lock, worktrees
from test_instances_hostile import commit_all, run_in

K8S_NODE_PORTS = range(30000, 32768)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "state"
    monkeypatch.setenv("PORTREG_STATE_HOME", str(folder))
    monkeypatch.delenv("PORTREG_LEDGER", raising=False)
    for name in ("PORTREG_INSTANCE", "KUBECONFIG", "COMPOSE_PROJECT_NAME", "KIND_CLUSTER_NAME"):
        monkeypatch.delenv(name, raising=False)
    with ports_lock(fcntl.LOCK_SH):  # never beside a test that binds ports for real
        yield folder


# ------------------------------------------------- what another instance's env left


def test_instance_0_takes_out_what_a_worktrees_env_left_in_the_shell(
    tmp_path: Path, state: Path
) -> None:
    shop = make_shop(tmp_path / "shop")
    env_of(shop)
    (review,) = worktrees(shop, 1)
    left = {**os.environ, **env_of(review)}  # eval "$(portreg env)" in the worktree, then cd
    assert left["COMPOSE_PROJECT_NAME"] == "shop-1"

    printed = run_in(shop, left, "env")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.splitlines()[0] == (
        "unset COMPOSE_PROJECT_NAME KIND_CLUSTER_NAME KUBECONFIG"
    )
    script = 'echo "${COMPOSE_PROJECT_NAME-none} ${KIND_CLUSTER_NAME-none} ${KUBECONFIG-none}"'
    ran = run_in(shop, left, "exec", "--", "sh", "-c", f"echo $PORTREG_INSTANCE; {script}")
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "0\nnone none none\n", "")
    shell = subprocess.run(
        ["sh", "-c", f'eval "$({" ".join(PORTREG)} --root {shop} env)"; {script}'],
        capture_output=True,
        text=True,
        check=True,
        env=left,
    )
    assert shell.stdout == "none none none\n"


def test_the_users_own_cluster_names_and_kubeconfig_stay(tmp_path: Path, state: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    own = {"KUBECONFIG": "/home/me/.kube/config", "COMPOSE_PROJECT_NAME": "mine"}
    # never ran portreg env in this shell: nothing of it is portreg's
    printed = run_in(shop, {**os.environ, **own}, "env")
    assert "unset" not in printed.stdout
    # after an env, an instance's own kubeconfig goes, the user's does not
    after = run_in(shop, {**os.environ, **own, "PORTREG_INSTANCE": "1"}, "env")
    assert after.stdout.splitlines()[0] == "unset COMPOSE_PROJECT_NAME"


# ------------------------------------------------- names no two repos share


def test_two_repos_of_one_name_never_share_a_cluster_or_a_project(
    tmp_path: Path, state: Path
) -> None:
    acme = make_shop(tmp_path / "acme" / "shop", origin="git@github.com:acme/shop.git")
    fork = make_shop(tmp_path / "me" / "shop", origin="git@github.com:me/shop.git", shift=1000)
    compose = fork / "docker-compose.yml"  # 9002 + 100 is bound too: the fork strides 200
    compose.write_text(compose.read_text() + '      - "${ADMIN_PORT:-9102}:81"\n')
    commit_all(fork)
    env_of(acme)
    (review,) = worktrees(acme, 1)
    assert env_of(review)["KIND_CLUSTER_NAME"] == "shop-1"
    # the fork's first checkout is an instance too (Tilt's UI port 10350 is acme's),
    # number 1 of its own repo: shop-1 is taken, so the name carries the repo's mark
    forked = env_of(fork)
    assert (forked["PORTREG_INSTANCE"], forked["PORTREG_OFFSET"]) == ("1", "200")
    name = forked["KIND_CLUSTER_NAME"]
    assert re.fullmatch(r"shop-[0-9a-f]{8}-1", name), name
    assert forked["COMPOSE_PROJECT_NAME"] == name
    # kept once given: showing the instance again reads the repo again, the name stays
    portreg(fork, "instance")
    assert env_of(fork)["KIND_CLUSTER_NAME"] == name
    config = Path(portreg(fork, "instance", "kind-config").stdout.strip())
    assert f"name: {name}  # the team's cluster\n" in config.read_text()
    assert env_of(review)["KIND_CLUSTER_NAME"] == "shop-1"  # the first to take it keeps it


# ------------------------------------------------- exec is the command


def test_exec_becomes_the_command_so_ctrl_c_is_the_commands_to_handle(
    tmp_path: Path, state: Path
) -> None:
    shop = make_shop(tmp_path / "shop")
    env_of(shop)
    script = (
        'trap \'echo "cleaned up $WEB_PORT"; exit 3\' INT; echo "$$"; while :; do sleep 0.05; done'
    )
    process = subprocess.Popen(
        [*PORTREG, "--root", str(shop), "exec", "--", "sh", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    pid = process.stdout.readline().strip()
    assert pid == str(process.pid)  # no portreg left between the terminal and the command
    time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
    out, err = process.communicate(timeout=30)
    assert (process.returncode, out, err) == (3, "cleaned up 8004\n", "")


# ------------------------------------------------- only *_PORT variables


HOSTILE_COMPOSE = """\
services:
  web:
    image: nginx
    ports:
      - "${PATH:-8004}:80"
      - "${BASH_ENV:-8006}:82"
      - "${PORTREG_INSTANCE:-8007}:83"
      - "${CACHE_PORT:-6379}:6379"
"""


def test_a_committed_file_cannot_make_env_set_path_or_bash_env(tmp_path: Path, state: Path) -> None:
    repo = tmp_path / "shop"
    repo.mkdir()
    (repo / "docker-compose.yml").write_text(HOSTILE_COMPOSE)
    git(repo, "init", "-q")
    portreg(repo, "init")
    commit_all(repo)
    (review,) = worktrees(repo, 1)
    for root in (repo, review):
        env = env_of(root)
        assert "PATH" not in env
        assert "BASH_ENV" not in env
        assert env["PORTREG_INSTANCE"] == ("0" if root == repo else "1")
        assert env["CACHE_PORT"] == (
            "6379" if root == repo else str(6379 + int(env["PORTREG_OFFSET"]))
        )
        ran = portreg(root, "exec", "--", "sh", "-c", 'command -v ls >/dev/null && echo "$PATH"')
        assert ran.stdout == f"{os.environ['PATH']}\n"
    warned = portreg(review, "instance").stderr.splitlines()
    assert warned == [
        f"⚠️  docker-compose.yml:{line} binds host port {port} unless {name!r} is set, a name "
        "portreg does not set (only *_PORT names): every instance binds it (name it like "
        "INVOICE_PORT)"
        for line, port, name in (
            (5, 8004, "PATH"),
            (6, 8006, "BASH_ENV"),
            (7, 8007, "PORTREG_INSTANCE"),
        )
    ]


# ------------------------------------------------- a checkout outside git


def test_a_checkout_outside_git_is_not_taken_for_gone(tmp_path: Path, state: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "docker-compose.yml").write_text(
        'services:\n  web:\n    image: nginx\n    ports:\n      - "${WEB_PORT:-8004}:80"\n'
    )
    portreg(folder, "init")
    assert env_of(folder)["WEB_PORT"] == "8004"
    listed = json.loads(
        subprocess.run(
            [*PORTREG, "instance", "list", "-o", "json"], capture_output=True, text=True, check=True
        ).stdout
    )
    assert [(row["checkout"], row["gone"]) for row in listed] == [(str(folder.resolve()), False)]
    prune = [*PORTREG, "instance", "prune"]
    kept = subprocess.run(prune, capture_output=True, text=True, check=True)
    assert kept.stdout == "ℹ️  every instance's checkout is still here\n"
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() or path.is_symlink() else path.rmdir()
    folder.rmdir()
    pruned = subprocess.run(prune, capture_output=True, text=True, check=True)
    assert pruned.stdout.startswith("✅ Pruned instance 0 of ")


# ------------------------------------------------- no credential in the ledger


def test_a_token_in_the_origin_url_reaches_neither_the_ledger_nor_the_screen(
    tmp_path: Path, state: Path
) -> None:
    origin = "https://x-access-token:ghp_SECRET123@example.com/acme/shop.git"
    shop = make_shop(tmp_path / "shop", origin=origin)
    shown = portreg(shop, "instance")
    assert (
        shown.stdout.splitlines()[0]
        == "Instance 0 of https://example.com/acme/shop.git (offset +0)"
    )
    listed = subprocess.run(
        [*PORTREG, "instance", "list"], capture_output=True, text=True, check=True
    )
    for text in (shown.stdout, shown.stderr, listed.stdout, (state / "instances.json").read_text()):
        assert "SECRET" not in text
        assert "x-access-token" not in text


# ------------------------------------------------- Kubernetes' NodePort range


def test_a_block_never_enters_kubernetes_node_port_range(tmp_path: Path, state: Path) -> None:
    """The config's node-port-range (31000-31999) is this repo's; another repo's
    cluster may use any of 30000-32767."""
    repo = tmp_path / "db"
    repo.mkdir()
    (repo / "docker-compose.yml").write_text(
        'services:\n  db:\n    image: postgres\n    ports:\n      - "${DB_PORT:-29950}:5432"\n'
    )
    git(repo, "init", "-q")
    portreg(repo, "init")
    commit_all(repo)
    env_of(repo)
    low, high = ephemeral_range()
    for review in worktrees(repo, 2):
        port = int(env_of(review)["DB_PORT"])
        assert port not in K8S_NODE_PORTS
        assert not low <= port <= high
        assert port <= 65535


# ------------------------------------------------- a file that changed since


def test_env_sees_a_port_variable_a_pull_added_without_instance_being_run(
    tmp_path: Path, state: Path
) -> None:
    shop = make_shop(tmp_path / "shop")
    env_of(shop)
    (review,) = worktrees(shop, 1)
    before = env_of(review)
    assert "CACHE_PORT" not in before
    compose = review / "docker-compose.yml"
    compose.write_text(compose.read_text() + '      - "${CACHE_PORT:-6379}:6379"\n')
    after = env_of(review)
    assert after["CACHE_PORT"] == "6479"
    assert {k: v for k, v in after.items() if k != "CACHE_PORT"} == before
    row = next(
        b
        for b in json.loads((state / "instances.json").read_text())["instances"]
        if b["checkout"] == str(review.resolve())
    )
    assert [s[0] for s in row["sources"]] == ["Tiltfile", "docker-compose.yml", "kind-config.yaml"]


def test_a_ledger_row_written_before_stamps_were_kept_still_reads(
    tmp_path: Path, state: Path
) -> None:
    shop = make_shop(tmp_path / "shop")
    first = env_of(shop)
    ledger = state / "instances.json"
    document = json.loads(ledger.read_text())
    for row in document["instances"]:
        del row["sources"]
    ledger.write_text(json.dumps(document))
    assert env_of(shop) == first


# ------------------------------------------------- one variable per service


@given(st.from_regex(SERVICE_LABEL, fullmatch=True), st.from_regex(SERVICE_LABEL, fullmatch=True))
def test_two_services_never_share_a_port_variable(one: str, other: str) -> None:
    assert (port_variable(one) == port_variable(other)) == (one == other)
    assert re.fullmatch(r"[A-Z][A-Z0-9_]*_PORT", port_variable(one))


def test_a_b_and_a__b_get_variables_of_their_own() -> None:
    assert (port_variable("a-b"), port_variable("a--b")) == ("A_B_PORT", "A__B_PORT")


# ------------------------------------------------- dotenv holds the value literally


def test_a_state_folder_with_a_dollar_stays_literal_in_a_dotenv_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTREG_STATE_HOME", str(tmp_path / "st$ate x"))
    monkeypatch.delenv("PORTREG_LEDGER", raising=False)
    shop = make_shop(tmp_path / "shop")
    env_of(shop)
    (review,) = worktrees(shop, 1)
    wanted = env_of(review)["KUBECONFIG"]
    dotenv = portreg(review, "env", "-o", "dotenv").stdout
    assert f"KUBECONFIG='{wanted}'\n" in dotenv
    (tmp_path / "instance.env").write_text(dotenv)
    read = subprocess.run(
        ["sh", "-c", 'set -a; . ./instance.env; printf %s "$KUBECONFIG"'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert read.stdout == wanted
    monkeypatch.setenv("PORTREG_STATE_HOME", str(tmp_path / "it's"))
    env_of(shop)  # instance 0 of the new ledger: the worktree is instance 1 again
    refused = portreg(review, "env", "-o", "dotenv", check=False)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr.startswith("portreg: error: KUBECONFIG: ")
    assert refused.stderr.endswith(
        "cannot be written as a dotenv line (use `portreg env -o sh` or `-o json`, or a state folder with a plain path (PORTREG_STATE_HOME))\n"
    )


# ------------------------------------------------- what an instance cannot move


def test_instance_names_a_host_port_it_cannot_read(tmp_path: Path, state: Path) -> None:
    repo = tmp_path / "shop"
    repo.mkdir()
    (repo / "Tiltfile").write_text(
        "k8s_yaml('k8s.yaml')\n"
        "k8s_resource('invoice', port_forwards=port_forward(int(os.getenv('INVOICE_PORT', "
        "'8002')), 8080))\n"
        "k8s_resource('cache', port_forwards=int(os.environ.get('CACHE_PORT', '8013')))\n"
    )
    git(repo, "init", "-q")
    portreg(repo, "init")
    commit_all(repo)
    env_of(repo)
    (review,) = worktrees(repo, 1)
    warned = portreg(review, "instance").stderr.splitlines()
    assert len(warned) == 1, warned
    assert warned[0].startswith("⚠️  Tiltfile:3 binds a host port portreg cannot read (")
    assert warned[0].endswith(
        "computed): an instance cannot move it (take it from the environment, as "
        "int(os.getenv('INVOICE_PORT', '8002')) or ${INVOICE_PORT:-8002})"
    )


# ------------------------------------------------- a ledger held too long


def test_a_ledger_held_too_long_is_named_as_the_ledger(tmp_path: Path, state: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    state.mkdir()
    with open(state / "instances.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        run = portreg(shop, "env", check=False)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == (
        f"portreg: error: {state}/instances.json: the instance ledger is locked by another "
        "portreg for more than 10 s (wait for it to finish)\n"
    )


# ------------------------------------------------- kind's own host port


def test_a_fixed_api_server_port_is_left_to_kind_in_a_further_instance(
    tmp_path: Path, state: Path
) -> None:
    shop = make_shop(tmp_path / "shop")
    kind = shop / "kind-config.yaml"
    committed = kind.read_text() + "networking:\n  apiServerPort: 6443  # the team's kubeconfig\n"
    kind.write_text(committed)
    commit_all(shop)
    env_of(shop)
    (review,) = worktrees(shop, 1)
    written = Path(portreg(review, "instance", "kind-config").stdout.strip()).read_text()
    assert written == (
        committed.replace("hostPort: 8002", "hostPort: 8102")
        .replace("hostPort: 8003}", "hostPort: 8103}")
        .replace("name: shop ", "name: shop-1 ")
        .replace("apiServerPort: 6443 ", "apiServerPort: 0 ")
    )
