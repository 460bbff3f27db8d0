"""The command line: parse arguments, call the API, format output. Nothing else.

Exit codes: 0 done; 1 nothing found (``query``, ``release`` of an unknown
service) or ``check`` found errors; 2 the user must fix something first (bad
name, bad file, bad config, full range, busy lock, unreachable store).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from portreg.cli import output
from portreg.errors import EXIT_NOT_FOUND, EXIT_OK, EXIT_USER, PortregError

if TYPE_CHECKING:
    import argparse
    from typing import Any, NoReturn, TextIO, TypeAlias

    from portreg.api import Outcome, Registry
    from portreg.commands.check import Report
    from portreg.commands.init import Survey
    from portreg.commands.ports import Binding
    from portreg.config import Settings
    from portreg.io.workspace import FileEdit
    from portreg.model import Assignment

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

Command = Callable[["argparse.Namespace"], int]
GLOBAL_OPTIONS = ("--root", "--config", "--store")  # the options before a command


def _out(text: str = "", stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


def _err(text: str) -> None:
    print(text, file=sys.stderr)


NO_REGISTRY = (
    "ℹ️  no registry yet ({registry}): `portreg init` writes it, and `portreg reconcile` "
    "records the services the files hold"
)
NO_CONFIG = (
    "ℹ️  no portreg.toml: using the layout and ports found in the files "
    "(`portreg init` writes them down)"
)


def _registry(args: argparse.Namespace) -> Registry:
    from portreg.api import Registry

    registry = Registry.open(args.root, config=args.config, store=args.store)
    # said once, after the command's own output, and never beside an error's one line
    args.no_config = registry.settings.source is None
    if registry.settings.store is None:  # a file registry: said when the command leaves none
        args.registry_file = (registry.settings.registry_path, registry.settings.registry)
    return registry


def _after(args: argparse.Namespace) -> None:
    """What a command says last about the repo itself: no config, no registry yet (so an
    empty listing or a clean check never reads as a healthy registry)."""
    if getattr(args, "no_config", False):
        _err(NO_CONFIG)
    registry = getattr(args, "registry_file", None)
    if registry is not None and not os.path.lexists(registry[0]):
        _err(NO_REGISTRY.format(registry=registry[1]))


def _print_outcome(outcome: Outcome, *, json_output: bool = False) -> None:
    """Messages and changed files (or the diff, for --dry-run); warnings go to stderr."""
    for warning in outcome.warnings:
        _err(warning)
    if outcome.dry_run:
        from portreg.io.diff import render_diff

        if not json_output:  # as JSON, the diff is a field of the result
            sys.stdout.write(render_diff(outcome.edits))
        _err("(dry run: nothing was written)" if outcome.edits else "(dry run: nothing to change)")
        return
    if json_output:
        return
    for message in outcome.messages:
        _out(message)
    for edit in outcome.edits:
        verb = "Created" if edit.before is None else "Deleted" if edit.after is None else "Updated"
        _out(f"   {verb} {edit.display}")


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
    json_output = args.output == "json"
    _print_outcome(outcome, json_output=json_output)
    if json_output and outcome.assignment is not None:
        payload = outcome.assignment.as_json()
        payload.update(new=outcome.new, changed_files=outcome.changed_files)
        if outcome.dry_run:
            from portreg.io.diff import render_diff

            payload.update(dry_run=True, diff=render_diff(outcome.edits))
        _out(json.dumps(payload, ensure_ascii=False))
    return EXIT_OK


def cmd_query(args: argparse.Namespace) -> int:
    registry = _registry(args)
    found = registry.query(args.service)
    if found is None:
        from portreg.commands.check import adoption_hint
        from portreg.errors import no_port

        # a service the files already hold is adopted where it is, not assigned anew
        raise no_port(args.service, adoption_hint(registry, args.service))
    row = _row(registry, found)
    _out(output.query_json(row) if args.output == "json" else output.query_text(row))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    registry = _registry(args)
    rows = [_row(registry, a) for a in registry.assignments()]
    _out(output.list_json(rows) if args.output == "json" else output.list_text(rows))
    return EXIT_OK


def _row(registry: Registry, found: Assignment) -> output.Row:
    """A service's row; its NodePort only where the repo derives NodePorts."""
    derived = registry.settings.derives_node_ports
    return (found.service, found.port, found.node_port if derived else None)


def cmd_release(args: argparse.Namespace) -> int:
    registry = _registry(args)
    outcome = registry.release(
        args.service, update_configs=args.update_configs, dry_run=args.dry_run
    )
    _print_outcome(outcome)
    if not outcome.dry_run:
        _left_behind(registry, args.service, update_configs=args.update_configs)
    return EXIT_OK


def _left_behind(registry: Registry, service: str, *, update_configs: bool) -> None:
    """After a release: what ``check`` now reports about the service, and what finishes
    the release, so a green exit is not followed by a red check that says nothing of it."""
    from portreg.commands.check import check

    findings, _ignored = check(registry)
    about = [f for f in findings if service in (f.service, f.holder)]
    if not about:
        return
    errors = sum(f.severity == "error" for f in about)
    tally = f"{errors} error{'' if errors == 1 else 's'}, {len(about) - errors} warning"
    tally += "" if len(about) - errors == 1 else "s"
    _err(f"⚠️  `portreg check` now reports {tally} about {service}:")
    for finding in about:
        _err(f"   {finding.path}:{finding.line}: {finding.code} {finding.message}")
    if update_configs:  # what is left, the warnings above name: portreg edits none of it
        _err(f"   Edit them out by hand, or list {service} in [ignore] services")
    else:
        _err(f"   Finish the release with: portreg release {service} --update-configs")


def cmd_update_configs(args: argparse.Namespace) -> int:
    if bool(args.services) == bool(args.all):
        raise PortregError("name the services to update, or pass --all", hint="see --help")
    outcome = _registry(args).update_configs(
        args.services or None, dry_run=args.dry_run, all_fields=args.all_fields
    )
    _print_outcome(outcome)
    if not outcome.dry_run and not outcome.edits:
        _out("ℹ️  Config files already match the registry")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from portreg.commands.init import (
        COMPAT_PATH,
        git_edits,
        init_edits,
        register_merge_driver,
        require_git_checkout,
        survey_notes,
    )
    from portreg.config import load_settings
    from portreg.io.files import read_text
    from portreg.io.transaction import apply_edits
    from portreg.model.registry_json import timestamp

    if args.force and not args.compat_script:  # --force alone would do nothing, silently
        raise PortregError(
            "--force replaces scripts/assign-port.py, so it needs --compat-script",
            where="init",
            hint="run `portreg init --compat-script --force`, or drop --force",
        )
    if args.update:
        return _init_update(args)
    settings = load_settings(args.root, args.config, new=True)
    try:
        script = read_text(settings.root / COMPAT_PATH)
    except PortregError:
        script = ""  # a folder or a FIFO by that name: not portreg's, left as it is
    settings, config, notes = _found(settings)
    edits = init_edits(
        settings,
        config=config,
        compat_script=args.compat_script,
        timestamp=timestamp(),
        read=read_text,
        force=args.force,
    )
    if args.git:
        require_git_checkout(settings.root)
        edits += git_edits(settings, read_text)
    if args.dry_run:
        from portreg.io.diff import render_diff

        _print_found(notes)
        sys.stdout.write(render_diff(edits))
        _err("(dry run: nothing was written)" if edits else "(dry run: nothing to change)")
        return EXIT_OK
    apply_edits(edits, root=settings.root)  # refuses a path outside before git is touched
    _print_found(notes)
    if args.git:
        register_merge_driver(settings.root)
    for edit in edits:
        _out(f"✅ {'Created' if edit.before is None else 'Replaced'} {edit.display}")
    if args.git:
        _out("✅ Registered the git merge driver (git config merge.portreg.driver)")
    elif not edits:
        _out("ℹ️  Nothing to do: portreg.toml and the registry already exist")
    found = _survey(args, script)
    for note in survey_notes(found, compat_script=args.compat_script, force=args.force):
        _out(note)
    return EXIT_OK


def _init_update(args: argparse.Namespace) -> int:
    """``init --update``: the config's keys brought in line with what the files show now,
    shown as a diff (and written unless ``--dry-run``); every other byte stays."""
    from dataclasses import replace
    from pathlib import Path

    from portreg.check.layout import found_config
    from portreg.commands.init import update_changes
    from portreg.config import found_layout, load_settings, settings_from_table, written_table
    from portreg.edit.toml import set_keys
    from portreg.io.diff import render_diff
    from portreg.io.files import read_text
    from portreg.io.transaction import apply_edits
    from portreg.io.workspace import FileEdit

    settings = load_settings(args.root, args.config)
    if (
        settings.source is None
        or not settings.source.endswith(".toml")
        or (settings.source.endswith("pyproject.toml"))
    ):
        raise PortregError(
            "init --update edits a portreg.toml, and there is none here",
            hint="run `portreg init` to write one (a [tool.portreg] table is yours to edit)",
        )
    written = written_table(settings)
    layout, notes = found_layout(settings.root, {})
    fresh = settings_from_table(settings.root, {**written, **layout}, settings.source)
    found = found_config(replace(fresh, layout=layout, layout_notes=tuple(notes)))
    before = read_text(settings.source) or ""
    after = set_keys(before, update_changes(written, found.table))
    name = settings.config_name or "portreg.toml"
    edits = [] if after == before else [FileEdit(Path(settings.source), name, before, after)]
    _print_found(found.notes)
    sys.stdout.write(render_diff(edits))
    if args.dry_run or not edits:
        same = f"ℹ️  {name} already says what the files show"
        _err("(dry run: nothing was written)" if edits else same)
        return EXIT_OK
    apply_edits(edits, root=settings.root)
    _out(f"✅ Updated {name}")
    return EXIT_OK


def _print_found(notes: list[str]) -> None:
    for note in notes:
        _out(f"🔎 {note}")


def _found(settings: Settings) -> tuple[Settings, str, list[str]]:
    """The settings, config text and notes ``init`` writes for a repo with no config (a
    repo that has one keeps it: the settings it describes, and no note)."""
    if settings.source is not None:
        return settings, "", []
    from portreg.check.layout import found_config
    from portreg.commands.init import render_config
    from portreg.config import settings_from_table

    found = found_config(settings)
    chosen = settings_from_table(settings.root, found.table, None)
    return chosen, render_config(found.table), found.notes


def _survey(args: argparse.Namespace, script: str | None) -> Survey:
    """What the repo holds now that it is a portreg repo: the services ``fix`` would adopt."""
    from portreg.commands.check import adoptable
    from portreg.commands.init import Survey

    try:
        registry = _registry(args)
        services, unreadable = adoptable(registry)
        return Survey(services, len(registry.state().assignments), script, unreadable)
    except PortregError as exc:
        return Survey([], 0, script, [exc.line()], broken=True)


def cmd_merge_driver(args: argparse.Namespace) -> int:
    """Git merge driver: merge %O %A %B into %A; a clash moved theirs, which we report."""
    from portreg.commands.merge import merge_texts
    from portreg.config import load_settings
    from portreg.io.files import read_text
    from portreg.io.transaction import apply_edits
    from portreg.io.workspace import FileEdit

    settings = load_settings(args.root, args.config)
    from pathlib import Path

    ours_path = Path(args.ours)
    texts = [read_text(Path(name)) for name in (args.base, args.ours, args.theirs)]
    if texts[1] is None or texts[2] is None:
        raise PortregError("merge-driver: ours or theirs does not exist", where=args.ours)
    in_use = _ports_in_files(settings)
    merged, result = merge_texts(
        settings, texts[0], texts[1], texts[2], settings.registry, in_use=in_use
    )
    apply_edits([FileEdit(ours_path, args.ours, texts[1], merged)], root=None)  # git's path
    for move in result.reassigned:
        _err(f"portreg: merge: {move.describe()}")
    if result.reassigned:
        names = " ".join(move.service for move in result.reassigned)
        _err(f"portreg: merge: now run `portreg update-configs {names}` and commit the result")
    return EXIT_OK


def _ports_in_files(settings: Settings) -> set[int]:
    """The ports the repo's files use, which a port the merge moves must avoid (as assign's)."""
    from portreg.io.workspace import Workspace
    from portreg.targets import build_targets
    from portreg.targets.in_use import ports_in_use

    return ports_in_use(Workspace(settings.root), build_targets(settings))


def cmd_export(args: argparse.Namespace) -> int:
    """Assignments as markdown, json, csv, env or an HTML port map; stdout or ``--out FILE``."""
    registry = _registry(args)
    if args.output == "html":
        from portreg.commands.export_html import render_html

        found, conflicts, host = _check_for_html(registry)
        text = render_html(
            registry.settings,
            registry.state(),
            found.findings,
            conflicts=conflicts,
            host=host,
            ignored=len(found.ignored),
        )
    else:
        from portreg.commands.export import RENDERERS

        text = RENDERERS[args.output](registry.assignments(), registry.settings.derives_node_ports)
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    from pathlib import Path

    from portreg.io.files import RealPaths, read_text, require_user_output
    from portreg.io.workspace import FileEdit

    path = Path(args.out)
    require_user_output(args.out, _own_files(registry), _git_dir(registry))
    in_repo = RealPaths(str(registry.settings.root)).inside(str(path.absolute()))
    registry.write_out(lambda _: [FileEdit(path, args.out, read_text(path), text)], in_repo=in_repo)
    _err(f"✅ Wrote {args.out}")
    return EXIT_OK


def _own_files(registry: Registry) -> list[str]:
    """The files no output may overwrite: the registry and the config."""
    settings = registry.settings
    return [str(settings.registry_path), *([settings.source] if settings.source else [])]


def _git_dir(registry: Registry) -> str | None:
    from portreg.io.lock import git_dir

    return git_dir(str(registry.settings.root))


def _check_for_html(registry: Registry) -> tuple[Report, dict[int, list[str]], list[Binding]]:
    """What ``check`` reports (its ignores applied), every port two holders claim
    (registry or files), and the host bindings ``portreg ports`` lists: one reading."""
    from portreg.commands import ports
    from portreg.commands.check import judge, read
    from portreg.io.workspace import Workspace

    ws = Workspace(registry.settings.root)
    facts = read(registry, ws)
    conflicts = {}
    for port, claims in facts.holders.items():
        names = list(dict.fromkeys(claim.holder for claim in claims))
        if len(names) > 1:
            conflicts[port] = names
    return judge(facts, ws), conflicts, ports.from_facts(facts).namespace("host")


def cmd_docs(args: argparse.Namespace) -> int:
    """Replace the port table between the portreg markers; ``--check``: exit 1 if stale."""
    from portreg.commands.docs import docs_plan
    from portreg.commands.export import render_markdown

    registry = _registry(args)
    from pathlib import Path

    root = registry.settings.root
    named = [(Path(name), name) for name in args.files]
    files = named or [(root / name, name) for name in registry.settings.docs]
    if not files:
        raise PortregError("name a Markdown file, or list them in portreg.toml (docs = [...])")
    from portreg.io.files import read_text, require_user_output
    from portreg.io.workspace import Workspace

    for name in args.files:
        require_user_output(name, _own_files(registry), _git_dir(registry))
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
            _err(f"portreg: docs: {why} (run `portreg docs {edit.display}`)")
        return EXIT_NOT_FOUND if stale else EXIT_OK
    # the config's files lie in the repo; files named on the command line are the user's
    edits = registry.write_out(plan, in_repo=not args.files)
    for edit in edits:
        _out(f"✅ Updated the port table in {edit.display}")
    for name in current:
        _out(f"ℹ️  {name} is up to date")
    return EXIT_OK


def cmd_completion(args: argparse.Namespace) -> int:
    from portreg.cli.completion import render_completion

    sys.stdout.write(render_completion(args.shell, build_parser()))
    return EXIT_OK


def cmd_complete(args: argparse.Namespace) -> int:
    """Hidden: words for shell completion. Silent on any error: a prompt is no place for one."""
    try:
        names = sorted(_registry(args).state().assignments)
    except PortregError:
        return EXIT_OK
    _out("\n".join(names))
    return EXIT_OK


def _services(count: int) -> str:
    return f"{count} service{'' if count == 1 else 's'}"


def cmd_store(args: argparse.Namespace) -> int:
    """``store push|pull|status``: move the registry between the file and etcd."""
    from portreg.config import load_settings
    from portreg.store import etcd, open_store

    settings = load_settings(args.root, args.config)
    store = etcd.require_etcd(open_store(settings, args.store))
    if args.action == "push":
        count = _services(etcd.push(settings, store, force=args.force))
        _out(f"✅ Pushed {settings.registry} ({count}) to {store.location}")
        _out(f"   revision {store.revision}")
    elif args.action == "pull":
        edit, services = etcd.pull(settings, store)
        if edit is None:
            _out(f"ℹ️  {settings.registry} already matches {store.location}")
        else:
            _out(f"✅ Pulled {store.location} ({_services(services)}) into {edit.display}")
    elif args.output == "json":
        from dataclasses import asdict

        _out(json.dumps(asdict(etcd.status(store)), ensure_ascii=False))
    else:
        info = etcd.status(store)
        _out(f"Store:     {info.location}\nEndpoint:  {info.endpoint}\nKey:       {info.key}")
        if info.services is None:
            _out("Revision:  (key not set; run `portreg store push`)")
        else:
            _out(f"Revision:  {info.revision} (cluster {info.cluster_revision})")
            _out(f"Services:  {info.services}")
    return EXIT_OK


# ------------------------------------------------------------------ parser


def cmd_check(args: argparse.Namespace) -> int:
    """Exit 0 clean (warnings allowed), 1 errors (``--strict``: warnings too), 2 cannot run."""
    from portreg.check.findings import exit_code
    from portreg.check.format import FORMATS
    from portreg.commands.check import report

    found = report(_registry(args), live=args.live)
    render = FORMATS[args.output]
    sys.stdout.write(
        render(found.findings, verbose=args.verbose, ignored=found.ignored, unread=found.unread)
    )
    return exit_code(found.findings, strict=args.strict)


def cmd_ports(args: argparse.Namespace) -> int:
    from portreg.commands import ports

    sys.stdout.write(ports.render(ports.run(_registry(args)), args.output))
    return EXIT_OK


def _print_repair(outcome: Outcome) -> None:
    """What the plan does first, then the diff or the changed files. A dry run says what
    it plans on stderr: its stdout is the diff alone, for ``| git apply`` or ``| patch``."""
    if outcome.dry_run:
        for message in outcome.messages:
            _err(message)
    _print_outcome(outcome)


def cmd_reconcile(args: argparse.Namespace) -> int:
    from portreg.commands.check import reconcile

    registry = _registry(args)
    _print_repair(reconcile(registry, update_configs=args.update_configs, dry_run=args.dry_run))
    return EXIT_OK


def cmd_fix(args: argparse.Namespace) -> int:
    from portreg.commands.check import fix

    registry = _registry(args)
    outcome = fix(registry, prune=args.prune, dry_run=args.dry_run, adopt=args.adopt)
    _print_repair(outcome)
    if outcome.dry_run:
        return EXIT_OK
    return _errors_left(registry, outcome)


def _errors_left(registry: Registry, outcome: Outcome) -> int:
    """After ``fix``: exit 1, saying so, when ``check`` would still find errors (a file
    portreg cannot read or edit faithfully) or an edit was refused (its Not fixed line
    says which), so a script never takes "fixed" on trust."""
    from portreg.check.repair import left_unfixed
    from portreg.commands.check import check

    findings, _ignored = check(registry)
    errors = [finding for finding in findings if finding.severity == "error"]
    if errors:
        count = f"{len(errors)} error{'' if len(errors) == 1 else 's'}"
        _err(f"❌ {count} left that fix cannot repair; `portreg check` lists them")
        return EXIT_NOT_FOUND
    refused = left_unfixed(outcome.warnings)
    if refused:
        count = f"{len(refused)} edit{'' if len(refused) == 1 else 's'}"
        _err(f"❌ {count} left that fix cannot make (the Not fixed lines above); make them by hand")
        return EXIT_NOT_FOUND
    return EXIT_OK


EXAMPLES = {
    "assign": "portreg assign invoice --update-configs",
    "query": "portreg query invoice -o json",
    "release": "portreg release invoice --update-configs",
    "list": "portreg list -o json",
    "update-configs": "portreg update-configs --all --dry-run",
    "check": "portreg check -o github",
    "ports": "portreg ports -o json",
    "reconcile": "portreg reconcile --update-configs",
    "fix": "portreg fix --dry-run",
    "export": "portreg export -o html --out ports.html",
    "docs": "portreg docs README.md",
    "store": "portreg --store etcd://127.0.0.1:2379/portreg/rerp store push",
    "merge-driver": "git config merge.portreg.driver 'portreg merge-driver %O %A %B'",
    "completion": "portreg completion bash > ~/.local/share/bash-completion/completions/portreg",
    "init": "portreg init --git",
}


def _command(sub: Subparsers, name: str, help_text: str) -> argparse.ArgumentParser:
    """A command's parser: its one-line help doubles as its description, with an example."""
    example = EXAMPLES.get(name, "")
    epilog = f"example: {example}" if example else None
    return sub.add_parser(name, help=help_text, description=help_text, epilog=epilog)


def _service_command(sub: Subparsers, name: str, help_text: str) -> argparse.ArgumentParser:
    parser = _command(sub, name, help_text)
    parser.add_argument("service", help="service name (a DNS-1035 label, e.g. invoice)")
    return parser


def _add_dry_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="print the diff of every change; write nothing"
    )


def _add_output(parser: argparse.ArgumentParser, choices: Sequence[str]) -> None:
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


def _port_number(text: str) -> int:
    """``--port``: ASCII digits only (``int`` would take ``٨٠٠٥`` or ``8_005``)."""
    import argparse

    from portreg.model import is_digits

    if not is_digits(text):
        raise argparse.ArgumentTypeError(f"expected a port number (ASCII digits), got {text!r}")
    return int(text)


def _add_assign(sub: Subparsers) -> None:
    assign = _service_command(sub, "assign", "assign the next free port to a service")
    assign.add_argument("--port", type=_port_number, help="take exactly this port")
    assign.add_argument("--force", action="store_true", help="reassign a service that has a port")
    assign.add_argument("--update-configs", action="store_true", help="also edit config files")
    assign.add_argument("--scaffold", action="store_true", help="create a missing values file")
    _add_output(assign, ("text", "json"))
    _add_dry_run(assign)
    assign.set_defaults(handler=cmd_assign)


def _add_query(sub: Subparsers) -> None:
    query = _service_command(sub, "query", "show a service's port and NodePort")
    _add_output(query, ("text", "json"))
    query.set_defaults(handler=cmd_query)


def _add_list(sub: Subparsers) -> None:
    listing = _command(sub, "list", "list every assignment")
    _add_output(listing, ("text", "json"))
    listing.set_defaults(handler=cmd_list)


def _add_release(sub: Subparsers) -> None:
    release = _service_command(sub, "release", "release a service's port")
    release.add_argument("--update-configs", action="store_true", help="also edit config files")
    _add_dry_run(release)
    release.set_defaults(handler=cmd_release)


def _add_update_configs(sub: Subparsers) -> None:
    update = _command(sub, "update-configs", "bring config files in line with the registry")
    update.add_argument("services", nargs="*", metavar="SERVICE")
    update.add_argument("--all", action="store_true", help="every registered service")
    update.add_argument(
        "--all-fields",
        action="store_true",
        help="also the [helm.set]/[[targets]] fields that hold no port (names, images, binaries)",
    )
    _add_dry_run(update)
    update.set_defaults(handler=cmd_update_configs)


def _add_check(sub: Subparsers) -> None:
    check = _command(sub, "check", "report every port conflict across the config files")
    _add_output(check, ("text", "json", "github", "sarif"))
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    check.add_argument("--live", action="store_true", help="also warn about ports in use here")
    check.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show info notes (JSON always has them) and the ports a file computes",
    )
    check.set_defaults(handler=cmd_check)


def _add_ports(sub: Subparsers) -> None:
    from portreg.commands import ports

    parser = _command(sub, "ports", ports.HELP)
    _add_output(parser, ports.OUTPUTS)
    parser.set_defaults(handler=cmd_ports)


def _add_reconcile(sub: Subparsers) -> None:
    reconcile = _command(
        sub, "reconcile", "adopt the services the repo names that the registry lacks"
    )
    reconcile.add_argument(
        "--update-configs", action="store_true", help="also edit the adopted services' files"
    )
    _add_dry_run(reconcile)
    reconcile.set_defaults(handler=cmd_reconcile)


def _add_fix(sub: Subparsers) -> None:
    fix = _command(sub, "fix", "rewrite the registry and files so `check` has no errors")
    fix.add_argument("--prune", action="store_true", help="delete entries the registry lacks")
    fix.add_argument(
        "--no-adopt",
        dest="adopt",
        action="store_false",
        help="do not adopt services the registry lacks (reconcile is the adopt-only step)",
    )
    _add_dry_run(fix)
    fix.set_defaults(handler=cmd_fix)


def _add_export(sub: Subparsers) -> None:
    from portreg.commands.export import FORMATS

    export = _command(sub, "export", "export the assignments (markdown, json, csv, ...)")
    _add_output(export, FORMATS)
    export.add_argument("--out", metavar="FILE", help="write to FILE, not stdout")
    export.set_defaults(handler=cmd_export)


def _add_docs(sub: Subparsers) -> None:
    docs = _command(sub, "docs", "update the port table in Markdown files")
    docs.add_argument("files", nargs="*", metavar="FILE", help="default: docs in portreg.toml")
    docs.add_argument("--check", action="store_true", help="exit 1 if a table is out of date")
    docs.set_defaults(handler=cmd_docs)


def _add_store(sub: Subparsers) -> None:
    store = _command(sub, "store", "copy the registry between the file and etcd")
    store.add_argument("action", choices=("push", "pull", "status"), help="what to do")
    store.add_argument("--force", action="store_true", help="push: overwrite an existing key")
    _add_output(store, ("text", "json"))  # what status prints
    store.set_defaults(handler=cmd_store)


def _add_merge_driver(sub: Subparsers) -> None:
    merge = _command(sub, "merge-driver", "git merge driver for the registry (%%O %%A %%B)")
    merge.add_argument("base", help="git's %%O: the common ancestor's registry")
    merge.add_argument("ours", help="git's %%A: our registry; the result is written here")
    merge.add_argument("theirs", help="git's %%B: the other branch's registry")
    merge.set_defaults(handler=cmd_merge_driver)


def _add_completion(sub: Subparsers) -> None:
    completion = _command(sub, "completion", "print a shell completion script")
    completion.add_argument("shell", choices=("bash", "zsh", "fish"))
    completion.set_defaults(handler=cmd_completion)


def _add_complete(sub: Subparsers) -> None:
    """The hidden ``__complete`` the completion scripts call (its parser has no help)."""
    complete = sub.add_parser("__complete")
    complete.add_argument("what", choices=("services",))
    complete.set_defaults(handler=cmd_complete)


def _add_init(sub: Subparsers) -> None:
    init = _command(
        sub, "init", "find the repo's layout and ports; write portreg.toml and an empty registry"
    )
    init.add_argument(
        "--compat-script", action="store_true", help="also write scripts/assign-port.py"
    )
    init.add_argument("--git", action="store_true", help="register the registry's git merge driver")
    init.add_argument(
        "--force", action="store_true", help="with --compat-script: replace an existing script"
    )
    init.add_argument(
        "--dry-run", action="store_true", help="show the files init would write; write nothing"
    )
    init.add_argument(
        "--update",
        action="store_true",
        help="bring portreg.toml's keys in line with what the files show now (shown as a diff)",
    )
    init.set_defaults(handler=cmd_init)


COMMANDS: dict[str, Callable[[Subparsers], None]] = {
    "assign": _add_assign,
    "query": _add_query,
    "list": _add_list,
    "release": _add_release,
    "update-configs": _add_update_configs,
    "check": _add_check,
    "ports": _add_ports,
    "reconcile": _add_reconcile,
    "fix": _add_fix,
    "export": _add_export,
    "docs": _add_docs,
    "store": _add_store,
    "merge-driver": _add_merge_driver,
    "completion": _add_completion,
    "init": _add_init,
    "__complete": _add_complete,
}


QUICK_START = """\
Quick start:
  portreg init            write portreg.toml and an empty registry
  portreg check           report every port clash and file out of line
  portreg fix --dry-run   preview the edits that make `check` pass (then: portreg fix)"""
ABOUT = "A port registry for microservice repos on kind + Helm (+ Tilt)."


def short_help() -> str:
    """What ``portreg`` alone prints: the quick start, then every command in a line."""
    import argparse

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
    """The whole parser, or with ``only`` just that command's (a run needs one: start-up)."""
    import argparse

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
    from portreg import __version__

    parser.add_argument("-V", "--version", action="version", version=f"portreg {__version__}")
    parser.add_argument("--root", help="repo root (default: found from the current folder)")
    parser.add_argument("--config", help="config file (default: portreg.toml or pyproject.toml)")
    parser.add_argument("--store", help="registry store URL (etcd://host:2379/prefix)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, add in COMMANDS.items():
        if only is None or name == only:
            add(sub)
    return parser


def usage_error(prog: str, message: str, command: str | None = None) -> PortregError:
    """A usage mistake as one line: the command it is about, what is wrong, a suggestion.

    argparse's own words name the program twice and list the hidden ``__complete``;
    these name only public commands and offer the nearest one (``did you mean``).
    """
    import difflib
    import re

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
        _after(args)
        return code
    except SystemExit as exc:  # --help and --version print and stop there
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except PortregError as exc:
        _err(f"portreg: error: {exc.line()}")
        return exc.exit_code
    except KeyboardInterrupt:
        _err("portreg: interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK


__all__ = ["EXIT_USER", "build_parser", "main"]
