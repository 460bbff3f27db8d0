"""The command line: parse the arguments, run the command's module, print the one error
line. Each command (its options, its run, its rendering) lives in ``portreg.commands``.

Exit codes: 0 done; 1 nothing found (``query``, ``release`` of an unknown
service) or ``check`` found errors; 2 the user must fix something first (bad
name, bad file, bad config, full range, busy lock, unreachable store).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from portreg import __version__
from portreg.commands import after
from portreg.errors import EXIT_OK, EXIT_USER, PortregError

if TYPE_CHECKING:
    from typing import Any, NoReturn


Command = Callable[["argparse.Namespace"], int]


GLOBAL_OPTIONS = ("--root", "--config", "--store")  # the options before a command


# command -> where its options and its run live ("module:function" adding its parser);
# a new command is a module in portreg.commands and a line here
COMMANDS: dict[str, str] = {
    "assign": "portreg.commands.assign:add",
    "query": "portreg.commands.query:add",
    "list": "portreg.commands.listing:add",
    "release": "portreg.commands.release:add",
    "update-configs": "portreg.commands.update_configs:add",
    "check": "portreg.commands.check:add",
    "ports": "portreg.commands.ports:add",
    "reconcile": "portreg.commands.reconcile:add",
    "fix": "portreg.commands.fix:add",
    "export": "portreg.commands.export:add",
    "docs": "portreg.commands.docs:add",
    "store": "portreg.commands.store:add",
    "merge-driver": "portreg.commands.merge:add",
    "instance": "portreg.commands.instance:add",
    "env": "portreg.commands.env:add",
    "exec": "portreg.commands.env:add_exec",
    "completion": "portreg.cli.completion:add",
    "init": "portreg.commands.init:add",
    "__complete": "portreg.cli.completion:add_hidden",
}


QUICK_START = """\
Quick start:
  portreg init            write portreg.toml and an empty registry
  portreg check           report every port clash and file out of line
  portreg fix --dry-run   preview the edits that make `check` pass (then: portreg fix)"""


ABOUT = "A port registry for microservice repos on kind + Helm (+ Tilt)."


def short_help() -> str:
    """What ``portreg`` alone prints: the quick start, then every command in a line."""

    lines = [QUICK_START, "", "Commands:"]
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            lines += [
                f"  {c.dest:<16}{(c.help or '').replace('%%', '%')}"
                for c in action._choices_actions
            ]
    lines += ["", "`portreg COMMAND --help` says more about one; `portreg --help`: every option."]
    return "\n".join(lines) + "\n"


def command_of(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` (after the global options), if it names one."""
    index = 0
    while index < len(argv) and argv[index] in GLOBAL_OPTIONS:
        index += 2
    while index < len(argv) and argv[index].startswith(tuple(f"{o}=" for o in GLOBAL_OPTIONS)):
        index += 1
    word = argv[index] if index < len(argv) else None
    return word if word in COMMANDS else None


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` finds it: $COLUMNS, the
    terminal on stdout, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    stdout = sys.__stdout__
    try:
        return os.get_terminal_size(stdout.fileno()).columns or 80 if stdout else 80
    except (AttributeError, ValueError, OSError):
        return 80


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with ``only`` just that command's (a run needs one: start-up):
    each command module adds its own options."""

    class Formatter(argparse.HelpFormatter):
        """argparse's formatter with the width given, so it does not import shutil (and
        with it bz2 and lzma) to ask the terminal, on every run, for help it never shows."""

        def __init__(self, prog: str) -> None:
            super().__init__(prog, width=_columns() - 2)

        def _fill_text(self, text: str, width: int, indent: str) -> str:
            """The quick start keeps its lines (argparse would run them together)."""
            return "".join(indent + line + "\n" for line in text.splitlines())

    class Parser(argparse.ArgumentParser):
        """Usage mistakes are one line too (``-lead`` would otherwise print the usage block)."""

        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("formatter_class", Formatter)
            super().__init__(**kwargs)

        def error(self, message: str) -> NoReturn:
            raise usage_error(self.prog, message, command=only)

    parser: argparse.ArgumentParser = Parser(
        prog="portreg",
        description=f"{QUICK_START}\n\n{ABOUT}",
        epilog="Exit codes: 0 done; 1 nothing found / check found errors; 2 fix something first.",
    )

    parser.add_argument("-V", "--version", action="version", version=f"portreg {__version__}")
    parser.add_argument("--root", help="repo root (default: found from the current folder)")
    parser.add_argument("--config", help="config file (default: portreg.toml or pyproject.toml)")
    parser.add_argument("--store", help="registry store URL (etcd://host:2379/prefix)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, where in COMMANDS.items():
        if only is None or name == only:
            module, _, function = where.partition(":")
            getattr(importlib.import_module(module), function)(sub)
    return parser


def usage_error(prog: str, message: str, command: str | None = None) -> PortregError:
    """A usage mistake as one line: the command it is about, what is wrong, a suggestion.

    argparse's own words name the program twice and list the hidden ``__complete``;
    these name only public commands and offer the nearest one (``did you mean``).
    """
    import difflib

    # argparse reports a command's unknown options from the top parser: name the command
    where = prog.removeprefix("portreg").strip() or command or ""
    prog = f"portreg {where}" if where else "portreg"
    choice = re.match(r"argument COMMAND: invalid choice: '(.*?)'", message)
    unknown = re.match(r"unrecognized arguments: (.*)", message)
    if choice:
        word = choice.group(1)
        public = [name for name in COMMANDS if not name.startswith("_")]
        message = f"unknown command {word!r}"
        near = difflib.get_close_matches(word, public, n=1)
        hint = f"did you mean `portreg {near[0]}`?" if near else "see `portreg --help`"
        return PortregError(message, hint=hint)
    if unknown:
        options = _option_strings(where)
        words = unknown.group(1).split()
        near = [
            match
            for word in words
            for match in difflib.get_close_matches(word.split("=")[0], options, n=1, cutoff=0.75)
            if match != word.split("=")[0]  # an option of another command is no suggestion
        ]
        hint = f"did you mean {near[0]}?" if near else f"see `{prog} --help`"
        return PortregError(message, where=where or None, hint=hint)
    output = re.match(r"argument -o/--output: invalid choice: '(.*?)'", message)
    looks_like_file = output and ("." in output.group(1) or "/" in output.group(1))
    if output and looks_like_file and where == "export":  # -o once named the file
        hint = f"-o is the format; write a file with --out {output.group(1)}"
        return PortregError(message, where=where, hint=hint)
    return PortregError(message, where=where or None, hint=f"see `{prog} --help`")


def _option_strings(command: str) -> list[str]:
    """Every option a command (or the top level) takes, for a did-you-mean."""
    parser = build_parser(only=command or None)
    # after a command, the global options (--root, ...) are not taken: never suggested there
    found = [] if command else [o for action in parser._actions for o in action.option_strings]
    for action in parser._actions:
        for name, child in (getattr(action, "choices", None) or {}).items():
            if not command or name == command:
                found += [o for a in child._actions for o in a.option_strings]
    return found


def _degrade_output() -> None:
    """A stream that cannot encode a character prints a replacement for it: after a write,
    an ``✅`` on an ASCII terminal must not turn success into a traceback."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "") == "strict":
            reconfigure(errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every PortregError becomes one line on stderr and its exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    _degrade_output()
    if not argv:  # a newcomer's first try: the way in, not a usage error
        sys.stdout.write(short_help())
        return EXIT_OK
    try:
        args = build_parser(only=command_of(argv)).parse_args(argv)
        handler: Command = args.handler
        code = handler(args)
        after(args)
        return code
    except SystemExit as exc:  # --help and --version print and stop there
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except PortregError as exc:
        print(f"portreg: error: {exc.line()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("portreg: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


__all__ = ["EXIT_USER", "build_parser", "main"]
