"""``portreg check``: every port clash and file out of line, as text, JSON, GitHub
annotations or SARIF; it only reads."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from portreg.commands import add_output, command, open_registry
from portreg.commands.instance import checkout_of, ledger_of

if TYPE_CHECKING:
    import argparse

    from portreg.api import Registry
    from portreg.check.live import Here
    from portreg.commands import Subparsers


def main(args: argparse.Namespace) -> int:
    """Exit 0 clean (warnings allowed), 1 errors (``--strict``: warnings too), 2 cannot run."""
    from portreg.check.findings import exit_code
    from portreg.check.format import FORMATS
    from portreg.commands.engine import report

    registry = open_registry(args)
    found = report(registry, live=here(registry) if args.live else None)
    render = FORMATS[args.output]
    sys.stdout.write(
        render(found.findings, verbose=args.verbose, ignored=found.ignored, unread=found.unread)
    )
    return exit_code(found.findings, strict=args.strict)


def here(registry: Registry) -> Here:
    """This checkout's instance as the machine's ledger records it (instance 0, the
    committed ports, when it records none), and every other instance's ports."""
    from portreg.check.live import Here

    checkout = checkout_of(registry)
    blocks = ledger_of(registry).read()
    mine = next((b for b in blocks if b.checkout == checkout), None)
    others = {
        port: f"instance {b.instance} of {b.repo} at {b.checkout}"
        for b in blocks
        if b.checkout != checkout
        for port in b.ports
    }
    if mine is None:
        return Here(others=others)
    return Here(mine.offset, mine.host, others)


def add(sub: Subparsers) -> None:
    check = command(
        sub,
        "check",
        "report every port conflict across the config files",
        example="portreg check -o github",
    )
    add_output(check, ("text", "json", "github", "sarif"))
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    check.add_argument("--live", action="store_true", help="also warn about ports in use here")
    check.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show info notes (JSON always has them) and the ports a file computes",
    )
    check.set_defaults(handler=main)
