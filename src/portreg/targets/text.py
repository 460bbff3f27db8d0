"""Text targets (``kind = "text"``): one line per service, e.g. in ``.env.example``.

``line = "{SERVICE_UPPER}_URL=http://localhost:{port}"``. A service's line is
found by its *key*: the template up to the first port placeholder, rendered
for that service (``INVOICE_URL=http://localhost:``). ``update`` rewrites
every line starting with the key, or appends the line at the end of the file
in the file's newline style (a missing final newline stays missing);
``remove`` deletes the key's lines. Every other byte stays as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

from portreg.config import Settings, TargetSpec
from portreg.config.templates import render, service_from, template_regex
from portreg.edit.heap import collector_paused
from portreg.io.workspace import Workspace
from portreg.model import Assignment
from portreg.targets.base import Observation, declared, scan_each
from portreg.targets.fields import role_of, service_path_pattern

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_BREAK = re.compile(r"\r\n|\r|\n")


def line_key(template: str) -> str:
    """The part of a line template before its first port placeholder."""
    starts = [template.find(p) for p in ("{port}", "{node_port}") if p in template]
    return template[: min(starts)]


def _lines(text: str) -> list[str]:
    """The lines of ``text``, each with its own line break."""
    return [line for line in _LINE.findall(text) if line]


def _content(line: str) -> str:
    """A line of :func:`_lines` without its line break (only ever at its end)."""
    return line.rstrip("\r\n")


def set_line(text: str, key: str, line: str) -> str:
    """Every line starting with ``key`` becomes ``line``; none: ``line`` is appended."""
    lines = _lines(text)
    found = False
    for index, old in enumerate(lines):
        if _content(old).startswith(key):
            lines[index] = line + old[len(_content(old)) :]
            found = True
    if found:
        return "".join(lines)
    match = _BREAK.search(text)
    newline = match.group(0) if match else "\n"
    if not text:
        return line + newline
    if _BREAK.search(text[-1:]):
        return text + line + newline
    return text + newline + line  # keep the missing final newline missing


def remove_line(text: str, key: str) -> str:
    """Delete every line starting with ``key`` (with its line break)."""
    lines = _lines(text)
    kept = [line for line in lines if not _content(line).startswith(key)]
    last_gone = bool(lines) and _content(lines[-1]).startswith(key)
    if kept and last_gone and _content(lines[-1]) == lines[-1]:
        kept[-1] = _content(kept[-1])  # the file had no final newline: keep it without one
    return "".join(kept)


class TextTarget:
    """A ``[[targets]]`` of kind text."""

    def __init__(self, settings: Settings, spec: TargetSpec) -> None:
        assert spec.line is not None
        self.settings = settings
        self.spec = spec
        self.name = spec.name
        self.line = spec.line
        self.key = line_key(spec.line)
        self.role = role_of(spec.line) or "port"
        self.per_service = "{service}" in spec.files
        self.file_service = service_path_pattern(spec.files)

    def _paths(self, ws: Workspace, service: str) -> list[Path]:
        pattern = self.spec.files
        return ws.glob(pattern.replace("{service}", service) if self.per_service else pattern)

    def update(
        self, ws: Workspace, wanted: Assignment, *, scaffold: bool = False, ports_only: bool = False
    ) -> list[str]:
        values = wanted.values()
        paths = self._paths(ws, wanted.service)
        if not paths:
            files = render(self.spec.files, values)
            return [f"⚠️  {self.name}: no file matches {files} (nothing updated)"]
        for path in paths:
            text = ws.read(path) or ""
            new = set_line(text, render(self.key, values), render(self.line, values))
            if new != text:
                ws.write(path, new)
        return []

    def remove(self, ws: Workspace, service: str, port: int | None = None) -> list[str]:
        values = Assignment(service, port or 0, 0).values()
        for path in self._paths(ws, service):
            text = ws.read(path) or ""
            new = remove_line(text, render(self.key, values))
            if new != text:
                ws.write(path, new)
        return []

    # ------------------------------------------------------------- reading

    def files(self, ws: Workspace) -> list[str]:
        return ws.glob_names(self.spec.files.replace("{service}", "*"))

    def read(self, ws: Workspace, display: str) -> str:
        return ws.read(ws.root / display) or ""

    def scan(self, ws: Workspace) -> list[Observation]:
        return scan_each(self, ws)

    @collector_paused()
    def scan_file(self, display: str, text: str) -> list[Observation]:
        """Each line the template matches, with its port and service."""
        match = self.file_service.fullmatch(display) if self.per_service else None
        known = {"service": match.group("service")} if match else {}
        regex = template_regex(self.line)
        found = []
        keys: dict[str, str] = {}  # the key each service's line starts with, rendered once
        for number, line in enumerate(_lines(text), start=1):
            hit = regex.fullmatch(_content(line))
            if hit is None:
                continue
            groups = {**known, **hit.groupdict()}
            service = service_from(groups)
            if service is not None:
                port = int(groups[self.role])
                key = keys.get(service) or keys.setdefault(
                    service, render(self.key, Assignment(service, 0, 0).values())
                )
                found.append(
                    declared(Observation(self.name, display, number, port, key, self.role, service))
                )
        return found
