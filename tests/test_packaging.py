"""What a user installs: the wheel's contents, and portreg installed by ``pip install .``,
``pipx install .`` and the README's CI snippet into environments that hold nothing else.

Each install builds portreg from a committed copy of this checkout (pip fetches the build
backend from PyPI) into a fresh venv (``python -m venv``, no system site-packages).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from gitrepo import CHECKOUT, Repo, checkout_copy, environment

pytestmark = pytest.mark.network

PROJECT = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["project"]
VERSION = PROJECT["version"]
HOME_PAGE = "https://github.com/portreg/portreg"
# pip's own and what `python -m venv` seeds; everything else is portreg's doing
VENV_BASICS = {"pip", "setuptools"}
RUNTIME = {"portreg", "PyYAML"}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """A committed copy of this checkout, tagged ``v<version>`` as a release would be."""
    folder = tmp_path_factory.mktemp("source") / "portreg"
    folder.mkdir()
    repo = checkout_copy(folder, environment(folder.parent))
    repo.git("tag", f"v{VERSION}")
    return repo


def demo(tmp_path: Path) -> Path:
    """examples/rerp with its drift: `check` finds errors there until `fix` has run."""
    root = tmp_path / "rerp"
    shutil.copytree(CHECKOUT / "examples" / "rerp", root)
    (root / ".git").mkdir()
    return root


def installed(portreg: Path, tmp_path: Path) -> None:
    """The installed ``portreg`` works: --version, and check / fix / check on the demo."""
    tmp_path.mkdir()
    runner = Repo(tmp_path, environment(tmp_path))
    assert runner.run(str(portreg), "--version").stdout == f"portreg {VERSION}\n"
    root = demo(tmp_path)
    before = runner.run(str(portreg), "--root", str(root), "check", check=False)
    assert before.returncode == 1
    # the demo Tiltfile computes its forwards in a loop: named, never guessed
    note = "; 1 port not read (--verbose names it)\n"
    assert f"❌ 3 errors, 0 warnings, 0 info{note}" in before.stdout
    # the tests' fault variable means nothing to an installed portreg
    runner.env["PORTREG_FAULT"] = "after-plan:kill"
    assert runner.run(str(portreg), "--root", str(root), "fix").returncode == 0
    after = runner.run(str(portreg), "--root", str(root), "check")
    assert after.stdout == f"✅ No port conflicts: every file agrees with the registry{note}"


def packages(runner: Repo, python: Path) -> set[str]:
    listed = runner.run(str(python), "-m", "pip", "list", "--format", "json").stdout
    return {package["name"] for package in json.loads(listed)}


def test_the_wheel_holds_portreg_its_license_and_metadata_only(
    source: Repo, tmp_path: Path
) -> None:
    source.run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), ".")
    (wheel,) = tmp_path.glob("*.whl")
    assert wheel.name == f"portreg-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = f"portreg-{VERSION}.dist-info"
        assert archive.read(f"{info}/licenses/LICENSE") == (CHECKOUT / "LICENSE").read_bytes()
        metadata = archive.read(f"{info}/METADATA").decode()
        contents = {name: archive.read(name) for name in names}
    assert {name.split("/")[0] for name in names} == {"portreg", info}
    assert [name for name in names if "fault" in name] == []
    # the code that reads PORTREG_FAULT is the tests' (the README in METADATA may name it)
    code = {name: data for name, data in contents.items() if name.startswith("portreg/")}
    assert "portreg/io/transaction.py" in code
    assert [name for name, data in code.items() if b"PORTREG_FAULT" in data] == []
    headers = metadata.split("\n\n", 1)[0].splitlines()
    for header in (
        "License-Expression: MIT",
        "License-File: LICENSE",
        "Author: the portreg authors",
        f"Project-URL: Homepage, {HOME_PAGE}",
        f"Project-URL: Repository, {HOME_PAGE}",
        f"Project-URL: Issues, {HOME_PAGE}/issues",
        "Requires-Dist: pyyaml>=6.0.1",
    ):
        assert header in headers
    assert [
        line for line in headers if line.startswith("Requires-Dist:") and "extra" not in line
    ] == ["Requires-Dist: pyyaml>=6.0.1"]


def test_pip_install_dot_into_a_fresh_venv(source: Repo, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    source.run(sys.executable, "-m", "venv", str(venv))
    python = venv / "bin" / "python"
    assert packages(source, python) <= VENV_BASICS
    source.run(str(python), "-m", "pip", "install", "--quiet", ".")
    assert packages(source, python) - VENV_BASICS == RUNTIME
    installed(venv / "bin" / "portreg", tmp_path / "use")


def pipx(source: Repo, tmp_path: Path) -> Repo:
    """A runner whose pipx keeps its venvs and commands under ``tmp_path``."""
    runner = Repo(source.root, dict(source.env))
    for name in ("HOME", "BIN_DIR", "MAN_DIR"):
        runner.env[f"PIPX_{name}"] = str(tmp_path / f"pipx-{name.lower()}")
    return runner


def pipx_packages(runner: Repo) -> set[str]:
    listed = runner.run(
        sys.executable, "-m", "pipx", "runpip", "portreg", "list", "--format", "json"
    )
    return {package["name"] for package in json.loads(listed.stdout)}


def test_pipx_install_dot(source: Repo, tmp_path: Path) -> None:
    runner = pipx(source, tmp_path)
    runner.run(sys.executable, "-m", "pipx", "install", ".")
    assert pipx_packages(runner) - VENV_BASICS == RUNTIME
    installed(tmp_path / "pipx-bin_dir" / "portreg", tmp_path / "use")


def test_the_readme_ci_snippet_installs_from_the_release_tag(source: Repo, tmp_path: Path) -> None:
    """The README's CI line, with the GitHub URL swapped for the tagged copy."""
    readme = (CHECKOUT / "README.md").read_text()
    (line,) = re.findall(r"^- run: (pipx install \S+) && portreg check", readme, re.MULTILINE)
    assert line == f"pipx install git+{HOME_PAGE}@v{VERSION}"
    runner = pipx(source, tmp_path)
    spec = line.removeprefix("pipx install ").replace(HOME_PAGE, source.root.as_uri())
    runner.run(sys.executable, "-m", "pipx", "install", spec)
    assert pipx_packages(runner) - VENV_BASICS == RUNTIME
    installed(tmp_path / "pipx-bin_dir" / "portreg", tmp_path / "use")
