"""The pre-commit hook (.pre-commit-hooks.yaml) under the real ``pre-commit`` tool.

``pre-commit try-repo`` installs the hook from a committed copy of this checkout (it
``pip install``s it into the hook's own environment, fetching the build backend from
PyPI) and runs it in a throwaway repo made from examples/rerp, as a commit would.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from portreg.config import discovery

from gitrepo import CHECKOUT, Repo, checkout_copy, environment

pytestmark = pytest.mark.network

EXAMPLE = CHECKOUT / "examples" / "rerp"
LEDGER = "helm/rerp-microservice/values/general-ledger.yaml"
CONFLICT = """\
helm/rerp-microservice/values/general-ledger.yaml:13: error PR003 service.port is 8002, the registry gives general-ledger 8001; 8002 belongs to invoice
    hint: run `portreg fix`
helm/rerp-microservice/values/general-ledger.yaml:14: error PR004 service.containerPort is 8002, the registry gives general-ledger 8001; 8002 belongs to invoice
    hint: run `portreg fix`
❌ 2 errors, 0 warnings, 0 info; 1 port not read (--verbose names it)
"""
FAILED = f"""\
portreg check............................................................Failed
- hook id: portreg-check
- exit code: 1

{CONFLICT}
"""
PASSED = "portreg check............................................................Passed\n"
SKIPPED = "portreg check........................................(no files to check)Skipped\n"


def the_hook(name: str = "portreg-check") -> dict[str, object]:
    hooks = yaml.safe_load((CHECKOUT / ".pre-commit-hooks.yaml").read_text())
    assert [hook["id"] for hook in hooks] == ["portreg-check", "portreg-check-always"]
    hook: dict[str, object] = next(hook for hook in hooks if hook["id"] == name)
    return hook


@pytest.fixture(scope="module")
def hook_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The repo pre-commit installs the hook from, and its commit."""
    folder = tmp_path_factory.mktemp("hook-source") / "portreg"
    folder.mkdir()
    source = checkout_copy(folder)
    return folder, source.git("rev-parse", "HEAD").stdout.strip()


@pytest.fixture
def project(tmp_path: Path) -> Repo:
    """examples/rerp brought in line by ``portreg fix``, committed: its check passes."""
    root = tmp_path / "rerp"
    shutil.copytree(EXAMPLE, root)
    (root / "README.md").write_text("# rerp\n")
    env = environment(tmp_path) | {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    repo = Repo(root, env)
    repo.git("init", "-q", "-b", "main")
    repo.portreg("fix")
    repo.commit_all("rerp")
    assert repo.portreg("check").returncode == 0
    return repo


def give_ledger_the_invoice_port(project: Repo) -> None:
    """The conflict: general-ledger's values file copied invoice's port."""
    values = project.root / LEDGER
    text = values.read_text()
    assert "  port: 8001\n  containerPort: 8001\n" in text
    values.write_text(text.replace("8001\n", "8002\n", 2))


def try_repo(
    project: Repo, source: tuple[Path, str], *args: str, hook: str = "portreg-check"
) -> tuple[int, str]:
    """``pre-commit try-repo SOURCE portreg-check``: its exit code and what it says about
    the hook (the config block it prints first, and its [INFO] lines, left out)."""
    folder, ref = source
    done = project.run(
        sys.executable, "-m", "pre_commit", "try-repo", str(folder), hook,
        "--ref", ref, "--color", "never", *args,
        check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    config_end = "=" * 79 + "\n"
    assert output.count(config_end) == 3, output
    report = output.rsplit(config_end, 1)[1]
    lines = report.splitlines(keepends=True)
    return done.returncode, "".join(line for line in lines if not line.startswith("[INFO] "))


def test_the_hook_fails_on_a_conflict_and_passes_after_fix(
    project: Repo, hook_source: tuple[Path, str]
) -> None:
    give_ledger_the_invoice_port(project)
    project.git("add", LEDGER)
    assert try_repo(project, hook_source) == (1, FAILED)
    project.git("commit", "-q", "--no-verify", "-m", "the conflict, committed anyway")

    fixed = project.portreg("fix")
    assert fixed.stdout == (
        "🔧 Rewriting the config files of 'general-ledger' to the registry\n"
        f"   Updated {LEDGER}\n"
    )  # fmt: skip
    project.git("add", LEDGER)
    assert try_repo(project, hook_source) == (0, PASSED)


def test_the_hook_is_skipped_when_no_file_it_reads_is_staged(
    project: Repo, hook_source: tuple[Path, str]
) -> None:
    give_ledger_the_invoice_port(project)
    project.commit_all("a conflict that check reports")
    (project.root / "README.md").write_text("# rerp\n\nThe RERP services.\n")
    project.git("add", "README.md")
    assert try_repo(project, hook_source) == (0, SKIPPED)
    # skipped because of what was staged: over every file, the conflict fails the hook
    assert try_repo(project, hook_source, "--all-files") == (1, FAILED)


def test_the_hook_runs_check_once_per_commit_on_the_files_portreg_reads() -> None:
    hook = the_hook()
    assert hook["entry"] == "portreg check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert "always_run" not in hook
    pattern = hook["files"]
    assert isinstance(pattern, str)
    files = re.compile(pattern)

    def example(glob: str) -> str:
        """A repo path the default glob (or template) matches."""
        return glob.replace("{service}", "invoice").replace("**", "apps/billing").replace("*", "-x")

    defaults = [
        discovery.DEFAULT_REGISTRY,
        discovery.HELM_VALUES,
        discovery.KIND_CONFIG,
        *discovery.TILT_FILES,
        *discovery.COMPOSE_FILES,
        *discovery.MANIFEST_FILES,
        discovery.CONFIG_FILE,
        "pyproject.toml",  # [tool.portreg]
    ]
    read = [example(glob) for glob in defaults]
    read += ["k8s/invoice.yaml", "manifests/deploy/a/b/invoice.yaml"]
    assert [path for path in read if not files.search(path)] == []
    read += ["helm/other-chart/values/invoice.yaml", "services/billing/Tiltfile", ".env"]
    read += ["docs/kind-config.yaml", "src/cart/chart/values.yaml", "deploy/compose.yml"]
    assert [path for path in read if not files.search(path)] == []
    not_read = [
        "README.md",
        "src/app.py",
        "scripts/port-registry.json.bak",
        "k8s/README.md",
        "Makefile",
    ]
    assert [path for path in not_read if files.search(path)] == []


def test_a_deletion_skips_the_files_hook_and_fails_the_always_hook(
    project: Repo, hook_source: tuple[Path, str]
) -> None:
    """pre-commit never matches a deleted file against ``files:``; the second hook is
    the way a repo catches a commit that deletes the registry."""
    project.git("rm", "-q", "scripts/port-registry.json")
    assert project.portreg("check", check=False).returncode == 1
    assert try_repo(project, hook_source) == (0, SKIPPED)
    code, report = try_repo(project, hook_source, hook="portreg-check-always")
    assert code == 1
    assert report.startswith("portreg check" + "." * 60)
    assert "Failed" in report.splitlines()[0]


def test_the_always_hook_is_the_same_check_on_every_commit() -> None:
    always, files = the_hook("portreg-check-always"), the_hook()
    assert always["always_run"] is True
    assert "files" not in always
    same = ("entry", "language", "pass_filenames", "name")
    assert {key: always[key] for key in same} == {key: files[key] for key in same}
