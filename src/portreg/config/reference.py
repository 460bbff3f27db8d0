"""The configuration block of the README, rendered from the keys' one declaration
(``config.config_key`` on each settings field): every key at its default, a key whose
default says nothing shown commented out with its example. ``tests/test_init.py``
holds the README's block to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from portreg.config import SECTIONS, Key, Settings, TargetSpec, keys_of
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
    example = [f"# {k.name} = {k.example}" for k, _f in keys_of(TargetSpec) if k.example]
    parts.append("\n".join([*_comment(SECTION_DOCS["targets"]), "# [[targets]]", *example]))
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def _keys(keys: list[tuple[Key, Any]], values: Any, section: str = "") -> str:
    lines: list[str] = []
    tables: list[str] = []
    for key, field in keys:
        value = getattr(values, field.name)
        if key.name in TABLES:
            tables += ["", f"[{section}.{key.name}]", *_comment(key.doc)]
            tables += [f"{key_text(name)} = {literal(template)}" for name, template in value]
            continue
        if key.doc and lines:
            lines.append("")
        lines += _comment(key.doc)
        if key.example:
            lines.append(f"# {key.name} = {key.example}")
        elif value is not None:
            lines.append(f"{key.name} = {literal(value)}")
    return "\n".join(lines + tables)


def _comment(text: str) -> list[str]:
    return [f"# {line}" for line in text.splitlines()]
