"""One module per command: its options (``add(sub)``, which sets the handler), its run
(``main(args) -> exit code``) and the text it prints; ``engine.py`` is the check,
reconcile and fix the three commands share. ``cli`` builds the parser from the
modules ``cli.COMMANDS`` names (only the one a run needs), calls the handler and prints
the one error line. Here: what every command shares (opening the registry, printing an
outcome, the common options).

A command module loads no reading code at import: building the whole parser (``--help``,
completion) imports every one of them.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, TypeAlias

from portreg.api import Registry
from portreg.io.lock import git_dir
from portreg.model import is_digits

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

    from portreg.api import Outcome
    from portreg.model import Assignment

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

Row = tuple[str, int, int | None]  # service, port, node port (None: the repo derives none)


def row_json(row: Row) -> dict[str, object]:
    return {"service": row[0], "port": row[1], "node_port": row[2]}


NO_REGISTRY = (
    "ℹ️  no registry yet ({registry}): `portreg init` writes it, and `portreg reconcile` "
    "records the services the files hold"
)


NO_CONFIG = (
    "ℹ️  no portreg.toml: using the layout and ports found in the files "
    "(`portreg init` writes them down)"
)


def out(text: str = "", stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


def err(text: str) -> None:
    print(text, file=sys.stderr)


def open_registry(args: argparse.Namespace) -> Registry:
    registry = Registry.open(args.root, config=args.config, store=args.store)
    # said once, after the command's own output, and never beside an error's one line
    args.no_config = registry.settings.source is None
    if registry.settings.store is None:  # a file registry: said when the command leaves none
        args.registry_file = (registry.settings.registry_path, registry.settings.registry)
    return registry


def after(args: argparse.Namespace) -> None:
    """What a command says last about the repo itself: no config, no registry yet (so an
    empty listing or a clean check never reads as a healthy registry)."""
    if getattr(args, "no_config", False):
        err(NO_CONFIG)
    registry = getattr(args, "registry_file", None)
    if registry is not None and not os.path.lexists(registry[0]):
        err(NO_REGISTRY.format(registry=registry[1]))


def print_outcome(outcome: Outcome, *, json_output: bool = False) -> None:
    """Messages and changed files (or the diff, for --dry-run); warnings go to stderr."""
    for warning in outcome.warnings:
        err(warning)
    if outcome.dry_run:
        if not json_output:  # as JSON, the diff is a field of the result
            from portreg.io.diff import render_diff

            sys.stdout.write(render_diff(outcome.edits))
        err("(dry run: nothing was written)" if outcome.edits else "(dry run: nothing to change)")
        return
    if json_output:
        return
    for message in outcome.messages:
        out(message)
    for edit in outcome.edits:
        verb = "Created" if edit.before is None else "Deleted" if edit.after is None else "Updated"
        out(f"   {verb} {edit.display}")


def row(registry: Registry, found: Assignment) -> Row:
    """A service's row; its NodePort only where the repo derives NodePorts."""
    derived = registry.settings.derives_node_ports
    return (found.service, found.port, found.node_port if derived else None)


def own_files(registry: Registry) -> list[str]:
    """The files no output may overwrite: the registry and the config."""
    settings = registry.settings
    return [str(settings.registry_path), *([settings.source] if settings.source else [])]


def git_dir_of(registry: Registry) -> str | None:
    return git_dir(str(registry.settings.root))


def print_repair(outcome: Outcome) -> None:
    """What the plan does first, then the diff or the changed files. A dry run says what
    it plans on stderr: its stdout is the diff alone, for ``| git apply`` or ``| patch``."""
    if outcome.dry_run:
        for message in outcome.messages:
            err(message)
    print_outcome(outcome)


def command(
    sub: Subparsers, name: str, help_text: str, example: str = ""
) -> argparse.ArgumentParser:
    """A command's parser: its one-line help doubles as its description, with an example."""
    epilog = f"example: {example}" if example else None
    return sub.add_parser(name, help=help_text, description=help_text, epilog=epilog)


def service_command(
    sub: Subparsers, name: str, help_text: str, example: str = ""
) -> argparse.ArgumentParser:
    parser = command(sub, name, help_text, example)
    parser.add_argument("service", help="service name (a DNS-1035 label, e.g. invoice)")
    return parser


def add_dry_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="print the diff of every change; write nothing"
    )


def add_output(parser: argparse.ArgumentParser, choices: Sequence[str]) -> None:
    """``-o/--output FORMAT`` (the first choice is the default), as kubectl spells it;
    ``--format FORMAT`` and ``--json`` are kept as its aliases."""
    parser.add_argument(
        "-o",
        "--output",
        choices=choices,
        default=choices[0],
        metavar="FORMAT",
        help=f"{', '.join(choices)} (default: {choices[0]})",
    )
    parser.add_argument(
        "--format", dest="output", choices=choices, metavar="FORMAT", help="same as -o FORMAT"
    )
    if "json" in choices:
        parser.add_argument(
            "--json", dest="output", action="store_const", const="json", help="same as -o json"
        )


def port_number(text: str) -> int:
    """``--port``: ASCII digits only (``int`` would take ``٨٠٠٥`` or ``8_005``)."""

    if not is_digits(text):
        raise argparse.ArgumentTypeError(f"expected a port number (ASCII digits), got {text!r}")
    return int(text)
