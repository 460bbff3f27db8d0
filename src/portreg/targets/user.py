"""Targets declared with ``[[targets]]`` of kind yaml or json: ``set`` paths in a file.

``files`` is a glob; with ``{service}`` in it each service has its own file(s),
without it one file holds every service and each ``set`` path names the
service (``proxy.{service}.target``). A path is yamledit's syntax: mapping
keys, list indexes and ``[?field=='value']`` (the first list item whose field
holds the value); placeholders may appear in keys and selected values.

:class:`UserTarget` is a :class:`~portreg.targets.fields.SetTarget` (the
machinery it shares with the Helm values target) plus what a user target
needs: a warning for a path that matches nothing (or, with ``create = true``,
the key or list item added in the file's style) and per-file scans for
``check``.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterator
from typing import Any

from portreg.config import Settings, TargetSpec
from portreg.config.templates import service_from, template_regex
from portreg.edit import yaml as yamledit
from portreg.edit.heap import collector_paused
from portreg.errors import ConfigError, PortregError
from portreg.io.workspace import Workspace
from portreg.targets.base import Observation, declared, scan_each
from portreg.targets.fields import Bindings, SetTarget, role_of, service_path_pattern


class UserTarget(SetTarget):
    """A ``[[targets]]`` yaml/json target: edits plus per-file scans for ``check``."""

    def __init__(self, settings: Settings, spec: TargetSpec) -> None:
        super().__init__(settings, spec)
        self.file_service = service_path_pattern(spec.files)
        self.scanned = [
            (yamledit.parse_path(path), template, role)
            for path, template in spec.set
            if (role := role_of(template)) is not None
        ]

    # ----------------------------------------------------------- reading

    def files(self, ws: Workspace) -> list[str]:
        return ws.glob_names(self.spec.files.replace("{service}", "*"))

    def read(self, ws: Workspace, display: str) -> str:
        return ws.read(ws.root / display) or ""

    def scan(self, ws: Workspace) -> list[Observation]:
        return scan_each(self, ws)

    @collector_paused()
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
                    found.append(
                        declared(Observation(self.name, display, line, port, field, role, service))
                    )
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
    from portreg.targets import yamlscan

    try:
        return [(root, _yaml_line) for root in yamlscan.documents(text, display)]
    except PortregError:
        if kind != "json":
            raise
    from portreg.edit import json as jsonedit

    doc = jsonedit.parse(text, display)
    return [(doc.root, doc.line_of)]


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

    pattern = spec.files.replace("{service}", "*")
    if spec.required and not glob.glob(pattern, root_dir=settings.root, recursive=True):
        raise ConfigError(
            f"targets.{spec.name}.files: {spec.files!r} matches no file (required = true)",
            where=settings.config_name,
            hint="fix the glob, or set required = false",
        )
