"""The config text rendered from the keys' one declaration (``config.config_key`` on
each settings field), comments included: the README's configuration block (every key
at its default, a key whose default says nothing shown commented out with its example;
``tests/test_init.py`` holds the README to it), and the ``portreg.toml`` init writes
(the keys found, each under its one-line comment)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from portreg.config import SECTIONS, Key, Settings, TargetSpec, declared, keys_of
from portreg.config.kinds import KINDS
from portreg.edit.toml import key_text, literal

HEADER = """\
# portreg: every key, at its default; a commented key shows how to set what has
# no default. `portreg COMMAND --help` says more."""
SECTION_DOCS = {
    "tilt": "Read for the ports they use (fix moves a service's literal port forwards).",
    "ignore": "What check never reports and fix never edits (also: `# portreg: ignore[PR005]`\n"
    "at the end of a line).",
    "etcd": "For etcd:// and etcds:// stores.",
    "targets": "More files that hold a service's port (see the README's \"User-defined targets\"):",
}
TABLES = ("set",)  # keys shown as a table of their own ([helm.set])


def reference() -> str:
    """The whole block: the top-level keys, then each section, then ``[[targets]]``."""
    defaults = Settings(root=Path("."))
    parts = [HEADER, _keys(keys_of(Settings), defaults)]
    for name, (cls, _schema) in SECTIONS.items():
        section = defaults.section(name)
        doc = _comment(SECTION_DOCS.get(name, ""))
        parts.append("\n".join([*doc, f"[{name}]", _keys(keys_of(cls), section, name)]))
    example = [
        line
        for k, _f in keys_of(TargetSpec)
        if k.example
        for line in (f"# {k.comment}", f"# {k.name} = {k.example}")
    ]
    parts.append("\n".join([*_comment(SECTION_DOCS["targets"]), "# [[targets]]", *example]))
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def _keys(keys: list[tuple[Key, Any]], values: Any, section: str = "") -> str:
    lines: list[str] = []
    tables: list[str] = []
    for key, field in keys:
        value = getattr(values, field.name)
        if key.name in TABLES:
            tables += ["", f"[{section}.{key.name}]", *_comment(_text(key))]
            tables += [f"{key_text(name)} = {literal(template)}" for name, template in value]
            continue
        if lines:
            lines.append("")
        lines += _comment(_text(key))
        if key.example:
            lines.append(f"# {key.name} = {key.example}")
        elif value is not None:
            lines.append(f"{key.name} = {literal(value)}")
    return "\n".join(lines + tables)


def _text(key: Key) -> str:
    """All the README says above a key: its comment, then the rest."""
    return f"{key.comment}\n{key.more}" if key.more else key.comment


def _comment(text: str) -> list[str]:
    return [f"# {line}" for line in text.splitlines()]


# -------------------------------------------------- the portreg.toml init writes

CONFIG_HEADER = """\
# portreg: the port registry of this repo, written by `portreg init` from what the
# repo's files show. Every key is optional; the README's "Configuration" section
# lists them all.
"""
SECTION_ORDER = tuple(KINDS)


def render_config(table: Mapping[str, Any], notes: Sequence[str] = ()) -> str:
    """The ``portreg.toml`` for a found config table: top-level keys, then one table per
    section, each key under its one-line comment; ``notes`` (what was found and chosen)
    head the file as comments."""
    lines = [CONFIG_HEADER.rstrip("\n")]
    lines += [f"#   {note}" for note in notes]
    top = [(k, v) for k, v in table.items() if not isinstance(v, dict | list) or _plain(v)]
    lines += ["", *_written(declared(), [(k, v) for k, v in top if k != "targets"])]
    for name in SECTION_ORDER:
        section = table.get(name)
        if isinstance(section, dict):
            lines += ["", *_section(name, section)]
    for target in table.get("targets", []):
        lines += ["", "[[targets]]", *_written(declared("targets"), list(target.items()))]
    return "\n".join(lines) + "\n"


def _written(keys: Mapping[str, Key], items: Sequence[tuple[str, Any]]) -> list[str]:
    """Each ``key = value`` under its comment."""
    return [line for k, v in items for line in (f"# {keys[k].comment}", f"{k} = {literal(v)}")]


def _section(name: str, section: Mapping[str, Any]) -> list[str]:
    keys = declared(name)
    plain = [(k, v) for k, v in section.items() if not isinstance(v, dict)]
    lines = [f"[{name}]", *_written(keys, plain)]
    for key, value in section.items():
        if isinstance(value, dict):
            lines += ["", f"[{name}.{key}]", f"# {keys[key].comment}"]
            lines += [f"{key_text(k)} = {literal(v)}" for k, v in value.items()]
    return lines


def _plain(value: Any) -> bool:
    """A list of scalars or of lists of scalars (a TOML inline array)."""
    return isinstance(value, list) and all(not isinstance(v, dict) for v in value)
