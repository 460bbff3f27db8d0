"""JSON's nesting, bounded before ``json.loads`` recurses into it (pure): the registry,
a journal, a JSON target and ``portreg.toml``'s arrays all pass through it."""

from __future__ import annotations

import re

from portreg.errors import FileEditError

MAX_JSON_DEPTH = 200  # below the recursion limit of json.loads; no real config nests so deep


def require_shallow_json(text: str, where: str) -> None:
    """Refuse JSON nested deeper than :data:`MAX_JSON_DEPTH` before ``json.loads`` recurses
    into it (libyaml bounds YAML's nesting itself)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return

    depth = 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise FileEditError(
                    f"JSON nested more than {MAX_JSON_DEPTH} levels deep; refusing to read it",
                    where=where,
                )
        elif bracket in "]}":
            depth -= 1
