"""``portreg docs``: the edits that bring each Markdown file's port table up to date."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from portreg.commands import (
    command,
    err,
    git_dir_of,
    open_registry,
    out,
    own_files,
)
from portreg.commands.export import render_markdown
from portreg.edit.markdown import replace_table
from portreg.errors import EXIT_NOT_FOUND, EXIT_OK, FileEditError, PortregError
from portreg.io.files import read_text, require_user_output
from portreg.io.workspace import FileEdit, Workspace

if TYPE_CHECKING:
    import argparse

    from portreg.commands import Subparsers
    from portreg.model import Assignment


def docs_plan(
    files: Sequence[tuple[Path, str]], table: str, read: Callable[[Path], str | None]
) -> tuple[list[FileEdit], list[str]]:
    """The edits that bring each file's table up to date, and the files already current.

    ``files`` are (path, the name to show: repo-relative for the config's docs, as given
    for a file named on the command line). Every file is checked before any is written,
    so a missing marker in one file leaves all of them untouched.
    """
    edits, current = [], []
    for path, name in files:
        text = read(path)
        if text is None:
            raise FileEditError("file does not exist", where=name)
        after = replace_table(text, table, name)
        if after == text:
            current.append(name)
        else:
            edits.append(FileEdit(path, name, text, after))
    return edits, current


# ------------------------------------------------------------- the command


def main(args: argparse.Namespace) -> int:
    """Replace the port table between the portreg markers; ``--check``: exit 1 if stale."""

    registry = open_registry(args)

    root = registry.settings.root
    named = [(Path(name), name) for name in args.files]
    files = named or [(root / name, name) for name in registry.settings.docs]
    if not files:
        raise PortregError("name a Markdown file, or list them in portreg.toml (docs = [...])")

    for name in args.files:
        require_user_output(name, own_files(registry), git_dir_of(registry))
    # files named on the command line are the user's choice; the config's stay in the repo
    read = read_text if args.files else Workspace(registry.settings.root).read
    derived = registry.settings.derives_node_ports
    current: list[str] = []

    def plan(held: list[Assignment]) -> list[FileEdit]:
        edits, current[:] = docs_plan(files, render_markdown(held, derived), read)
        return edits

    if args.check:
        stale = plan(registry.assignments())
        for edit in stale:
            why = f"{edit.display}: port table is out of date"
            err(f"portreg: docs: {why} (run `portreg docs {edit.display}`)")
        return EXIT_NOT_FOUND if stale else EXIT_OK
    # the config's files lie in the repo; files named on the command line are the user's
    edits = registry.write_out(plan, in_repo=not args.files)
    for edit in edits:
        out(f"✅ Updated the port table in {edit.display}")
    for name in current:
        out(f"ℹ️  {name} is up to date")
    return EXIT_OK


def add(sub: Subparsers) -> None:
    docs = command(
        sub, "docs", "update the port table in Markdown files", example="portreg docs README.md"
    )
    docs.add_argument("files", nargs="*", metavar="FILE", help="default: docs in portreg.toml")
    docs.add_argument("--check", action="store_true", help="exit 1 if a table is out of date")
    docs.set_defaults(handler=main)
