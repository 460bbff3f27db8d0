"""Placeholders such as ``{service}`` and ``{node_port}`` in config templates (pure)."""

from __future__ import annotations

import functools
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
    plain = text.isascii() and text.isdigit() and not text.startswith("0")
    return int(text) if plain else text


# What each placeholder can stand for when a template is read back out of a file.
_READ_BACK = {
    "service": r"[a-z][a-z0-9-]*",
    "service_snake": r"[a-z][a-z0-9_]*",
    "SERVICE_UPPER": r"[A-Z][A-Z0-9_]*",
    "service_title": r"[A-Z][A-Za-z0-9 ]*?",
    "port": r"[0-9]{1,5}",
    "node_port": r"[0-9]{1,5}",
}


@functools.lru_cache(maxsize=256)
def template_regex(template: str) -> re.Pattern[str]:
    """A regex matching what ``template`` renders to; each placeholder is a named group."""
    regex, position, used = "", 0, set()
    for match in PLACEHOLDER.finditer(template):
        regex += re.escape(template[position : match.start()])
        name = match.group(1)
        regex += f"(?P={name})" if name in used else f"(?P<{name}>{_READ_BACK[name]})"
        used.add(name)
        position = match.end()
    return re.compile(regex + re.escape(template[position:]))


def service_from(groups: dict[str, str]) -> str | None:
    """The service a match of :func:`template_regex` names, or None when it names none
    or its placeholders disagree (``INVOICE`` in one place, ``payments`` in another)."""
    names = set()
    if groups.get("service"):
        names.add(groups["service"])
    for key in ("service_snake", "SERVICE_UPPER", "service_title"):
        if groups.get(key):
            names.add("-".join(groups[key].lower().replace("_", " ").split()))
    return names.pop() if len(names) == 1 else None


@functools.lru_cache(maxsize=256)
def comment_pattern(template: str) -> re.Pattern[str]:
    """A regex matching comment lines made from ``template``; placeholders become groups."""
    regex, position = "", 0
    used: set[str] = set()
    for match in PLACEHOLDER.finditer(template.strip()):
        regex += re.escape(template.strip()[position : match.start()])
        name = match.group(1)
        regex += f"(?P={name})" if name in used else f"(?P<{name}>.+?)"
        used.add(name)
        position = match.end()
    return re.compile(regex + re.escape(template.strip()[position:]))


def service_in_comment(pattern: re.Pattern[str], comment: str | None) -> str | None:
    """The service a comment line names, read back through :func:`comment_pattern`."""
    if comment is None:
        return None
    match = pattern.fullmatch(comment)
    if match is None:
        return None
    named = match.groupdict()
    if named.get("service"):
        return named["service"]
    for key in ("service_snake", "SERVICE_UPPER", "service_title"):
        if named.get(key):
            return "-".join(named[key].lower().replace("_", " ").split())
    return None
