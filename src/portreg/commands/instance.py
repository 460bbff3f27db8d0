"""``portreg instance [list|release|prune|kind-config]``: this checkout's instance on this
machine, and every other.

A checkout's instance is found in the machine's ledger (``store.ledger``) by the
checkout's path. The first command that needs it (``instance``, ``env``, ``exec``)
records it: the repo's files are read once, as ``check`` reads them, for every host
port the repo binds, and ``model.instances.choose`` finds the block under the
ledger's lock. After that, ``env`` reads the ledger and the registry only, as cheap
as ``query`` (and a ``stat`` of each file the block was read from), unless the
registry holds a service the block does not cover or one of those files changed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from portreg.commands import add_output, command, err, open_registry, out
from portreg.config import K8S_NODE_PORT_RANGE, Settings
from portreg.errors import EXIT_OK, NotFoundError
from portreg.io.files import stamp
from portreg.io.workspace import Workspace
from portreg.model import port_variable
from portreg.model.instances import (
    SHELL_NAME,
    TILT_UI_PORT,
    Block,
    InstanceError,
    Machine,
    choose,
    suffixed,
)
from portreg.store.ledger import (
    instance_folder,
    open_ledger,
    repo_identity,
    short_mark,
    state_folder,
    write_private,
)

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Mapping, Sequence

    from portreg.api import Registry
    from portreg.check.facts import Facts
    from portreg.commands import Subparsers
    from portreg.store.ledger import Ledger
    from portreg.targets.base import Observation

ACTIONS = ("show", "list", "release", "prune", "kind-config")


# ------------------------------------------------------------------ the instance


def checkout_of(registry: Registry) -> str:
    return os.path.realpath(registry.settings.root)


def ledger_of(registry: Registry) -> Ledger:
    return open_ledger(registry.settings)


def recorded(registry: Registry, ledger: Ledger) -> Block | None:
    """This checkout's block as recorded, if it still covers every registered service."""
    checkout = checkout_of(registry)
    mine = next((b for b in ledger.read() if b.checkout == checkout), None)
    if mine is None:
        return None
    held = dict(mine.variables)
    services = registry.state().assignments.items()
    if any(held.get(port_variable(s)) != p for s, p in services):
        return None  # a service was added or moved since: record the block again
    root = registry.settings.root
    if any(stamp(root / path) != (mtime, size) for path, mtime, size in mine.sources or ()):
        return None  # a file it was read from changed (a pull, a new ${CACHE_PORT:-6379})
    return mine


def ensure(registry: Registry, ledger: Ledger) -> Block:
    """This checkout's block: as recorded, or recorded now. Recorded under the checkout's
    lock, so that of two processes asking at once in one checkout only the first reads
    the repo: the other waits, then finds the block."""
    found = recorded(registry, ledger)
    if found is not None:
        return found
    with registry.store.session():
        return recorded(registry, ledger) or record(registry, ledger)


def record(registry: Registry, ledger: Ledger, facts: Facts | None = None) -> Block:
    """Read the repo (unless ``facts`` is what it read), then place this checkout's block
    under the ledger's lock (keeping its instance number when it is still clear); reclaim
    the instances of checkouts that are gone when no block could be found otherwise."""
    wanted = wanted_block(registry, facts or read_repo(registry))
    strategy = registry.settings.instances.strategy

    def place(blocks: list[Block]) -> list[Block]:
        mine = next((b for b in blocks if b.checkout == wanted.checkout), None)
        # Kubernetes' whole NodePort range: another repo's cluster may use any of it
        machine = this_machine(K8S_NODE_PORT_RANGE)
        try:
            placed = choose(wanted, blocks, machine, strategy, mine)
        except InstanceError:
            blocks = [b for b in blocks if not gone(b)]
            placed = choose(wanted, blocks, machine, strategy, mine)
        if mine is not None:
            placed = _same_birth(placed, mine)
        others = [b for b in blocks if b.checkout != wanted.checkout]
        return [*others, own_names(placed, others, mine)]

    blocks = ledger.change(place)
    return next(b for b in blocks if b.checkout == wanted.checkout)


def _same_birth(placed: Block, mine: Block) -> Block:
    return placed._replace(created=mine.created)


def own_names(block: Block, others: Sequence[Block], mine: Block | None) -> Block:
    """The block with cluster and project names no other repo's instance uses: a name
    another repo's instance already has (two kind configs without a ``name:`` are both
    ``kind``) gets the repo's own mark, ``kind-5f3a9c01-1``; kept once given, so the
    cluster keeps its name."""
    if not block.instance:
        return block
    taken = {
        suffixed(base, b.instance)
        for b in others
        if b.instance and b.repo != block.repo
        for _name, base in b.names
    }
    given = dict(mine.names) if mine is not None else {}
    mark = short_mark(block.repo)
    names = []
    for name, base in block.names:
        marked = f"{base}-{mark}"
        clash = suffixed(base, block.instance) in taken or given.get(name) == marked
        names.append((name, marked if clash else base))
    return block._replace(names=tuple(names))


def gone(block: Block) -> bool:
    """A checkout that no longer exists on this machine (its instance can be reclaimed):
    its folder is gone, or, for a git checkout, its ``.git`` (a deleted worktree's folder
    may stay behind)."""
    if not os.path.isdir(block.checkout):
        return True
    in_git = block.repo != block.checkout  # outside git, the checkout is its own identity
    return in_git and not os.path.lexists(os.path.join(block.checkout, ".git"))


def this_machine(node_ports: tuple[int, int]) -> Machine:
    """What rules a shifted port out here: the kernel's ephemeral range, the cluster's
    NodePort range, and every port something listens on now."""
    from portreg.check.live import ephemeral_range, listening

    return Machine(ephemeral_range(), node_ports, listening())


def read_repo(registry: Registry) -> Facts:
    """Every binding the repo's files hold, read as ``check`` reads them (its rules,
    which an instance does not need, are not loaded)."""
    from portreg.check import scan

    settings = registry.settings
    return scan.read(settings, registry.store, registry.targets(), Workspace(settings.root))


def pinned(facts: Facts) -> list[str]:
    """The host bindings an instance cannot move: a literal port in a compose file or a
    Tiltfile (a kind mapping moves in the instance's own kind config)."""
    from portreg.targets.base import HOST

    computed = [
        f"⚠️  {obs.path}:{obs.line} binds a host port portreg cannot read ({obs.field}, "
        "computed): an instance cannot move it (take it from the environment, as "
        "int(os.getenv('INVOICE_PORT', '8002')) or ${INVOICE_PORT:-8002})"
        for obs in facts.unread
        if obs.target in ("tilt", "compose")
    ]
    return computed + [
        f"⚠️  {obs.path}:{obs.line} binds host port {obs.port} as a literal: every instance "
        "binds it (`portreg init --env-ports` takes it from the environment)"
        if obs.variable is None
        else f"⚠️  {obs.path}:{obs.line} binds host port {obs.port} unless {obs.variable!r} "
        "is set, a name portreg does not set (only *_PORT names): every instance binds it "
        "(name it like INVOICE_PORT)"
        for obs in facts.observations
        if obs.namespace == HOST and obs.target != "kind" and not _carried(obs.variable)
    ]


def _carried(variable: str | None) -> bool:
    """Does portreg set the variable that carries this port? Only a ``*_PORT`` name a
    shell can hold, and none of portreg's own: a committed file must not be able to have
    ``env`` set ``PATH``, ``BASH_ENV`` or ``KUBECONFIG``."""
    return (
        variable is not None
        and SHELL_NAME.fullmatch(variable) is not None
        and variable.endswith("_PORT")
        and not variable.startswith("PORTREG_")
    )


def wanted_block(registry: Registry, facts: Facts) -> Block:
    """What this checkout binds on the host, read from its files and registry, not yet
    placed: every host port, the variable that carries each, and the names to suffix."""
    from portreg.targets.base import HOST

    ws = Workspace(registry.settings.root)
    variables = {port_variable(s): p for s, p in facts.state.assignments.items()}
    base = set(variables.values())
    for obs in facts.observations:
        if obs.namespace == HOST:
            base.add(obs.port)
            if obs.variable is not None and _carried(obs.variable):
                variables.setdefault(obs.variable, obs.port)
    if any(target.name == "tilt" and target.files(ws) for target in registry.targets()):
        variables.setdefault("TILT_PORT", TILT_UI_PORT)
        base.add(variables["TILT_PORT"])
    identity, name = repo_identity(registry.settings.root)
    return Block(
        repo=identity,
        checkout=checkout_of(registry),
        instance=0,
        offset=0,
        host="",
        base=tuple(sorted(base)),
        variables=tuple(sorted(variables.items())),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        names=tuple(sorted(_names(registry, facts.observations, name).items())),
        sources=_stamps(registry.settings.root, facts),
    )


def _stamps(root: Path, facts: Facts) -> tuple[tuple[str, int, int], ...]:
    """Each file the block was read from (those that bind a host port, or compute one, or
    could not be read), with its stamp now: not a values file per service, which the
    registry already speaks for (``env`` stats each of these at every prompt)."""
    from portreg.targets.base import HOST

    paths = {obs.path for obs in facts.observations if obs.namespace == HOST}
    paths |= {obs.path for obs in facts.unread}
    paths |= {problem.path for problem in facts.unreadable}
    return tuple(
        (path, *found) for path in sorted(paths) if (found := stamp(root / path)) is not None
    )


def _names(registry: Registry, observations: Sequence[Observation], repo: str) -> dict[str, str]:
    """The base names an instance suffixes: the kind cluster's (from its config) and, when
    the repo has one compose project, the project's."""
    from portreg.targets.kind import cluster_name

    names = {}
    kind_files = sorted({obs.path for obs in observations if obs.target == "kind"})
    if kind_files:
        text = Workspace(registry.settings.root).read(registry.settings.root / kind_files[0])
        names["KIND_CLUSTER_NAME"] = cluster_name(text or "", kind_files[0]) or "kind"
    projects = {obs.group for obs in observations if obs.target == "compose"}
    if len(projects) == 1:
        names["COMPOSE_PROJECT_NAME"] = repo
    return names


# ------------------------------------------------------------------ what it sets


def variables(block: Block, registry: Registry) -> dict[str, str]:
    """The environment an instance runs with: a port per binding, the instance, and (in a
    further instance) the cluster's, project's and kubeconfig's own names."""

    found = {name: str(block.port(port)) for name, port in block.variables}
    found["PORTREG_INSTANCE"] = str(block.instance)
    if block.host:
        found["PORTREG_HOST"] = block.host
        if "TILT_PORT" in found:
            found["TILT_HOST"] = block.host
    else:
        found["PORTREG_OFFSET"] = str(block.offset)
    if block.instance:
        for name, base in block.names:
            found[name] = suffixed(base, block.instance)
        found["KUBECONFIG"] = str(instance_folder(block) / "kubeconfig")
    return dict(sorted(found.items()))


# what a further instance's ``env`` sets and instance 0 leaves to the user
INSTANCE_ONLY = (
    *("COMPOSE_PROJECT_NAME", "KIND_CLUSTER_NAME", "KUBECONFIG"),
    *("PORTREG_HOST", "PORTREG_OFFSET", "TILT_HOST"),
)


def left_over(found: Mapping[str, str], environ: Mapping[str, str]) -> list[str]:
    """What another instance's ``env`` left in this environment that this one does not
    set: after ``eval "$(portreg env)"`` in a worktree, instance 0's ``env`` and ``exec``
    must not leave ``docker compose down`` aimed at the worktree's project. Only once an
    ``env`` has run here (``PORTREG_INSTANCE``), and a ``KUBECONFIG`` only if it is an
    instance's own: the user's own names stay."""
    if "PORTREG_INSTANCE" not in environ:
        return []
    ours = str(state_folder() / "instances") + os.sep
    return [
        name
        for name in INSTANCE_ONLY
        if name in environ
        and name not in found
        and (name != "KUBECONFIG" or environ[name].startswith(ours))
    ]


# ------------------------------------------------------------------ the command


MACHINE_WIDE = ("list", "prune")  # every repo's instances: asked from anywhere


def main(args: argparse.Namespace) -> int:
    action = args.action
    if action in MACHINE_WIDE:
        return machine_wide(action, args.output)
    registry = open_registry(args)
    ledger = ledger_of(registry)
    if action == "release":
        checkout = checkout_of(registry)
        held = dropped(ledger, lambda block: block.checkout == checkout)
        out(f"✅ Released instance {held[0].instance}" if held else "ℹ️  no instance here")
    elif action == "kind-config":
        facts = read_repo(registry)
        source = kind_source(registry, facts)  # before recording: a bad file changes nothing
        out(str(write_kind_config(registry, record(registry, ledger, facts), source)))
    else:  # read the repo again: what it binds may have changed since the block was recorded
        facts = read_repo(registry)
        block = record(registry, ledger, facts)
        show(block, registry, args.output)
        if block.instance:
            for warning in pinned(facts):
                err(warning)
        if block.instance and block.host:
            err(
                f"ℹ️  on {block.host}, this instance's ports are the committed numbers: each "
                "file must bind ${PORTREG_HOST:-127.0.0.1}, which portreg does not check"
            )
    return EXIT_OK


def machine_wide(action: str, output: str) -> int:
    """``instance list`` and ``instance prune``: the machine's ledger, in any folder (an
    etcd ledger's TLS and credentials from the defaults: no repo is read)."""
    ledger = open_ledger(Settings(root=Path.cwd()))
    if action == "list":
        show_list(ledger.read(), output)
        return EXIT_OK
    pruned = dropped(ledger, gone)
    for block in pruned:
        out(f"✅ Pruned instance {block.instance} of {block.repo} ({block.checkout}: gone)")
    if not pruned:
        out("ℹ️  every instance's checkout is still here")
    return EXIT_OK


def dropped(ledger: Ledger, unwanted: Callable[[Block], bool]) -> list[Block]:
    """Remove the blocks ``unwanted`` picks, under the ledger's lock: those it removed (as
    the ledger held them then, not as an earlier read saw them)."""
    removed: list[Block] = []

    def update(blocks: list[Block]) -> list[Block]:
        removed[:] = [block for block in blocks if unwanted(block)]
        return [block for block in blocks if not unwanted(block)]

    ledger.change(update)
    return removed


def show(block: Block, registry: Registry, output: str) -> None:
    env = variables(block, registry)
    if output == "json":
        out(json.dumps({"instance": block.as_json(), "env": env}))
        return
    where = f"on {block.host}" if block.host else f"offset +{block.offset}"
    out(f"Instance {block.instance} of {block.repo} ({where})")
    out(f"  checkout {block.checkout}")
    width = max((len(name) for name in env), default=0)
    for name, value in env.items():
        committed = dict(block.variables).get(name)
        was = f"  (committed {committed})" if committed is not None and block.offset else ""
        out(f"  {name:<{width}}  {value}{was}")


def show_list(blocks: list[Block], output: str) -> None:
    from portreg.check.live import listeners

    rows = []
    for block in sorted(blocks, key=lambda b: (b.repo, b.instance)):
        bound = len(listeners(block.ports)) if not block.host else None
        rows.append((block, bound))
    if output == "json":
        out(
            json.dumps(
                [{**b.as_json(), "bound": n, "gone": gone(b)} for b, n in rows],
            )
        )
        return
    if not rows:
        out("ℹ️  no instances on this machine yet (`portreg instance` records this checkout)")
        return
    for block, bound in rows:
        state = "checkout gone" if gone(block) else f"{bound}/{len(block.ports)} ports bound"
        if bound is None:
            state = f"on {block.host}"
        out(f"{block.repo}  instance {block.instance}  +{block.offset}  {state}  {block.checkout}")


def kind_source(registry: Registry, facts: Facts) -> tuple[str, str]:
    """The repo's kind config (its path and text) whose mappings an instance moves."""
    root = registry.settings.root
    kind_files = sorted({obs.path for obs in facts.observations if obs.target == "kind"})
    if not kind_files:
        for problem in facts.unreadable:
            if problem.path == facts.kind_config:
                raise InstanceError(
                    f"cannot read the kind config: {problem.message}",
                    where=f"{problem.path}:{problem.line}" if problem.line else problem.path,
                    hint="fix it: `portreg check` names what is wrong",
                )
        raise NotFoundError(
            "this repo has no kind config with port mappings",
            where=str(root),
            hint="portreg instance kind-config moves a kind config's hostPorts",
        )
    return kind_files[0], Workspace(root).read(root / kind_files[0]) or ""


def write_kind_config(registry: Registry, block: Block, source: tuple[str, str]) -> Path:
    """The instance's kind config, outside the work tree; its path."""
    from portreg.targets.kind import for_instance

    path, text = source
    cluster = suffixed(dict(block.names).get("KIND_CLUSTER_NAME", "kind"), block.instance)
    written = for_instance(text, path, block.offset, block.host, cluster)
    target = instance_folder(block) / "kind-config.yaml"
    write_private(target, written)
    return target


def add(sub: Subparsers) -> None:
    parser = command(
        sub,
        "instance",
        "this checkout's instance: its block of host ports on this machine",
        example="portreg instance list",
    )
    parser.add_argument(
        "action",
        nargs="?",
        default="show",
        choices=ACTIONS,
        help="show (default), list every instance on this machine, release this one, "
        "prune those whose checkout is gone, write this one's kind config",
    )
    add_output(parser, ("text", "json"))
    parser.set_defaults(handler=main)
