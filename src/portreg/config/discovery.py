"""The defaults, and finding the repo root and its config file.

``config.Settings`` takes its defaults from here, so they are declared once. They
belong to no one project: a repo's own layout is found in its files (``config.detect``)
for every section its config does not write.
"""

from __future__ import annotations

import os

from portreg.errors import PortregError
from portreg.io.files import read_text

CONFIG_FILE = "portreg.toml"
DEFAULT_REGISTRY = "scripts/port-registry.json"
FIRST_PORT = 8001
LAST_PORT = 8999
RESERVED = (8080,)
NODE_PORT_BASE = 31000
NODE_PORT_OFFSET = 8000
NODE_PORT_RANGE = (31000, 31999)
LOCK_TIMEOUT = 10.0
HELM_VALUES = "helm/values/{service}.yaml"
KIND_CONFIG = "kind-config.yaml"
TILT_FILES = ("Tiltfile",)
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose*.yml", "docker-compose*.yaml")
MANIFEST_FILES = ("k8s/**/*.yaml", "manifests/**/*.yaml")
# the port fields only: anything else in a values file (an image's name, a binary's) is
# the repo's own convention, which `init` reads from its files (config.detect)
HELM_SET = (
    ("service.port", "{port}"),
    ("service.nodePort", "{node_port}"),
)
KIND_NODE_ROLE = "control-plane"
KIND_COMMENT = "# {service_title} Service"


def has_tool_table(pyproject: str) -> bool:
    """True when a pyproject.toml has a ``[tool.portreg]`` table (a text search, no parse)."""

    try:
        return "[tool.portreg" in (read_text(pyproject) or "")
    except PortregError:
        return False


def find_root(start: str) -> str | None:
    """Walk up from ``start`` to the first folder that looks like a portreg repo (a
    ``portreg.toml``, a registry, a ``[tool.portreg]`` or a ``.git``); None when none does."""
    folder = os.path.realpath(start)
    while True:
        if os.path.lexists(os.path.join(folder, CONFIG_FILE)):
            return folder
        if os.path.lexists(os.path.join(folder, DEFAULT_REGISTRY)):
            return folder
        if has_tool_table(os.path.join(folder, "pyproject.toml")):
            return folder
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def find_config(root: str) -> str | None:
    """``portreg.toml``, else a ``pyproject.toml`` holding ``[tool.portreg]``, else None."""
    own = os.path.join(root, CONFIG_FILE)
    if os.path.lexists(own):  # whatever it is: reading it refuses a FIFO or a folder by name
        return own
    pyproject = os.path.join(root, "pyproject.toml")
    return pyproject if has_tool_table(pyproject) else None
