"""Writing new scalars, keys and small mappings in the file's own style."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from portreg.edit.yaml.base import (
    _PLAIN_SAFE,
    INT_TAG,
    STR_TAG,
    Node,
    Path,
    Scalar,
    _loader,
    tag_of,
)

if TYPE_CHECKING:
    from typing import Any


def _resolves_to_str(text: str) -> bool:
    import yaml

    resolver: Any = yaml.resolver.Resolver()
    return bool(resolver.resolve(yaml.ScalarNode, text, (True, False)) == STR_TAG)


def _plain_ok(text: str) -> bool:
    """Whether ``text`` reads back as the same string when written plain (in any context)."""
    if _PLAIN_SAFE.fullmatch(text):
        return _resolves_to_str(text)
    if not text or text != text.strip() or any(c in text for c in ",[]{}#\n\r\t\"'"):
        return False
    if not text.isprintable() or text[0] in "-?:!&*|>%@`":
        return False
    import yaml

    try:
        node: Node = yaml.compose(f"_: {text}\n", Loader=_loader())
    except yaml.YAMLError:
        return False
    value = node.value[0][1] if node is not None and node.id == "mapping" else None
    return bool(value is not None and tag_of(value) == STR_TAG and value.value == text)


def _quote(text: str, style: str) -> str:
    if style == "'" and "\n" not in text and text.isprintable():
        return "'" + text.replace("'", "''") + "'"

    return json.dumps(text, ensure_ascii=False)


def render_scalar(value: Scalar, style: str | None = None) -> tuple[str, tuple[str, str]]:
    """YAML text for ``value`` in ``style`` (None/'' plain, ``'`` or ``"``), and what it loads as.

    A plain string that YAML would read as something else (``yes``, ``8001``,
    ``a: b``) is double-quoted; an int keeps the quotes of the value it
    replaces, so a quoted ``"8001"`` stays a quoted string.
    """
    text = str(value)
    if style in ("'", '"'):
        return _quote(text, style), (STR_TAG, text)
    if isinstance(value, int) and not isinstance(value, bool):
        return text, (INT_TAG, text)
    if _plain_ok(text):
        return text, (STR_TAG, text)
    return _quote(text, '"'), (STR_TAG, text)


def _render_key(key: str) -> str:
    return render_scalar(key)[0]


def _block_lines(tree: Mapping[str, Any], column: int, step: int) -> list[str]:
    lines = []
    for key, value in tree.items():
        if isinstance(value, dict):
            lines.append(f"{' ' * column}{_render_key(key)}:")
            lines.extend(_block_lines(value, column + step, step))
        else:
            lines.append(f"{' ' * column}{_render_key(key)}: {render_scalar(value)[0]}")
    return lines


def _flow_text(tree: Mapping[str, Any]) -> str:
    parts = []
    for key, value in tree.items():
        rendered = "{" + _flow_text(value) + "}" if isinstance(value, dict) else None
        parts.append(f"{_render_key(key)}: {rendered or render_scalar(value)[0]}")
    return ", ".join(parts)


def nest(changes: Mapping[Path, Any]) -> dict[str, Any]:
    """``{(a, b): 1, (a, c): 2}`` as ``{a: {b: 1, c: 2}}``: new keys to add as one block."""
    tree: dict[str, Any] = {}
    for path, value in changes.items():
        branch = tree
        for key in path[:-1]:
            branch = branch.setdefault(str(key), {})
        branch[str(path[-1])] = value
    return tree
