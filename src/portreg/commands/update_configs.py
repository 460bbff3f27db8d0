"""``portreg update-configs``: bring files in line with the registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portreg.commands import (
    add_dry_run,
    command,
    open_registry,
    out,
    print_outcome,
)
from portreg.errors import EXIT_OK, PortregError

if TYPE_CHECKING:
    import argparse

    from portreg.commands import Subparsers


def main(args: argparse.Namespace) -> int:
    if bool(args.services) == bool(args.all):
        raise PortregError("name the services to update, or pass --all", hint="see --help")
    outcome = open_registry(args).update_configs(
        args.services or None, dry_run=args.dry_run, all_fields=args.all_fields
    )
    print_outcome(outcome)
    if not outcome.dry_run and not outcome.edits:
        out("ℹ️  Config files already match the registry")
    return EXIT_OK


def add(sub: Subparsers) -> None:
    update = command(
        sub,
        "update-configs",
        "bring config files in line with the registry",
        example="portreg update-configs --all --dry-run",
    )
    update.add_argument("services", nargs="*", metavar="SERVICE")
    update.add_argument("--all", action="store_true", help="every registered service")
    update.add_argument(
        "--all-fields",
        action="store_true",
        help="also the [helm.set]/[[targets]] fields that hold no port (names, images, binaries)",
    )
    add_dry_run(update)
    update.set_defaults(handler=main)
