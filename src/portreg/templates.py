"""Placeholders such as ``{service}`` and ``{node_port}`` in config templates (pure)."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")
PLACEHOLDER_NAMES = (
    "service",
    "port",
    "node_port",
    "service_snake",
    "service_title",
    "SERVICE_UPPER",
)


def placeholders(service: str, port: int, node_port: int) -> dict[str, str]:
    """The values every template may use for one service."""
    return {
        "service": service,
        "port": str(port),
        "node_port": str(node_port),
        "service_snake": service.replace("-", "_"),
        "service_title": " ".join(part.capitalize() for part in service.split("-")),
        "SERVICE_UPPER": service.replace("-", "_").upper(),
    }


def unknown_placeholders(template: str) -> list[str]:
    return [name for name in PLACEHOLDER.findall(template) if name not in PLACEHOLDER_NAMES]


def render(template: str, values: dict[str, str]) -> str:
    """Fill ``{name}`` placeholders; unknown names were rejected when the config loaded."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def render_value(template: str, values: dict[str, str]) -> int | str:
    """Render, keeping a purely numeric result an int (so YAML gets ``8001``, not ``"8001"``)."""
    text = render(template, values)
    return int(text) if text.isdigit() and not text.startswith("0") else text
