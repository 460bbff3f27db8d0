"""portreg's compose reader held to docker-compose itself: generated projects (override
files, a declared extra file, merge keys, ``${VAR:-default}`` with a .env file, short and
long syntax, host IPs, ranges, UDP) give per service exactly the host bindings that
``docker-compose -f ... config`` publishes.

The oracle is Debian's ``docker-compose`` (v1, which renders a project without a daemon;
``tools/test.sh`` installs it). v1 knows neither ``!reset`` nor ``!override`` nor a long
syntax ``host_ip``: tests/test_compose_projects.py holds those to hand-written answers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from portreg.config import ComposeSettings, Settings
from portreg.config.discovery import COMPOSE_FILES
from portreg.io.workspace import Workspace
from portreg.targets.base import HOST
from portreg.targets.compose import ComposeTarget

ORACLE = shutil.which("docker-compose")
pytestmark = pytest.mark.skipif(
    ORACLE is None, reason="docker-compose (Debian's package) is not installed: no oracle"
)

SERVICES = ("api", "db", "web")
VARIABLES = ("API_PORT", "DB_PORT")
BASE, OVERRIDE, EXTRA = "docker-compose.yml", "docker-compose.override.yml", "compose-extra.yml"

Bindings = dict[str, set[tuple[str, int]]]


@st.composite
def host_part(draw: st.DrawFn, env: dict[str, str]) -> str:
    port = str(draw(st.integers(8001, 8020)))
    variable = draw(st.sampled_from(VARIABLES))
    shapes = [port, f"${{{variable}:-{port}}}", f"${{{variable}-{port}}}"]
    if variable in env:  # a variable with no value anywhere is not the oracle's business
        shapes += [f"${{{variable}}}", f"${variable}"]
    return draw(st.sampled_from(shapes))


@st.composite
def short_entry(draw: st.DrawFn, env: dict[str, str]) -> str:
    target = draw(st.integers(1, 9000))
    if draw(st.integers(0, 5)) == 0:
        return f"{target}"  # container only: an ephemeral host port
    if draw(st.integers(0, 5)) == 0:
        low = draw(st.integers(8001, 8020))
        return f"{low}-{low + 1}:{target}-{target + 1}"
    address = draw(st.sampled_from(["", "127.0.0.1:", "0.0.0.0:", "[::1]:"]))
    protocol = draw(st.sampled_from(["", "", "/tcp", "/udp"]))
    return f"{address}{draw(host_part(env))}:{target}{protocol}"


@st.composite
def long_entry(draw: st.DrawFn, env: dict[str, str]) -> dict[str, object]:
    entry: dict[str, object] = {"target": draw(st.integers(1, 9000))}
    if draw(st.booleans()):
        published = draw(host_part(env))
        entry["published"] = int(published) if published.isdigit() else published
    if draw(st.booleans()):
        entry["protocol"] = draw(st.sampled_from(["tcp", "udp"]))
    return entry


@st.composite
def ports(draw: st.DrawFn, env: dict[str, str]) -> list[object]:
    entries = draw(st.lists(st.one_of(short_entry(env), long_entry(env)), min_size=1, max_size=3))
    unique: dict[str, object] = {yaml.safe_dump(e): e for e in entries}  # compose wants a set
    return list(unique.values())


@st.composite
def compose_file(draw: st.DrawFn, env: dict[str, str], anchor: bool) -> str:
    """One file: some services with ports, the first maybe through a merge key."""
    names = draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True))
    lines = []
    if anchor:
        lines += ["x-common: &common", f"  ports: {_flow(draw(ports(env)))}"]
    lines.append("services:")
    for index, name in enumerate(names):
        lines += [f"  {name}:", "    image: busybox"]
        if anchor and index == 0:
            lines.append("    <<: *common")
            if draw(st.booleans()):
                continue  # the anchor's ports are the service's
        lines.append(f"    ports: {_flow(draw(ports(env)))}")
    return "\n".join(lines) + "\n"


def _flow(entries: list[object]) -> str:
    return yaml.safe_dump(entries, default_flow_style=True, width=10_000).strip()


@st.composite
def projects(draw: st.DrawFn) -> dict[str, str]:
    env = draw(st.dictionaries(st.sampled_from(VARIABLES), st.integers(8030, 8040).map(str)))
    files = {BASE: draw(compose_file(env, anchor=draw(st.booleans())))}
    if draw(st.booleans()):
        files[OVERRIDE] = draw(compose_file(env, anchor=False))
    if draw(st.booleans()):
        files[EXTRA] = draw(compose_file(env, anchor=False))
    if env:
        files[".env"] = "".join(f"{key}={value}\n" for key, value in env.items())
    return files


def oracle(root: Path, names: list[str], env: dict[str, str] | None = None) -> Bindings:
    """Per service, the (address, published port) pairs docker-compose publishes (TCP),
    with ``env`` as the whole environment (beside PATH)."""
    argv = [str(ORACLE), *(arg for name in names for arg in ("-f", name)), "config"]
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}  # no PORT from this shell
    clean.update(env or {})
    done = subprocess.run(argv, cwd=root, env=clean, capture_output=True, text=True, check=True)
    rendered = yaml.safe_load(done.stdout)
    found: Bindings = {}
    for name, body in (rendered.get("services") or {}).items():
        found[name] = {pair for entry in body.get("ports", []) for pair in _published(entry)}
    return found


def _published(entry: object) -> list[tuple[str, int]]:
    if isinstance(entry, dict):
        if entry.get("protocol", "tcp") != "tcp" or "published" not in entry:
            return []
        address = str(entry.get("host_ip", ""))
        return [("" if address in ("0.0.0.0", "::") else address, int(entry["published"]))]
    spec, _, protocol = str(entry).partition("/")
    if protocol not in ("", "tcp") or spec.count(":") < 1:
        return []
    address, host = (spec.rsplit(":", 2) if spec.count(":") >= 2 else ["", *spec.split(":")])[:2]
    return [("" if address in ("0.0.0.0", "::") else address, int(host))]


def portreg(root: Path, names: list[str]) -> Bindings:
    declared = ((BASE, OVERRIDE, EXTRA) if OVERRIDE in names else (BASE, EXTRA),)
    compose = ComposeSettings(files=COMPOSE_FILES, projects=declared if EXTRA in names else ())
    seen = ComposeTarget(Settings(root=root, compose=compose)).scan(Workspace(root))
    assert len({found.group for found in seen}) <= 1  # the files run as one project
    found: Bindings = {}
    for binding in seen:
        assert binding.namespace == HOST, binding  # every variable here has a value
        found.setdefault(str(binding.service), set()).add((binding.address, binding.port))
    return found


@settings(  # each example runs docker-compose (about 1 s): few examples, no shrinking
    max_examples=10,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(files=projects())
def test_portreg_publishes_what_docker_compose_publishes(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        for name, text in files.items():
            (root / name).write_text(text)
        names = [name for name in (BASE, OVERRIDE, EXTRA) if name in files]
        wanted = {name: pairs for name, pairs in oracle(root, names).items() if pairs}
        assert portreg(root, names) == wanted
