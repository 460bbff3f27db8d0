"""``init``, ``init --update`` and ``store pull`` write as every writing command does:
under the checkout's lock (the one ``assign`` takes), journaled, all files or none."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import tree
from fault_injector import FAULTY_PORTREG

LOCKED = (
    "portreg: error: scripts/port-registry.json: the registry is locked by another portreg "
    "(pid {pid}) for more than 0.5 s (wait for it to finish, or raise lock-timeout in "
    "portreg.toml)\n"
)


def run(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    program = FAULTY_PORTREG if "PORTREG_FAULT" in env else (sys.executable, "-m", "portreg")
    return subprocess.run(
        [*program, "--root", str(root), *args],
        capture_output=True,
        check=False,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


@contextmanager
def lock_held(root: Path) -> Iterator[None]:
    """The checkout's lock, taken as portreg takes it (an flock on .git/portreg.lock)."""
    with (root / ".git/portreg.lock").open("w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        holder.write(f"{os.getpid()}\n")
        holder.flush()
        yield


@pytest.mark.parametrize(
    "args", [("init",), ("init", "--update"), ("assign", "invoice")], ids=" ".join
)
def test_init_fails_on_a_held_lock_as_assign_does(repo: Path, args: tuple[str, ...]) -> None:
    """The same one line and exit code as assign (the last case), and no file written."""
    (repo / "portreg.toml").write_text("lock-timeout = 0.5\n")  # no registry yet
    (repo / "Tiltfile").write_text("k8s_resource('api', port_forwards='8001:8001')\n")
    before = tree(repo)
    with lock_held(repo):
        done = run(repo, *args)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == LOCKED.format(pid=os.getpid())
    assert tree(repo) == before


def test_init_in_a_new_repo_waits_for_the_lock_then_writes(repo: Path) -> None:
    """No config and no registry yet: init locks in the git dir, where assign will."""
    with lock_held(repo):
        waiting = subprocess.Popen(
            [sys.executable, "-m", "portreg", "--root", str(repo), "init"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.3)
        assert waiting.poll() is None
        assert tree(repo) == {}
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert "✅ Created portreg.toml\n✅ Created scripts/port-registry.json\n" in out
    assert set(tree(repo)) == {"portreg.toml", "scripts/port-registry.json"}


@pytest.fixture
def clean_init(tmp_path: Path) -> dict[str, bytes]:
    """The files a clean `portreg init` writes in an empty repo."""
    root = tmp_path / "clean"
    (root / ".git").mkdir(parents=True)
    done = run(root, "init")
    assert done.returncode == 0, done.stderr
    return tree(root)


def test_init_killed_between_its_writes_is_finished_by_the_next_command(
    repo: Path, clean_init: dict[str, bytes]
) -> None:
    killed = run(repo, "init", PORTREG_FAULT="between-writes:kill")
    assert killed.returncode == -signal.SIGKILL  # the config written, the registry not
    half = tree(repo)  # and the registry's temp file, swept by the next run
    assert "portreg.toml" in half
    assert "scripts/port-registry.json" not in half
    assert (repo / ".git/portreg.journal").is_file()
    after = run(repo, "list")  # the next command to take the lock finishes the change
    assert after.returncode == 0, after.stderr
    assert tree(repo) == clean_init
    assert not (repo / ".git/portreg.journal").exists()


@pytest.mark.parametrize("step", ["after-stage", "between-writes"])
def test_init_whose_write_fails_writes_nothing(repo: Path, step: str) -> None:
    failed = run(repo, "init", PORTREG_FAULT=f"{step}:fail")
    assert (failed.returncode, failed.stdout) == (2, "")
    assert failed.stderr == (
        "portreg: error: scripts/port-registry.json: cannot write: No space left on device "
        "(injected); "
        "no file was changed (make the file writable and run again)\n"
    )
    assert tree(repo) == {}
    assert not (repo / ".git/portreg.journal").exists()


def test_init_update_killed_mid_write_is_finished_by_the_next_command(repo: Path) -> None:
    (repo / "portreg.toml").write_text("# mine\nfirst-port = 8001\n")
    (repo / "Tiltfile").write_text("k8s_resource('api', port_forwards='8001:8001')\n")
    twin = repo.parent / "twin"
    subprocess.run(["cp", "-a", str(repo), str(twin)], check=True)
    assert run(twin, "init", "--update").returncode == 0
    killed = run(repo, "init", "--update", PORTREG_FAULT="after-stage:kill")
    assert killed.returncode == -signal.SIGKILL
    assert (repo / "portreg.toml").read_text() == "# mine\nfirst-port = 8001\n"
    assert run(repo, "list").returncode == 0
    assert tree(repo) == tree(twin)
