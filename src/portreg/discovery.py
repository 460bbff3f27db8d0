"""Finding the repo root and its config file, with ``os.path`` only.

Kept free of heavy imports (no pathlib, typing or tomllib) because ``query``
and ``list`` go through here on every run; see ``quick.py``.
"""

from __future__ import annotations

import os

CONFIG_FILE = "portreg.toml"
DEFAULT_REGISTRY = "scripts/port-registry.json"


def has_tool_table(pyproject: str) -> bool:
    """True when a pyproject.toml has a ``[tool.portreg]`` table (a text search, no parse)."""
    try:
        with open(pyproject, encoding="utf-8") as handle:
            return "[tool.portreg" in handle.read()
    except OSError:
        return False


def find_root(start: str) -> str:
    """Walk up from ``start`` to the first folder that looks like a portreg repo."""
    folder = os.path.realpath(start)
    while True:
        if os.path.isfile(os.path.join(folder, CONFIG_FILE)):
            return folder
        if os.path.isfile(os.path.join(folder, DEFAULT_REGISTRY)):
            return folder
        if has_tool_table(os.path.join(folder, "pyproject.toml")):
            return folder
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return os.path.realpath(start)
        folder = parent


def find_config(root: str) -> str | None:
    """``portreg.toml``, else a ``pyproject.toml`` holding ``[tool.portreg]``, else None."""
    own = os.path.join(root, CONFIG_FILE)
    if os.path.isfile(own):
        return own
    pyproject = os.path.join(root, "pyproject.toml")
    return pyproject if has_tool_table(pyproject) else None


NODE_PORT_BASE = 31000
NODE_PORT_OFFSET = 8000
