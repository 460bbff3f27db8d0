"""The command line: parse arguments, call the API, format output. Nothing else.

Exit codes: 0 done; 1 nothing found (``query``, ``release`` of an unknown
service) or ``check`` found errors; 2 the user must fix something first (bad
name, bad file, bad config, full range, busy lock, unreachable store).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from portreg.errors import EXIT_NOT_FOUND, EXIT_OK, EXIT_USER, PortregError

if TYPE_CHECKING:
    from portreg.api import Outcome, Registry

Command = Callable[[argparse.Namespace], int]


def _out(text: str = "", stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _registry(args: argparse.Namespace) -> Registry:
    from portreg.api import Registry

    return Registry.open(args.root, config=args.config, store=args.store)


def _print_outcome(outcome: Outcome, *, json_output: bool = False) -> None:
    """Messages and changed files (or the diff, for --dry-run); warnings go to stderr."""
    for warning in outcome.warnings:
        _err(warning)
    if outcome.dry_run:
        from portreg.plan import render_diff

        sys.stdout.write(render_diff(outcome.edits))
        _err("(dry run: nothing was written)" if outcome.edits else "(dry run: nothing to change)")
        return
    if json_output:
        return
    for message in outcome.messages:
        _out(message)
    for edit in outcome.edits:
        _out(f"   {'Created' if edit.before is None else 'Updated'} {edit.display}")


# ---------------------------------------------------------------- commands


def cmd_assign(args: argparse.Namespace) -> int:
    outcome = _registry(args).assign(
        args.service,
        port=args.port,
        force=args.force,
        update_configs=args.update_configs,
        scaffold=args.scaffold,
        dry_run=args.dry_run,
    )
    _print_outcome(outcome, json_output=args.json)
    if args.json and not args.dry_run and outcome.assignment is not None:
        payload = outcome.assignment.as_json()
        payload.update(new=outcome.new, changed_files=outcome.changed_files)
        _out(json.dumps(payload, ensure_ascii=False))
    return EXIT_OK


def cmd_query(args: argparse.Namespace) -> int:
    found = _registry(args).query(args.service)
    if found is None:
        _err(f"ℹ️  Service '{args.service}' has no port assigned")
        _err(f"   Assign one with: portreg assign {args.service} --update-configs")
        return EXIT_NOT_FOUND
    if args.json:
        _out(json.dumps(found.as_json()))
    else:
        _out(f"Service '{found.service}': Port {found.port}  NodePort {found.node_port}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    items = _registry(args).assignments()
    if args.json:
        _out(json.dumps([item.as_json() for item in items], indent=2))
        return EXIT_OK
    rule = "-" * 50
    lines = ["Port Assignments:", rule]
    lines += [f"  {a.service:<28}Port: {a.port}  NodePort: {a.node_port}" for a in items]
    lines += [rule, "", f"Total: {len(items)} service{'' if len(items) == 1 else 's'}"]
    _out("\n".join(lines))
    return EXIT_OK


def cmd_release(args: argparse.Namespace) -> int:
    outcome = _registry(args).release(
        args.service, update_configs=args.update_configs, dry_run=args.dry_run
    )
    _print_outcome(outcome)
    return EXIT_OK


def cmd_update_configs(args: argparse.Namespace) -> int:
    if bool(args.services) == bool(args.all):
        raise PortregError("name the services to update, or pass --all", hint="see --help")
    outcome = _registry(args).update_configs(args.services or None, dry_run=args.dry_run)
    _print_outcome(outcome)
    if not outcome.dry_run and not outcome.edits:
        _out("ℹ️  Config files already match the registry")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from portreg.api import timestamp
    from portreg.config import load_settings
    from portreg.init import git_edits, init_edits, register_merge_driver
    from portreg.plan import apply_edits
    from portreg.workspace import read_text

    settings = load_settings(args.root, args.config)
    edits = init_edits(settings, compat_script=args.compat_script, timestamp=timestamp())
    if args.git:
        register_merge_driver(settings.root)
        edits += git_edits(settings, read_text)
    for edit in edits:
        edit.path.parent.mkdir(parents=True, exist_ok=True)
    apply_edits(edits)
    for edit in edits:
        _out(f"✅ {'Created' if edit.before is None else 'Updated'} {edit.display}")
        if edit.display.endswith(".py"):
            edit.path.chmod(0o755)
    if args.git:
        _out("✅ Registered the git merge driver (git config merge.portreg.driver)")
    elif not edits:
        _out("ℹ️  Nothing to do: portreg.toml and the registry already exist")
    return EXIT_OK


def cmd_merge_driver(args: argparse.Namespace) -> int:
    """Git merge driver: merge %O %A %B into %A; a clash moved theirs, which we report."""
    from portreg.config import load_settings
    from portreg.merge import merge_texts
    from portreg.plan import apply_edits
    from portreg.workspace import FileEdit, read_text

    settings = load_settings(args.root, args.config)
    ours_path = Path(args.ours)
    texts = [read_text(Path(name)) for name in (args.base, args.ours, args.theirs)]
    if texts[1] is None or texts[2] is None:
        raise PortregError("merge-driver: ours or theirs does not exist", where=args.ours)
    merged, result = merge_texts(settings, texts[0], texts[1], texts[2], settings.registry)
    apply_edits([FileEdit(ours_path, args.ours, texts[1], merged)])
    for move in result.reassigned:
        _err(f"portreg: merge: {move.describe()}")
    if result.reassigned:
        names = " ".join(move.service for move in result.reassigned)
        _err(f"portreg: merge: now run `portreg update-configs {names}` and commit the result")
    return EXIT_OK


# ------------------------------------------------------------------ parser


def _service_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("service", help="service name (a DNS-1035 label, e.g. invoice)")
    return parser


def _add_dry_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="print the diff of every change; write nothing"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portreg",
        description="A port registry for microservice repos on kind + Helm (+ Tilt).",
        epilog="Exit codes: 0 done; 1 nothing found / check found errors; 2 fix something first.",
    )
    parser.add_argument("--root", help="repo root (default: found from the current folder)")
    parser.add_argument("--config", help="config file (default: portreg.toml or pyproject.toml)")
    parser.add_argument("--store", help="registry store URL (etcd://host:2379/prefix)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    assign = _service_command(sub, "assign", "assign the next free port to a service")
    assign.add_argument("--port", type=int, help="take exactly this port")
    assign.add_argument("--force", action="store_true", help="reassign a service that has a port")
    assign.add_argument("--update-configs", action="store_true", help="also edit config files")
    assign.add_argument("--scaffold", action="store_true", help="create a missing values file")
    assign.add_argument("--json", action="store_true", help="print the result as JSON")
    _add_dry_run(assign)
    assign.set_defaults(handler=cmd_assign)

    query = _service_command(sub, "query", "show a service's port and NodePort")
    query.add_argument("--json", action="store_true", help="print the result as JSON")
    query.set_defaults(handler=cmd_query)

    listing = sub.add_parser("list", help="list every assignment")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=cmd_list)

    release = _service_command(sub, "release", "release a service's port")
    release.add_argument("--update-configs", action="store_true", help="also edit config files")
    _add_dry_run(release)
    release.set_defaults(handler=cmd_release)

    update = sub.add_parser("update-configs", help="bring config files in line with the registry")
    update.add_argument("services", nargs="*", metavar="SERVICE")
    update.add_argument("--all", action="store_true", help="every registered service")
    _add_dry_run(update)
    update.set_defaults(handler=cmd_update_configs)

    init = sub.add_parser("init", help="write portreg.toml and an empty registry")
    init.add_argument(
        "--compat-script", action="store_true", help="also write scripts/assign-port.py"
    )
    init.add_argument("--git", action="store_true", help="register the registry's git merge driver")
    init.set_defaults(handler=cmd_init)

    merge = sub.add_parser("merge-driver", help="git merge driver for the registry (%%O %%A %%B)")
    merge.add_argument("base", help="git's %%O: the common ancestor's registry")
    merge.add_argument("ours", help="git's %%A: our registry; the result is written here")
    merge.add_argument("theirs", help="git's %%B: the other branch's registry")
    merge.set_defaults(handler=cmd_merge_driver)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every PortregError becomes one line on stderr and its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except PortregError as exc:
        _err(f"portreg: error: {exc.line()}")
        return exc.exit_code
    except KeyboardInterrupt:
        _err("portreg: interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK


__all__ = ["EXIT_USER", "build_parser", "main"]
