"""The registry as values: parsing, validation, allocation and the NodePort formula (pure)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from portreg.config import SERVICE_LABEL, Settings
from portreg.config.formula import formula_text
from portreg.config.templates import placeholders
from portreg.edit.shallow import require_shallow_json
from portreg.errors import (
    PortregError,
    PortTakenError,
    RangeFullError,
    RegistryError,
    ServiceNameError,
)
from portreg.model.registry_json import lowest_free, render

REGISTRY_VERSION = "1.0"
MAX_PORT = 65535  # the highest TCP port, and so the highest next_port a registry holds
MAX_REGISTRY_BYTES = 8 * 1024 * 1024
_DNS_1035 = re.compile(SERVICE_LABEL)


def is_digits(text: str) -> bool:
    """Plain ASCII digits, at most nine of them, as every port and number portreg reads
    must be written.

    ``str.isdigit`` alone accepts ``²`` and ``٨٠٠٢``, which ``int`` then
    refuses or reads as 8002: neither is a port in a config file. Nine digits
    are more than any port needs and keep ``int`` far from its 4300-digit limit.
    """
    return text.isascii() and text.isdigit() and len(text) <= 9


# go-yaml v2's float syntax (resolve.go's yamlStyleFloat), tried when no int syntax fits
_YAML11_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_YAML11_NUMBER_CHARS = frozenset("0123456789abcdefABCDEFoOxX+-._")
_YAML11_MAX = 40  # longer is no port in any spelling, and keeps int() and float() cheap


def yaml11_int(text: str) -> int | None:
    """The whole number a plain YAML scalar means to kind, Helm and kubectl, or None.

    The one place for it. Those tools read YAML through sigs.k8s.io/yaml, that
    is go-yaml v2 (a YAML 1.1 resolver): underscores are dropped, then Go's
    ``ParseInt(text, 0, 64)`` reads a sign, ``0x``/``0o``/``0b`` prefixes and a
    leading ``0`` as octal (``017501`` is 8001, ``0x1F41``, ``8_001`` and
    ``+8001`` too); what is no int but a float (``08001``, ``8001.0``) is a
    whole number to an int field when it has no fraction. PyYAML's YAML 1.1
    resolver is not reused: it reads ``1:20`` as 80 and ``0o17501`` as a
    string, where go-yaml v2 reads a string and 8001. Compose (YAML 1.2) does
    not read its numbers here.
    """
    plain = text.replace("_", "")  # after the first character: go-yaml looks at that first
    if not plain or len(plain) > _YAML11_MAX or text[0] not in "+-0123456789":
        return None
    if not _YAML11_NUMBER_CHARS.issuperset(plain):
        return None  # int() and float() also take spaces, Unicode digits, "inf"
    number = _go_int(plain)
    if number is None and _YAML11_FLOAT.fullmatch(plain):
        whole = float(plain)
        number = int(whole) if whole.is_integer() else None
    return number


def _go_int(plain: str) -> int | None:
    """Go's ``strconv.ParseInt(plain, 0, 64)``, in any size: sign, base prefix, octal zero."""
    body = plain[1:] if plain[0] in "+-" else plain
    if not body or body[0] in "+-":
        return None
    try:
        if len(body) > 1 and body[0] == "0" and body[1].isdigit():
            return int(plain[: len(plain) - len(body)] + body, 8)
        return int(plain, 0)
    except ValueError:
        return None


def validate_service(name: str) -> str:
    """Refuse anything that is not a DNS-1035 label, before any path is built from it."""
    if not _DNS_1035.fullmatch(name):
        raise ServiceNameError(
            f"service name {name!r} is not a DNS-1035 label",
            hint="use lowercase letters, digits and '-', start with a letter, end with a "
            "letter or digit, at most 63 characters",
        )
    return name


def port_variable(name: str) -> str:
    """The environment variable that carries a binding's host port in an instance:
    ``invoice-api`` -> ``INVOICE_API_PORT`` (what `portreg env` sets, and what a
    compose file's ``${INVOICE_API_PORT:-8002}`` and a Tiltfile's
    ``os.getenv('INVOICE_API_PORT', '8002')`` read). One ``_`` per character, so two
    services never share one (``a-b`` and ``a--b``)."""
    return re.sub(r"[^A-Z0-9]", "_", name.upper()).strip("_") + "_PORT"


class Assignment(NamedTuple):
    """One service's port and NodePort: what the registry says its files should hold."""

    service: str
    port: int
    node_port: int

    def as_json(self) -> dict[str, Any]:
        return {"service": self.service, "port": self.port, "node_port": self.node_port}

    def values(self) -> dict[str, str]:
        """The placeholders every template may use for this service."""

        return placeholders(self.service, self.port, self.node_port)


class RegistryState(NamedTuple):
    """One version of the registry document. ``document`` keeps unknown keys and key order.
    (Never changed in place: each change is a new state, so the empty defaults are safe.)"""

    assignments: Mapping[str, int] = MappingProxyType({})
    reserved_ports: tuple[int, ...] = ()
    next_port: int | None = None
    document: Mapping[str, Any] = MappingProxyType({})

    def port_of(self, service: str) -> int | None:
        return self.assignments.get(service)

    def holder_of(self, port: int) -> str | None:
        return next((s for s, p in self.assignments.items() if p == port), None)

    def with_port(self, service: str, port: int) -> RegistryState:
        assignments = dict(self.assignments)
        assignments[service] = port
        # one past the port, except past the last TCP port: parse_registry would refuse it
        hint = min(max(self.next_port or 0, port + 1), MAX_PORT)
        return self._replace(assignments=assignments, next_port=hint)

    def without(self, service: str) -> RegistryState:
        assignments = {s: p for s, p in self.assignments.items() if s != service}
        return self._replace(assignments=assignments)

    def duplicates(self) -> dict[int, list[str]]:
        """Ports held by more than one service (a hand-edited or badly merged file)."""
        holders: dict[int, list[str]] = {}
        for service, port in self.assignments.items():
            holders.setdefault(port, []).append(service)
        return {port: names for port, names in holders.items() if len(names) > 1}


def empty_document() -> dict[str, Any]:
    return {
        "version": REGISTRY_VERSION,
        "next_port": None,
        "reserved_ports": [],
        "assignments": {},
        "metadata": {
            "description": "Port registry for microservices, managed by portreg",
            "last_updated": None,
            "notes": "Edit with `portreg`, not by hand. NodePort = "
            f"{formula_text('base', 'offset')}.",
        },
    }


# ------------------------------------------------------------------ parsing


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def _port_value(text: str, where: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RegistryError(
            f"{key}: port {value!r} is not an integer",
            where=f"{where}:{_line_of(text, json.dumps(key))}",
            hint="fix the file by hand or restore it from git",
        )
    if not 1 <= value <= 65535:
        raise RegistryError(
            f"{key}: {value} is not a TCP port (1-65535)",
            where=f"{where}:{_line_of(text, json.dumps(key))}",
            hint="fix the file by hand or restore it from git",
        )
    return value


def _assignments(text: str, where: str, raw: Any) -> dict[str, int]:
    if not isinstance(raw, dict):
        line = _line_of(text, '"assignments"')
        raise RegistryError(
            "'assignments' must be an object of service -> port",
            where=f"{where}:{line}",
            hint="fix the file by hand or restore it from git",
        )
    result = {}
    for service, port in raw.items():
        if not _DNS_1035.fullmatch(service):
            raise RegistryError(
                f"service name {service!r} is not a DNS-1035 label",
                where=f"{where}:{_line_of(text, json.dumps(service))}",
                hint="rename it in the file",
            )
        result[service] = _port_value(text, where, service, port)
    return result


class _DuplicateKey(ValueError):
    """A JSON object that names one key twice (json.loads would keep the last silently)."""


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(f"key {key!r} appears twice")
        seen[key] = value
    return seen


def parse_registry(text: str | None, where: str, reserved: tuple[int, ...] = ()) -> RegistryState:
    """Parse and validate a registry document; ``None`` (no file yet) is an empty registry,
    which records ``reserved`` (the config's) as the seed's file does (``[8080]``)."""
    if text is None or not text.strip():
        return RegistryState(reserved_ports=reserved, document=empty_document())
    if len(text) > MAX_REGISTRY_BYTES:
        raise RegistryError(
            f"registry is {len(text) // (1024 * 1024)} MB, over the {MAX_REGISTRY_BYTES >> 20} MB "
            "a port registry can sensibly be",
            where=where,
            hint="restore it from git",
        )

    try:
        require_shallow_json(text, where)
    except PortregError as exc:
        raise RegistryError(exc.message, where=where, hint="restore it from git") from exc
    try:
        raw = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise RegistryError(
            f"not valid JSON: {exc.msg}",
            where=f"{where}:{exc.lineno}:{exc.colno}",
            hint="fix the file by hand or restore it from git",
        ) from exc
    except _DuplicateKey as exc:
        raise RegistryError(str(exc), where=where, hint="remove one of them") from exc
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise RegistryError(
            f"not valid JSON: {str(exc)[:80]}",
            where=where,
            hint="fix the file by hand or restore it from git",
        ) from exc
    if not isinstance(raw, dict):
        raise RegistryError("the registry must be a JSON object", where=f"{where}:1")
    if not raw:  # ``{}`` is as empty as no file: one answer for both
        return RegistryState(reserved_ports=reserved, document=empty_document())
    reserved = raw.get("reserved_ports", [])
    if not isinstance(reserved, list):
        raise RegistryError("'reserved_ports' must be a list", where=where)
    next_port = raw.get("next_port")
    return RegistryState(
        assignments=_assignments(text, where, raw.get("assignments", {})),
        reserved_ports=tuple(_port_value(text, where, "reserved_ports", p) for p in reserved),
        next_port=None if next_port is None else _port_value(text, where, "next_port", next_port),
        document=raw,
    )


def require_consistent(state: RegistryState, where: str, text: str | None) -> None:
    """Writing commands refuse a registry that gives one port to two services."""
    for port, services in sorted(state.duplicates().items()):
        line = _line_of(text or "", json.dumps(services[1]))
        raise RegistryError(
            f"port {port} is assigned twice ({services[0]} and {services[1]})",
            where=f"{where}:{line}",
            hint="run `portreg fix` to give one of them a free port",
        )


def dump_registry(state: RegistryState, timestamp: str | None) -> str:
    """2-space JSON with a final newline; key order of the original document kept."""
    document = dict(state.document) or empty_document()
    return render(document, state.assignments, state.reserved_ports, state.next_port, timestamp)


# ---------------------------------------------------------------- allocation


def reserved_ports(settings: Settings, state: RegistryState) -> frozenset[int]:
    """The ports portreg hands to no service: portreg.toml's ``reserved`` when it declares
    one (``reserved = []`` frees them all; ``check`` says when the registry's record
    disagrees and ``fix`` writes it), else the registry's ``reserved_ports``."""
    declared = settings.reserved
    return frozenset(state.reserved_ports if declared is None else declared)


def allocate(settings: Settings, state: RegistryState, also_taken: Iterable[int] = ()) -> int:
    """The lowest free port at or above ``next_port``, wrapping to the lowest free one.

    A port is free when neither it nor its NodePort is assigned, reserved or in
    ``also_taken`` (the numbers the repo's files already use).
    """
    first, last = settings.first_port, settings.last_port
    used = set(also_taken)
    taken = set(state.assignments.values()) | reserved_ports(settings, state) | used
    if settings.derives_node_ports:  # a port whose NodePort a file already uses is not free
        taken |= {port for port in range(first, last + 1) if settings.node_port(port) in used}
    port = lowest_free(first, last, taken, state.next_port)
    if port is not None:
        return port
    raise RangeFullError(
        f"every port of {first}-{last} is assigned, reserved or in use",
        hint="raise last-port in portreg.toml (NodePorts must stay inside node-port-range), "
        "or release services you no longer run",
    )


def assignment(settings: Settings, service: str, port: int) -> Assignment:
    return Assignment(service, port, settings.node_port(port))


def by_port(assignments: Iterable[Assignment]) -> list[Assignment]:
    """The one order every listing uses (``list``, ``export``, docs tables): by port, then
    service. The registry is a port map: neighbours in a listing are neighbours on the
    host, a clash shows as two lines in a row, and new services (lowest free port) land
    at the end."""
    return sorted(assignments, key=lambda a: (a.port, a.service))


def check_requested_port(settings: Settings, state: RegistryState, service: str, port: int) -> None:
    """``--port N`` takes exactly N or refuses, naming the holder."""

    if not settings.in_range(port):
        raise PortTakenError(
            f"port {port} is outside the configured range {settings.range_text}",
            hint="pick a port in range or widen first-port/last-port",
        )
    if port in reserved_ports(settings, state):
        raise PortTakenError(f"port {port} is reserved", hint="pick another port")
    holder = state.holder_of(port)
    if holder is not None and holder != service:
        raise PortTakenError(
            f"port {port} is already assigned to '{holder}'",
            hint=f"pick another port, or release '{holder}' first",
        )
