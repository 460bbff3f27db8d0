"""``portreg reconcile``: adopt the services the files hold that the registry lacks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portreg.commands import (
    add_dry_run,
    command,
    open_registry,
    print_repair,
)
from portreg.errors import EXIT_OK

if TYPE_CHECKING:
    import argparse

    from portreg.commands import Subparsers


def main(args: argparse.Namespace) -> int:
    from portreg.commands.engine import reconcile

    registry = open_registry(args)
    print_repair(reconcile(registry, update_configs=args.update_configs, dry_run=args.dry_run))
    return EXIT_OK


def add(sub: Subparsers) -> None:
    reconcile = command(
        sub,
        "reconcile",
        "adopt the services the repo names that the registry lacks",
        example="portreg reconcile --update-configs",
    )
    reconcile.add_argument(
        "--update-configs", action="store_true", help="also edit the adopted services' files"
    )
    add_dry_run(reconcile)
    reconcile.set_defaults(handler=main)
