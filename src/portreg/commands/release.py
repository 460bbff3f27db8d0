"""``portreg release``: free a service's port, and say what ``check`` will now report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portreg.commands import (
    add_dry_run,
    err,
    open_registry,
    print_outcome,
    service_command,
)
from portreg.errors import EXIT_OK

if TYPE_CHECKING:
    import argparse

    from portreg.api import Registry
    from portreg.commands import Subparsers


def _left_behind(registry: Registry, service: str, *, update_configs: bool) -> None:
    """After a release: what ``check`` now reports about the service, and what finishes
    the release, so a green exit is not followed by a red check that says nothing of it."""
    from portreg.commands.engine import check

    findings, _ignored = check(registry)
    about = [f for f in findings if service in (f.service, f.holder)]
    if not about:
        return
    errors = sum(f.severity == "error" for f in about)
    tally = f"{errors} error{'' if errors == 1 else 's'}, {len(about) - errors} warning"
    tally += "" if len(about) - errors == 1 else "s"
    err(f"⚠️  `portreg check` now reports {tally} about {service}:")
    for finding in about:
        err(f"   {finding.path}:{finding.line}: {finding.code} {finding.message}")
    if update_configs:  # what is left, the warnings above name: portreg edits none of it
        err(f"   Edit them out by hand, or list {service} in [ignore] services")
    else:
        err(f"   Finish the release with: portreg release {service} --update-configs")


def main(args: argparse.Namespace) -> int:
    registry = open_registry(args)
    outcome = registry.release(
        args.service, update_configs=args.update_configs, dry_run=args.dry_run
    )
    print_outcome(outcome)
    if not outcome.dry_run:
        _left_behind(registry, args.service, update_configs=args.update_configs)
    return EXIT_OK


def add(sub: Subparsers) -> None:
    release = service_command(
        sub,
        "release",
        "release a service's port",
        example="portreg release invoice --update-configs",
    )
    release.add_argument("--update-configs", action="store_true", help="also edit config files")
    add_dry_run(release)
    release.set_defaults(handler=main)
