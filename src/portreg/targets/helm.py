"""Helm values files (``[helm] values``, e.g. ``helm/values/{service}.yaml``): one per service.

``update`` sets the ``[helm.set]`` keys (the port fields by default; ``init`` reads the
repo's own convention for the others)
with byte-exact edits; a missing file is a warning (the seed's words), or is
created from a template with ``--scaffold`` or a configured ``[helm] template``.
``remove`` leaves the values file alone: it is the user's file, not portreg's.
``scan_file`` reads one values file's three port fields for ``check``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from portreg.config import Settings, TargetSpec
from portreg.config.detect import is_library_chart
from portreg.config.templates import render
from portreg.edit import yaml as yamledit
from portreg.edit.heap import collector_paused
from portreg.errors import FileEditError, PortregError
from portreg.io.workspace import Workspace
from portreg.model import Assignment
from portreg.targets import yamlscan as ys
from portreg.targets.base import CONTAINER, NODE, SERVICE, Observation, scan_each
from portreg.targets.fields import SetTarget, service_path_pattern

DEFAULT_TEMPLATE = """\
# Helm values for {service}, created by portreg.
# ⚠️ PORT CONFIGURATION REFERENCE: the ports below are managed by portreg
# (`portreg query {service}` shows them; `portreg assign {service} --force` changes them).
service:
  name: {service}
"""

SCANNED = (
    (("service", "port"), "port", SERVICE),
    (("service", "containerPort"), "container_port", CONTAINER),
    (("service", "nodePort"), "node_port", NODE),
)
EXPOSED = frozenset({"NodePort", "LoadBalancer"})  # Service types that open a NodePort


def _nodeport_convention(root: Any) -> bool:
    """Whether a values file follows the NodePort convention, so the registry governs its
    ports: its Service is a NodePort (or LoadBalancer), or names a nodePort with no type.
    A ClusterIP Service's port is its own in-cluster address (``port: 80``), and so is
    one of a file that says neither (``port: 8080`` in every chart): read, never
    rewritten."""
    section = ys.last(root, "service")
    kind = ys.scalar(ys.last(section, "type"))
    if kind is not None:
        return kind in EXPOSED
    return _number(ys.last(section, "nodePort")) is not None


def _number(node: Any) -> int | None:
    """A values file's number as the chart's manifest reads it: the text, quoted or not, is
    written into the template and read there as YAML 1.1 (``017501`` is 8001)."""
    return ys.int_of(node, quoted=True)


HELM_TAKES = "Helm takes the last"


def _field(root: Any, section: str, key: str, display: str) -> Any:
    """The node Helm reads at ``section.key``. A key written twice on the way that holds a
    port is an error naming both lines: Helm silently takes the last."""
    sections = ys.pairs(root, section)
    if len(sections) > 1 and any(_holds_port(node) for _key, node in sections):
        ys.refuse_duplicates(sections, section, display, HELM_TAKES)
    found = ys.pairs(sections[-1][1], key) if sections else []
    if len(found) > 1 and any(_number(node) is not None for _key, node in found):
        taken = _number(found[-1][1])
        what = "not a number" if taken is None else str(taken)
        ys.refuse_duplicates(found, f"{section}.{key}", display, f"{HELM_TAKES} ({what})")
    return found[-1][1] if found else None


def _holds_port(section: Any) -> bool:
    keys = {key for (_section, key), _role, _namespace in SCANNED}
    return any(_number(ys.last(section, key)) is not None for key in keys)


def _in_cluster(text: str, display: str) -> bool:
    """Whether a values file says its Service keeps its ports in-cluster (``type:
    ClusterIP``), so no registry port belongs in it, even when asked by name. A file
    that says no type is the registry's to fill (the seed's files say none)."""
    try:
        docs = ys.documents(text, display)
    except PortregError:
        return False  # the editor refuses such a file itself, saying why
    kind = ys.scalar(ys.last(ys.last(docs[0], "service"), "type")) if len(docs) == 1 else None
    return kind is not None and kind not in EXPOSED


class HelmTarget(SetTarget):
    """The Helm values file of each service: a yaml set target configured from ``[helm]``.

    Its keys are dotted (``service.port``), missing keys are always added, and
    a missing file is the seed's warning or a scaffold; ``scan_file`` reads
    the three port fields whatever ``[helm.set]`` says, so ``check`` can tell
    them apart, one file at a time (one broken values file is one finding).
    """

    name = "helm"

    def __init__(self, settings: Settings) -> None:
        helm = settings.helm
        super().__init__(settings, TargetSpec("helm", helm.values, "yaml", helm.set, create=True))
        self.pattern = helm.values
        self._names = service_path_pattern(helm.values)

    def path_for(self, path: str, values: dict[str, str]) -> yamledit.Path:
        return tuple(path.split("."))

    def values_path(self, ws: Workspace, wanted: Assignment) -> Path:
        return ws.resolve(render(self.pattern, wanted.values()))

    def update(
        self, ws: Workspace, wanted: Assignment, *, scaffold: bool = False, ports_only: bool = False
    ) -> list[str]:
        path = self.values_path(ws, wanted)
        text = ws.read(path)
        if text is None:
            if not scaffold and self.settings.helm.template is None:
                return [_missing_warning(ws.display(path), wanted.service)]
            text = self._scaffold(ws, wanted)
            ports_only = False  # a file portreg creates gets every field
        elif _in_cluster(text, ws.display(path)):
            return [
                f"⚠️  helm: {ws.display(path)}: its Service's ports are in-cluster (type is "
                "not NodePort); left as they are"
            ]
        new, warnings = self.edit(text, ws.display(path), wanted, ports_only=ports_only)
        if new != ws.read(path):
            ws.write(path, new)
        return warnings

    def _scaffold(self, ws: Workspace, wanted: Assignment) -> str:
        """A new values file from the configured template file, else the built-in one."""
        template = DEFAULT_TEMPLATE
        if self.settings.helm.template is not None:
            source = ws.resolve(self.settings.helm.template)
            read = ws.read(source)
            if read is None:
                raise FileEditError(
                    "Helm values template not found",
                    where=ws.display(source),
                    hint="create it, or fix [helm] template in the portreg config",
                )
            template = read
        return render(template, wanted.values())

    def remove(self, ws: Workspace, service: str, port: int | None = None) -> list[str]:
        """Delete the service's own values file (``release --update-configs``, ``fix
        --prune``): it holds nothing but that service, and left behind it would be a
        service ``check`` reports and ``fix`` adopts again. git keeps it; a shared values
        file (no ``{service}`` in the pattern) is never deleted."""
        if "{service}" not in self.pattern:
            return []
        path = self.values_path(ws, Assignment(service, port or 0, 0))
        if ws.read(path) is not None:
            ws.delete(path)
        return []

    def files(self, ws: Workspace) -> list[str]:
        """Every file the values pattern matches: those whose name gives no service are
        read too (their ports count for allocation), but hold no service's ports. A
        library chart's values (``charts/common/values.yaml`` beside a ``Chart.yaml`` of
        ``type: library``) are no file of the pattern: a library deploys nothing."""
        names = ws.glob_names(self.pattern.replace("{service}", "*"))
        if "{service}" not in self.pattern.rpartition("/")[0]:
            return names  # a values folder: its files are not charts
        return [name for name in names if not _in_library_chart(ws, name)]

    def read(self, ws: Workspace, display: str) -> str:
        return ws.read(ws.root / display) or ""

    def scan(self, ws: Workspace) -> list[Observation]:
        return scan_each(self, ws)

    @collector_paused()
    def scan_file(self, display: str, text: str) -> list[Observation]:
        """The three port fields of one values file, with the service its name gives."""
        service = self._service_of(display)
        return [] if service is None else self.scan_values(display, text, service)

    def scan_values(self, display: str, text: str, service: str | None) -> list[Observation]:
        """The three port fields of a values file, as ``service``'s (None: a file whose
        name names no service, which ``check`` names as such, PR026)."""
        docs = ys.documents(text, display, limit=2)
        if len(docs) > 1:
            raise FileEditError(
                "holds more than one YAML document; a values file is one",
                where=f"{display}:{ys.line_of(docs[1])}",
                hint="fix the file by hand",
            )
        if docs:
            _require_mappings(docs[0], display)
        found = []
        governed = bool(docs) and _nodeport_convention(docs[0])
        for (section, key), role, namespace in SCANNED if docs else ():
            node = _field(docs[0], section, key, display)
            port = _number(node)
            if node is not None and port is not None:
                line = ys.line_of(node)
                found.append(
                    Observation(
                        "helm",
                        display,
                        line,
                        port,
                        f"{section}.{key}",
                        role if governed else "other",
                        service,
                        namespace,
                    )
                )
        return found

    def _service_of(self, display: str) -> str | None:
        match = self._names.fullmatch(display)
        return match.groupdict().get("service") if match else None


_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


def _in_library_chart(ws: Workspace, display: str) -> bool:
    try:
        chart = ws.read(ws.root / display.rpartition("/")[0] / "Chart.yaml")
    except PortregError:
        return False  # one that cannot be read says nothing: the values file is read
    return chart is not None and is_library_chart(chart)


def _require_mappings(root: Any, display: str) -> None:
    """A values file portreg cannot edit is one check reports (PR017), not one it passes:
    the document must be a mapping (or null: an empty file), and each section holding a
    port field a mapping or nothing at all (``service:``). The editor refuses the rest."""
    plain = root.id == "scalar" and not root.style
    sections = [] if plain and root.value in _NULLS else [("the values file", root)]
    sections += [
        (section, ys.last(root, section))
        for section in dict.fromkeys(s for (s, _), _r, _n in SCANNED)
    ]
    for name, node in sections:
        empty = node is None or (node.id == "scalar" and node.value == "" and not node.style)
        if not empty and node.id != "mapping":
            what = "a list" if node.id == "sequence" else f"a scalar ({node.value[:20]!r})"
            raise FileEditError(
                f"{name} is {what}, expected a mapping",
                where=f"{display}:{ys.line_of(node)}",
                hint="fix the file by hand",
            )


def _missing_warning(display: str, service: str) -> str:
    return (
        f"⚠️  Helm values file not found: {display}\n"
        f"   Create it with: portreg assign {service} --scaffold"
    )
