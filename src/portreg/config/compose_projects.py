"""Which compose files run together (pure, no YAML): a file with its override files,
as ``docker compose`` reads them, and the files a Tiltfile starts with
``docker_compose()``; shared by ``init``'s detection and the compose target.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Sequence


def base_of(display: str) -> tuple[str, str]:
    """(folder, stem) an override file shares with the file it overrides."""
    folder, _, name = display.rpartition("/")
    stem = name.rpartition(".")[0] or name
    return folder, stem.removesuffix(".override")


def is_override(display: str) -> bool:
    """``compose.override.yaml``, ``x.override.yml``: a file compose reads only beside its own."""
    name = display.rpartition("/")[2]
    return (name.rpartition(".")[0] or name).endswith(".override")


def group_files(files: Sequence[str], declared: Sequence[Sequence[str]]) -> list[list[str]]:
    """The projects: each declared list as given, then every other file with its override
    files (the file first, as compose reads them); a file alone is its own project."""
    taken = {name for group in declared for name in group}
    projects = [list(group) for group in declared if group]
    rest: dict[tuple[str, str], list[str]] = {}
    for name in files:
        if name not in taken:
            rest.setdefault(base_of(name), []).append(name)
    for names in rest.values():
        projects.append(sorted(names, key=lambda n: (is_override(n), n)))
    return projects


def docker_compose_files(display: str, text: str) -> list[str]:
    """The compose files a Tiltfile starts with ``docker_compose(...)`` (a literal path or
    a list of them), as repo paths: Tilt reads them relative to the Tiltfile's folder."""
    # list and query load no parser (tests/test_startup_imports.py)
    from portreg.edit.starlark import callee, keyword, literal, parse

    tree, _source = parse(display, text)
    folder = posixpath.dirname(display)
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or callee(node) != "docker_compose":
            continue
        held = node.args[0] if node.args else keyword(node, "configPaths")
        items = held.elts if isinstance(held, ast.List | ast.Tuple) else [held]
        for item in items:
            path = literal(item) if isinstance(item, ast.expr) else None
            if isinstance(path, str) and path and not path.startswith("/"):
                found.append(posixpath.normpath(posixpath.join(folder, path)))
    return [path for path in found if not path.startswith("../")]
