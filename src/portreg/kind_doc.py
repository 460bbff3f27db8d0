"""Reading a composed kind-config: which node has a role, what port an entry binds.

Shared by the kind target (full road) and the fast ``assign --update-configs``
(``quick_configs``), so both recognise nodes and mappings the same way.
Import-light: only yamledit.
"""

from __future__ import annotations

from portreg import yamledit

NODES: yamledit.Path = ("nodes",)
MAPPINGS = "extraPortMappings"


def role_index(doc: yamledit.Document, role: str) -> int | None:
    """Index of the first node whose role is ``role`` (None when none has it)."""
    for item in doc.items(NODES):
        node = item.node
        found = node.value if node.id == "scalar" else None
        if node.id == "mapping":
            found = next((v.value for k, v in node.value if k.value == "role"), None)
        if found == role:
            return item.index
    return None


def port_node(entry: yamledit.Node, key: str) -> yamledit.Node | None:
    """The scalar under ``key`` of a mapping entry when it holds a port number, else None."""
    if entry.id != "mapping":
        return None
    for k, v in entry.value:
        if k.id == "scalar" and k.value == key and v.id == "scalar" and str(v.value).isdigit():
            return v
    return None
