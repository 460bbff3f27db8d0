"""The package's import graph, module-level and function-level imports alike (a lazy
import is still a dependency): no cycle between modules, and no package imports one
above it in the flow the README's layout draws.

The package root (``portreg/__init__.py``) is left out: it holds the version and the
public names, loaded lazily, and every module is inside it anyway.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from test_startup_imports import (
    MUST_NOT_IMPORT,
    NEVER_ON_THE_FILE_STORE,
    PARSERS,
    WITHOUT_A_CONFIG,
)

SRC = Path(__file__).resolve().parent.parent / "src" / "portreg"

# lowest first: a package may import those before it, never those after it
LAYERS = (
    "errors",
    "edit",  # parsers and byte-exact edits: text in, text out
    "io",  # the one door to the file system, the transaction
    "config",
    "model",  # registry state, allocation, the formula (pure)
    "store",
    "targets",  # one module per kind of file: read, plan edits
    "check",  # bindings -> rules -> findings
    "api",  # Registry: one transaction per command
    "commands",
    "cli",
    "__main__",
)


def modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        name = ".".join(("portreg", *path.relative_to(SRC).with_suffix("").parts))
        found[name.removesuffix(".__init__")] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Every portreg module ``name`` imports, wherever the import statement stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            heads = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            heads = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for head in heads:
            target = owner(head, known)
            if target not in (None, name, "portreg"):
                yield target


def owner(dotted: str, known: dict[str, Path]) -> str | None:
    """The module ``a.b.c`` names: itself, or the module holding the name ``c``."""
    while dotted not in known and "." in dotted:
        dotted = dotted.rpartition(".")[0]
    return dotted if dotted in known else None


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imported(name, path, known)) for name, path in known.items()}


def layer(module: str) -> str:
    return module.split(".")[1]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected parts of more than one module (Tarjan's, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                part = []
                while True:
                    top = stack.pop()
                    part.append(top)
                    if top == node:
                        break
                if len(part) > 1:
                    found.append(sorted(part))
    return found


def test_no_module_imports_another_that_imports_it_back() -> None:
    assert cycles(graph()) == []


def test_no_package_imports_one_above_it() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in graph().items()
        if module != "portreg"
        for target in targets
        if LAYERS.index(layer(target)) > LAYERS.index(layer(module))
    )
    assert upward == []


def test_every_package_has_its_layer_and_there_are_at_most_12() -> None:
    tops = {layer(name) for name in modules() if name != "portreg"}
    assert tops == set(LAYERS)
    assert len(tops - {"__main__"}) <= 12


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_the_cycle_finder_finds_cycles(
    edges: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert cycles(edges) == expected


def test_the_graph_sees_function_level_imports() -> None:
    """A lazy import counts: ``api`` imports ``check.layout`` inside a function only."""
    assert "portreg.check.layout" in graph()["portreg.api"]


# ------------------------------------------------------- function-level imports
# An import inside a function is there only to keep a named cost off a command's start:
# the module it loads is one the start-up test names (or loads one at module level).

NAMED_COSTS = frozenset(
    {
        *PARSERS,
        *NEVER_ON_THE_FILE_STORE,
        *WITHOUT_A_CONFIG,
        *(m for names in MUST_NOT_IMPORT.values() for m in names),
    }
)


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.stmt, bool]]:
    """Every import statement with whether it runs inside a function (``if TYPE_CHECKING:``
    blocks left out: they never run)."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, in_function
        elif not _type_checking(child):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from _imports(child, inside)


def _targets(node: ast.stmt, name: str, path: Path, known: dict[str, str]) -> list[str]:
    """The modules an import statement loads: portreg's by the module holding the name."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    if isinstance(node, ast.Import):
        heads = [alias.name for alias in node.names]
    else:
        assert isinstance(node, ast.ImportFrom)
        base = node.module or ""
        if node.level:
            parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            base = f"{parent}.{base}" if base else parent
        heads = (
            [f"{base}.{alias.name}" for alias in node.names]
            if base.startswith("portreg")
            else [base]
        )
    return [owner(head, known) or head for head in heads]


def _named(module: str) -> bool:
    return any(module == cost or module.startswith(f"{cost}.") for cost in NAMED_COSTS)


def lazy_imports_without_a_named_cost(sources: dict[str, tuple[Path, str]]) -> list[str]:
    """``module:line -> target`` for each function-level import that loads nothing the
    start-up test names, not even through the target's own module-level imports (a
    module importing from itself loads nothing at all)."""
    known = {name: name for name in sources}
    trees = {name: ast.parse(text) for name, (_path, text) in sources.items()}
    top: dict[str, set[str]] = {}
    for name, tree in trees.items():
        path = sources[name][0]
        top[name] = {
            target
            for node, lazy in _imports(tree)
            if not lazy
            for target in _targets(node, name, path, known)
        }

    def costly(module: str, seen: set[str]) -> bool:
        if _named(module):
            return True
        seen.add(module)
        return any(costly(t, seen) for t in top.get(module, ()) if t not in seen)

    return sorted(
        {
            f"{name}:{node.lineno} -> {target}"
            for name, tree in trees.items()
            for node, lazy in _imports(tree)
            if lazy
            for target in _targets(node, name, sources[name][0], known)
            if target == name or not costly(target, set())  # itself: it loads nothing
        }
    )


def package_sources() -> dict[str, tuple[Path, str]]:
    return {name: (path, path.read_text(encoding="utf-8")) for name, path in modules().items()}


def test_a_function_level_import_saves_a_cost_the_start_up_test_names() -> None:
    assert lazy_imports_without_a_named_cost(package_sources()) == []


FAKE = Path("portreg/fake.py")


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ({"portreg.a": "def f():\n    import json\n"}, ["portreg.a:2 -> json"]),
        ({"portreg.a": "def f():\n    import yaml\n"}, []),
        ({"portreg.a": "import json\n"}, []),
        ({"portreg.a": "if TYPE_CHECKING:\n    import json\n"}, []),
        (
            {
                "portreg.a": "def f():\n    from portreg.b import g\n",
                "portreg.b": "import yaml\ndef g():\n    pass\n",
            },
            [],
        ),
        (
            {
                "portreg.a": "class A:\n    def f(self):\n        from portreg.b import g\n",
                "portreg.b": "def g():\n    import yaml\n",
            },
            ["portreg.a:3 -> portreg.b"],
        ),
        (
            {
                "portreg.a": "import yaml\ndef f():\n    from portreg.a import g\ndef g():\n    pass\n"
            },
            ["portreg.a:3 -> portreg.a"],
        ),
    ],
    ids=["stdlib", "named", "top-level", "type-checking", "named-through", "lazy-through", "self"],
)
def test_the_lazy_import_check_finds_imports_that_save_nothing(
    sources: dict[str, str], expected: list[str]
) -> None:
    fake = {name: (FAKE, text) for name, text in sources.items()}
    assert lazy_imports_without_a_named_cost(fake) == expected
