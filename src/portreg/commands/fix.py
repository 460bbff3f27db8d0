"""``portreg fix``: rewrite the registry and files so ``check`` has no errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portreg.commands import (
    add_dry_run,
    command,
    err,
    open_registry,
    print_repair,
)
from portreg.errors import EXIT_NOT_FOUND, EXIT_OK

if TYPE_CHECKING:
    import argparse

    from portreg.api import Outcome, Registry
    from portreg.commands import Subparsers


def _errors_left(registry: Registry, outcome: Outcome) -> int:
    """After ``fix``: exit 1, saying so, when ``check`` would still find errors (a file
    portreg cannot read or edit faithfully) or an edit was refused (its Not fixed line
    says which), so a script never takes "fixed" on trust."""
    from portreg.check.repair import left_unfixed
    from portreg.commands.engine import check

    findings, _ignored = check(registry)
    errors = [finding for finding in findings if finding.severity == "error"]
    if errors:
        count = f"{len(errors)} error{'' if len(errors) == 1 else 's'}"
        err(f"❌ {count} left that fix cannot repair; `portreg check` lists them")
        return EXIT_NOT_FOUND
    refused = left_unfixed(outcome.warnings)
    if refused:
        count = f"{len(refused)} edit{'' if len(refused) == 1 else 's'}"
        err(f"❌ {count} left that fix cannot make (the Not fixed lines above); make them by hand")
        return EXIT_NOT_FOUND
    return EXIT_OK


def main(args: argparse.Namespace) -> int:
    from portreg.commands.engine import fix

    registry = open_registry(args)
    outcome = fix(registry, prune=args.prune, dry_run=args.dry_run, adopt=args.adopt)
    print_repair(outcome)
    if outcome.dry_run:
        return EXIT_OK
    return _errors_left(registry, outcome)


def add(sub: Subparsers) -> None:
    fix = command(
        sub,
        "fix",
        "rewrite the registry and files so `check` has no errors",
        example="portreg fix --dry-run",
    )
    fix.add_argument("--prune", action="store_true", help="delete entries the registry lacks")
    fix.add_argument(
        "--no-adopt",
        dest="adopt",
        action="store_false",
        help="do not adopt services the registry lacks (reconcile is the adopt-only step)",
    )
    add_dry_run(fix)
    fix.set_defaults(handler=main)
