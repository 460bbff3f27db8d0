"""Faults in real processes: killed, failing writes, locks, permissions and symlinks.

Each test runs `assign accounts-receivable --update-configs` on a copy of
examples/rerp (it edits the values file, kind-config.yaml, the registry and
whatever else the example holds)
and compares the whole tree afterwards with the tree before and the tree a
clean run produces.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_cases import (
    FAIL_STEPS,
    FAULT_COMMAND,
    KILL_STEPS,
    LOCK_CASES,
    PERMISSION_CASES,
    READ_ONLY_CASES,
    READ_ONLY_MOUNT_CASES,
)

from conftest import CliRunner, tree
from fault_injector import FAULTY_PORTREG

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rerp"
VALUES = "helm/rerp-microservice/values/accounts-receivable.yaml"
KIND = "kind-config.yaml"
REGISTRY = "scripts/port-registry.json"
Tree = dict[str, bytes]
Findings = list[dict[str, object]]
Snapshots = dict[str, tuple[Tree, Findings]]


def rerp(folder: Path) -> Path:
    shutil.copytree(EXAMPLE, folder)
    (folder / ".git").mkdir()
    return folder


def portreg(root: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    """portreg in its own process; with the tests' fault injector when ``env`` names a fault."""
    program = FAULTY_PORTREG if "PORTREG_FAULT" in env else (sys.executable, "-m", "portreg")
    return subprocess.Popen(
        [*program, "--root", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Module-scoped fixtures run before the autouse one that sets these.
        env={**os.environ, "SOURCE_DATE_EPOCH": "1790000000", **env},
    )


def run(root: Path, *args: str, **env: str) -> tuple[int, str, str]:
    process = portreg(root, *args, **env)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def check_json(root: Path) -> Findings:
    """`portreg check` findings (this run also finishes an interrupted command)."""
    code, out, err = run(root, "check", "--format", "json")
    assert code in (0, 1), err
    findings: Findings = json.loads(out)["findings"]
    return findings


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Snapshots:
    """The tree and `check` findings before and after a clean run of the fault command."""
    before = rerp(tmp_path_factory.mktemp("before") / "repo")
    after = rerp(tmp_path_factory.mktemp("after") / "repo")
    code, _out, err = run(after, *FAULT_COMMAND)
    assert code == 0, err
    result: Snapshots = {
        "old": (tree(before), check_json(before)),
        "new": (tree(after), check_json(after)),
    }
    assert result["old"][0] != result["new"][0]
    assert {VALUES, KIND, REGISTRY} <= {
        name for name in result["new"][0] if result["new"][0][name] != result["old"][0][name]
    }
    return result


def settle(root: Path, snapshots: Snapshots) -> str:
    """Run `check`, then name which snapshot the tree equals; `check` must agree with it."""
    findings = check_json(root)
    now = tree(root)
    matches = [name for name, (snapshot, _) in snapshots.items() if snapshot == now]
    assert matches, f"tree is neither old nor new: {sorted(set(now) ^ set(snapshots['old'][0]))}"
    assert findings == snapshots[matches[0]][1]
    return matches[0]


@pytest.mark.parametrize("step", list(KILL_STEPS))
def test_sigkill_at_each_step_leaves_all_old_or_all_new(
    step: str, tmp_path: Path, snapshots: Snapshots
) -> None:
    repo = rerp(tmp_path / "repo")
    code, _out, _err = run(repo, *FAULT_COMMAND, PORTREG_FAULT=f"{step}:kill")
    assert code == -signal.SIGKILL  # the fault point was reached
    # The registry alone is never half-written: it is replaced whole, last.
    assert tree(repo)[REGISTRY] in (snapshots["old"][0][REGISTRY], snapshots["new"][0][REGISTRY])
    assert settle(repo, snapshots) == KILL_STEPS[step]


@pytest.mark.parametrize("step", FAIL_STEPS)
def test_a_write_failing_at_each_step_changes_nothing(
    step: str, tmp_path: Path, snapshots: Snapshots
) -> None:
    repo = rerp(tmp_path / "repo")
    code, out, err = run(repo, *FAULT_COMMAND, PORTREG_FAULT=f"{step}:fail")
    assert code == 2
    assert err.startswith("portreg: error: ")
    assert err.count("\n") == 1
    assert "No space left on device" in err
    assert "no file was changed" in err
    assert out == ""
    assert tree(repo) == snapshots["old"][0]
    assert settle(repo, snapshots) == "old"


def test_portreg_itself_ignores_portreg_fault(tmp_path: Path, snapshots: Snapshots) -> None:
    """Without the tests' injector the checkpoints do nothing: the command just runs."""
    repo = rerp(tmp_path / "repo")
    done = subprocess.run(
        [sys.executable, "-m", "portreg", "--root", str(repo), *FAULT_COMMAND],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1790000000", "PORTREG_FAULT": "after-plan:kill"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert tree(repo) == snapshots["new"][0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any mode bits")
@pytest.mark.parametrize("case", READ_ONLY_CASES)
def test_read_only_targets_are_refused_and_unchanged(
    case: str, tmp_path: Path, snapshots: Snapshots
) -> None:
    repo = rerp(tmp_path / "repo")
    target = {
        "values folder 0555": (repo / VALUES).parent,
        "values file 0444": repo / VALUES,
        "kind-config 0444": repo / KIND,
    }[case]
    mode = stat.S_IMODE(target.stat().st_mode)
    target.chmod(0o555 if target.is_dir() else 0o444)
    try:
        code, _out, err = run(repo, *FAULT_COMMAND)
    finally:
        target.chmod(mode)
    assert code == 2
    assert err.count("\n") == 1
    assert "Permission denied" in err
    assert tree(repo) == snapshots["old"][0]


def _mount_read_only(target: Path) -> None:
    for options in (["--bind"], ["-o", "remount,ro,bind"]):
        done = subprocess.run(
            ["mount", *options, str(target), str(target)], check=False, capture_output=True
        )
        if done.returncode != 0:
            subprocess.run(["umount", str(target)], check=False, capture_output=True)
            pytest.skip(f"cannot mount read-only here: {done.stderr.decode().strip()}")


@pytest.mark.skipif(os.geteuid() != 0, reason="bind mounts need root (the chmod test covers users)")
@pytest.mark.parametrize("case", READ_ONLY_MOUNT_CASES)
def test_read_only_mounts_are_refused_and_unchanged(
    case: str, tmp_path: Path, snapshots: Snapshots
) -> None:
    repo = rerp(tmp_path / "repo")
    target = {
        "values folder": (repo / VALUES).parent,
        "values file": repo / VALUES,
        "kind-config": repo / KIND,
    }[case]
    _mount_read_only(target)
    try:
        code, _out, err = run(repo, *FAULT_COMMAND)
    finally:
        subprocess.run(["umount", str(target)], check=True)
    assert code == 2
    assert err.count("\n") == 1
    assert "Read-only file system" in err
    assert "no file was changed" in err
    assert tree(repo) == snapshots["old"][0]


def wait_for_lock_holder(repo: Path, process: subprocess.Popen[str]) -> None:
    """Until the paused process has written its pid into the lock file (no fixed sleep)."""
    lock = repo / ".git/portreg.lock"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if lock.exists() and lock.read_text().strip() == str(process.pid):
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError("the paused process never took the lock")


def test_lock_cases(tmp_path: Path, snapshots: Snapshots) -> None:
    """A live holder makes the next run fail after lock-timeout; killed, it blocks nothing."""
    assert len(LOCK_CASES) == 2
    repo = rerp(tmp_path / "repo")
    holder = portreg(
        repo, *FAULT_COMMAND, PORTREG_FAULT="after-stage:pause", PORTREG_FAULT_PAUSE="60"
    )
    try:
        wait_for_lock_holder(repo, holder)
        (repo / "portreg.toml").write_text(
            "lock-timeout = 0.3\n" + (EXAMPLE / "portreg.toml").read_text()
        )
        code, _out, err = run(repo, "assign", "billing")
        assert code == 2
        assert err == (
            f"portreg: error: {REGISTRY}: the registry is locked by another portreg "
            f"(pid {holder.pid}) for more than 0.3 s (wait for it to finish, or raise "
            "lock-timeout in portreg.toml)\n"
        )
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=30)
    (repo / "portreg.toml").write_text((EXAMPLE / "portreg.toml").read_text())
    # The killed holder's flock died with it; its journal is finished by the next run.
    assert settle(repo, snapshots) == "new"
    code, out, err = run(repo, "assign", "billing", "--json")
    assert code == 0, err
    assert json.loads(out)["port"] == 8004


def test_permissions_and_symlinks(tmp_path: Path, cli: CliRunner, snapshots: Snapshots) -> None:
    assert len(PERMISSION_CASES) == 4
    new = snapshots["new"][0]
    # Modes are kept.
    repo = rerp(tmp_path / "modes")
    modes = {VALUES: 0o640, KIND: 0o600, REGISTRY: 0o664}
    for name, mode in modes.items():
        (repo / name).chmod(mode)
    assert cli("--root", str(repo), *FAULT_COMMAND).code == 0
    assert {name: stat.S_IMODE((repo / name).stat().st_mode) for name in modes} == modes
    assert tree(repo) == new
    # A values file symlinked inside the repo: the link stays, its target is edited.
    repo = rerp(tmp_path / "inside")
    shared = repo / "shared" / "ar.yaml"
    shared.parent.mkdir()
    (repo / VALUES).rename(shared)
    (repo / VALUES).symlink_to(os.path.relpath(shared, (repo / VALUES).parent))
    assert cli("--root", str(repo), *FAULT_COMMAND).code == 0
    assert (repo / VALUES).is_symlink()
    assert shared.read_bytes() == new[VALUES]
    assert not list(repo.rglob("*.tmp"))
    # Symlinks that lead outside the repo are refused, and nothing changes anywhere.
    for name in (VALUES, KIND):
        repo = rerp(tmp_path / f"outside-{Path(name).stem}")
        outside = tmp_path / f"outside-{Path(name).name}"
        (repo / name).rename(outside)
        (repo / name).symlink_to(outside)
        before, outside_before = tree(repo), outside.read_bytes()
        result = cli("--root", str(repo), *FAULT_COMMAND)
        assert result.code == 2
        assert result.err.count("\n") == 1
        assert "leads outside the repo" in result.err
        assert tree(repo) == before
        assert outside.read_bytes() == outside_before
