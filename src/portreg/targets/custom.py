"""Targets declared with ``[[targets]]`` of kind yaml or json: ``set`` paths in a file.

``files`` is a glob; with ``{service}`` in it each service has its own file(s),
without it one file holds every service and each ``set`` path names the
service (``proxy.{service}.target``). A path is yamledit's syntax: mapping
keys, list indexes and ``[?field=='value']`` (the first list item whose field
holds the value); placeholders may appear in keys and selected values.

:class:`SetTarget` is the shared machinery (render the paths for one
service, set existing values, add missing ones when allowed); the Helm values
target is a SetTarget configured from ``[helm]``. :class:`UserTarget` adds
what a user target needs: a warning for a path that matches nothing (or,
with ``create = true``, the key or list item added in the file's style),
per-file scans for ``check`` and a cheap regex for allocation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from portreg import yamledit
from portreg.config import Settings, TargetSpec
from portreg.errors import ConfigError
from portreg.targets.base import Observation, Wanted, scan_each
from portreg.templates import render, render_value, service_from, template_regex
from portreg.workspace import Workspace

Bindings = dict[str, str]


def editor(kind: str) -> ModuleType:
    """The module that edits this kind of file: yamledit or jsonedit (same functions)."""
    if kind == "json":
        from portreg import jsonedit

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

    def edit(self, text: str, source: str, wanted: Wanted) -> tuple[str, list[str]]:
        """One file's new text for one service, and the paths that matched nothing."""
        values = wanted.values()
        doc = self.edit_module.parse(text, source)
        changes: dict[yamledit.Path, yamledit.Scalar] = {}
        items: list[tuple[yamledit.Path, yamledit.Path, yamledit.Scalar]] = []
        warnings: list[str] = []
        for path_template, template in self.spec.set:
            path = self.path_for(path_template, values)
            value = render_value(template, values)
            _, depth = doc.walk(path)
            rest = path[depth:]
            if depth == len(path) or (self.spec.create and _keys_only(rest)):
                changes[path] = value
            elif self.spec.create and _creatable_item(rest):
                items.append((path[:depth], rest, value))
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

    def update(self, ws: Workspace, wanted: Wanted, *, scaffold: bool = False) -> list[str]:
        paths = self.service_files(ws, wanted.service)
        if not paths:
            files = render(self.spec.files, wanted.values())
            return [f"⚠️  {self.name}: no file matches {files} (nothing updated)"]
        warnings: list[str] = []
        for path in paths:
            text = ws.read(path)
            assert text is not None
            new, notes = self.edit(text, ws.display(path), wanted)
            warnings += notes
            if new != text:
                ws.write(path, new)
        return warnings

    def remove(self, ws: Workspace, service: str, port: int | None = None) -> list[str]:
        """Leave the file alone: a released service's values are the user's to delete."""
        return []


def _keys_only(rest: yamledit.Path) -> bool:
    return all(isinstance(key, str) for key in rest)


def _creatable_item(rest: yamledit.Path) -> bool:
    return isinstance(rest[0], yamledit.Select) and _keys_only(rest[1:]) and len(rest) > 1


class UserTarget(SetTarget):
    """A ``[[targets]]`` yaml/json target: edits plus per-file scans for ``check``."""

    def __init__(self, settings: Settings, spec: TargetSpec) -> None:
        super().__init__(settings, spec)
        self.file_service = _file_service_pattern(spec.files)
        self.scanned = [
            (yamledit.parse_path(path), template, role)
            for path, template in spec.set
            if (role := role_of(template)) is not None
        ]

    # ----------------------------------------------------------- reading

    def files(self, ws: Workspace) -> list[str]:
        return ws.glob_names(self.spec.files.replace("{service}", "*"))

    def read(self, ws: Workspace, display: str) -> str:
        # no ws.resolve: its symlink guard is for edits, and a realpath per file was
        # a fifth of check's time on 500 files (update() resolves before writing)
        return ws.read(ws.root / display) or ""

    def scan(self, ws: Workspace) -> list[Observation]:
        return scan_each(self, ws)

    def scan_file(self, display: str, text: str) -> list[Observation]:
        """Every value a port template matches, with the service it belongs to."""
        match = self.file_service.fullmatch(display) if self.per_service else None
        known = {"service": match.group("service")} if match else {}
        found = []
        for root, line_of in _roots(self.spec.kind, text, display):
            for path, template, role in self.scanned:
                for node, where, bindings in _match(root, path, known, ()):
                    observed = self._observe(node, template, bindings)
                    if observed is None:
                        continue
                    port, service = observed
                    field = yamledit.format_path(where)
                    line = line_of(node)
                    found.append(Observation(self.name, display, line, port, field, role, service))
        return found

    def _observe(self, node: Any, template: str, bindings: Bindings) -> tuple[int, str] | None:
        if node.id != "scalar":
            return None
        match = template_regex(template).fullmatch(str(node.value))
        groups = _merge(bindings, match.groupdict()) if match else None
        service = service_from(groups) if groups is not None else None
        role = role_of(template)
        if groups is None or service is None or role is None:
            return None
        return int(groups[role]), service


def _yaml_line(node: Any) -> int:
    return int(node.start_mark.line) + 1


def _roots(kind: str, text: str, display: str) -> list[tuple[Any, Callable[[Any], int]]]:
    """Each document's root node and how to get a node's line, for reading only.

    libyaml's bare compose is the cheapest positioned parse; JSON is YAML flow,
    so it reads JSON too, except what YAML 1.1 refuses (tab indentation), which
    the JSON scanner reads instead.
    """
    from portreg.errors import PortregError
    from portreg.targets import _yamlscan

    try:
        return [(root, _yaml_line) for root in _yamlscan.documents(text, display)]
    except PortregError:
        if kind != "json":
            raise
    from portreg import jsonedit

    doc = jsonedit.parse(text, display)
    return [(doc.root, doc.line_of)]


def _file_service_pattern(files: str) -> re.Pattern[str]:
    """A regex reading the service back out of a path matched by the ``files`` glob."""
    regex = ""
    for part in re.split(r"(\{service\}|\*\*/|\*|\?)", files):
        if part == "{service}":
            regex += (
                r"(?P<service>[a-z][a-z0-9-]*)" if "(?P<service>" not in regex else "(?P=service)"
            )
        elif part == "**/":
            regex += r"(?:.*/)?"
        elif part == "*":
            regex += r"[^/]*"
        elif part == "?":
            regex += r"[^/]"
        else:
            regex += re.escape(part)
    return re.compile(regex)


def _merge(bindings: Bindings, groups: dict[str, str]) -> Bindings | None:
    """Bindings from the path and the value together; None when they name two services."""
    if not groups:
        return bindings  # a literal key binds nothing new; ``bindings`` already agree
    merged = {**bindings, **groups}
    names = {service_from({key: value}) for key, value in merged.items()} - {None}
    return merged if len(names) <= 1 else None


def _match(
    node: Any, path: yamledit.Path, bindings: Bindings, where: tuple[Any, ...]
) -> Iterator[tuple[Any, yamledit.Path, Bindings]]:
    """Every node a path template reaches; placeholders in keys bind to what they matched."""
    if not path:
        yield node, where, bindings
        return
    key, rest = path[0], path[1:]
    if isinstance(key, str) and node.id == "mapping" and "{" not in key:
        for key_node, value in node.value:  # a literal key: no regex, no new bindings
            if key_node.id == "scalar" and str(key_node.value) == key:
                yield from _match(value, rest, bindings, (*where, key))
    elif isinstance(key, str) and node.id == "mapping":
        regex = template_regex(key)
        for key_node, value in node.value:
            found = regex.fullmatch(str(key_node.value)) if key_node.id == "scalar" else None
            merged = _merge(bindings, found.groupdict()) if found else None
            if merged is not None:
                yield from _match(value, rest, merged, (*where, str(key_node.value)))
    elif isinstance(key, int) and node.id == "sequence" and key < len(node.value):
        yield from _match(node.value[key], rest, bindings, (*where, key))
    elif isinstance(key, yamledit.Select) and node.id == "sequence":
        yield from _select(node, key, rest, bindings, where)


def _select(
    node: Any, key: yamledit.Select, rest: yamledit.Path, bindings: Bindings, where: tuple[Any, ...]
) -> Iterator[tuple[Any, yamledit.Path, Bindings]]:
    regex = template_regex(key.value)
    for item in node.value:
        if item.id != "mapping":
            continue
        for field, value in item.value:
            if field.value != key.key or value.id != "scalar":
                continue
            found = regex.fullmatch(str(value.value))
            if found:
                merged = _merge(bindings, found.groupdict())
                if merged is not None:
                    selected = yamledit.Select(key.key, str(value.value))
                    yield from _match(item, rest, merged, (*where, selected))


def build(settings: Settings) -> list[Any]:
    """The targets of ``[[targets]]``, in the order they are declared."""
    from portreg.targets.text import TextTarget

    targets: list[Any] = []
    for spec in settings.targets:
        _require_files(settings, spec)
        targets.append(
            TextTarget(settings, spec) if spec.kind == "text" else UserTarget(settings, spec)
        )
    return targets


def _require_files(settings: Settings, spec: TargetSpec) -> None:
    """``required = true``: a glob that matches nothing is a config mistake (exit 2)."""
    import glob

    pattern = spec.files.replace("{service}", "*")
    if spec.required and not glob.glob(pattern, root_dir=settings.root, recursive=True):
        raise ConfigError(
            f"targets.{spec.name}.files: {spec.files!r} matches no file (required = true)",
            where=settings.source,
            hint="fix the glob, or set required = false",
        )
