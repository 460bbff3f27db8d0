"""Files whose fields portreg sets from templates: the shared base of the Helm values
target and the user-declared yaml/json targets.

:class:`SetTarget` renders the ``set`` paths for one service, sets existing
values and adds missing ones when allowed, in the file's own style.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import Any

from portreg.config import SERVICE_LABEL, Settings, TargetSpec
from portreg.config.templates import render, render_value
from portreg.edit import yaml as yamledit
from portreg.io.workspace import Workspace
from portreg.model import Assignment

Bindings = dict[str, str]


def editor(kind: str) -> ModuleType:
    """The module that edits this kind of file: yamledit or jsonedit (same functions)."""
    if kind == "json":
        from portreg.edit import json as jsonedit

        return jsonedit
    return yamledit


def role_of(template: str) -> str | None:
    """Which port a value template carries ("node_port" wins when it has both)."""
    if "{node_port}" in template:
        return "node_port"
    return "port" if "{port}" in template else None


class SetTarget:
    """Set ``spec.set`` paths to rendered templates in each service's file(s)."""

    def __init__(self, settings: Settings, spec: TargetSpec) -> None:
        self.settings = settings
        self.spec = spec
        self.name = spec.name
        self.per_service = "{service}" in spec.files
        self.edit_module = editor(spec.kind)

    def path_for(self, path: str, values: Bindings) -> yamledit.Path:
        return yamledit.parse_path(render(path, values))

    def service_files(self, ws: Workspace, service: str) -> list[Path]:
        """The files that hold ``service``'s values (every matching file for a shared one)."""
        if self.per_service:
            return ws.glob(self.spec.files.replace("{service}", service))
        return ws.glob(self.spec.files)

    def fields(self, *, ports_only: bool) -> tuple[tuple[str, str], ...]:
        """The ``set`` entries to write: all, or only those whose template holds a port."""
        if not ports_only:
            return self.spec.set
        return tuple((path, value) for path, value in self.spec.set if role_of(value))

    def edit(
        self, text: str, source: str, wanted: Assignment, *, ports_only: bool = False
    ) -> tuple[str, list[str]]:
        """One file's new text for one service, and the paths that matched nothing."""
        values = wanted.values()
        doc = self.edit_module.parse(text, source)
        changes: dict[yamledit.Path, yamledit.Scalar] = {}
        items: list[tuple[yamledit.Path, yamledit.Path, yamledit.Scalar]] = []
        warnings: list[str] = []
        for path_template, template in self.fields(ports_only=ports_only):
            path = self.path_for(path_template, values)
            value = render_value(template, values)
            node, depth = doc.walk(path)
            rest = path[depth:]
            if depth == len(path) and _templated(node):
                warnings.append(_left_alone(self.name, source, doc.line_of(node), path, node))
            elif depth == len(path) or (self.spec.create and _keys_only(rest)):
                changes[path] = value
            elif self.spec.create and _creatable_item(rest):
                keys = _leading_keys(rest)  # a missing `servers:` list is created too
                items.append(((*path[:depth], *rest[:keys]), rest[keys:], value))
            else:
                where = yamledit.format_path(path)
                warnings.append(f"⚠️  {self.name}: {source}: {where} matches nothing")
        if changes:
            text = self.edit_module.set_values(text, changes, source)
        for base, rest, value in items:
            text = self._add_item(text, source, base, rest, value)
        return text, warnings

    def _add_item(
        self, text: str, source: str, base: yamledit.Path, rest: yamledit.Path, value: Any
    ) -> str:
        """Append ``{field: value-of-select, key: value}`` for a missing ``[?field=='v'].key``."""
        select = rest[0]
        assert isinstance(select, yamledit.Select)
        item: list[tuple[str, yamledit.Scalar]] = [(select.key, select.value)]
        if len(rest) == 2:  # the usual shape (OpenAPI servers): url first, then description
            item.insert(0, (str(rest[1]), value))
        text = self.edit_module.append_item(text, base, item, source=source)
        if len(rest) > 2:
            text = self.edit_module.set_values(text, {(*base, *rest): value}, source)
        return text

    def update(
        self, ws: Workspace, wanted: Assignment, *, scaffold: bool = False, ports_only: bool = False
    ) -> list[str]:
        paths = self.service_files(ws, wanted.service)
        if not paths:
            files = render(self.spec.files, wanted.values())
            return [f"⚠️  {self.name}: no file matches {files} (nothing updated)"]
        warnings: list[str] = []
        for path in paths:
            text = ws.read(path)
            assert text is not None
            new, notes = self.edit(text, ws.display(path), wanted, ports_only=ports_only)
            warnings += notes
            if new != text:
                ws.write(path, new)
        return warnings

    def remove(self, ws: Workspace, service: str, port: int | None = None) -> list[str]:
        """Leave the file alone: a released service's values are the user's to delete."""
        return []


def _templated(node: Any) -> bool:
    """A value the chart computes (``"{{ .Values.global.invoicePort }}"``): ``check`` and
    ``fix`` read no port in it, so no command writes a number over it either."""
    return node is not None and node.id == "scalar" and "{{" in str(node.value)


def _left_alone(name: str, source: str, line: int, path: yamledit.Path, node: Any) -> str:
    shown = " ".join(str(node.value).split())[:60]
    return (
        f"⚠️  {name}: {source}:{line}: {yamledit.format_path(path)} is a template ({shown}); "
        "left as it is: set the value it names by hand"
    )


def _keys_only(rest: yamledit.Path) -> bool:
    return all(isinstance(key, str) for key in rest)


def _leading_keys(rest: yamledit.Path) -> int:
    """How many plain keys come before the first selector."""
    return next((i for i, key in enumerate(rest) if not isinstance(key, str)), len(rest))


def _creatable_item(rest: yamledit.Path) -> bool:
    """``[?field=='v'].key`` (and keys before it that do not exist yet): an item to add."""
    keys = _leading_keys(rest)
    selected = rest[keys:]
    return (
        len(selected) > 1 and isinstance(selected[0], yamledit.Select) and _keys_only(selected[1:])
    )


def service_path_pattern(files: str) -> re.Pattern[str]:
    """A regex reading the service back out of a path the ``files`` glob matched (the one
    rule for Helm values paths and user targets alike). The service part must be a
    DNS-1035 label: ``Upper_Case.yaml`` or ``café.yaml`` names no service."""

    regex = ""
    for part in re.split(r"(\{service\}|\*\*/|\*|\?)", files):
        if part == "{service}":
            named = "(?P<service>" in regex
            regex += "(?P=service)" if named else f"(?P<service>{SERVICE_LABEL})"
        elif part == "**/":
            regex += r"(?:.*/)?"
        elif part == "*":
            regex += r"[^/]*"
        elif part == "?":
            regex += r"[^/]"
        else:
            regex += re.escape(part)
    return re.compile(regex)
