"""portreg's Tiltfile reader and editor, held to a real Starlark parser.

portreg reads a Tiltfile with a small lexer for Starlark's lexical syntax (one
reader, fast enough for every ``check``). Here the pure-Python ``starlark``
package, a real parser with character offsets, is the oracle: on generated
Tiltfiles (comments and strings that look like forwards, nested calls and dicts,
computed ports, blocks) a reference reader over its AST must find exactly the
forwards portreg finds, on the same lines; and every edit ``set_port`` makes must
land on literal nodes the parser gives for that service, every other byte kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlark import syntax
from starlark.syntax import ast

from portreg.errors import PortregError
from portreg.targets.tilt import local_port, scan_text, set_port

SERVICES = ["invoice", "billing", "ledger", "web"]
PORTS = st.integers(8001, 8030)
Seen = tuple[int, int, str, str | None]  # line, port, field, service


def nodes(node: object) -> Iterator[object]:
    """Every AST node under ``node``, parents before children."""
    if isinstance(node, list):
        for item in node:
            yield from nodes(item)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        yield node
        for field in dataclasses.fields(node):
            if field.name != "binding":
                yield from nodes(getattr(node, field.name))


def value(node: object) -> int | str | None:
    if isinstance(node, ast.IntLiteral | ast.StringLiteral):
        return node.value
    return None


def resource_name(call: object) -> str | None:
    """The literal name of a ``k8s_resource(...)`` call, positional or ``workload=``."""
    if not (isinstance(call.fn, ast.Identifier) and call.fn.name == "k8s_resource"):
        return None
    args = call.args
    if args and isinstance(args[0], ast.PositionalArgument):
        first = value(args[0].value)
        return first if isinstance(first, str) else None
    for arg in args:
        if isinstance(arg, ast.KeywordArgument) and arg.name.name == "workload":
            named = value(arg.value)
            return named if isinstance(named, str) else None
    return None


def reference(text: str) -> list[tuple[Seen, object]]:
    """The forwards a Tiltfile holds, read from the real parser's AST: (seen, literal node)."""
    tree = syntax.parse(text, "Tiltfile")
    line = lambda node: text.count("\n", 0, node.start) + 1  # noqa: E731
    found: list[tuple[Seen, object]] = []

    def walk(node: object, owner: str | None) -> None:
        if isinstance(node, ast.CallExpression):
            owner = resource_name(node) or owner
            read_call(node, owner)
        if (
            isinstance(node, ast.AssignmentStatement)
            and isinstance(node.lhs, ast.Identifier)
            and "port" in node.lhs.name.lower()
            and isinstance(node.rhs, ast.DictExpression)
        ):
            read_dict(node.rhs)
        children = [] if not dataclasses.is_dataclass(node) else dataclasses.fields(node)
        for field in children:
            if field.name == "binding":
                continue
            child = getattr(node, field.name)
            for item in child if isinstance(child, list) else [child]:
                if dataclasses.is_dataclass(item) and not isinstance(item, type):
                    walk(item, owner)

    def add(node: object, port: int | None, field: str, service: str | None) -> None:
        if port is not None:
            found.append(((line(node), port, field, service), node))

    def read_call(call: object, owner: str | None) -> None:
        for arg in call.args:
            if isinstance(arg, ast.KeywordArgument) and arg.name.name == "port_forwards":
                held = arg.value
                items = held.elements if isinstance(held, ast.ListExpression) else [held]
                for item in items:
                    add(item, local_port(value(item)), "port_forwards", owner)
        fn = call.fn
        if isinstance(fn, ast.Identifier) and fn.name == "port_forward":
            args = call.args
            first = args[0] if args else None
            if isinstance(first, ast.PositionalArgument) and isinstance(
                first.value, ast.IntLiteral
            ):
                add(first.value, local_port(first.value.value), "port_forward", owner)
                return
            for arg in args:
                if isinstance(arg, ast.KeywordArgument) and arg.name.name == "local_port":
                    add(arg.value, local_port(value(arg.value)), "port_forward", owner)

    def read_dict(table: object) -> None:
        for entry in table.entries:
            name, held = value(entry.key), value(entry.value)
            if isinstance(name, str) and (isinstance(held, int) or str(held).isdigit()):
                add(entry.value, local_port(held), "dict", name)

    for statement in tree.statements:
        walk(statement, None)
    return found


# --- generated Tiltfiles ------------------------------------------------------------------


def quote(draw: st.DrawFn, text: str) -> str:
    mark = draw(st.sampled_from(["'", '"']))
    return f"{mark}{text}{mark}"


@st.composite
def forward(draw: st.DrawFn) -> str:
    port = draw(PORTS)
    other = draw(st.sampled_from([port, 80, 9229]))
    forms = {
        "int": lambda: str(port),
        "str": lambda: quote(draw, str(port)),
        "pair": lambda: quote(draw, f"{port}:{other}"),
        "host": lambda: quote(draw, f"localhost:{port}:80"),
        "call": lambda: f"port_forward({port}, {other}, name='p')",
        "kwcall": lambda: f"port_forward(local_port={port}, container_port=80)",
        "computed": lambda: f"BASE + {port - 8000}",
        "str-call": lambda: f"str({port})",
        "format": lambda: f"'%d:%d' % ({port}, 80)",
    }
    return forms[draw(st.sampled_from(sorted(forms)))]()


@st.composite
def resource(draw: st.DrawFn) -> str:
    service = draw(st.sampled_from(SERVICES))
    name = quote(draw, service) if draw(st.booleans()) else f"workload={quote(draw, service)}"
    forwards = draw(st.lists(forward(), min_size=1, max_size=3))
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
                [str(port), quote(draw, str(port)), f"{{'http': {port}}}", f"{port} + 1"]
            )
        )
        entries.append(f"{quote(draw, service)}: {held}")
    name = draw(st.sampled_from(["SERVICE_PORTS", "ports", "HostPort", "SERVICES"]))
    if draw(st.booleans()):
        return f"{name} = {{{', '.join(entries)}}}"
    return name + " = {\n" + "".join(f"    {entry},  # 9000\n" for entry in entries) + "}"


NOISE = [
    "# k8s_resource('invoice', port_forwards='8011:8011')",
    "load('ext://helm_resource', 'helm_resource')",
    "BASE = 8000",
    "docker_build('web', '.', live_update=[sync('./src', '/app')])",
    "local_resource('docs', serve_cmd='mkdocs serve -a localhost:8012')",
    "NOTE = '''port_forward(8013, 8013)\nport_forwards=8014'''",
    "HELP = \"k8s_resource('web', port_forwards=8015)\"",
]


@st.composite
def tiltfile(draw: st.DrawFn) -> str:
    parts = st.one_of(resource(), port_table(), st.sampled_from(NOISE))
    lines = draw(st.lists(parts, min_size=1, max_size=8))
    if draw(st.booleans()):  # a block, as Tiltfiles use for optional services
        body = "\n".join("    " + line.replace("\n", "\n    ") for line in lines[-1:])
        lines[-1] = "if config.tilt_subcommand == 'up':\n" + body + "\n    pass"
    return "\n".join(lines) + ("\n" if draw(st.booleans()) else "")


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(tiltfile())
def test_portreg_reads_the_forwards_the_parser_finds(text: str) -> None:
    mine = sorted((o.line, o.port, o.field, o.service) for o in scan_text("Tiltfile", text))
    assert mine == sorted(seen for seen, _node in reference(text))


def literals(text: str) -> list[tuple[int, int, int | str]]:
    """(start, end, value) of every int and string literal the parser finds, in order."""
    tree = syntax.parse(text, "Tiltfile")
    return sorted(
        (node.start, node.end, node.value)
        for node in nodes(tree.statements)
        if isinstance(node, ast.IntLiteral | ast.StringLiteral)
    )


def between(text: str, spans: list[tuple[int, int, int | str]]) -> list[str]:
    """The text between literals: what an edit of ports must leave byte for byte."""
    cuts, position = [], 0
    for start, end, _value in spans:
        cuts.append(text[position:start])
        position = end
    return [*cuts, text[position:]]


@FAST
@given(tiltfile(), st.sampled_from(SERVICES), PORTS)
def test_set_port_edits_only_that_services_literals(text: str, service: str, port: int) -> None:
    try:
        new = set_port("Tiltfile", text, service, port)
    except PortregError:
        return  # refused, and nothing written: the CLI tests cover the message
    before, after = literals(text), literals(new)
    assert len(before) == len(after)
    assert between(text, before) == between(new, after)
    owned = {node.start for seen, node in reference(text) if seen[3] == service}
    calls = [
        node
        for node in nodes(syntax.parse(text, "Tiltfile").statements)
        if isinstance(node, ast.CallExpression)
        and isinstance(node.fn, ast.Identifier)
        and node.fn.name == "port_forward"
    ]
    for call in calls:  # port_forward(8015, 8015): the container side moves with the host side
        if call.args and call.args[0].value.start in owned:
            owned |= {arg.value.start for arg in call.args[1:2]}
    for (start, _end, old), (_start, _end2, held) in zip(before, after, strict=True):
        if old != held:
            assert start in owned, f"{old!r} at offset {start} is not {service}'s"
    moved = [seen for seen, _node in reference(new) if seen[3] == service]
    kept = [seen for seen, _node in reference(text) if seen[3] != service]
    assert [seen for seen, _node in reference(new) if seen[3] != service] == kept
    assert all(seen[1] == port for seen in moved if seen[2] == "dict")
