"""The defaults, and finding the repo root, its config file and files by glob.

Kept free of heavy imports (no pathlib, typing, dataclasses or tomllib)
because ``quick`` runs through here on every ``query``, ``list`` and plain
``assign``; ``config.Settings`` takes its defaults from here, so they are
declared once.
"""

from __future__ import annotations

import os

CONFIG_FILE = "portreg.toml"
DEFAULT_REGISTRY = "scripts/port-registry.json"
FIRST_PORT = 8001
LAST_PORT = 8999
RESERVED = (8080,)
NODE_PORT_BASE = 31000
NODE_PORT_OFFSET = 8000
NODE_PORT_RANGE = (31000, 31999)
LOCK_TIMEOUT = 10.0
HELM_VALUES = "helm/rerp-microservice/values/{service}.yaml"
KIND_CONFIG = "kind-config.yaml"
TILT_FILES = ("Tiltfile",)
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose*.yml", "docker-compose*.yaml")
MANIFEST_FILES = ("k8s/**/*.yaml", "manifests/**/*.yaml")
HELM_SET = (
    ("service.port", "{port}"),
    ("service.containerPort", "{port}"),
    ("service.nodePort", "{node_port}"),
    ("service.name", "{service}"),
    ("image.name", "rerp-{service}"),
    ("app.serviceName", "{service}"),
    ("app.binaryName", "{service_snake}_service_api"),
)
KIND_NODE_ROLE = "control-plane"
KIND_COMMENT = "# {service_title} Service"


def _one_star(root: str, pattern: str, files_only: bool) -> list[str] | None:
    """``dir/prefix*suffix`` (the shape of every values path) listed with one scandir;
    None for any other pattern. Same answer as ``glob``: ``*`` skips dot-files.
    ``files_only`` drops folders by the entry's type (no ``stat`` on most systems)."""
    folder, _, name = pattern.rpartition("/")
    if name.count("*") != 1 or any(c in pattern for c in "?[") or "*" in folder:
        return None
    prefix, _, suffix = name.partition("*")
    try:
        with os.scandir(os.path.join(root, folder)) as listing:
            entries = [
                entry.name
                for entry in listing
                if entry.name.startswith(prefix)
                and entry.name.endswith(suffix)
                and (not files_only or entry.is_file())
            ]
    except OSError:
        return []
    hidden_ok = prefix.startswith(".")
    lead = f"{folder}/" if folder else ""
    return [
        lead + entry
        for entry in entries
        if len(entry) >= len(prefix) + len(suffix) and (hidden_ok or not entry.startswith("."))
    ]


def _star_folder(root: str, pattern: str, files_only: bool) -> list[str] | None:
    """``dir/*/rest`` (a file per service folder, as OpenAPI trees are laid out): one
    listdir and one ``stat`` per folder (``lstat`` when ``files_only`` is off, as
    ``glob`` does); None for other patterns."""
    head, star, rest = pattern.partition("/*/")
    if not star or any(c in head + rest for c in "*?[") or "*" in head:
        return None
    try:
        entries = os.listdir(os.path.join(root, head))
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.startswith("."):
            continue
        name = f"{head}/{entry}/{rest}" if head else f"{entry}/{rest}"
        path = os.path.join(root, name)
        if os.path.isfile(path) if files_only else os.path.lexists(path):
            found.append(name)
    return found


def _fixed_folder(pattern: str) -> str:
    """The folders of ``pattern`` before its first wildcard (``k8s`` for ``k8s/**/*.yaml``)."""
    parts = pattern.split("/")
    fixed = []
    for part in parts[:-1]:
        if any(char in part for char in "*?["):
            break
        fixed.append(part)
    return "/".join(fixed)


def glob_files(root: str, pattern: str, *, check_files: bool = True) -> list[str]:
    """Repo-relative files matching ``pattern`` (``**`` allowed), sorted.

    ``check_files=False`` skips the ``stat`` that drops folders, for callers that
    ``stat`` every match anyway (the port cache reads a folder as holding nothing).
    """
    listed = _one_star(root, pattern, check_files)
    if listed is not None:
        return sorted(listed)
    listed = _star_folder(root, pattern, check_files)
    if listed is not None:
        return sorted(listed)
    if not os.path.isdir(os.path.join(root, _fixed_folder(pattern))):
        return []  # (``k8s/**/*.yaml`` in a repo without k8s/: no need to import glob)
    import glob

    matches = sorted(glob.glob(pattern, root_dir=root, recursive=True))
    if not check_files:
        return matches
    return [name for name in matches if os.path.isfile(os.path.join(root, name))]


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
