"""``portreg env`` and ``portreg exec -- CMD``: the environment of this checkout's
instance, printed for a shell (or direnv, or JSON) or given to a command.

Cheap on every call after the first: the ledger and the registry are read, and each
file the instance was read from is stat'ed (``commands.instance.recorded``).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shlex
import sys
from typing import TYPE_CHECKING

from portreg.commands import add_output, command, open_registry, out
from portreg.commands.instance import ensure, ledger_of, left_over, variables
from portreg.errors import PortregError

if TYPE_CHECKING:
    import argparse

    from portreg.commands import Subparsers

FORMATS = ("sh", "dotenv", "json")
EXIT_CANNOT_RUN = 127  # as a shell says when a command is not found
EXIT_NOT_RUNNABLE = 126  # ... and when it is found but cannot run


def environment(args: argparse.Namespace) -> dict[str, str]:
    registry = open_registry(args)
    return variables(ensure(registry, ledger_of(registry)), registry)


def main(args: argparse.Namespace) -> int:
    found = environment(args)
    if args.output == "json":
        out(json.dumps(found))
    elif args.output == "dotenv":
        out("\n".join(f"{name}={dotenv_value(name, value)}" for name, value in found.items()))
    else:
        stale = left_over(found, os.environ)
        lines = [f"unset {' '.join(stale)}"] if stale else []
        lines += [f"export {name}={shlex.quote(value)}" for name, value in found.items()]
        out("\n".join(lines))
    return 0


def dotenv_value(name: str, value: str) -> str:
    """A value as a dotenv line holds it literally: bare when plain, else in single quotes
    (compose and direnv expand ``$`` in a bare or double-quoted value)."""
    if re.fullmatch(r"[\w./:@+,-]*", value):
        return value
    if "'" in value or not value.isprintable():
        raise PortregError(
            f"{name}: {value!r} cannot be written as a dotenv line",
            hint="use `portreg env -o sh` or `-o json`, or a state folder with a plain path "
            "(PORTREG_STATE_HOME)",
        )
    return f"'{value}'"


def run(args: argparse.Namespace) -> int:
    """Become the command, with the instance's variables set (and what another instance's
    ``env`` left in this shell taken out): Ctrl-C, signals and the exit status are the
    command's own, as when a shell runs it."""
    argv = list(args.argv)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv or not argv[0]:
        raise PortregError("no command to run", hint="portreg exec -- tilt up")
    found = environment(args)
    stale = set(left_over(found, os.environ))
    env = {k: v for k, v in os.environ.items() if k not in stale} | found
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        raise cannot_run(argv[0], exc) from exc
    return 0  # not reached: the process is the command now


def cannot_run(name: str, exc: OSError) -> PortregError:
    """Why ``name`` did not start, with a shell's exit code: 127 not found, 126 found but
    not runnable (a folder, a file without its x bit)."""
    if exc.errno == errno.ENOENT:
        error = PortregError(f"cannot run {name}: {exc.strerror}", hint="is it installed?")
    elif os.path.isdir(name):
        error = PortregError(f"cannot run {name}: it is a folder", hint="name a command")
    else:
        error = PortregError(
            f"cannot run {name}: {exc.strerror}", hint=f"is it executable? chmod +x {name}"
        )
    error.exit_code = EXIT_CANNOT_RUN if exc.errno == errno.ENOENT else EXIT_NOT_RUNNABLE
    return error


def add(sub: Subparsers) -> None:
    parser = command(
        sub,
        "env",
        "print this checkout's instance variables for a shell (its ports, cluster, project)",
        example='eval "$(portreg env)"',
    )
    add_output(parser, FORMATS)
    parser.set_defaults(handler=main)


def add_exec(sub: Subparsers) -> None:
    parser = command(
        sub,
        "exec",
        "run a command with this checkout's instance variables set",
        example="portreg exec -- tilt up",
    )
    parser.add_argument("argv", nargs="...", metavar="-- CMD", help="the command and its arguments")
    parser.set_defaults(handler=run)
