"""portreg's Tiltfile reader and editor, held to the Starlark interpreter Tilt runs.

``starlark-go`` is Tilt's own interpreter (go.starlark.net) behind a Python binding.
Each generated Tiltfile is *run* with stub builtins (``k8s_resource``,
``port_forward``, ...) that record what they are given, twice, with the global
``BASE`` at two values: a forward whose value is the same in both runs is a literal
the file holds, one that differs is computed. portreg must read exactly the literal
forwards each resource gets, in order (local port, container port, address), name
every computed one without guessing, and read the same service -> port tables.
Every edit ``set_port`` makes must leave the interpreter seeing the same forwards for
every other resource, and the service's literal ones on the new port, container side
kept, with no byte changed but the digits of the forward (and the container side it
writes out).

The env idiom, ``port_forward(int(os.getenv('INVOICE_PORT', '8002')), 8080)``, runs with
a recorded ``os.getenv`` reading a given environment: with the variable unset Tilt
forwards the committed port (what portreg reads), with it set the variable's value.
The binding passes no module, so ``os.getenv(`` is spelled ``os_getenv(`` (as long: every
position stays) before the interpreter runs the file. ``env_form`` (``portreg init
--env-ports``) must leave every forward where it was with no environment, and move each
rewritten one to its variable's value when the variable is set.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import starlark_go
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portreg.model import port_variable
from portreg.targets.base import HOST, NAMED, UNREAD, Observation
from portreg.targets.tilt import env_form, local_port, scan_text, set_port

# as Tilt does: top-level if/for and reassigned globals are allowed in a Tiltfile
starlark_go.configure_starlark(allow_set=True, allow_global_reassign=True, allow_recursion=True)

SERVICES = ["invoice", "billing", "ledger", "web"]
PORTS = st.integers(8001, 8030)
BASES = (8000, 7000)  # two runs: what moves with BASE is computed
Forward = tuple[str, int | None, int | None, str]  # kind ("host"/"unread"), local, remote, address
Resource = tuple[str, list[Forward]]


GETENV = re.compile(r"\bos\.getenv\(")
ENVIRON = re.compile(r"\bos\.environ\.get\(")


def run(
    text: str, base: int, env: dict[str, str] | None = None
) -> tuple[list[tuple[str, list[Any]]], dict[str, Any]]:
    """Each k8s_resource call's name and forwards, and the globals, as Tilt's interpreter
    sees them; ``os.getenv`` reads ``env`` (nothing set by default)."""
    calls: list[tuple[str, list[Any]]] = []
    environment = env or {}

    def os_getenv(key: str, default: Any = None) -> Any:  # Tilt's: the value is a string
        return environment.get(key, default)

    def k8s_resource(*args: Any, **kwargs: Any) -> None:
        held = kwargs.get("port_forwards", [])
        calls.append(
            (args[0] if args else kwargs["workload"], held if isinstance(held, list) else [held])
        )

    def port_forward(
        local_port: Any, container_port: Any = None, name: Any = None, host: Any = None
    ) -> dict[str, Any]:
        return {"local": local_port, "remote": container_port, "host": host}

    ignore: Callable[..., None] = lambda *args, **kwargs: None  # noqa: E731
    builtins = {
        "k8s_resource": k8s_resource,
        "port_forward": port_forward,
        "docker_build": ignore,
        "local_resource": ignore,
        "sync": ignore,
        "os_name": "linux",
        "os_getenv": os_getenv,
        "os_environ": dict(environment),  # Tilt's os.environ: a dict of strings
        "BASE": base,
    }
    interpreter = starlark_go.Starlark(globals=builtins)
    spelled = ENVIRON.sub("os_environ.get(", GETENV.sub("os_getenv(", text))
    interpreter.exec(spelled, filename="Tiltfile")
    tables = {
        name: interpreter.get(name)
        for name in interpreter.globals()
        if "port" in name.lower() and name not in builtins
    }
    return calls, tables


def forward(value: Any, other: Any) -> Forward | None:
    """One forward the interpreter saw, given what the other run saw in its place."""
    if isinstance(value, dict):
        if value["local"] != other["local"]:
            return ("unread", None, None, "")
        local = local_port(value["local"])
        remote = value["remote"] if value["remote"] == other["remote"] else None
        host = value["host"] if isinstance(value["host"], str) else ""
        return (
            None
            if local is None
            else ("host", local, local if value["remote"] is None else remote, host)
        )
    if value != other:
        return ("unread", None, None, "")
    parts = value.split(":") if isinstance(value, str) else [value]
    local = local_port(value)
    address = parts[0] if len(parts) == 3 else ""
    return None if local is None else ("host", local, local_port(parts[-1]), address)


def oracle(
    text: str, env: dict[str, str] | None = None
) -> tuple[list[Resource], list[tuple[str, int]]]:
    """The forwards of each resource, in order, and the literal service -> port table entries."""
    (calls, tables), (again, tables_again) = (run(text, base, env) for base in BASES)
    resources = []
    for (name, held), (_name, held_again) in zip(calls, again, strict=True):
        found = [forward(value, other) for value, other in zip(held, held_again, strict=True)]
        resources.append((name, [item for item in found if item is not None]))
    entries = []
    for table, held in tables.items():
        for name, value in held.items() if isinstance(held, dict) else []:
            literal = value == tables_again[table][name]
            if literal and isinstance(value, int | str) and str(value).isdigit():
                entries.append((name, int(value)))
    return resources, sorted(entries)


def portreg(text: str) -> tuple[list[tuple[str | None, Forward]], list[tuple[str, int]]]:
    found = scan_text("Tiltfile", text)
    forwards = [
        (
            o.service,
            ("host", o.port, o.leads_to, o.address)
            if o.namespace == HOST
            else ("unread", None, None, ""),
        )
        for o in found
        if o.field != "dict"
    ]
    # a port table names ports (NAMED); forwards bind them (HOST) or are computed (UNREAD)
    assert all(o.namespace == (NAMED if o.field == "dict" else o.namespace) for o in found)
    assert all(o.namespace in (HOST, UNREAD) for o in found if o.field != "dict")
    entries = sorted((o.service or "", o.port) for o in found if o.field == "dict")
    return forwards, entries


def flat(resources: list[Resource]) -> list[tuple[str | None, Forward]]:
    return [(name, item) for name, items in resources for item in items]


# --- generated Tiltfiles ------------------------------------------------------------------


def quote(draw: st.DrawFn, text: str) -> str:
    mark = draw(st.sampled_from(["'", '"']))
    return f"{mark}{text}{mark}"


@st.composite
def forward_text(draw: st.DrawFn) -> str:
    port = draw(PORTS)
    other = draw(st.sampled_from([port, 80, 9229]))
    forms = {
        "int": lambda: str(port),
        "str": lambda: quote(draw, str(port)),
        "pair": lambda: quote(draw, f"{port}:{other}"),
        "spaced": lambda: quote(draw, f" {port}:{other}"),
        "host": lambda: quote(draw, f"localhost:{port}:80"),
        "call": lambda: f"port_forward({port}, {other}, name='p')",
        "call-one": lambda: f"port_forward({port})",
        "kwcall": lambda: f"port_forward(local_port={port}, container_port=80)",
        "kwcall-one": lambda: f"port_forward(local_port={port}, host='127.0.0.1')",
        "computed": lambda: f"BASE + {port - 8000}",
        "str-call": lambda: f"str(BASE + {port - 8000})",
        "format": lambda: f"'%d:%d' % (BASE + {port - 8000}, 80)",
        "call-computed": lambda: f"port_forward(BASE + {port - 8000}, 80)",
        "env": lambda: f"port_forward(int(os.getenv('WEB_PORT', '{port}')), {other})",
        "env-int": lambda: (
            f'port_forward(local_port=int(os.getenv("API_PORT", {port})), container_port=80)'
        ),
        "env-computed": lambda: f"port_forward(int(os.getenv('WEB_PORT', BASE + {port - 8000})))",
        "environ": lambda: f"port_forward(int(os.environ.get('WEB_PORT', '{port}')), {other})",
    }
    return forms[draw(st.sampled_from(sorted(forms)))]()


@st.composite
def resource(draw: st.DrawFn) -> str:
    service = draw(st.sampled_from(SERVICES))
    name = quote(draw, service) if draw(st.booleans()) else f"workload={quote(draw, service)}"
    forwards = draw(st.lists(forward_text(), min_size=1, max_size=3))
    held = forwards[0] if len(forwards) == 1 and draw(st.booleans()) else f"[{', '.join(forwards)}]"
    extra = draw(st.sampled_from(["", ", labels=['api']", ", resource_deps=['db']"]))
    comment = draw(st.sampled_from(["", "  # port_forwards=8009", "  # 8010:8010"]))
    if draw(st.booleans()):
        return f"k8s_resource({name}, port_forwards={held}{extra}){comment}"
    return f"k8s_resource(\n    {name},\n    port_forwards={held},{comment}\n){extra and ''}"


@st.composite
def port_table(draw: st.DrawFn) -> str:
    entries = []
    for service in draw(st.lists(st.sampled_from(SERVICES), unique=True, min_size=1)):
        port = draw(PORTS)
        held = draw(
            st.sampled_from(
                [str(port), quote(draw, str(port)), f"{{'http': {port}}}", f"BASE + {port - 8000}"]
            )
        )
        entries.append(f"{quote(draw, service)}: {held}")
    name = draw(st.sampled_from(["SERVICE_PORTS", "ports", "HostPort", "SERVICES"]))
    if draw(st.booleans()):
        return f"{name} = {{{', '.join(entries)}}}"
    return name + " = {\n" + "".join(f"    {entry},  # 9000\n" for entry in entries) + "}"


NOISE = [
    "# k8s_resource('invoice', port_forwards='8011:8011')",
    "OFFSET = 8000",
    "docker_build('web', '.', live_update=[sync('./src', '/app')])",
    "local_resource('docs', serve_cmd='mkdocs serve -a localhost:8012')",
    "NOTE = '''port_forward(8013, 8013)\nport_forwards=8014'''",
    "ESCAPED = '''a quote \\''' k8s_resource('web', port_forwards=8016) '''",
    "JOINED = 'k8s_resource(\\\n\"web\", port_forwards=8017)'",
    "HELP = \"k8s_resource('web', port_forwards=8015)\"",
]


@st.composite
def tiltfile(draw: st.DrawFn) -> str:
    parts = st.one_of(resource(), port_table(), st.sampled_from(NOISE))
    lines = draw(st.lists(parts, min_size=1, max_size=8))
    for index, line in enumerate(lines):  # one name per table: the interpreter keeps the last
        lines[index] = re.sub(r"^(\w+) = \{", rf"\1_{index} = {{", line)
    if draw(st.booleans()):  # a block, as Tiltfiles use for optional services
        body = "\n".join("    " + line.replace("\n", "\n    ") for line in lines[-1:])
        lines[-1] = "if os_name != 'windows':\n" + body + "\n    pass"
    return "\n".join(lines) + ("\n" if draw(st.booleans()) else "")


FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(tiltfile())
def test_portreg_reads_the_forwards_tilt_sees(text: str) -> None:
    resources, entries = oracle(text)
    forwards, tables = portreg(text)
    assert forwards == flat(resources)
    assert tables == entries
    lines = text.splitlines()
    for found in scan_text("Tiltfile", text):  # each on the line that holds it
        held = str(found.port) if found.namespace in (HOST, NAMED) else "BASE"
        assert held in lines[found.line - 1]


def normalized(text: str) -> str:
    """The text with every number as ``#`` and the container side a move writes out
    folded back: what an edit of host ports must leave byte for byte."""
    text = re.sub(r"[0-9]+", "#", text)
    text = text.replace("local_port=#, container_port=#", "local_port=#")
    text = text.replace("port_forward(#, #", "port_forward(#")
    text = re.sub(r"(['\"])( ?)#:#\1", r"\1\2#\1", text)  # '8001:8002' from '8002'
    return re.sub(r"(?<![\w'\"])#(?=[,)\]])", "'#'", text)  # '8001:8002' from 8002


@FAST
@given(tiltfile(), st.sampled_from(SERVICES), PORTS)
def test_set_port_moves_only_that_services_host_side(text: str, service: str, port: int) -> None:
    new = set_port("Tiltfile", text, service, port)  # generated literals are all plain
    assert normalized(new) == normalized(text)
    (before, entries), (after, entries_after) = oracle(text), oracle(new)
    mine = [item for name, items in before if name == service for item in items]
    literal = [item for item in mine if item[0] == "host"]
    for (name, items), (_name, moved) in zip(before, after, strict=True):
        if name != service or len(literal) > 1:  # several forwards: which is its port is a guess
            assert moved == items
        else:
            assert moved == [
                (k, port, far, host) if k == "host" else (k, None, far, host)
                for k, _local, far, host in items
            ]
    assert entries_after == sorted(
        (name, port if name == service else held) for name, held in entries
    )


# --- the env idiom ------------------------------------------------------------------------

IDIOM = """\
k8s_resource('invoice', port_forwards=port_forward(int(os.getenv('INVOICE_PORT', '8002')), 8080))
k8s_resource(
    'billing',
    port_forwards=[
        port_forward(int(os.getenv("BILLING_PORT", 8006)), 8080, name='api'),  # 8006
        port_forward(local_port=int(os.getenv('BILLING_DEBUG_PORT', '9229')), host='localhost'),
    ],
)
"""


def host_forwards(text: str, env: dict[str, str] | None = None) -> list[tuple[str | None, Forward]]:
    return flat(oracle(text, env)[0])


def test_the_env_idiom_forwards_the_committed_port_unless_the_variable_is_set() -> None:
    committed = [
        ("invoice", ("host", 8002, 8080, "")),
        ("billing", ("host", 8006, 8080, "")),
        ("billing", ("host", 9229, 9229, "localhost")),
    ]
    assert host_forwards(IDIOM) == committed
    assert portreg(IDIOM)[0] == committed
    assert [(o.service, o.variable) for o in scan_text("Tiltfile", IDIOM)] == [
        ("invoice", "INVOICE_PORT"),
        ("billing", "BILLING_PORT"),
        ("billing", "BILLING_DEBUG_PORT"),
    ]
    env = {"INVOICE_PORT": "8102", "BILLING_PORT": "8106", "BILLING_DEBUG_PORT": "9329"}
    assert host_forwards(IDIOM, env) == [
        ("invoice", ("host", 8102, 8080, "")),
        ("billing", ("host", 8106, 8080, "")),
        # no container port named: the container side follows the variable too (why the
        # README's idiom, and env_form, always name it)
        ("billing", ("host", 9329, 9329, "localhost")),
    ]


def test_set_port_moves_the_idioms_default_only() -> None:
    moved = set_port("Tiltfile", IDIOM, "invoice", 8012)
    assert moved == IDIOM.replace("'INVOICE_PORT', '8002'", "'INVOICE_PORT', '8012'")
    assert host_forwards(moved)[0] == ("invoice", ("host", 8012, 8080, ""))
    assert host_forwards(moved, {"INVOICE_PORT": "8102"})[0] == (
        "invoice",
        ("host", 8102, 8080, ""),
    )
    one = "k8s_resource('web', port_forwards=port_forward(int(os.getenv('WEB_PORT', 8020))))\n"
    pinned = set_port("Tiltfile", one, "web", 8021)  # the container keeps listening on 8020
    assert pinned == one.replace("8020))))", "8021)), 8020))")
    assert host_forwards(pinned) == [("web", ("host", 8021, 8020, ""))]
    assert host_forwards(pinned, {"WEB_PORT": "8121"}) == [("web", ("host", 8121, 8020, ""))]


ENVIRON_IDIOM = (
    "k8s_resource('cache', port_forwards=port_forward(int(os.environ.get('CACHE_PORT', "
    "'8013')), 6379))\n"
)


def test_os_environ_get_is_the_idiom_too() -> None:
    """Tilt's ``os.environ`` is a dict: ``.get`` with a default reads as ``os.getenv``."""
    assert host_forwards(ENVIRON_IDIOM) == [("cache", ("host", 8013, 6379, ""))]
    assert portreg(ENVIRON_IDIOM)[0] == host_forwards(ENVIRON_IDIOM)
    assert [o.variable for o in scan_text("Tiltfile", ENVIRON_IDIOM)] == ["CACHE_PORT"]
    shifted = [("cache", ("host", 8113, 6379, ""))]
    assert host_forwards(ENVIRON_IDIOM, {"CACHE_PORT": "8113"}) == shifted
    moved = set_port("Tiltfile", ENVIRON_IDIOM, "cache", 8023)
    assert moved == ENVIRON_IDIOM.replace("'8013'", "'8023'")


def per_port(seen: Observation) -> str:
    return port_variable(f"{seen.service or 'unnamed'}-{seen.port}")


@FAST
@given(tiltfile())
def test_env_form_forwards_what_the_literals_did_and_each_variables_value(text: str) -> None:
    new = env_form("Tiltfile", text, per_port)
    assert oracle(new) == oracle(text)  # no environment: nothing moved
    assert portreg(new) == portreg(text)
    assert env_form("Tiltfile", new, per_port) == new  # a second run changes nothing
    # portreg reads the forwards in the interpreter's order (the test above): each literal
    # one is rewritten, and follows its variable; one already in the idiom keeps its own
    before = [o for o in scan_text("Tiltfile", text) if o.field != "dict"]
    literal = [o.namespace == HOST and o.variable is None for o in before]
    env = {
        per_port(o): str(o.port + 100) for o, plain in zip(before, literal, strict=True) if plain
    }
    expected = [
        (name, ("host", item[1] + 100, *item[2:]) if plain and item[1] is not None else item)
        for (name, item), plain in zip(host_forwards(text), literal, strict=True)
    ]
    assert host_forwards(new, env) == expected
