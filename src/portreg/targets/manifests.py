"""Kubernetes manifests (read-only): ``kind: Service`` objects' ``port`` and ``nodePort``.

Multi-document files under the configured globs (also ``kind: List``). The
service is the object's ``metadata.name``. Only literal values are read; a
templated chart file that is not valid YAML is reported by ``check`` as
unreadable, never guessed at.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

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
    from portreg.targets import yamlscan as ys

    for doc in docs:
        kind = ys.scalar(ys.get(doc, "kind"))
        if kind == "List":
            yield from _services(ys.sequence(ys.get(doc, "items")))
        elif kind == "Service":
            yield doc


def _service_observations(display: str, obj: yaml.Node) -> Iterator[Observation]:
    from portreg.targets import yamlscan as ys

    name = ys.scalar(ys.get(ys.get(obj, "metadata"), "name"))
    for entry in ys.sequence(ys.get(ys.get(obj, "spec"), "ports")):
        for key, role, namespace in _FIELDS:
            node = ys.get(entry, key)
            port = ys.port_of(node)
            if node is not None and port is not None:
                line = ys.line_of(node)
                yield Observation(NAME, display, line, port, key, role, name, namespace)


def scan_text(display: str, text: str) -> list[Observation]:
    """Observations of one manifest file (raises PortregError if it is not YAML)."""
    from portreg.targets import yamlscan as ys

    found: list[Observation] = []
    for obj in _services(ys.documents(text, display)):
        found.extend(_service_observations(display, obj))
    return found


class ManifestsTarget(ScannedTarget):
    name = NAME

    def scan_file(self, display: str, text: str) -> list[Observation]:
        return scan_text(display, text)
