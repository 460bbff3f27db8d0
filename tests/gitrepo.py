"""Real git repos for the tests that run git (and tools that drive git: pre-commit, pip)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
CHECKOUT = Path(__file__).resolve().parents[1]


def environment(home: Path) -> dict[str, str]:
    """Isolated git (no user or system config) with this venv's portreg first on PATH."""
    env = dict(os.environ)
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(home),
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Dev",
        GIT_AUTHOR_EMAIL="dev@example.com",
        GIT_COMMITTER_NAME="Dev",
        GIT_COMMITTER_EMAIL="dev@example.com",
        SOURCE_DATE_EPOCH="1790000000",
    )
    return env


class Repo:
    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.env = env if env is not None else environment(root.parent)

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            argv, cwd=self.root, env=self.env, capture_output=True, text=True, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{argv} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def git(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("git", *argv, check=check)

    def portreg(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(str(VENV_BIN / "portreg"), *argv, check=check)

    def commit_all(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def registry(self) -> dict[str, object]:
        data: dict[str, object] = json.loads((self.root / "scripts/port-registry.json").read_text())
        return data


def checkout_copy(dest: Path, env: dict[str, str] | None = None) -> Repo:
    """This checkout as it is on disk (tracked and untracked files, .gitignore respected),
    committed as the one commit of a new repo at ``dest``: what a clone of it holds once the
    work in progress is committed, so the tests see the working tree, not the last commit."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=CHECKOUT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = CHECKOUT / name
        if source.is_file():  # a tracked file deleted in the work tree is not copied
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    repo = Repo(dest, env)
    repo.git("init", "-q", "-b", "main")
    repo.commit_all("snapshot of the checkout")
    return repo
