"""``portreg init --env-ports``: literal host ports in compose files and Tiltfiles taken
from the environment, the committed port as the default, so a second checkout of the
repo runs on other host ports with no committed file changed.

compose's ``"8002:8080"`` becomes ``"${INVOICE_PORT:-8002}:8080"``; a Tiltfile's
``port_forward(8002, 8080)`` (or ``port_forwards='8002:8080'``) becomes
``port_forward(int(os.getenv('INVOICE_PORT', '8002')), 8080)``. Each format's rewrite is
its target's (``compose.env_form``, ``tilt.env_form``); here are only the names: a
binding's variable is ``port_variable(owner)``, the owner being the service the entry
names (a compose service, a Tilt resource), else the registered service of its port;
a name the repo already uses for another port gets the port in it
(``port_variable('invoice-9229')``). The plan runs inside ``Registry.transact``: every
file or none, and the registry is not touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from portreg.errors import PortregError
from portreg.io.workspace import Workspace
from portreg.model import port_variable
from portreg.targets import compose, tilt
from portreg.targets.base import Observation

if TYPE_CHECKING:
    from portreg.api import Planner, Registry
    from portreg.model import RegistryState

Scan = Callable[[str, str], list[Observation]]
Rewrite = Callable[[str, str, Callable[[Observation], str | None]], str]
FORMATS: dict[str, tuple[Scan, Rewrite]] = {
    compose.NAME: (compose.scan_text, compose.env_form),
    tilt.NAME: (tilt.scan_text, tilt.env_form),
}


def owner_of(seen: Observation, owners: Mapping[int, str]) -> str | None:
    """Whose port a binding is: the service its entry names, else the port's registered
    service (an unnamed Tilt forward); None when nothing names it."""
    return seen.service or owners.get(seen.port)


def variables(
    literal: Iterable[tuple[str, int]],
    written: Iterable[tuple[str, int]],
    registered: Mapping[str, int],
) -> dict[tuple[str, int], str]:
    """(owner, port) of each literal binding -> its variable (pure).

    ``port_variable(owner)``, unless the repo uses that name for another port (a
    variable ``written`` in the files as (name, port), or one named here): then
    ``port_variable(f"{owner}-{port}")``. An owner's registered port is named first, so
    it gets the plain name; then the others in the order given.
    """
    taken: dict[str, set[int]] = {}
    for name, port in written:
        taken.setdefault(name, set()).add(port)
    named: dict[tuple[str, int], str] = {}
    for owner, port in sorted(dict.fromkeys(literal), key=lambda o: registered.get(o[0]) != o[1]):
        name = port_variable(owner)
        if name in taken and port not in taken[name]:
            name = port_variable(f"{owner}-{port}")
        taken.setdefault(name, set()).add(port)
        named[(owner, port)] = name
    return named


def rewrite(registry: Registry, state: RegistryState, ws: Workspace) -> dict[str, list[str]]:
    """Write each compose file and Tiltfile with its literal host ports in the env form,
    into ``ws`` (memory only); each variable (with its default) -> the places that read it."""
    files = _files(registry, ws)
    owners = {port: service for service, port in state.assignments.items()}
    literal: list[tuple[str, int]] = []
    written: list[tuple[str, int]] = []

    def ask(seen: Observation) -> None:  # only what a format can rewrite is asked for
        owner = owner_of(seen, owners)
        if owner is not None:
            literal.append((owner, seen.port))

    for kind, display, text in files:
        scan, env_form = FORMATS[kind]
        written += [(s.variable, s.port) for s in scan(display, text) if s.variable is not None]
        env_form(display, text, ask)
    named = variables(literal, written, state.assignments)
    used: dict[str, list[str]] = {}

    def variable_of(seen: Observation) -> str | None:
        owner = owner_of(seen, owners)
        name = None if owner is None else named.get((owner, seen.port))
        if name is not None:
            shown = f"{name} (default {seen.port})"
            used.setdefault(shown, []).append(f"{seen.path}:{seen.line}")
        return name

    for kind, display, text in files:
        new = FORMATS[kind][1](display, text, variable_of)
        if new != text:
            ws.write(ws.resolve(display), new)
    return used


def planner(registry: Registry) -> Planner:
    """The plan of ``init --env-ports``: the rewritten files, and a line per variable."""
    from portreg.model.step import Step

    def plan(state: RegistryState, ws: Workspace) -> Step:
        used = rewrite(registry, state, ws)
        messages = [f"✅ {name}: {', '.join(where)}" for name, where in used.items()]
        return Step(state, messages=messages or [NOTHING])

    return plan


NOTHING = "ℹ️  No literal host port in compose files or Tiltfiles: nothing to rewrite"


def _files(registry: Registry, ws: Workspace) -> list[tuple[str, str, str]]:
    """(format, path, text) of every compose file and Tiltfile the repo's config reads."""
    files = []
    for target in registry.targets():
        if target.name not in FORMATS:
            continue
        for display in target.files(ws):
            text = ws.read(ws.resolve(display))
            if text is None:
                raise PortregError("no such file (named in the config)", where=str(display))
            files.append((target.name, str(display), text))
    return files


def pending(registry: Registry) -> int:
    """How many literal host ports ``init --env-ports`` would take from the environment
    (read only, no lock: a hint; a file that cannot be read counts none)."""
    try:
        return sum(
            len(where)
            for where in rewrite(
                registry, registry.state(), Workspace(registry.settings.root)
            ).values()
        )
    except PortregError:
        return 0
