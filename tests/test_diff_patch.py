"""``--dry-run`` prints a patch the standard tools apply: ``git apply`` and ``patch``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from portreg.io.diff import render_diff
from portreg.io.workspace import FileEdit

from conftest import CliRunner

SHAPES = {
    "plain": ("a: 1\nb: 2\n", "a: 1\nb: 3\n"),
    "no-final-newline": ("a: 1\n}", "a: 1\n}\nc: 3"),
    "last-line-changed-no-newline": ("x: 1\ny: 2", "x: 1\ny: 3"),
    "newline-added": ("x: 1", "x: 1\n"),
    "newline-removed": ("x: 1\n", "x: 1"),
    "crlf": ("a: 1\r\nb: 2\r\n", "a: 1\r\nb: 3\r\nc: 4\r\n"),
    "crlf-no-final-newline": ("a: 1\r\nb: 2", "a: 1\r\nb: 3"),
    "odd-line-separators": ("a: 'x\u2028y'\nb: 2\n", "a: 'x\u2028y'\nb: 3\n"),
    "new-file": (None, "service:\n  port: 8002\n"),
    "new-file-no-newline": (None, "service:\n  port: 8002"),
}


def apply(tool: list[str], root: Path, patch: str) -> None:
    subprocess.run(tool, cwd=root, input=patch.encode(), check=True, capture_output=True)


@pytest.mark.parametrize("tool", ["git", "patch"])
@pytest.mark.parametrize(("before", "after"), SHAPES.values(), ids=SHAPES.keys())
def test_the_diff_applies_and_gives_the_planned_file(
    tmp_path: Path, tool: str, before: str | None, after: str
) -> None:
    root = tmp_path / "repo"
    (root / "cfg").mkdir(parents=True)
    path = root / "cfg/values.yaml"
    if before is not None:
        path.write_bytes(before.encode())
    patch = render_diff([FileEdit(path, "cfg/values.yaml", before, after)])
    if tool == "git":
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        apply(["git", "apply", "--check", "-"], root, patch)
        apply(["git", "apply", "-"], root, patch)
    else:
        assert shutil.which("patch")
        apply(["patch", "--dry-run", "-p1"], root, patch)
        apply(["patch", "-p1", "--quiet"], root, patch)
    assert path.read_bytes() == after.encode()


def test_a_dry_run_of_fix_on_the_messy_repo_applies_with_git(
    cli: CliRunner, tmp_path: Path
) -> None:
    """The whole multi-file diff ``fix --dry-run`` prints applies, and gives what ``fix``
    itself writes."""
    messy = Path(__file__).parent / "fixtures" / "messy"
    planned, fixed = tmp_path / "planned", tmp_path / "fixed"
    for root in (planned, fixed):
        shutil.copytree(messy, root)
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    run = cli("--root", str(planned), "fix", "--dry-run")
    assert run.code == 0
    patch = run.out[run.out.index("--- a/") :]
    apply(["git", "apply", "--check", "-"], planned, patch)
    apply(["git", "apply", "-"], planned, patch)
    assert cli("--root", str(fixed), "fix").code == 1  # the undeclared PR022s stay
    for path in sorted(fixed.rglob("*")):
        if path.is_file() and ".git" not in path.parts and path.suffix != ".lock":
            assert (planned / path.relative_to(fixed)).read_bytes() == path.read_bytes(), path
