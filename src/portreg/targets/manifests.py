"""Kubernetes manifests (read-only): ``kind: Service`` objects' ``port`` and ``nodePort``.

Multi-document files under the configured globs (also ``kind: List``). The
service is the object's ``metadata.name``. Only literal values are read; a
templated chart file that is not valid YAML is reported by ``check`` as
unreadable, never guessed at.

Numbers are read as kubectl reads them (YAML 1.1: ``017501`` is 8001); a quoted
``"8001"`` is a string, which the API refuses for ``port`` and reads as a port
*name* for ``targetPort``: no port. A port entry with a port key written twice
is unreadable (the API server takes the last).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from portreg.edit.heap import collector_paused
from portreg.targets import yamlscan as ys
from portreg.targets.base import CONTAINER, NODE, SERVICE, Observation
from portreg.targets.scanned import ScannedTarget

if TYPE_CHECKING:
    import yaml

NAME = "manifests"
# a Service's own port and its pod's are in-cluster (read and shown, never governed);
# its nodePort is the cluster's, derived by the formula where the repo uses it
_FIELDS = (
    ("port", "other", SERVICE),
    ("targetPort", "other", CONTAINER),
    ("nodePort", "node_port", NODE),
)


def _services(docs: list[yaml.Node]) -> Iterator[yaml.Node]:
    for doc in docs:
        kind = ys.scalar(ys.last(doc, "kind"))
        if kind == "List":
            yield from _services(ys.sequence(ys.last(doc, "items")))
        elif kind == "Service":
            yield doc


def _service_observations(display: str, obj: yaml.Node) -> Iterator[Observation]:
    name = ys.scalar(ys.last(ys.last(obj, "metadata"), "name"))
    for entry in ys.sequence(ys.last(ys.last(obj, "spec"), "ports")):
        fields = ys.by_key(entry)
        for key, role, namespace in _FIELDS:
            found = fields.get(key)
            port = _field(display, found, key) if found else None
            if found and port is not None and 1 <= port <= 65535:
                line = ys.line_of(found[-1][1])
                yield Observation(NAME, display, line, port, key, role, name, namespace)


def _field(display: str, found: list[tuple[yaml.Node, yaml.Node]], key: str) -> int | None:
    """The number the API server reads under ``key`` (the last of duplicates); a duplicate
    holding a number is an error naming both lines."""
    numbers = [ys.int_of(node) for _key, node in found]
    if len(found) > 1 and any(number is not None for number in numbers):
        what = "not a number" if numbers[-1] is None else str(numbers[-1])
        ys.refuse_duplicates(found, f"ports.{key}", display, f"Kubernetes takes the last ({what})")
    return numbers[-1]


@collector_paused()
def scan_text(display: str, text: str) -> list[Observation]:
    """Observations of one manifest file (raises PortregError if it is not YAML)."""
    found: list[Observation] = []
    for obj in _services(ys.documents(text, display)):
        found.extend(_service_observations(display, obj))
    return found


class ManifestsTarget(ScannedTarget):
    name = NAME

    def scan_file(self, display: str, text: str) -> list[Observation]:
        return scan_text(display, text)
