"""Configuration: discovery of the repo root and ``portreg.toml``, and a frozen Settings.

Every key is optional. Each is declared once, as its settings field: the default, and
in the field's ``key`` (``config_key(...)``) its TOML name, its validator and the comment
the README's configuration block shows (``reference()`` renders that block; a test
holds the README to it). Validation errors read ``key: what is wrong``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from portreg.config import discovery, formula
from portreg.config.discovery import DEFAULT_REGISTRY
from portreg.config.kinds import KINDS
from portreg.config.record import Field, Record, fields_of, has_field, replace, setting
from portreg.config.templates import PLACEHOLDER, PLACEHOLDER_NAMES, unknown_placeholders
from portreg.edit.shallow import require_shallow_json
from portreg.errors import ConfigError, FileEditError, PortregError, redact_url
from portreg.io.files import RealPaths, read_text
from portreg.io.workspace import Workspace

K8S_NODE_PORT_RANGE = (30000, 32767)
SERVICE_LABEL = r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?"  # DNS-1035: it becomes a Service name

DEFAULT_HELM_SET: tuple[tuple[str, str], ...] = discovery.HELM_SET

PortRange = tuple[int, int]


# ---------------------------------------------------------------- validators

Validator = Callable[[str, Any], Any]


def _shown(value: Any) -> str:
    """A value as an error message may show it: scalars short and with any userinfo hidden,
    tables and lists by kind only (a config symlinked to a credentials file must not be
    echoed)."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"

    text = repr(redact_url(value) if isinstance(value, str) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def _int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key}: expected an integer, got {_shown(value)}")
    return value


def _port(key: str, value: Any) -> int:
    number = _int(key, value)
    if not 1 <= number <= 65535:
        raise ConfigError(f"{key}: {number} is not a TCP port (1-65535)")
    return number


def _float(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{key}: expected a number, got {_shown(value)}")
    return float(value)


MAX_SECONDS = 3600.0  # a wait longer than an hour is a hang by another name


def _positive(key: str, value: Any) -> float:
    """Seconds above zero and at most an hour (``inf`` or ``1e300`` would wait forever on a
    live lock)."""

    number = _float(key, value)
    if not math.isfinite(number) or not 0 < number <= MAX_SECONDS:
        raise ConfigError(
            f"{key}: expected a finite number of seconds above 0 and at most "
            f"{MAX_SECONDS:g}, got {_shown(value)}"
        )
    return number


def _password_env(key: str, value: Any) -> str:
    """The variable that holds the etcd password: only a ``PORTREG_`` one. A repo's config
    must not be able to name ``GITHUB_TOKEN`` and have portreg send it to its own server."""
    name = _str(key, value)
    if not name.startswith("PORTREG_") or not name.replace("_", "").isalnum():
        raise ConfigError(
            f"{key}: {name!r} is not a PORTREG_* variable",
            hint="keep the password in $PORTREG_ETCD_PASSWORD (or another PORTREG_* variable)",
        )
    return name


def _str(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}: expected a non-empty string, got {_shown(value)}")
    if "\0" in value or not value.isprintable():
        raise ConfigError(f"{key}: {_shown(value)} holds a control character")
    return value


def _repo_path(key: str, value: Any) -> str:
    """A path (or glob) inside the repo: relative, never climbing out with ``..``."""
    text = _str(key, value)
    parts = text.replace("\\", "/").split("/")
    if text.startswith(("/", "~")) or ".." in parts or (len(text) > 1 and text[1] == ":"):
        raise ConfigError(
            f"{key}: {text} leads outside the repo",
            hint="give a path relative to the repo root, without ..",
        )
    return text


def _repo_paths(key: str, value: Any) -> tuple[str, ...]:
    return tuple(_repo_path(f"{key}[{i}]", item) for i, item in enumerate(_strs(key, value)))


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {_shown(value)}")
    return value


def _ports(key: str, value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of ports, got {_shown(value)}")
    return tuple(_port(f"{key}[{i}]", item) for i, item in enumerate(value))


def _strs(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of strings, got {_shown(value)}")
    return tuple(_str(f"{key}[{i}]", item) for i, item in enumerate(value))


def _range(key: str, value: Any) -> PortRange:
    if not isinstance(value, list) or len(value) != 2:
        raise ConfigError(f"{key}: expected [low, high], got {_shown(value)}")
    low, high = _port(f"{key}[0]", value[0]), _port(f"{key}[1]", value[1])
    if low > high:
        raise ConfigError(f"{key}: low end {low} is above high end {high}")
    return (low, high)


def _ranges(key: str, value: Any) -> tuple[PortRange, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of [low, high] pairs, got {_shown(value)}")
    return tuple(_range(f"{key}[{i}]", item) for i, item in enumerate(value))


def _check_template(key: str, template: str) -> None:
    """Only known ``{placeholders}``, and no brace outside one (a typo like ``{port``)."""

    _check_placeholders(key, template)
    if "{" in PLACEHOLDER.sub("", template) or "}" in PLACEHOLDER.sub("", template):
        known = ", ".join("{" + name + "}" for name in PLACEHOLDER_NAMES)
        raise ConfigError(f"{key}: unbalanced brace in {template!r} (placeholders: {known})")


def _template(key: str, value: Any) -> str:
    text = _str(key, value)
    _check_template(key, text)
    return text


def _templates(key: str, value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a table of key = template, got {_shown(value)}")
    pairs = []
    for name, template in value.items():
        if isinstance(template, bool) or not isinstance(template, str | int):
            raise ConfigError(f"{key}.{name}: expected a string or integer, got {_shown(template)}")
        if not name or "" in name.split("."):
            raise ConfigError(f"{key}: key {name!r} has an empty segment (a.b.c, no empty part)")
        pairs.append((name, str(template)))
    return tuple(pairs)


def _path_lists(key: str, value: Any) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of lists of files, got {_shown(value)}")
    return tuple(_repo_paths(f"{key}[{i}]", item) for i, item in enumerate(value))


def _file_table(key: str, value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a table of file = [files], got {_shown(value)}")
    return tuple(
        (_repo_path(f"{key}.{name}", name), _repo_paths(f"{key}.{name}", files))
        for name, files in value.items()
    )


def _codes(key: str, value: Any) -> tuple[str, ...]:
    codes = _strs(key, value)
    for code in codes:
        if not re.fullmatch(r"PR[0-9]{3}", code):
            raise ConfigError(f"{key}: {_shown(code)} is not a finding code (PR001, PR014, ...)")
    return codes


def _services(key: str, value: Any) -> tuple[str, ...]:
    names = _strs(key, value)
    for name in names:
        if not re.fullmatch(SERVICE_LABEL, name):
            raise ConfigError(f"{key}: {_shown(name)} is not a service name (a DNS-1035 label)")
    return names


class Key(NamedTuple):
    """A config key, declared once beside its field (which holds its default): its TOML
    name, how its value is checked, its one-line comment (above the key in the README's
    configuration block and in the ``portreg.toml`` init writes), what more the README
    says, and (for a key whose default says nothing, like an unset store) the example
    the README shows commented out."""

    name: str
    check: Validator
    comment: str
    more: str = ""
    example: str = ""


def config_key(name: str, check: Validator, comment: str, more: str = "", example: str = "") -> Key:
    """The one declaration of a settings field's config key."""
    return Key(name, check, comment, more, example)


class HelmSettings(Record):
    """``[helm]``: one values file per service."""

    enabled: bool = setting(
        default=True,
        key=config_key("enabled", _bool, "false: portreg leaves the Helm values alone."),
    )
    values: str = setting(
        default=discovery.HELM_VALUES,
        key=config_key("values", _repo_path, "One values file per service."),
    )
    set: tuple[tuple[str, str], ...] = setting(
        default=DEFAULT_HELM_SET,
        key=config_key(
            "set",
            _templates,
            "The keys each values file holds, as dotted key = template.",
            "Placeholders: {service} {port} {node_port}\n"
            "{service_snake} {service_title} {SERVICE_UPPER}. A numeric result stays an int.\n"
            "Only the port fields are kept in line by fix; the others are written when\n"
            "portreg creates a file, or by `update-configs --all-fields`. `init` adds the\n"
            "keys a repo's values files derive from the service's name\n"
            '(image.name = "shop-{service}").',
        ),
    )
    template: str | None = setting(
        default=None,
        key=config_key(
            "template",
            _repo_path,
            "The file `assign --scaffold` copies for a new service:",
            "",
            '"helm/values/_template.yaml"',
        ),
    )


class KindSettings(Record):
    """``[kind]``: the cluster's host port mappings."""

    enabled: bool = setting(
        default=True,
        key=config_key("enabled", _bool, "false: portreg leaves the kind config alone."),
    )
    config: str = setting(
        default=discovery.KIND_CONFIG,
        key=config_key("config", _repo_path, "The kind cluster config."),
    )
    node_role: str = setting(
        default=discovery.KIND_NODE_ROLE,
        key=config_key("node-role", _str, "The node whose extraPortMappings portreg adds."),
    )
    comment: str = setting(
        default=discovery.KIND_COMMENT,
        key=config_key("comment", _template, "The comment that names a mapping's service."),
    )
    skip_host_ports: tuple[PortRange, ...] = setting(
        default=(),
        key=config_key(
            "skip-host-ports",
            _ranges,
            "Host ports something else binds: kind maps none of them.",
            "E.g. [[8001, 8099]] when Tilt forwards them; fix removes a mapping there.",
        ),
    )

    def skipping(self, port: int | None) -> PortRange | None:
        """The ``skip-host-ports`` range that leaves this host port to another tool."""
        held = (r for r in self.skip_host_ports if port is not None and r[0] <= port <= r[1])
        return next(held, None)


class ScannerSettings(Record):
    """A scanned kind of file (Tiltfile, compose, manifests, ...): on/off and where to look."""

    enabled: bool = setting(
        default=True,
        key=config_key("enabled", _bool, "false: portreg neither reads nor edits these files."),
    )
    files: tuple[str, ...] = setting(
        default=(), key=config_key("files", _repo_paths, "The files to read (globs).")
    )


class TiltSettings(ScannerSettings):
    """``[tilt]``: a scanner whose ``docker-compose`` names the compose files each Tiltfile
    starts (``docker_compose('infra/compose.yaml')``): those projects run with it."""

    docker_compose: tuple[tuple[str, tuple[str, ...]], ...] = setting(
        default=(),
        key=config_key(
            "docker-compose",
            _file_table,
            "The compose files a Tiltfile starts with docker_compose(...): they run with it.",
            "",
            '{ "Tiltfile" = ["infra/docker-compose.yml"] }',
        ),
    )

    def started_by(self, compose_file: str) -> str | None:
        """The Tiltfile whose ``docker_compose()`` starts this compose file, if one does."""
        return next((tilt for tilt, files in self.docker_compose if compose_file in files), None)


class ComposeSettings(ScannerSettings):
    """``[compose]``: a scanner whose ``projects`` lists files that run together (as
    ``docker compose -f a.yaml -f b.yaml`` runs them), besides a file and its override."""

    projects: tuple[tuple[str, ...], ...] = setting(
        default=(),
        key=config_key(
            "projects",
            _path_lists,
            "Files that run together (docker compose -f a -f b).",
            'E.g. [["compose.yaml", "compose.load.yaml"]]; a file and its override file\n'
            "(compose.override.yaml) always do, other files are apart.",
        ),
    )


class IgnoreSettings(Record):
    """``[ignore]``: what check never reports and fix never edits."""

    files: tuple[str, ...] = setting(
        default=(), key=config_key("files", _repo_paths, 'Globs, e.g. ["helm/legacy/**"].')
    )
    services: tuple[str, ...] = setting(
        default=(), key=config_key("services", _services, 'Services, e.g. ["postgres"].')
    )
    ports: tuple[int, ...] = setting(
        default=(), key=config_key("ports", _ports, "Ports, e.g. [5433, 30432].")
    )
    codes: tuple[str, ...] = setting(
        default=(), key=config_key("codes", _codes, 'Finding codes, e.g. ["PR014"].')
    )


class EtcdSettings(Record):
    """``[etcd]``: for etcd:// and etcds:// stores."""

    ca: str | None = setting(
        default=None,
        key=config_key(
            "ca", _str, "The CA that signed the server's certificate.", "", '"certs/ca.pem"'
        ),
    )
    cert: str | None = setting(
        default=None,
        key=config_key("cert", _str, "portreg's client certificate.", "", '"certs/client.pem"'),
    )
    key: str | None = setting(
        default=None,
        key=config_key("key", _str, "Its private key.", "", '"certs/client-key.pem"'),
    )
    username: str | None = setting(
        default=None,
        key=config_key("username", _str, "The etcd user, if auth is on.", "", '"portreg"'),
    )
    password_env: str = setting(
        default="PORTREG_ETCD_PASSWORD",
        key=config_key("password-env", _password_env, "The variable holding its password."),
    )
    timeout: float = setting(
        default=3.0, key=config_key("timeout", _positive, "Seconds to wait for an answer.")
    )
    retries: int = setting(
        default=20,
        key=config_key("retries", _int, "Tries when another writer won the race."),
    )


def _strategy(key: str, value: Any) -> str:
    if value not in ("offset", "loopback"):
        raise ConfigError(f'{key}: expected "offset" or "loopback", got {_shown(value)}')
    return str(value)


class InstancesSettings(Record):
    """``[instances]``: several checkouts of the repo running at once on one machine."""

    strategy: str = setting(
        default="offset",
        key=config_key(
            "strategy",
            _strategy,
            "How a further checkout of the repo moves its host ports.",
            '"offset": every host port shifted by a stride; "loopback" (Linux): the same\n'
            "numbers on the checkout's own 127.0.0.N.",
        ),
    )


class TargetSpec(Record):
    """A user-declared target (``[[targets]]``); its example is the README's."""

    name: str = setting(key=config_key("name", _str, "The target's name.", "", '"env"'))
    files: str = setting(
        key=config_key(
            "files",
            _repo_path,
            "Its files (glob; {service}: one per service).",
            "",
            '"services/{service}/.env"',
        )
    )
    kind: str = setting(key=config_key("kind", _str, "yaml, json or text.", "", '"text"'))
    set: tuple[tuple[str, str], ...] = setting(
        default=(),
        key=config_key("set", _templates, "yaml and json: dotted key = template."),
    )
    line: str | None = setting(
        default=None,
        key=config_key(
            "line", _template, "text: the line that holds the port.", "", '"PORT={port}"'
        ),
    )
    create: bool = setting(
        default=False,
        key=config_key(
            "create", _bool, "true: add a missing line or key (default: warn).", "", "false"
        ),
    )
    required: bool = setting(
        default=False,
        key=config_key(
            "required", _bool, "true: a glob matching no file is a config error.", "", "false"
        ),
    )


class Settings(Record):
    root: Path
    registry: str = setting(
        default=DEFAULT_REGISTRY,
        key=config_key("registry", _repo_path, "Where the registry lives (JSON, kept in git)."),
    )
    store: str | None = setting(
        default=None,
        key=config_key(
            "store",
            _str,
            "A registry shared by several checkouts or teams, instead.",
            "(Or --store, $PORTREG_STORE.)",
            '"etcd://127.0.0.1:2379/portreg/myteam"',
        ),
    )
    first_port: int = setting(
        default=discovery.FIRST_PORT,
        key=config_key(
            "first-port", _port, "The range's lowest port: services get the lowest free one."
        ),
    )
    last_port: int = setting(
        default=discovery.LAST_PORT,
        key=config_key("last-port", _port, "The range's highest port."),
    )
    # None: portreg.toml declares none, and the registry's ``reserved_ports`` stands
    reserved: tuple[int, ...] | None = setting(
        default=None,
        key=config_key(
            "reserved",
            _ports,
            "Never handed out to a service.",
            "Unset, the registry's reserved_ports stands (a new registry records [8080]);\n"
            "set here, this list stands and `fix` records it there.",
            "[8080]",
        ),
    )
    node_port_base: int = setting(
        default=discovery.NODE_PORT_BASE,
        key=config_key(
            "node-port-base",
            _port,
            f"NodePort = {formula.formula_text()}.",
            "It must stay inside node-port-range and Kubernetes' 30000-32767.",
        ),
    )
    node_port_offset: int = setting(
        default=discovery.NODE_PORT_OFFSET,
        key=config_key("node-port-offset", _int, "The port that maps to node-port-base."),
    )
    node_port_range: PortRange = setting(
        default=discovery.NODE_PORT_RANGE,
        key=config_key("node-port-range", _range, "Where every derived NodePort must lie."),
    )
    # None: NodePorts are derived wherever kind or Helm is on; False: the repo's kind
    # mappings and values files do not follow the formula (its ports are its own)
    derive_node_ports: bool | None = setting(
        default=None,
        key=config_key(
            "derive-node-ports",
            _bool,
            "false: kind mappings and values files keep their own NodePorts.",
            "Unset, NodePorts are derived wherever [kind] or [helm] is on; false lets the range\n"
            "be any ports.",
            "false",
        ),
    )
    lock_timeout: float = setting(
        default=discovery.LOCK_TIMEOUT,
        key=config_key(
            "lock-timeout",
            _positive,
            "Seconds to wait for another portreg holding the registry lock.",
        ),
    )
    docs: tuple[str, ...] = setting(
        default=(),
        key=config_key(
            "docs",
            _repo_paths,
            "Markdown files holding a port table that `portreg docs` rewrites.",
            "The table lies between <!-- portreg:begin --> and <!-- portreg:end -->; `check`\n"
            "reports it stale.",
        ),
    )
    helm: HelmSettings = setting(default_factory=HelmSettings)
    kind: KindSettings = setting(default_factory=KindSettings)
    tilt: TiltSettings = setting(default_factory=lambda: TiltSettings(files=discovery.TILT_FILES))
    compose: ScannerSettings = setting(
        default_factory=lambda: ComposeSettings(files=discovery.COMPOSE_FILES)
    )
    etcd: EtcdSettings = setting(default_factory=EtcdSettings)
    ignore: IgnoreSettings = setting(default_factory=IgnoreSettings)
    instances: InstancesSettings = setting(default_factory=InstancesSettings)
    # the sections of the kinds of file (config.kinds) that have no field above
    scanners: Mapping[str, ScannerSettings] = setting(default_factory=dict, hash=False)
    targets: tuple[TargetSpec, ...] = ()
    source: str | None = None
    # what was found in the files for the sections the config does not write, and why
    layout: Mapping[str, Any] = setting(default_factory=dict, compare=False)
    layout_notes: tuple[str, ...] = setting(default=(), compare=False)

    @property
    def registry_path(self) -> Path:
        return self.root / self.registry

    def section(self, kind: str) -> Any:
        """The config section of a kind of file (``[tilt]``; a new kind's ``[procfile]``)."""
        if has_field(self, kind):
            return getattr(self, kind)
        return self.scanners.get(kind) or ScannerSettings(files=KINDS[kind].files)

    @property
    def config_name(self) -> str | None:
        """The config file as messages name it (repo-relative when it lies in the repo)."""
        return settings_name(self.root, self.source)

    def in_range(self, port: int) -> bool:
        """Whether a port lies in first-port..last-port (portreg hands it out)."""
        return self.first_port <= port <= self.last_port

    @property
    def range_text(self) -> str:
        return f"{self.first_port}-{self.last_port}"

    def node_port(self, port: int) -> int:
        return formula.node_port(self.node_port_base, self.node_port_offset, port)

    @property
    def new_reserved(self) -> tuple[int, ...]:
        """What a new registry records as ``reserved_ports``: the config's, else the default."""
        return discovery.RESERVED if self.reserved is None else self.reserved

    @property
    def derives_node_ports(self) -> bool:
        """Whether NodePorts are derived from the registry's ports (kind mappings or Helm
        values): only then must the port range map into node-port-range."""
        if self.derive_node_ports is not None:
            return self.derive_node_ports
        return self.kind.enabled or self.helm.enabled


def shown_path(root: Path, path: str) -> str:
    """``path`` as a message names it: repo-relative inside the repo, else as given."""
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path


def settings_name(root: Path, source: str | None) -> str | None:
    return None if source is None else shown_path(root, source)


# ------------------------------------------------------------------ schemas

Schema = Mapping[str, tuple[str, Validator]]  # toml key -> (attribute, validator)


def keys_of(cls: type[Record]) -> list[tuple[Key, Field]]:
    """The config keys a settings class declares, in order, each with its field."""
    return [(f.key, f) for f in fields_of(cls) if f.key is not None]


def declared(section: str = "") -> dict[str, Key]:
    """The keys of a table by TOML name: the top level (""), a section, or ``targets``."""
    cls = Settings if not section else TargetSpec if section == "targets" else SECTIONS[section][0]
    return {key.name: key for key, _field in keys_of(cls)}


def schema_of(cls: type[Record]) -> Schema:
    return {k.name: (f.name, k.check) for k, f in keys_of(cls)}


TOP_SCHEMA = schema_of(Settings)
TARGET_SCHEMA = schema_of(TargetSpec)
_TYPED: Mapping[str, type[Record]] = {
    "helm": HelmSettings,
    "kind": KindSettings,
    "tilt": TiltSettings,
    "compose": ComposeSettings,
    "etcd": EtcdSettings,
    "ignore": IgnoreSettings,
    "instances": InstancesSettings,
}
# every kind of file has a section; one with no typed settings is a scanner's
SECTIONS: Mapping[str, tuple[type[Record], Schema]] = {
    name: (cls, schema_of(cls))
    for name, cls in {
        **{name: _TYPED.get(name, ScannerSettings) for name in KINDS},
        **_TYPED,
    }.items()
}


TARGET_KINDS = ("yaml", "json", "text")


def _apply(schema: Schema, table: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in schema:
            known = ", ".join(schema)
            raise ConfigError(f"{prefix}{key}: unknown key (known keys: {known})")
        attribute, validator = schema[key]
        values[attribute] = validator(f"{prefix}{key}", value)
    return values


def _section(name: str, table: Any, default: Any) -> Any:
    cls, schema = SECTIONS[name]
    if not isinstance(table, dict):
        raise ConfigError(f"{name}: expected a table, got {_shown(table)}")
    base = {f.name: getattr(default, f.name) for f in fields_of(cls)}
    base.update(_apply(schema, table, f"{name}."))
    return cls(**base)


def _target(index: int, table: Any) -> TargetSpec:
    prefix = f"targets[{index}]."
    if not isinstance(table, dict):
        raise ConfigError(f"targets[{index}]: expected a table, got {_shown(table)}")
    values = _apply(TARGET_SCHEMA, table, prefix)
    for required in ("name", "files", "kind"):
        if required not in values:
            raise ConfigError(f"{prefix}{required}: missing (every [[targets]] needs it)")
    name = values["name"]
    prefix = f"targets.{name}."
    if values["kind"] not in TARGET_KINDS:
        raise ConfigError(
            f"{prefix}kind: {values['kind']!r} is not one of {', '.join(TARGET_KINDS)}"
        )
    if values["kind"] == "text" and "line" not in values:
        raise ConfigError(f"{prefix}line: a text target needs a line template")
    if values["kind"] != "text" and not values.get("set"):
        raise ConfigError(f"{prefix}set: a {values['kind']} target needs a set table")
    spec = TargetSpec(**values)
    _check_target(spec, prefix)
    return spec


PORT_PLACEHOLDERS = ("{port}", "{node_port}")
SERVICE_PLACEHOLDERS = ("{service}", "{service_snake}", "{service_title}", "{SERVICE_UPPER}")


def _check_placeholders(key: str, template: str) -> None:
    unknown = unknown_placeholders(template)
    if unknown:
        known = ", ".join("{" + name + "}" for name in PLACEHOLDER_NAMES)
        raise ConfigError(f"{key}: unknown placeholder {{{unknown[0]}}} in {template!r} ({known})")


def _names_service(template: str) -> bool:
    return any(name in template for name in SERVICE_PLACEHOLDERS)


def _check_target(spec: TargetSpec, prefix: str) -> None:
    """Placeholders, path syntax and how each service's entry is told apart (pure)."""
    shared = "{service}" not in spec.files
    leftover = spec.files.replace("{service}", "")
    if "{" in leftover or "}" in leftover:
        raise ConfigError(f"{prefix}files: only {{service}} may appear in {spec.files!r}")
    if spec.kind == "text":
        _check_line(spec, prefix, shared)
        return
    from portreg.edit.yaml import parse_path

    for path, template in spec.set:
        _check_template(f"{prefix}set", path)
        _check_template(f"{prefix}set", template)
        try:
            parse_path(path)
        except ValueError as exc:
            raise ConfigError(f"{prefix}set: {exc}") from exc
        if shared and not _names_service(path):
            raise ConfigError(
                f"{prefix}set: {path!r} names no service ({{service}} or another service "
                f"placeholder), but {spec.files!r} is one file shared by every service"
            )


def _check_line(spec: TargetSpec, prefix: str, shared: bool) -> None:
    """A text line needs a port placeholder and a fixed key before it that names the service."""
    assert spec.line is not None
    _check_placeholders(f"{prefix}line", spec.line)
    if spec.set:
        raise ConfigError(f"{prefix}set: a text target takes a line template, not a set table")
    starts = [spec.line.find(p) for p in PORT_PLACEHOLDERS if p in spec.line]
    if not starts:
        raise ConfigError(f"{prefix}line: {spec.line!r} holds no {{port}} or {{node_port}}")
    key = spec.line[: min(starts)]
    if not key.strip() or (shared and not _names_service(key)):
        raise ConfigError(
            f"{prefix}line: the part before the first port placeholder ({key!r}) must name the "
            "service (e.g. {SERVICE_UPPER}_URL=): it is how each service's line is found"
        )


def settings_from_table(root: Path, table: Mapping[str, Any], source: str | None) -> Settings:
    """Build validated Settings from a parsed TOML table (pure)."""
    default = Settings(root=root)
    values: dict[str, Any] = {"root": root, "source": source}
    top = {k: v for k, v in table.items() if k not in SECTIONS and k != "targets"}
    values.update(_apply(TOP_SCHEMA, top, ""))
    scanners: dict[str, ScannerSettings] = {}
    for name in SECTIONS:
        if name in table:
            section = _section(name, table[name], default.section(name))
            if has_field(default, name):
                values[name] = section
            elif section != default.section(name):  # a default section is no entry
                scanners[name] = section
    values["scanners"] = scanners
    if "targets" in table:
        if not isinstance(table["targets"], list):
            raise ConfigError("targets: expected an array of tables ([[targets]])")
        values["targets"] = tuple(_target(i, t) for i, t in enumerate(table["targets"]))
        names = [t.name for t in values["targets"]]
        duplicated = {n for n in names if names.count(n) > 1}
        if duplicated:
            raise ConfigError(f"targets: name {sorted(duplicated)[0]!r} is declared twice")
    settings = Settings(**values)
    validate_ranges(settings)
    for name, template in settings.helm.set:
        _check_template(f"helm.set.{name}", template)
        if "{" in name:
            raise ConfigError(
                f"helm.set.{name}: a Helm key is a literal dotted path (placeholders go in the "
                "value)"
            )
    return settings


def validate_ranges(settings: Settings) -> None:
    """Reject a configuration whose formula can produce an invalid NodePort (only where the
    repo derives NodePorts: a repo with no kind and no Helm may use any range)."""
    first, last = settings.first_port, settings.last_port
    if first > last:
        raise ConfigError(f"first-port: {first} is above last-port {last}")
    low, high = settings.node_port_range
    k8s_low, k8s_high = K8S_NODE_PORT_RANGE
    if low < k8s_low or high > k8s_high:
        raise ConfigError(
            f"node-port-range: [{low}, {high}] is outside Kubernetes' {k8s_low}-{k8s_high}"
        )
    derived = (("first-port", first), ("last-port", last)) if settings.derives_node_ports else ()
    for name, port in derived:
        node_port = settings.node_port(port)
        if not low <= node_port <= high:
            raise ConfigError(
                f"{name}: port {port} maps to NodePort {node_port}, outside node-port-range "
                f"[{low}, {high}] (NodePort = "
                f"{formula.formula_text(settings.node_port_base, settings.node_port_offset)}); "
                "narrow the port range or move node-port-base"
            )
    reserved = settings.new_reserved
    usable = (last - first + 1) - len({p for p in reserved if first <= p <= last})
    if usable <= 0:
        raise ConfigError(f"reserved: every port of {first}-{last} is reserved; nothing is left")


# ---------------------------------------------------------------- discovery

LAYOUT_SECTIONS = tuple(KINDS)


def found_layout(root: Path, table: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Each layout section ``table`` does not write, found in the repo's files
    (``config.detect``), and a note per kind of file."""
    missing = [name for name in LAYOUT_SECTIONS if name not in table]
    if not missing:
        return {}, []

    ws = Workspace(root)
    from portreg.config.detect import detect_layout
    from portreg.io.listing import repo_files

    layout = detect_layout(repo_files(str(root)), lambda name: ws.read(root / name), missing)
    return layout.table, layout.notes


def find_root(start: Path, *, new: bool = False) -> Path:
    """Walk up from ``start`` to the first folder that looks like a portreg repo.

    None found is an error, not a guess (a CI job in the wrong folder must not pass with
    an empty registry), except for ``new``: ``init`` makes ``start`` a portreg repo.
    """
    found = discovery.find_root(str(start))
    if found is not None:
        return Path(found)
    if new:
        return start.resolve()
    raise ConfigError(
        f"no portreg repo in {start} or above it (looked for portreg.toml, "
        f"[tool.portreg] in pyproject.toml, {discovery.DEFAULT_REGISTRY} and .git)",
        hint="run this in your repo, pass --root, or run `portreg init` to make this one",
    )


def _read_toml(path: Path, where: str) -> dict[str, Any]:
    try:
        text = read_text(path)
    except FileEditError as exc:
        raise ConfigError(f"cannot read config: {exc.message}", where=where) from exc
    if text is None:
        raise ConfigError("cannot read config: No such file or directory", where=where)
    _require_small_toml(text, where)
    import tomllib  # a repo with no config never parses TOML

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=where) from exc


MAX_CONFIG_BYTES = 256 * 1024  # a portreg config is a few dozen lines
MAX_CONFIG_LINE = 4096  # tomllib takes quadratic time on a key of very many dotted parts


def _require_small_toml(text: str, where: str) -> None:
    """Bound what tomllib is given: its time on long dotted keys, its recursion on nesting."""

    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config is over {MAX_CONFIG_BYTES >> 10} KB", where=where)
    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > MAX_CONFIG_LINE or line.count(".") > 200:
            raise ConfigError(
                f"line {number} is over {MAX_CONFIG_LINE} characters or 200 dotted parts",
                where=where,
            )
    try:
        require_shallow_json(text, where)  # TOML arrays and inline tables nest as JSON does
    except PortregError as exc:
        raise ConfigError(exc.message.replace("JSON", "TOML"), where=where) from exc


def written_table(settings: Settings) -> dict[str, Any]:
    """The table the settings' config file holds, as parsed (empty with no config)."""
    source = Path(settings.source) if settings.source else None
    return _config_table(source, settings.config_name or "")


def _config_table(config: Path | None, where: str) -> dict[str, Any]:
    if config is None:
        return {}
    data = _read_toml(config, where)
    if config.name != "pyproject.toml":
        return data
    table = data.get("tool", {}).get("portreg", {})
    if not isinstance(table, dict):
        raise ConfigError("[tool.portreg] must be a table", where=where)
    return table


def _require_inside(root: Path, config: str) -> None:
    """A config file found in the repo must lead inside it: a ``portreg.toml`` symlinked to
    a credentials file is never read."""

    real = RealPaths(str(root))
    if not real.inside(config):
        raise ConfigError(
            f"leads outside the repo ({real.real(config)})",
            where=os.path.relpath(config, root),
            hint="portreg reads only a config inside the repo (or one named with --config)",
        )


def _printable(name: str, value: str | None) -> None:
    """A path or URL from the command line or the environment holds no control character."""
    if value and not value.isprintable():
        shown = redact_url(value)[:60]
        raise ConfigError(f"{name}: {shown!r} holds a control character", hint=f"fix {name}")


def load_settings(
    root: str | Path | None = None,
    config: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    new: bool = False,
) -> Settings:
    """Find the root and config (flags, then PORTREG_ROOT / PORTREG_CONFIG, then discovery)."""
    env = os.environ if environ is None else environ
    for name, value in (("--root", root), ("--config", config)):
        _printable(name, str(value) if value is not None else None)
    for name in ("PORTREG_ROOT", "PORTREG_CONFIG", "PORTREG_STORE"):
        _printable(name, env.get(name))
    root_text = root or env.get("PORTREG_ROOT")
    if root_text:
        root_path = Path(root_text).resolve()
        if not root_path.is_dir():
            raise ConfigError(f"repo root {root_text} is not a folder", hint="check --root")
    else:
        root_path = find_root(Path.cwd(), new=new)
    config_text = config or env.get("PORTREG_CONFIG")
    if config_text and not os.path.lexists(config_text):
        raise ConfigError(f"config file {config_text} does not exist", hint="check --config")
    found = config_text or discovery.find_config(str(root_path))
    if found and not config_text:
        _require_inside(root_path, str(found))  # one the user names on the command line is theirs
    config_path = Path(found) if found else None
    source = str(config_path) if config_path else None
    table = _config_table(config_path, shown_path(root_path, source or ""))
    layout, notes = found_layout(root_path, table)
    try:
        settings = settings_from_table(root_path, {**layout, **table}, source)
    except ConfigError as exc:
        exc.where = exc.where or settings_name(root_path, source)
        raise

    settings = replace(settings, layout=layout, layout_notes=tuple(notes))
    store = env.get("PORTREG_STORE")
    if store:
        settings = replace(settings, store=store)
    return settings
