"""``portreg init``: the files a repo starts with (planned as edits, written by the CLI)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portreg.config import Settings
from portreg.config.discovery import CONFIG_FILE
from portreg.config.kinds import KINDS
from portreg.edit.toml import key_text, literal
from portreg.errors import PortregError
from portreg.io.workspace import FileEdit
from portreg.model import RegistryState, dump_registry, empty_document

CONFIG_HEADER = """\
# portreg: the port registry of this repo, written by `portreg init` from what the
# repo's files show. Every key is optional; the README's "Configuration" section
# lists them all.
"""
SECTION_ORDER = tuple(KINDS)


def render_config(table: Mapping[str, Any], notes: Sequence[str] = ()) -> str:
    """The ``portreg.toml`` for a found config table: top-level keys, then one table per
    section; ``notes`` (what was found and chosen) head the file as comments."""
    lines = [CONFIG_HEADER.rstrip("\n")]
    lines += [f"#   {note}" for note in notes]
    top = [(k, v) for k, v in table.items() if not isinstance(v, dict | list) or _plain(v)]
    lines += ["", *(f"{key} = {literal(value)}" for key, value in top if key != "targets")]
    for name in SECTION_ORDER:
        section = table.get(name)
        if isinstance(section, dict):
            lines += ["", *_section(name, section)]
    for target in table.get("targets", []):
        lines += ["", "[[targets]]", *(f"{k} = {literal(v)}" for k, v in target.items())]
    return "\n".join(lines) + "\n"


def update_changes(
    written: Mapping[str, Any], found: Mapping[str, Any]
) -> dict[tuple[str, str], Any]:
    """(table, key) -> value for every key the files now call for that the config does not
    write as such ("" is the top level). Keys the config has and the files say nothing
    about (``[ignore]``, ``store``, ``[[targets]]``) are left alone."""
    changes: dict[tuple[str, str], Any] = {}
    for key, value in found.items():
        if isinstance(value, dict):
            changes.update(_table_changes(key, written.get(key), value))
        elif key != "targets" and written.get(key) != value:
            changes[("", key)] = value
    return changes


def _table_changes(name: str, written: Any, found: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    have = written if isinstance(written, dict) else {}
    changes: dict[tuple[str, str], Any] = {}
    for key, value in found.items():
        if isinstance(value, dict):
            changes.update(_table_changes(f"{name}.{key}", have.get(key), value))
        elif have.get(key) != value:
            changes[(name, key)] = value
    return changes


def _section(name: str, section: Mapping[str, Any]) -> list[str]:
    lines = [f"[{name}]"]
    lines += [f"{k} = {literal(v)}" for k, v in section.items() if not isinstance(v, dict)]
    for key, value in section.items():
        if isinstance(value, dict):
            lines += ["", f"[{name}.{key}]"]
            lines += [f"{key_text(k)} = {literal(v)}" for k, v in value.items()]
    return lines


def _plain(value: Any) -> bool:
    """A list of scalars or of lists of scalars (a TOML inline array)."""
    return isinstance(value, list) and all(not isinstance(v, dict) for v in value)


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
    config: str,
    compat_script: bool,
    timestamp: str,
    read: Callable[[Path], str | None],
    force: bool = False,
) -> list[FileEdit]:
    """New files only: an existing config or registry is never overwritten, and an
    existing ``scripts/assign-port.py`` only with ``compat_script`` and ``force``.
    ``settings`` are those ``config`` (the text to write) describes."""
    root = settings.root
    wanted: list[tuple[Path, str, int]] = [(root / CONFIG_FILE, config, 0o644)]
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
            "   Next: `portreg reconcile --dry-run` shows how portreg would record them; then "
            "`portreg reconcile`, and `portreg fix` brings every file in line"
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
