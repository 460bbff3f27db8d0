"""Instances against a hostile repo, a damaged ledger and a broken machine: one error line
and exit 2, no hang, no traceback, no file changed; ``env``'s output is always safe to
``eval``."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from test_instances import PORTREG, git, make_shop, portreg, ports_lock, worktrees


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "state"
    monkeypatch.setenv("PORTREG_STATE_HOME", str(folder))
    monkeypatch.delenv("PORTREG_LEDGER", raising=False)
    with ports_lock(fcntl.LOCK_SH):  # never beside a test that binds ports for real
        yield folder


def commit_all(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None: a folder or a special file); a
    lock file holds only the pid of its last holder, so its bytes are left out."""
    found: dict[str, bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        if path.name.endswith(".lock"):
            found[str(path)] = None
        elif path.is_symlink():
            found[str(path)] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            found[str(path)] = path.read_bytes()
        else:
            found[str(path)] = None
    return found


# ---------------------------------------------------------------- a hostile repo

HOSTILE_TILTFILE = """\
k8s_yaml('k8s.yaml')
k8s_resource('invoice', port_forwards=[
  port_forward(int(os.getenv('X=1; touch {mark} #', '8012')), 8080, name='debug'),
])
"""


def test_a_variable_no_shell_can_name_never_reaches_the_shell(tmp_path: Path, state: Path) -> None:
    """A Tiltfile's ``os.getenv`` may name any string: as a variable of ``env -o sh`` it
    would run as a command under ``eval "$(portreg env)"`` (direnv runs it at every cd)."""
    mark = tmp_path / "ran"
    repo = tmp_path / "evil"
    repo.mkdir()
    (repo / "Tiltfile").write_text(HOSTILE_TILTFILE.format(mark=mark))
    git(repo, "init", "-q")
    portreg(repo, "init")
    portreg(repo, "reconcile")
    commit_all(repo)
    (second,) = worktrees(repo, 1)
    portreg(repo, "env")
    for root in (repo, second):
        script = f'eval "$({" ".join(PORTREG)} --root {root} env)"; echo "$INVOICE_PORT"'
        shell = subprocess.run(["sh", "-c", script], check=False, capture_output=True, text=True)
        assert (shell.returncode, shell.stdout) == (0, "8012\n" if root == repo else "8112\n")
        assert not mark.exists()
        dotenv = portreg(root, "env", "-o", "dotenv").stdout
        assert all(line.partition("=")[0].isidentifier() for line in dotenv.splitlines())
        ran = portreg(root, "exec", "--", "sh", "-c", 'echo "$INVOICE_PORT"', check=False)
        assert (ran.returncode, ran.stderr) == (0, "")
    shown = portreg(second, "instance")
    assert "binds host port 8012" in shown.stderr


def test_a_ledger_row_with_a_name_no_shell_can_hold_is_damaged(tmp_path: Path, state: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    portreg(shop, "env")
    ledger = json.loads((state / "instances.json").read_text())
    mark = tmp_path / "ran"
    ledger["instances"][0]["variables"][f"A=1;touch {mark};B"] = 8012
    damaged = json.dumps(ledger)
    (state / "instances.json").write_text(damaged)
    script = f'eval "$({" ".join(PORTREG)} --root {shop} env)"'
    shell = subprocess.run(["sh", "-c", script], check=False, capture_output=True, text=True)
    assert not mark.exists()
    assert shell.stderr == (
        f"portreg: error: {state}/instances.json: the instance ledger is damaged: a "
        f"variable name {f'A=1;touch {mark};B'!r} is not a shell name (delete it: "
        "`portreg instance` records this checkout again)\n"
    )
    assert (state / "instances.json").read_text() == damaged


# ---------------------------------------------------------------- a damaged ledger


def one_error_line(run: subprocess.CompletedProcess[str]) -> str:
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith("portreg: error: ")
    return run.stderr


@pytest.mark.parametrize("command", [("env",), ("instance", "list")])
def test_a_fifo_in_the_ledgers_place_is_refused_at_once(
    tmp_path: Path, state: Path, command: tuple[str, ...]
) -> None:
    shop = make_shop(tmp_path / "shop")
    state.mkdir()
    os.mkfifo(state / "instances.json")
    before = tree(tmp_path)
    line = one_error_line(portreg(shop, *command, check=False))
    assert line == (
        f"portreg: error: {state}/instances.json: cannot read the instance ledger: is not a "
        "regular file (a FIFO, socket or device) (delete it: `portreg instance` records "
        "this checkout again)\n"
    )
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (  # nested past json's recursion: damaged, not a traceback
            '{"version": 1, "instances": ' + "[" * 100_000,
            "the instance ledger is damaged: JSON nested more than 200 levels deep; "
            "refusing to read it",
        ),
        (  # huge: refused, not read whole
            '{"version": 1, "instances": []}' + " " * (5 << 20),
            "cannot read the instance ledger: file is over 4 MB; refusing to read it as a "
            "config file",
        ),
    ],
    ids=["nested too deep", "huge"],
)
def test_a_ledger_too_deep_or_too_large_is_one_line(
    tmp_path: Path, state: Path, text: str, what: str
) -> None:
    shop = make_shop(tmp_path / "shop")
    state.mkdir()
    (state / "instances.json").write_text(text)
    before = tree(tmp_path)
    line = one_error_line(portreg(shop, "env", check=False))
    assert line == (
        f"portreg: error: {state}/instances.json: {what} (delete it: `portreg instance` "
        "records this checkout again)\n"
    )
    assert tree(tmp_path) == before


def test_a_symlinked_ledger_stays_a_symlink_and_its_file_is_changed(
    tmp_path: Path, state: Path
) -> None:
    """Symlinked (from a dotfiles folder, say), the ledger is changed where it lives, as
    portreg changes a symlinked config file; the link is not replaced by a file."""
    shop = make_shop(tmp_path / "shop")
    (second,) = worktrees(shop, 1)
    kept = tmp_path / "dotfiles" / "ledger.json"
    kept.parent.mkdir()
    state.mkdir()
    (state / "instances.json").symlink_to(kept)
    portreg(shop, "env")
    portreg(second, "env")
    assert os.readlink(state / "instances.json") == str(kept)
    rows = json.loads(kept.read_text())["instances"]
    assert sorted((row["checkout"], row["instance"]) for row in rows) == [
        (str(shop), 0),
        (str(second), 1),
    ]
    portreg(second, "instance", "release")
    assert os.readlink(state / "instances.json") == str(kept)
    assert [row["checkout"] for row in json.loads(kept.read_text())["instances"]] == [str(shop)]


def test_a_ledger_that_cannot_be_written_is_one_line(tmp_path: Path, state: Path) -> None:
    """The ledger's file cannot be written (a full disk, a read-only folder, here a
    symlink into /proc): one line, exit 2, no temp file left, not a traceback."""
    shop = make_shop(tmp_path / "shop")
    state.mkdir()
    (state / "instances.json").symlink_to("/proc/portreg-nowhere/instances.json")
    before = tree(tmp_path)
    line = one_error_line(portreg(shop, "env", check=False))
    assert line == (
        f"portreg: error: {state}/instances.json: cannot write the instance ledger: No such "
        "file or directory (set PORTREG_STATE_HOME to a writable folder)\n"
    )
    after = tree(tmp_path)
    after.pop(str(state / "instances.lock"))  # the lock it held, as every change leaves it
    assert after == before


# ---------------------------------------------------------------- the state folder


def run_in(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PORTREG, *args],
        check=False,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_relative_state_home_is_refused_not_written_into_the_checkout(
    tmp_path: Path, state: Path
) -> None:
    """A relative PORTREG_STATE_HOME would put the ledger (and a KUBECONFIG that moves
    with the shell's folder) inside whatever folder the command runs in: the checkout."""
    shop = make_shop(tmp_path / "shop")
    before = tree(tmp_path)
    env = {**os.environ, "PORTREG_STATE_HOME": "state"}
    line = one_error_line(run_in(shop, env, "env"))
    assert line == (
        "portreg: error: PORTREG_STATE_HOME: 'state' is a relative path; the state folder "
        "must not move with the current folder (set it to an absolute path)\n"
    )
    assert tree(tmp_path) == before


def test_a_relative_xdg_state_home_is_ignored_as_the_xdg_spec_says(tmp_path: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTREG_")}
    env.update(HOME=str(home), XDG_STATE_HOME="state")
    before = tree(shop)
    run = run_in(shop, env, "env", "-o", "json")
    assert (run.returncode, run.stderr) == (0, "")
    assert json.loads(run.stdout)["PORTREG_INSTANCE"] == "0"
    assert tree(shop) == before
    assert (home / ".local" / "state" / "portreg" / "instances.json").is_file()


HOSTILE_HOST = "x'; rm -rf ~; '"


@pytest.mark.parametrize(
    ("field", "value", "what"),
    [
        ("offset", 65000, "an instance's ports run past 65535 (10350 + 65000)"),
        ("host", HOSTILE_HOST, f"an instance's host {HOSTILE_HOST!r} is not a loopback address"),
        ("host", "10.0.0.1", "an instance's host '10.0.0.1' is not a loopback address"),
        ("checkout", "shop", "an instance's checkout 'shop' is not an absolute path"),
        ("version", True, "not a version 1 ledger"),
        ("sources", [["Tiltfile", -1, 2]], "an instance lacks or mistypes a file stamp"),
        ("sources", [["Tiltfile", 1]], "an instance lacks or mistypes a file stamp"),
        ("sources", 5, "an instance lacks or mistypes a file stamp"),
    ],
)
def test_a_ledger_row_of_the_wrong_shape_is_damaged(
    tmp_path: Path, state: Path, field: str, value: object, what: str
) -> None:
    """Valid JSON, a shape no portreg wrote: ports past 65535, a host that is not an
    address env would hand to Tilt, a checkout relative to wherever prune runs."""
    shop = make_shop(tmp_path / "shop")
    portreg(shop, "env")
    ledger = json.loads((state / "instances.json").read_text())
    (ledger if field == "version" else ledger["instances"][0])[field] = value
    damaged = json.dumps(ledger)
    (state / "instances.json").write_text(damaged)
    for command in (("env",), ("instance", "prune"), ("check", "--live")):
        line = one_error_line(portreg(shop, *command, check=False))
        assert line == (
            f"portreg: error: {state}/instances.json: the instance ledger is damaged: {what} "
            "(delete it: `portreg instance` records this checkout again)\n"
        )
    assert (state / "instances.json").read_text() == damaged


# ---------------------------------------------------------------- odd checkout paths


@pytest.mark.parametrize("name", ["nl\nPATH=x", "sp ace $(touch x)", "bad\udcff"])
def test_a_checkout_of_any_name_gets_an_environment_every_format_reads_back(
    tmp_path: Path, state: Path, name: str
) -> None:
    """The checkout's folder name went into KUBECONFIG: a newline split the dotenv line
    (``PATH=x-…/kubeconfig`` became a line of its own), bytes that are not UTF-8 were a
    traceback."""
    shop = make_shop(tmp_path / "shop")
    portreg(shop, "env")
    second = tmp_path / name
    git(shop, "worktree", "add", "-q", "--detach", os.fsdecode(os.fsencode(second)))
    env = dict(os.environ)  # run inside it, as a user (and direnv) does: --root refuses a newline

    def inside(*args: str) -> str:
        run = run_in(second, env, *args)
        assert (run.returncode, run.stderr) == (0, ""), run.stderr
        return run.stdout

    found = json.loads(inside("env", "-o", "json"))
    assert found["PORTREG_INSTANCE"] == "1"
    # a worktree of the shop (git's gitdir: file names it in the same bytes), not a repo
    # of its own
    assert (found["COMPOSE_PROJECT_NAME"], found["KIND_CLUSTER_NAME"]) == ("shop-1", "shop-1")
    folder = Path(found["KUBECONFIG"]).parent
    assert folder.parent == state / "instances"
    assert re.fullmatch(r"[A-Za-z0-9._-]+", folder.name), folder.name
    dotenv = inside("env", "-o", "dotenv")
    assert dotenv == "".join(f"{key}={value}\n" for key, value in found.items())
    script = f'eval "$({" ".join(PORTREG)} env)"; echo "$KUBECONFIG"'
    shell = subprocess.run(
        ["sh", "-c", script], check=False, capture_output=True, text=True, cwd=second
    )
    assert (shell.returncode, shell.stdout, shell.stderr) == (0, found["KUBECONFIG"] + "\n", "")
    assert not (second / "x").exists()
    assert Path(inside("instance", "kind-config").strip()).parent == folder


# ---------------------------------------------------------------- exec


def test_exec_of_what_cannot_run_says_why_and_exits_as_a_shell_does(
    tmp_path: Path, state: Path
) -> None:
    """A shell exits 126 for a command found but not runnable (a folder, a file without
    its x bit) and 127 for one not found; "is it installed?" fits only the last."""
    shop = make_shop(tmp_path / "shop")
    plain = tmp_path / "plain.sh"
    plain.write_text("echo hi\n")
    cases = {
        str(tmp_path): (126, f"cannot run {tmp_path}: it is a folder (name a command)"),
        str(plain): (
            126,
            f"cannot run {plain}: Permission denied (is it executable? chmod +x {plain})",
        ),
        "": (2, "no command to run (portreg exec -- tilt up)"),
    }
    for command, (code, message) in cases.items():
        run = portreg(shop, "exec", "--", command, check=False)
        assert (run.returncode, run.stdout, run.stderr) == (
            code,
            "",
            f"portreg: error: {message}\n",
        )
        if code == 126:  # as sh says
            shell = subprocess.run(["sh", "-c", '"$0"', command], check=False, capture_output=True)
            assert shell.returncode == 126


# ---------------------------------------------------------------- kind-config

DUPLICATE_NAME_KIND = """\
kind: Cluster
name: shop
name: other
nodes:
- role: control-plane
  extraPortMappings:
  - containerPort: 31002
    hostPort: 8002
"""


def test_kind_config_of_a_kind_file_it_cannot_read_names_the_file_not_none(
    tmp_path: Path, state: Path
) -> None:
    """A kind config with mappings that does not parse (a key twice) is not "no kind
    config": the line names the file, its line and what is wrong."""
    shop = make_shop(tmp_path / "shop")
    (shop / "kind-config.yaml").write_text(DUPLICATE_NAME_KIND)
    before = tree(tmp_path)
    line = one_error_line(portreg(shop, "instance", "kind-config", check=False))
    assert line == (
        "portreg: error: kind-config.yaml:3: cannot read the kind config: key name appears "
        "twice in one mapping (fix it: `portreg check` names what is wrong)\n"
    )
    assert tree(tmp_path) == before  # the instance is not recorded either


def test_one_state_folder_holds_the_ledger_and_the_lock_of_a_checkout_outside_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PORTREG_STATE_HOME moves all of portreg's state: the instance ledger, and the
    lock and journal of a checkout that is not in git."""
    state = tmp_path / "state"
    monkeypatch.setenv("PORTREG_STATE_HOME", str(state))
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "portreg.toml").write_text("first-port = 8001\nlast-port = 8999\n")
    (plain / "scripts").mkdir()
    run = portreg(plain, "assign", "invoice", check=False)
    assert run.returncode == 0, run.stderr
    locks = [path.relative_to(state).parts[-1] for path in state.rglob("portreg.lock")]
    assert locks == ["portreg.lock"]
    assert not list(Path(os.environ["XDG_STATE_HOME"]).rglob("portreg.lock"))
