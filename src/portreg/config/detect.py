"""The repo's layout, found from its files: what ``init`` writes, and the config of a
repo that has none (pure: given the repo's file list and a way to read a file).

Every kind of file is found where it is, by name and content, not by a
project's convention:

- kind cluster configs anywhere, by content (``kind: Cluster`` of ``kind.x-k8s.io``);
- Tiltfiles (``Tiltfile``, ``Tiltfile.*``);
- compose files (``compose*.yaml``, ``docker-compose*.yml``, ...) with a
  ``services:`` table; a file and its override file run together, as compose runs them;
- per-service Helm values: a ``values/`` folder with a file per service, or a chart
  per service (``charts/{service}/values.yaml``, ``src/{service}/chart/values.yaml``);
  the keys every values file derives from its service's name (``image.name:
  shop-{service}``) become ``[helm.set]``, so a new service's file is written alike;
- Kubernetes manifests that hold a Service (not a chart's ``templates/``);
- ``.env`` files with ``*_PORT=`` lines.

The answer is a config table, the shape ``portreg.toml`` parses to, and one note
per kind of file: what was found (with counts) and what was chosen.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from fnmatch import fnmatch
from typing import Any, NamedTuple

from portreg.config.compose_projects import docker_compose_files, group_files, is_override
from portreg.config.kinds import KINDS, Kind
from portreg.errors import PortregError

Reader = Callable[[str], "str | None"]

YAML_SUFFIXES = (".yaml", ".yml")
MAX_SNIFF = 1 << 20  # a kind config or a compose file is never this big; a data dump may be
_SERVICE = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
_KIND_CLUSTER = re.compile(r"(?m)^kind:[ \t]*[\"']?Cluster[\"']?[ \t]*(?:#.*)?$")
KIND_CONFIG_NAMES = ("kind-config.yaml", "kind-config.yml")
_KIND_NAME = re.compile(r"kind(?:-config|-cluster)?(?:[.-][-.\w]+)?\.ya?ml")
_K8S_SERVICE = re.compile(r"(?m)^kind:[ \t]*[\"']?Service[\"']?[ \t]*(?:#.*)?$")
_COMPOSE_NAME = re.compile(r"(?:docker-)?compose(?:[.-][-.\w]+)?\.ya?ml")
_COMPOSE_BODY = re.compile(r"(?m)^services:[ \t]*(?:#.*)?$")
_ENV_NAME = re.compile(r"(?:\.env(?:\.[-\w]+)?|[-\w]+\.env)")
_ENV_PORT = re.compile(r"(?m)^(?:export[ \t]+)?([A-Z][A-Z0-9_]*)_PORT=[0-9]{1,5}[ \t]*$")
_LIBRARY_CHART = re.compile(r"(?m)^type:[ \t]*[\"']?library[\"']?[ \t]*(?:#.*)?$")
_NODE_PORT_VALUES = re.compile(
    r"(?m)^[ \t]+(?:type:[ \t]*[\"']?(?:NodePort|LoadBalancer)\b|nodePort:[ \t]*[0-9]+)"
)
PORT_KEYS = {"port": "{port}", "containerPort": "{port}", "nodePort": "{node_port}"}
MANIFEST_FOLDERS = frozenset({"k8s", "manifests", "kubernetes"})
TEMPLATE_NAMES = ("_template", "template", "_default", "default")


class Layout(NamedTuple):
    """A config table for what was found, and one note per kind of file."""

    table: dict[str, Any]
    notes: list[str]


def detect_layout(paths: Iterable[str], read: Reader, sections: Iterable[str]) -> Layout:
    """The ``sections`` (``helm``, ``kind``, ``tilt``, ``compose``, ``manifests``) of a
    config describing the repo whose files are ``paths``."""
    files = sorted(set(paths))
    wanted = set(sections)
    layout = Layout({}, [])
    helm = _helm(files, read)
    taken = set(helm.files)
    sniffed = _sniff(files, read, taken) if wanted & {"kind", "compose", "manifests"} else {}
    steps: dict[str, Callable[[], tuple[dict[str, Any], str]]] = {
        "kind": lambda: _kind(sniffed),
        "helm": lambda: (helm.table, helm.note),
        "tilt": lambda: _tilt(files, read),
        "compose": lambda: _compose(sniffed),
        "manifests": lambda: _manifests(sniffed),
    }
    for name in [*steps, *(kind for kind in KINDS if kind not in steps)]:
        if name in wanted:
            table, note = steps[name]() if name in steps else _by_names(KINDS[name], files)
            layout.table[name] = table
            layout.notes.append(note)
    return layout


def _by_names(kind: Kind, files: list[str]) -> tuple[dict[str, Any], str]:
    """A kind ``init`` finds by its files' names alone (``found_by``): on where it has any."""
    found = [
        path
        for path in files
        if any(fnmatch(path.rsplit("/", 1)[-1], name) for name in kind.found_by)
    ]
    label = kind.label or f"{kind.name} files"
    if not found:
        return {"enabled": False}, f"{label}: none"
    return {
        "enabled": True,
        "files": found,
    }, f"{label}: {_count(len(found), 'file')} ({_names(found)})"


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else (many or one + 's')}"


def _names(paths: list[str], shown: int = 3) -> str:
    more = len(paths) - shown
    return ", ".join(paths[:shown]) + (f", and {more} more" if more > 0 else "")


# ------------------------------------------------------------------ content


def _sniff(files: list[str], read: Reader, taken: set[str]) -> dict[str, str]:
    """The kind of each YAML file a scanner may want ("kind", "compose", "manifest"), by
    content; Helm values files and chart templates are not read."""
    kinds: dict[str, str] = {}
    for path in files:
        if path.endswith("/"):  # a linked folder: one entry, its files unlisted
            if path[:-1].rsplit("/", 1)[-1] in MANIFEST_FOLDERS:
                kinds[path + "**/*.yaml"] = "manifest"
            continue
        if not path.endswith(YAML_SUFFIXES) or path in taken or "templates" in path.split("/"):
            continue
        text = _read(read, path)
        if text is None:
            named = _by_name(path)
            if named is not None:  # one it cannot read is named by check, not skipped
                kinds[path] = named
            continue
        if _is_kind_config(path, text):
            kinds[path] = "kind"
        elif _COMPOSE_NAME.fullmatch(path.rsplit("/", 1)[-1]) and _COMPOSE_BODY.search(text):
            kinds[path] = "compose"
        elif _K8S_SERVICE.search(text) and "{{" not in text:
            kinds[path] = "manifest"
    return kinds


def _is_kind_config(path: str, text: str) -> bool:
    """A cluster config of ``kind.x-k8s.io``; or one named like it whose text says
    anything of kind's (a half-written one, which ``check`` names), not any file so
    named (a CI job ``ci/kind.yml`` that starts a cluster). ``kind-config.yaml``, the
    name kind's own docs use, is one whatever it holds: a broken one is named by check."""
    if path.rsplit("/", 1)[-1] in KIND_CONFIG_NAMES:
        return True
    cluster = bool(_KIND_CLUSTER.search(text))
    api = "kind.x-k8s.io" in text
    if cluster and api:
        return True
    return _is_kind_name(path) and (cluster or api or "extraPortMappings" in text)


def _is_kind_name(path: str) -> bool:
    return bool(_KIND_NAME.fullmatch(path.rsplit("/", 1)[-1]))


def _by_name(path: str) -> str | None:
    """What a file that cannot be read is by its name alone (a kind config's, a compose
    file's, a manifest folder's), so that ``check`` names the problem."""
    if _is_kind_name(path):
        return "kind"
    if _COMPOSE_NAME.fullmatch(path.rsplit("/", 1)[-1]):
        return "compose"
    if MANIFEST_FOLDERS & set(path.split("/")[:-1]):
        return "manifest"
    return None


def _read(read: Reader, path: str) -> str | None:
    """A file's text, or None when it cannot be read or is too big to be one of ours."""
    try:
        text = read(path)
    except PortregError:
        return None
    return text if text is not None and len(text) <= MAX_SNIFF else None


def _kind(sniffed: dict[str, str]) -> tuple[dict[str, Any], str]:
    found = sorted((p for p, k in sniffed.items() if k == "kind"), key=_shallow_first)
    if not found:
        return {"enabled": False}, "kind cluster configs: none"
    note = f"kind cluster configs: {_count(len(found), 'file')} ({_names(found)})"
    if len(found) > 1:
        note += f"; reading {found[0]} (one cluster per repo)"
    return {"enabled": True, "config": found[0]}, note


def _shallow_first(path: str) -> tuple[int, str]:
    return (path.count("/"), path)


def _tilt(files: list[str], read: Reader) -> tuple[dict[str, Any], str]:
    found = [p for p in files if _is_tiltfile(p.rsplit("/", 1)[-1])]
    if not found:
        return {"enabled": False}, "Tiltfiles: none"
    note = f"Tiltfiles: {_count(len(found), 'file')} ({_names(found)})"
    table: dict[str, Any] = {"enabled": True, "files": found}
    started = _started_compose(found, read, set(files))
    if started:
        table["docker-compose"] = started
        count = sum(len(paths) for paths in started.values())
        note += f"; they start {_count(count, 'compose file')} (docker_compose), run with them"
    return table, note


def _started_compose(tiltfiles: list[str], read: Reader, present: set[str]) -> dict[str, list[str]]:
    """Tiltfile -> the repo's compose files it starts with ``docker_compose()``."""
    started: dict[str, list[str]] = {}
    for tiltfile in tiltfiles:
        text = _read(read, tiltfile)
        if text is None or "docker_compose" not in text:
            continue  # no call to read: the Tiltfile reader is not even loaded

        try:
            paths = docker_compose_files(tiltfile, text)
        except PortregError:
            continue  # check names a Tiltfile it cannot read
        paths = [path for path in paths if path in present]
        if paths:
            started[tiltfile] = paths
    return started


def _is_tiltfile(name: str) -> bool:
    """``Tiltfile``, ``Tiltfile.dev``; not a test's (``Tiltfile.test``) nor a backup."""
    stem, _, suffix = name.partition(".")
    return stem == "Tiltfile" and suffix not in ("test", "orig", "bak", "old", "example")


def _compose(sniffed: dict[str, str]) -> tuple[dict[str, Any], str]:
    named = sorted(p for p, k in sniffed.items() if k == "compose")
    # a project is a file with its overrides; an override alone runs nowhere (compose
    # reads it only beside the file it overrides)
    projects = [group for group in group_files(named, ()) if not is_override(group[0])]
    found = sorted(p for group in projects for p in group)
    if not found:
        return {"enabled": False}, "compose files: none"
    note = (
        f"compose files: {_count(len(found), 'file')} in {_count(len(projects), 'project')} "
        f"({_names(found)}; a file runs with its override file, projects apart)"
    )
    return {"enabled": True, "files": found}, note


def _manifests(sniffed: dict[str, str]) -> tuple[dict[str, Any], str]:
    found = sorted(p for p, k in sniffed.items() if k == "manifest")
    if not found:
        return {"enabled": False}, "Kubernetes manifests with a Service: none"
    globs = sorted({p if "*" in p else _folder_glob(p) for p in found})
    note = (
        f"Kubernetes manifests with a Service: {_count(len(found), 'file')} "
        f"in {_count(len(globs), 'folder')}"
    )
    return {"enabled": True, "files": globs}, note


def _folder_glob(path: str) -> str:
    folder, _, name = path.rpartition("/")
    suffix = name.rsplit(".", 1)[-1]
    return f"{folder}/*.{suffix}" if folder else f"*.{suffix}"


# --------------------------------------------------------------------- helm


class _Helm(NamedTuple):
    table: dict[str, Any]
    note: str
    files: list[str]


def _helm(files: list[str], read: Reader) -> _Helm:
    """Per-service values files: the seed's layout where the repo has it, else the
    pattern naming the most services."""
    seed = _seed_layout(files)
    if seed is not None:
        return seed
    candidates = [*_values_folders(files), *_chart_per_service(files, read)]
    if not candidates:
        return _Helm({"enabled": False}, "Helm values per service: none", [])
    pattern, services = max(candidates, key=lambda c: len(c[1]))
    paths = [pattern.replace("{service}", s) for s in services]
    texts = {p: t for p in paths if (t := _read(read, p)) is not None}
    template = _template_file(files, pattern)
    if template is not None and (text := _read(read, template)) is not None:
        texts[template] = text
    if not any(_NODE_PORT_VALUES.search(text) for text in texts.values()):
        note = (
            f"Helm values per service: {_count(len(services), 'file')} ({pattern}), "
            "in-cluster ports only (no NodePort): not governed"
        )
        return _Helm({"enabled": False}, note, paths)
    table: dict[str, Any] = {"enabled": True, "values": pattern}
    settings = _helm_set({s: texts[p] for s, p in zip(services, paths, strict=True) if p in texts})
    if settings:
        table["set"] = dict(settings)
    if template is not None:
        table["template"] = template
    note = f"Helm values per service: {_count(len(services), 'file')} ({pattern}, NodePorts)"
    return _Helm(table, note, [*paths, *([template] if template else [])])


SEED_CHART = "helm/rerp-microservice/"
SEED_VALUES = SEED_CHART + "values/{service}.yaml"
SEED_SET = (
    ("service.port", "{port}"),
    ("service.containerPort", "{port}"),
    ("service.nodePort", "{node_port}"),
    ("service.name", "{service}"),
    ("image.name", "rerp-{service}"),
    ("app.serviceName", "{service}"),
    ("app.binaryName", "{service_snake}_service_api"),
)


def _seed_layout(files: list[str]) -> _Helm | None:
    """The layout the seed's script kept (one chart, ``values/{service}.yaml``, NodePorts,
    ``rerp-{service}`` images): a repo that has it keeps working as it did."""
    # a linked folder on the way (``helm/``) is held too: reading it is then refused
    held = [
        p
        for p in files
        if p.startswith(SEED_CHART) or (p.endswith("/") and SEED_CHART.startswith(p))
    ]
    if not held:
        return None
    services = _values_folders(held)
    count = len(services[0][1]) if services else 0
    table = {"enabled": True, "values": SEED_VALUES, "set": dict(SEED_SET)}
    template = _template_file(files, SEED_VALUES)
    if template is not None:
        table["template"] = template
    note = f"Helm values per service: {_count(count, 'file')} ({SEED_VALUES}, the seed's layout)"
    return _Helm(table, note, held)


def _values_folders(files: list[str]) -> list[tuple[str, list[str]]]:
    """``<chart>/values/{service}.yaml``: a ``values`` folder's files named like services."""
    folders: dict[tuple[str, str], list[str]] = {}
    for path in files:
        folder, _, name = path.rpartition("/")
        stem, dot, suffix = name.rpartition(".")
        if folder.rsplit("/", 1)[-1] != "values" or "." + suffix not in YAML_SUFFIXES:
            continue
        if "templates" in folder.split("/"):
            continue
        services = folders.setdefault((folder, suffix), [])
        if dot and _SERVICE.fullmatch(stem) and stem not in TEMPLATE_NAMES:
            services.append(stem)
    return [(f"{folder}/{{service}}.{suffix}", s) for (folder, suffix), s in folders.items() if s]


def _chart_per_service(files: list[str], read: Reader) -> list[tuple[str, list[str]]]:
    """``x/{service}/y/values.yaml``: charts (a ``Chart.yaml`` beside ``values.yaml``) that
    differ in one folder's name, the service's; two charts at least. A library chart
    (``type: library``, shared by the others) deploys nothing: it is no service."""
    present = set(files)
    charts = [
        p.split("/")
        for p in files
        if p.rsplit("/", 1)[-1] in ("values.yaml", "values.yml")
        and (chart := p.rpartition("/")[0] + "/Chart.yaml") in present
        and not is_library_chart(_read(read, chart) or "")
    ]
    patterns: dict[str, list[str]] = {}
    for parts in charts:
        for index, part in enumerate(parts[:-1]):
            if _SERVICE.fullmatch(part):
                pattern = "/".join([*parts[:index], "{service}", *parts[index + 1 :]])
                patterns.setdefault(pattern, []).append(part)
    return [(p, sorted(set(s))) for p, s in patterns.items() if len(set(s)) >= 2]


def is_library_chart(chart_yaml: str) -> bool:
    """A ``Chart.yaml`` of ``type: library``: a chart other charts share, never installed."""
    return bool(_LIBRARY_CHART.search(chart_yaml))


def _template_file(files: list[str], pattern: str) -> str | None:
    """A values folder's template (``_template.yaml``), which new services' files copy."""
    for name in TEMPLATE_NAMES:
        path = pattern.replace("{service}", name)
        if path in files and "{service}" not in pattern.rpartition("/")[0]:
            return path
    return None


def _helm_set(texts: dict[str, str]) -> list[tuple[str, str]]:
    """The keys every values file derives alike: port fields (``service.port``) and strings
    built from the service's name (``image.name: shop-{service}``); a key two files
    derive differently, or most files lack, is left out."""
    import yaml

    seen: dict[str, Counter[str]] = {}
    for service, text in texts.items():
        try:
            document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:
            continue
        for key, value in _leaves(document, ()):
            template = _template_of(key, value, service)
            if template is not None:
                seen.setdefault(key, Counter())[template] += 1
    wanted = []
    for key, templates in seen.items():
        (template, count), *others = templates.most_common()
        if not others and count * 2 > len(texts):
            wanted.append((key, template))
    ports = sorted(
        (k for k in wanted if k[1] in PORT_KEYS.values()),
        key=lambda k: list(PORT_KEYS).index(k[0].rsplit(".", 1)[-1]),
    )
    return [*ports, *(k for k in wanted if k[1] not in PORT_KEYS.values())]


def _leaves(node: Any, path: tuple[str, ...]) -> Iterable[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and key and "." not in key:
                yield from _leaves(value, (*path, key))
    elif path and len(path) <= 4:
        yield ".".join(path), node


def _template_of(key: str, value: Any, service: str) -> str | None:
    last = key.rsplit(".", 1)[-1]
    if last in PORT_KEYS:
        number = value if isinstance(value, int) and not isinstance(value, bool) else None
        return PORT_KEYS[last] if number is not None and 1 <= number <= 65535 else None
    if not isinstance(value, str):
        return None
    snake = service.replace("-", "_")
    forms = (
        ("{service}", service),
        ("{service_snake}", snake),
        ("{SERVICE_UPPER}", snake.upper()),
    )
    for placeholder, form in forms:
        if form in value and "{" not in value and "}" not in value:
            return value.replace(form, placeholder, 1)
    return None


# ---------------------------------------------------------------------- env


def env_files(files: Iterable[str], read: Reader, services: set[str]) -> str | None:
    """A note naming the ``.env`` files with a ``NAME_PORT=8001`` line for one of
    ``services`` (``POSTGRES_PORT`` names none), and the target that would keep them in
    line; None when there are none."""
    wanted = {service.replace("-", "_").upper() for service in services}
    found = []
    for path in files:
        if not _ENV_NAME.fullmatch(path.rsplit("/", 1)[-1]) or "secret" in path.lower():
            continue
        text = _read(read, path) or ""
        if any(match.group(1) in wanted for match in _ENV_PORT.finditer(text)):
            found.append(path)
    if not found:
        return None
    return (
        f".env files with a service's *_PORT= line: {_count(len(found), 'file')} "
        f"({_names(found)}); to keep them in line, add a [[targets]] entry "
        '(kind = "text", line = "{SERVICE_UPPER}_PORT={port}")'
    )
