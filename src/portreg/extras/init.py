"""``portreg init``: the files a repo starts with (planned as edits, written by the CLI)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from portreg.config import Settings
from portreg.config.discovery import CONFIG_FILE
from portreg.errors import PortregError
from portreg.io.workspace import FileEdit
from portreg.model import RegistryState, dump_registry, empty_document

CONFIG_TEMPLATE = """\
# portreg: the port registry of this repo. Every key is optional: the values
# below are the defaults (the seed's conventions), and a commented key shows
# how to set what has no default. `portreg COMMAND --help` says more.

# Where the registry lives (JSON, kept in git).
registry = "scripts/port-registry.json"
# A registry shared by several checkouts or teams, instead (or --store, $PORTREG_STORE):
# store = "etcd://127.0.0.1:2379/portreg/myteam"

# Service ports are handed out from this range, lowest free first.
first-port = 8001
last-port = 8999
# Never handed out to a service. Unset, the registry's reserved_ports stands (a new
# registry records [8080]); set here, this list stands and `fix` records it there.
# reserved = [8080]

# NodePort = node-port-base + (port - node-port-offset); it must stay inside
# node-port-range and Kubernetes' 30000-32767.
node-port-base = 31000
node-port-offset = 8000
node-port-range = [31000, 31999]

# Seconds to wait for another portreg holding the registry lock.
lock-timeout = 10

# Markdown files holding a port table between <!-- portreg:begin --> and
# <!-- portreg:end -->: `portreg docs` rewrites it, `check` reports it stale.
docs = []

[helm]
enabled = true
# One values file per service.
values = "helm/rerp-microservice/values/{service}.yaml"
# The file `assign --scaffold` copies for a new service:
# template = "helm/rerp-microservice/values/_template.yaml"

[helm.set]
# dotted key = template; placeholders: {service} {port} {node_port}
# {service_snake} {service_title} {SERVICE_UPPER}. A numeric result stays an int.
# Only the port fields are kept in line by fix; the others are written when
# portreg creates a file, or by `update-configs --all-fields`.
"service.port" = "{port}"
"service.containerPort" = "{port}"
"service.nodePort" = "{node_port}"
"service.name" = "{service}"
"image.name" = "rerp-{service}"
"app.serviceName" = "{service}"
"app.binaryName" = "{service_snake}_service_api"

[kind]
enabled = true
config = "kind-config.yaml"
node-role = "control-plane"
comment = "# {service_title} Service"
# Host ports something else binds (e.g. [[8001, 8099]] when Tilt forwards them):
# no kind hostPort mapping there, and fix removes one that is.
skip-host-ports = []

# Read for the ports they use (fix moves a service's literal port forwards).
[tilt]
enabled = true
files = ["Tiltfile"]

[compose]
enabled = true
files = ["compose.yaml", "compose.yml", "docker-compose*.yml", "docker-compose*.yaml"]
# files that run together (docker compose -f a -f b), e.g. [["compose.yaml", "compose.load.yaml"]];
# a file and its override file (compose.override.yaml) always do, other files are apart
projects = []

[manifests]
enabled = true
files = ["k8s/**/*.yaml", "manifests/**/*.yaml"]

# What check never reports and fix never edits (also: `# portreg: ignore[PR005]`
# at the end of a line).
[ignore]
files = []      # globs, e.g. ["helm/legacy/**"]
services = []   # e.g. ["postgres"]
ports = []      # e.g. [5433, 30432]
codes = []      # e.g. ["PR014"]

# For etcd:// and etcds:// stores.
[etcd]
# ca = "certs/ca.pem"
# cert = "certs/client.pem"
# key = "certs/client-key.pem"
# username = "portreg"
password-env = "PORTREG_ETCD_PASSWORD"
timeout = 3.0
retries = 20

# More files that hold a service's port (see the README's "User-defined targets"):
# [[targets]]
# name = "env"
# files = "services/{service}/.env"
# kind = "text"
# line = "PORT={port}"
# create = false     # true: add a missing line or key (default: warn)
# required = false   # true: a glob matching no file is a config error
"""

COMPAT_SCRIPT = '''\
#!/usr/bin/env python3
"""The seed's assign-port.py, now backed by portreg (installed as its README says)."""

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
        sys.exit(
            "assign-port.py: portreg is not installed (run: pipx install "
            "git+https://github.com/portreg/portreg@v0.1.0)"
        )
    os.execv(command, [command, *ARGS])
sys.exit(main(ARGS))
'''

COMPAT_PATH = "scripts/assign-port.py"


def init_edits(
    settings: Settings,
    *,
    compat_script: bool,
    timestamp: str,
    read: Callable[[Path], str | None],
    force: bool = False,
) -> list[FileEdit]:
    """New files only: an existing config or registry is never overwritten, and an
    existing ``scripts/assign-port.py`` only with ``compat_script`` and ``force``."""
    root = settings.root
    wanted: list[tuple[Path, str, int]] = [(root / CONFIG_FILE, CONFIG_TEMPLATE, 0o644)]
    registry = RegistryState(
        reserved_ports=settings.new_reserved,
        next_port=settings.first_port,
        document=empty_document(),
    )
    wanted.append((settings.registry_path, dump_registry(registry, timestamp), 0o644))
    if compat_script:
        wanted.append((root / COMPAT_PATH, COMPAT_SCRIPT, 0o755))  # a script to run
    edits = []
    for path, text, mode in wanted:
        display = path.relative_to(root).as_posix()
        try:
            before = read(path)
        except PortregError as exc:  # a folder, a FIFO: not a file init may replace
            if path == root / COMPAT_PATH and not force:
                continue  # left as it is, and said so
            raise PortregError(exc.message, where=display, hint="move it away first") from exc
        replace = force and path == root / COMPAT_PATH and before != text
        if before is None or replace:
            edits.append(FileEdit(path, display, before, text, mode))
    return edits


@dataclass(frozen=True)
class Survey:
    """What a repo already holds when ``init`` runs."""

    adoptable: list[tuple[str, str]]  # (service, the file that names it) the registry lacks
    registered: int  # how many services the registry already has
    script: str | None  # the text of an existing scripts/assign-port.py
    problems: list[str]  # files that cannot be read, as error lines
    broken: bool = False  # the registry or config itself cannot be read


def survey_notes(found: Survey, *, compat_script: bool, force: bool) -> list[str]:
    """What init found and the command to run next (pure). A replaced script is not
    noted: the CLI lists it with the files it wrote."""
    notes = [f"⚠️  Cannot read {problem}" for problem in found.problems]
    if found.adoptable:
        names = [f"{service} ({where})" for service, where in found.adoptable]
        count = len(names)
        notes.append(
            f"ℹ️  Found {count} service{'' if count == 1 else 's'} the registry does not know: "
            + _names(names)
        )
    if found.script is not None and found.script != COMPAT_SCRIPT and not (force and compat_script):
        if compat_script:
            notes.append(
                f"ℹ️  Left {COMPAT_PATH} as it is: it is not portreg's "
                "(add --force to replace it with one that runs portreg)"
            )
        else:
            notes.append(
                f"ℹ️  Left {COMPAT_PATH} (the seed's script) as it is; `portreg init "
                "--compat-script --force` replaces it with one that runs portreg"
            )
    if found.problems:
        what = "the registry or config" if found.broken else "the files above"
        notes.append(f"   Next: repair {what} by hand (or restore from git), then `portreg check`")
    elif found.adoptable:
        notes.append(
            "   Next: `portreg fix --dry-run` shows how portreg would record them and bring "
            "every file in line; then `portreg fix`"
        )
    elif found.registered:
        notes.append("   Next: `portreg check` reports any file that disagrees with the registry")
    else:
        notes.append("   Next: `portreg assign SERVICE --update-configs` gives a service its port")
    return notes


def _names(services: list[str], shown: int = 5) -> str:
    more = len(services) - shown
    return ", ".join(services[:shown]) + (f", and {more} more" if more > 0 else "")


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
