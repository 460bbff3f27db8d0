"""``portreg init``: the files a repo starts with (planned as edits, written by the CLI)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portreg.commands import (
    command,
    err,
    open_registry,
    out,
    print_repair,
)
from portreg.config import Settings, found_layout, load_settings, settings_from_table, written_table
from portreg.config.discovery import CONFIG_FILE
from portreg.config.record import replace
from portreg.config.reference import render_config
from portreg.edit.toml import set_keys
from portreg.errors import EXIT_OK, PortregError
from portreg.io.diff import render_diff
from portreg.io.files import read_text
from portreg.io.lock import FileLock, checkout_lock_path, git_dir
from portreg.io.workspace import FileEdit
from portreg.model import RegistryState, dump_registry, empty_document
from portreg.model.registry_json import timestamp

if TYPE_CHECKING:
    import argparse

    from portreg.commands import Subparsers


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
    literal_ports: int = 0  # host ports compose files and Tiltfiles write as numbers


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
    if found.literal_ports:
        count = found.literal_ports
        notes.append(
            f"ℹ️  {count} host port{'' if count == 1 else 's'} in compose files and Tiltfiles "
            f"{'is' if count == 1 else 'are'} fixed numbers; `portreg init --env-ports` takes "
            "each from the environment (the committed port its default), for several checkouts"
        )
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

    found = require_git_checkout(root)
    for git_args in git_config_commands():
        try:
            done = subprocess.run(
                ["git", f"--git-dir={found}", *git_args],
                capture_output=True,
                text=True,
                check=False,
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


# ------------------------------------------------------------- the command


def _init_update(args: argparse.Namespace) -> int:
    """``init --update``: the config's keys brought in line with what the files show now,
    shown as a diff (and written unless ``--dry-run``); every other byte stays."""

    from portreg.check.layout import found_config

    settings = load_settings(args.root, args.config)
    if (
        settings.source is None
        or not settings.source.endswith(".toml")
        or (settings.source.endswith("pyproject.toml"))
    ):
        raise PortregError(
            "init --update edits a portreg.toml, and there is none here",
            hint="run `portreg init` to write one (a [tool.portreg] table is yours to edit)",
        )
    written = written_table(settings)
    layout, notes = found_layout(settings.root, {})
    fresh = settings_from_table(settings.root, {**written, **layout}, settings.source)
    found = found_config(replace(fresh, layout=layout, layout_notes=tuple(notes)))
    name = settings.config_name or "portreg.toml"
    source = settings.source

    def plan() -> list[FileEdit]:
        before = read_text(source) or ""
        after = set_keys(before, update_changes(written, found.table))
        return [] if after == before else [FileEdit(Path(source), name, before, after)]

    edits = plan() if args.dry_run else write_locked(settings, plan)
    _print_found(found.notes)
    sys.stdout.write(render_diff(edits))
    if args.dry_run or not edits:
        same = f"ℹ️  {name} already says what the files show"
        err("(dry run: nothing was written)" if edits else same)
        return EXIT_OK
    out(f"✅ Updated {name}")
    return EXIT_OK


def write_locked(settings: Settings, plan: Callable[[], list[FileEdit]]) -> list[FileEdit]:
    """Plan and write the edits under the checkout's lock, journaled, all or none, as every
    writing command does: ``plan`` reads the files only once no other portreg writes
    them. A repo with no config or registry yet locks where the others will (its git dir)."""
    from portreg.io.transaction import apply_edits, locked

    path = checkout_lock_path(str(settings.root))
    lock = FileLock(path, settings.lock_timeout, settings.registry)
    with locked(lock, settings.root) as journal:
        edits = plan()
        apply_edits(edits, root=settings.root, journal=journal)
    return edits


def _init_env_ports(args: argparse.Namespace) -> int:
    """``init --env-ports``: compose files' and Tiltfiles' literal host ports taken from the
    environment, in one transaction (shown as a diff with ``--dry-run``)."""
    from portreg.commands.env_ports import planner

    alone = {"--update": args.update, "--git": args.git, "--compat-script": args.compat_script}
    others = [flag for flag, given in alone.items() if given]
    if others:
        raise PortregError(
            f"--env-ports runs on its own, not with {others[0]}",
            where="init",
            hint="run `portreg init --env-ports` (with --dry-run to see the diff) by itself",
        )
    registry = open_registry(args)
    if registry.snapshot()[0].text is None:
        raise PortregError(
            "init --env-ports rewrites a portreg repo's files, and this repo has no registry yet",
            where=registry.store.location,
            hint="run `portreg init` first",
        )
    print_repair(registry.transact(planner(registry), dry_run=args.dry_run))
    return EXIT_OK


def _print_found(notes: list[str]) -> None:
    for note in notes:
        out(f"🔎 {note}")


def _found(settings: Settings) -> tuple[Settings, str, list[str]]:
    """The settings, config text and notes ``init`` writes for a repo with no config (a
    repo that has one keeps it: the settings it describes, and no note)."""
    if settings.source is not None:
        return settings, "", []
    from portreg.check.layout import found_config

    found = found_config(settings)
    chosen = settings_from_table(settings.root, found.table, None)
    return chosen, render_config(found.table), found.notes


def _survey(args: argparse.Namespace, script: str | None) -> Survey:
    """What the repo holds now that it is a portreg repo: the services ``fix`` would adopt."""
    from portreg.commands.engine import adoptable
    from portreg.commands.env_ports import pending

    try:
        registry = open_registry(args)
        services, unreadable = adoptable(registry)
        count = len(registry.state().assignments)
        return Survey(services, count, script, unreadable, literal_ports=pending(registry))
    except PortregError as exc:
        return Survey([], 0, script, [exc.line()], broken=True)


def main(args: argparse.Namespace) -> int:
    if args.force and not args.compat_script:  # --force alone would do nothing, silently
        raise PortregError(
            "--force replaces scripts/assign-port.py, so it needs --compat-script",
            where="init",
            hint="run `portreg init --compat-script --force`, or drop --force",
        )
    if args.env_ports:
        return _init_env_ports(args)
    if args.update:
        return _init_update(args)
    settings = load_settings(args.root, args.config, new=True)
    try:
        script = read_text(settings.root / COMPAT_PATH)
    except PortregError:
        script = ""  # a folder or a FIFO by that name: not portreg's, left as it is
    settings, config, notes = _found(settings)
    if args.git:
        require_git_checkout(settings.root)

    def plan() -> list[FileEdit]:
        edits = init_edits(
            settings,
            config=config,
            compat_script=args.compat_script,
            timestamp=timestamp(),
            read=read_text,
            force=args.force,
        )
        return edits + (git_edits(settings, read_text) if args.git else [])

    if args.dry_run:
        edits = plan()
        _print_found(notes)
        sys.stdout.write(render_diff(edits))
        err("(dry run: nothing was written)" if edits else "(dry run: nothing to change)")
        return EXIT_OK
    edits = write_locked(settings, plan)  # refuses a path outside before git is touched
    _print_found(notes)
    if args.git:
        register_merge_driver(settings.root)
    for edit in edits:
        out(f"✅ {'Created' if edit.before is None else 'Replaced'} {edit.display}")
    if args.git:
        out("✅ Registered the git merge driver (git config merge.portreg.driver)")
    elif not edits:
        out("ℹ️  Nothing to do: portreg.toml and the registry already exist")
    found = _survey(args, script)
    for note in survey_notes(found, compat_script=args.compat_script, force=args.force):
        out(note)
    return EXIT_OK


def add(sub: Subparsers) -> None:
    init = command(
        sub,
        "init",
        "find the repo's layout and ports; write portreg.toml and an empty registry",
        example="portreg init --git",
    )
    init.add_argument(
        "--compat-script", action="store_true", help="also write scripts/assign-port.py"
    )
    init.add_argument("--git", action="store_true", help="register the registry's git merge driver")
    init.add_argument(
        "--force", action="store_true", help="with --compat-script: replace an existing script"
    )
    init.add_argument(
        "--dry-run", action="store_true", help="show the files init would write; write nothing"
    )
    init.add_argument(
        "--update",
        action="store_true",
        help="bring portreg.toml's keys in line with what the files show now (shown as a diff)",
    )
    init.add_argument(
        "--env-ports",
        action="store_true",
        help="take compose's and Tilt's literal host ports from the environment, the committed "
        "port as default (works in a repo that has a portreg.toml)",
    )
    init.set_defaults(handler=main)
