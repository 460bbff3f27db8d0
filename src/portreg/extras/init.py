"""``portreg init``: the files a repo starts with (planned as edits, written by the CLI)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from portreg.config import Settings
from portreg.config.discovery import CONFIG_FILE
from portreg.io.workspace import FileEdit
from portreg.model import RegistryState, dump_registry, empty_document

CONFIG_TEMPLATE = """\
# portreg: the port registry of this repo. Every key is optional; the values
# below are the defaults (the seed's conventions). See `portreg --help`.

# Where the registry lives (JSON, kept in git).
registry = "scripts/port-registry.json"
# store = "etcd://127.0.0.1:2379/portreg/myteam"   # a shared registry instead

# Service ports are handed out from this range, lowest free first.
first-port = 8001
last-port = 8999
# Never handed out (merged with the registry's reserved_ports).
reserved = [8080]

# NodePort = node-port-base + (port - node-port-offset); must stay inside
# node-port-range and Kubernetes' 30000-32767.
node-port-base = 31000
node-port-offset = 8000
node-port-range = [31000, 31999]

# Seconds to wait for another portreg holding the registry lock.
lock-timeout = 10

[helm]
values = "helm/rerp-microservice/values/{service}.yaml"
# template = "helm/rerp-microservice/values/_template.yaml"   # for assign --scaffold

[helm.set]
# dotted key = template; placeholders: {service} {port} {node_port}
# {service_snake} {service_title} {SERVICE_UPPER}. A numeric result stays an int.
"service.port" = "{port}"
"service.containerPort" = "{port}"
"service.nodePort" = "{node_port}"
"service.name" = "{service}"
"image.name" = "rerp-{service}"
"app.serviceName" = "{service}"
"app.binaryName" = "{service_snake}_service_api"

[kind]
config = "kind-config.yaml"
node-role = "control-plane"
comment = "# {service_title} Service"
# Ports in these ranges get no hostPort mapping (e.g. Tilt port-forwards bind them).
skip-host-ports = []
"""

COMPAT_SCRIPT = '''\
#!/usr/bin/env python3
"""The seed's assign-port.py, now backed by portreg (`pip install portreg`)."""

import os
import shutil
import sys
from pathlib import Path

ARGS = ["--root", str(Path(__file__).resolve().parent.parent), *sys.argv[1:]]
try:
    from portreg.cli import main
except ModuleNotFoundError:
    command = shutil.which("portreg")
    if command is None:
        sys.exit("assign-port.py: portreg is not installed (run: pipx install portreg)")
    os.execv(command, [command, *ARGS])
sys.exit(main(ARGS))
'''

COMPAT_PATH = "scripts/assign-port.py"


def init_edits(settings: Settings, *, compat_script: bool, timestamp: str) -> list[FileEdit]:
    """New files only: an existing config, registry or script is never overwritten."""
    root = settings.root
    wanted: list[tuple[Path, str, int]] = [(root / CONFIG_FILE, CONFIG_TEMPLATE, 0o644)]
    registry = RegistryState(
        reserved_ports=settings.reserved,
        next_port=settings.first_port,
        document=empty_document(),
    )
    wanted.append((settings.registry_path, dump_registry(registry, timestamp), 0o644))
    if compat_script:
        wanted.append((root / COMPAT_PATH, COMPAT_SCRIPT, 0o755))  # a script to run
    edits = []
    for path, text, mode in wanted:
        if not path.exists():
            edits.append(FileEdit(path, path.relative_to(root).as_posix(), None, text, mode))
    return edits


# ------------------------------------------------------------ init --git

MERGE_DRIVER_NAME = "portreg registry merge (union of assignments, clashes moved)"
MERGE_DRIVER_COMMAND = "portreg merge-driver %O %A %B"


def gitattributes_line(settings: Settings) -> str:
    """The ``.gitattributes`` line that sends the registry through the merge driver."""
    return f"{settings.registry} merge=portreg"


def append_line(text: str | None, line: str) -> str | None:
    """``text`` with ``line`` appended (newline style kept); None if the line is there."""
    if text is not None and line in (existing.strip() for existing in text.splitlines()):
        return None
    if not text:
        return line + "\n"
    newline = "\r\n" if "\r\n" in text else "\n"
    separator = "" if text.endswith(("\n", "\r")) else newline
    return f"{text}{separator}{line}{newline}"


def git_edits(settings: Settings, read: Callable[[Path], str | None]) -> list[FileEdit]:
    """``.gitattributes`` names the merge driver. (The lock and the journal live in the git
    dir, not the work tree, so nothing needs ignoring.)"""
    wanted = {".gitattributes": [gitattributes_line(settings)]}
    edits = []
    for name, lines in wanted.items():
        path = settings.root / name
        before = read(path)
        after = before
        for line in lines:
            after = append_line(after, line) or after
        if after is not None and after != before:
            edits.append(FileEdit(path, name, before, after))
    return edits


def git_config_commands() -> list[list[str]]:
    """The ``git config`` calls that define the ``portreg`` merge driver for this clone."""
    return [
        ["config", "merge.portreg.name", MERGE_DRIVER_NAME],
        ["config", "merge.portreg.driver", MERGE_DRIVER_COMMAND],
    ]


def require_git_checkout(root: Path) -> str:
    """``root``'s own git dir, or a clear error (checked before any file is written)."""
    from portreg.errors import PortregError
    from portreg.io.lock import git_dir

    found = git_dir(str(root))
    if found is None:
        raise PortregError(
            "not the top of a git checkout (no .git folder here, or one portreg does not trust)",
            where=str(root),
            hint="run `git init` first, or run `portreg init --git` at the clone's top",
        )
    return found


def register_merge_driver(root: Path) -> None:
    """Run the ``git config`` calls on ``root``'s own git dir; a folder that is not the top
    of a git checkout is a clear error (git would walk up to a parent's config, or follow
    a ``.git`` symlink out of the repo)."""
    import subprocess

    from portreg.errors import PortregError

    found = require_git_checkout(root)
    for command in git_config_commands():
        try:
            done = subprocess.run(
                ["git", f"--git-dir={found}", *command], capture_output=True, text=True, check=False
            )
        except FileNotFoundError as exc:
            raise PortregError("git is not installed", hint="install git, then rerun") from exc
        if done.returncode != 0:
            reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
            raise PortregError(
                f"git config failed: {reason}",
                where=str(root),
                hint="run `git init` first, or run `portreg init --git` inside the clone",
            )
