"""The merge driver under a real ``git merge`` of real branches (subprocess git)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitrepo import Repo

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

REGISTRY = "scripts/port-registry.json"
CONFIG = "[helm]\nenabled = false\n[kind]\nenabled = false\n"


@pytest.fixture
def git_repo(tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    repo = Repo(root)
    repo.git("init", "-q", "-b", "main")
    (root / "portreg.toml").write_text(CONFIG)
    repo.portreg("init", "--git")
    repo.portreg("assign", "general-ledger")
    repo.commit_all("start")
    return repo


def branch(repo: Repo, name: str, *services: str) -> None:
    repo.git("checkout", "-q", "-b", name, "main")
    for service in services:
        repo.portreg("assign", service)
    repo.commit_all(f"{name}: assign {', '.join(services)}")


def test_init_git_registers_the_driver(git_repo: Repo):
    attributes = (git_repo.root / ".gitattributes").read_text()
    assert attributes == f"{REGISTRY} merge=portreg\n"
    assert not (git_repo.root / ".gitignore").exists()  # lock and journal live in .git
    driver = git_repo.git("config", "merge.portreg.driver").stdout.strip()
    assert driver == "portreg merge-driver %O %A %B"
    assert git_repo.git("config", "merge.portreg.name").stdout.strip()
    again = git_repo.portreg("init", "--git")  # idempotent: no second line
    assert (git_repo.root / ".gitattributes").read_text() == attributes
    assert "Registered" in again.stdout


def test_clash_ours_keeps_the_port_theirs_is_moved(git_repo: Repo):
    branch(git_repo, "billing", "billing")
    branch(git_repo, "invoice", "invoice")
    assert git_repo.registry()["assignments"] == {"general-ledger": 8001, "invoice": 8002}
    git_repo.git("checkout", "-q", "billing")

    merge = git_repo.git("merge", "--no-edit", "invoice")

    assignments = git_repo.registry()["assignments"]
    assert assignments == {"general-ledger": 8001, "billing": 8002, "invoice": 8003}
    assert git_repo.registry()["next_port"] == 8004
    assert "port 8002 was given to both 'billing' (ours) and 'invoice' (theirs)" in merge.stderr
    assert "portreg update-configs invoice" in merge.stderr
    assert git_repo.git("status", "--porcelain").stdout == ""  # merged and committed
    assert "<<<<<<<" not in (git_repo.root / REGISTRY).read_text()


def test_no_clash_is_a_plain_union(git_repo: Repo):
    branch(git_repo, "one", "billing")
    git_repo.git("checkout", "-q", "main")
    (git_repo.root / "portreg.toml").write_text(CONFIG)
    git_repo.portreg("assign", "invoice", "--port", "8010")
    git_repo.commit_all("main: invoice on 8010")

    git_repo.git("merge", "--no-edit", "one")

    registry = git_repo.registry()
    assert registry["assignments"] == {"general-ledger": 8001, "invoice": 8010, "billing": 8002}
    assert registry["next_port"] == 8011


def test_without_the_driver_git_merges_a_clash_silently(git_repo: Repo):
    """Why the driver exists: the plain line merge gives one port to two services."""
    git_repo.git("config", "--unset", "merge.portreg.driver")
    (git_repo.root / ".gitattributes").unlink()
    git_repo.commit_all("no driver")
    branch(git_repo, "a", "billing")
    branch(git_repo, "b", "invoice")
    git_repo.git("checkout", "-q", "a")
    merge = git_repo.git("merge", "--no-edit", "b", check=False)
    text = (git_repo.root / REGISTRY).read_text()
    assert merge.returncode != 0 or '"invoice": 8002' in text


def test_unparseable_side_makes_git_report_a_conflict(git_repo: Repo):
    branch(git_repo, "good", "billing")
    git_repo.git("checkout", "-q", "-b", "broken", "main")
    (git_repo.root / REGISTRY).write_text("{ not json\n")
    git_repo.commit_all("broken registry")

    merge = git_repo.git("merge", "--no-edit", "good", check=False)

    assert merge.returncode != 0
    assert "CONFLICT" in merge.stdout
    assert "portreg: error:" in merge.stderr
    assert "not valid JSON" in merge.stderr
    assert (git_repo.root / REGISTRY).read_text() == "{ not json\n"  # ours left as it was


def test_init_git_keeps_existing_gitattributes_and_crlf(tmp_path: Path):
    root = tmp_path / "crlf"
    root.mkdir()
    repo = Repo(root)
    repo.git("init", "-q")
    (root / ".gitattributes").write_bytes(b"*.png binary\r\n*.sh text eol=lf")
    repo.portreg("init", "--git")
    expected = f"*.png binary\r\n*.sh text eol=lf\r\n{REGISTRY} merge=portreg\r\n"
    assert (root / ".gitattributes").read_bytes() == expected.encode()


def test_init_git_outside_a_repository_is_a_clear_error(tmp_path: Path):
    root = tmp_path / "plain"
    root.mkdir()
    repo = Repo(root)
    repo.env["GIT_CEILING_DIRECTORIES"] = str(tmp_path)
    done = repo.portreg("init", "--git", check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("portreg: error:")
    assert "git init" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (root / ".gitattributes").exists()
