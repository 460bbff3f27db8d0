"""Start-up discipline, stated once: which modules each hot command must not load.

Each command runs in a fresh interpreter on a small repo; the test reads
``sys.modules`` after it. The heavy ones (bench/README.md has the figures):
PyYAML (about 10 ms to import) for anything that does not parse YAML, the
check package for commands that do not check, the write path for commands
that only read, and the HTTP client when the registry is a file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """\
import contextlib, io, json, sys
from portreg.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""
NEVER_ON_THE_FILE_STORE = (
    "http.client",
    "portreg.store.etcd",
    "difflib",
    "portreg.commands.init",  # the commands no hot command runs
    "portreg.commands.merge",
    "portreg.commands.export_html",
)
PARSERS = ("yaml", "portreg.edit.yaml", "portreg.edit.json", "portreg.edit.starlark")
# what only a repo with no config (detect), a write (diff) or a checkout outside git
# (hashlib) needs; together 42 M instructions of `query` (bench_callgrind, 277 M -> 319 M
# when they were loaded at start)
NEVER_TO_READ_THE_REGISTRY = (
    "portreg.config.detect",
    "portreg.io.listing",  # `git ls-files`: subprocess, selectors, threading
    "subprocess",
    "portreg.io.diff",
    "hashlib",
    "random",
    "glob",  # a file pattern with a star: the files a target reads
    # inspect, ast and dis come with it: 32 M instructions, and a frozen dataclass
    # compiles six methods when defined (config.record has the figures)
    "dataclasses",
)
MUST_NOT_IMPORT = {
    ("query", "invoice"): (
        *PARSERS,
        *NEVER_TO_READ_THE_REGISTRY,
        "portreg.model.step",  # the planner's Step: 7 M instructions (bench_callgrind)
        "portreg.commands.engine",
        "portreg.targets",
        "portreg.check",
        "portreg.io.transaction",
    ),
    ("list",): (
        *PARSERS,
        *NEVER_TO_READ_THE_REGISTRY,
        "portreg.model.step",
        "portreg.commands.engine",
        "portreg.targets",
        "portreg.check",
        "portreg.io.transaction",
    ),
    ("assign", "payroll"): ("yaml", "portreg.check"),
    ("assign", "payroll", "--update-configs"): ("portreg.check",),
    ("check",): ("portreg.io.transaction", "portreg.check.repair"),
    # at every shell prompt under direnv, once the checkout's instance is recorded
    ("env",): (
        *PARSERS,
        *NEVER_TO_READ_THE_REGISTRY,
        "portreg.commands.engine",
        "portreg.targets",
        "portreg.check",
        "portreg.io.transaction",
    ),
    # the whole parser (every command's options, for --help and completion): no reading code
    ("--help",): (*PARSERS, "portreg.commands.engine", "portreg.targets", "portreg.check"),
}
# a repo with no config finds its layout and ports in the files at every run: still no
# TOML parser (there is no config to parse), no socket (that is --live), no Markdown
# tables (that is `docs`), no write path
WITHOUT_A_CONFIG = (
    "tomllib",
    "socket",
    "portreg.check.live",
    "portreg.edit.markdown",
    "portreg.io.transaction",
    "portreg.io.diff",
    "portreg.model.step",
)
VALUES = "service:\n  port: 8002\n  containerPort: 8002\n  nodePort: 31002\n"


@pytest.fixture
def busy(seed_repo: Path) -> Path:
    values = seed_repo / "helm/rerp-microservice/values"
    values.mkdir(parents=True)
    (values / "invoice.yaml").write_text(VALUES)
    (values / "payroll.yaml").write_text("service:\n  type: NodePort\n")
    (seed_repo / "kind-config.yaml").write_text(
        "kind: Cluster\nnodes:\n- role: control-plane\n  extraPortMappings:\n"
        "  - containerPort: 31002\n    hostPort: 8002\n"
    )
    (seed_repo / "Tiltfile").write_text("k8s_resource('invoice', port_forwards='8002:8002')\n")
    # a repo `init` made: every layout section written down (a config without them, or
    # none, has every run find the layout in the files first); `env` records its instance
    for words in (("init",), ("env",)):
        subprocess.run(
            [sys.executable, "-m", "portreg", "--root", str(seed_repo), *words],
            check=True,
            capture_output=True,
        )
    return seed_repo


def loaded(root: Path, argv: tuple[str, ...]) -> tuple[int, set[str]]:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, "--root", str(root), *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(run.stdout)
    return report["code"], set(report["modules"])


@pytest.mark.parametrize("argv", MUST_NOT_IMPORT, ids=" ".join)
def test_a_command_loads_only_what_it_needs(busy: Path, argv: tuple[str, ...]) -> None:
    code, modules = loaded(busy, argv)
    assert code == (1 if argv == ("check",) else 0)  # check: payroll is not registered yet
    # the whole parser imports every command's module, and nothing those commands run
    never = [m for m in NEVER_ON_THE_FILE_STORE if argv != ("--help",) or "commands" not in m]
    heavy = (*MUST_NOT_IMPORT[argv], *never)
    imported = sorted(
        m for m in modules if m in heavy or m.startswith(tuple(f"{h}." for h in heavy))
    )
    assert imported == []


@pytest.mark.parametrize("argv", [("query", "invoice"), ("list",)], ids=" ".join)
def test_a_repo_without_a_config_loads_only_what_finding_its_layout_needs(
    busy: Path, argv: tuple[str, ...]
) -> None:
    (busy / "portreg.toml").unlink()
    code, modules = loaded(busy, argv)
    assert code == 0
    assert "portreg.config.detect" in modules  # it did find the layout
    heavy = (*WITHOUT_A_CONFIG, *NEVER_ON_THE_FILE_STORE)
    imported = sorted(
        m for m in modules if m in heavy or m.startswith(tuple(f"{h}." for h in heavy))
    )
    assert imported == []


def test_the_probe_sees_what_a_command_imports(busy: Path) -> None:
    """The guard above can fail: a command that parses YAML shows PyYAML loaded."""
    _code, modules = loaded(busy, ("check",))
    assert {"yaml", "portreg.check", "portreg.edit.yaml"} <= modules
