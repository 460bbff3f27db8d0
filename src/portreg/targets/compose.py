"""Docker compose files (read-only): the host ports each service publishes.

Short syntax (``"8001:8001"``, ``"127.0.0.1:8001:8001"``, ``"[::1]:8001:80"``,
``"8001-8003:8001-8003"``) and long syntax (``published: 8001``). A bare
container port (``"8001"``) publishes an ephemeral host port, so it is not a
port anyone holds. UDP/SCTP ports cannot clash with TCP services and are
skipped. Interpolated values (``${PORT:-8001}``) are not literals: skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from portreg.errors import FileEditError
from portreg.model import is_digits
from portreg.targets.base import HOST, Observation
from portreg.targets.scanned import ScannedTarget

if TYPE_CHECKING:
    import yaml

NAME = "compose"
MAX_RANGE = 1000  # a wider published range is a mistake, not a list of ports to report
_RANGE = re.compile(r"([0-9]{1,5})(?:-([0-9]{1,5}))?")
_HOST_IP = re.compile(r"^(?:\[[0-9A-Fa-f:.]*\]|[0-9.]+|[\w.-]*[A-Za-z][\w.-]*):")


def expand(text: str) -> list[int]:
    """``8001`` or ``8001-8003`` as ports; anything else (a variable, a typo) as none."""
    match = _RANGE.fullmatch(text.strip())
    if not match:
        return []
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if not 1 <= low <= high <= 65535 or high - low >= MAX_RANGE:
        return []
    return list(range(low, high + 1))


def _split_short(text: str) -> tuple[str, str, str] | None:
    """``[HOST_IP:]HOST:CONTAINER[/PROTOCOL]`` as (address, host, container); None for a
    bare container port (an ephemeral host port) or a protocol other than TCP."""
    spec, _, protocol = text.strip().partition("/")
    if protocol and protocol.lower() != "tcp":
        return None
    address = ""
    if spec.count(":") >= 2:
        match = _HOST_IP.match(spec)
        if match:
            address, spec = match.group(0)[:-1].strip("[]"), spec[match.end() :]
    host, sep, container = spec.rpartition(":")
    return (address, host, container) if sep else None


def published_short(text: str) -> list[int]:
    """Host ports of a short-syntax entry: ``[HOST_IP:]HOST:CONTAINER[/PROTOCOL]``."""
    split = _split_short(text)
    return expand(split[1]) if split else []


def _published_long(entry: yaml.Node) -> list[int]:
    from portreg.targets import yamlscan as ys

    protocol = ys.scalar(ys.get(entry, "protocol")) or "tcp"
    published = ys.scalar(ys.get(entry, "published"))
    if protocol.lower() != "tcp" or published is None:
        return []
    return expand(published)


def project_of(display: str) -> str:
    """The run group of a compose file: its folder and name, an override file's base's
    (``compose.override.yaml`` runs with ``compose.yaml``; other files are projects)."""
    folder, _, name = display.rpartition("/")
    stem, dot, suffix = name.rpartition(".")
    base = stem.removesuffix(".override") if dot else name
    return f"compose:{folder}/{base}.{suffix}" if dot else f"compose:{folder}/{name}"


def _entry(display: str, service: str, entry: yaml.Node) -> Iterator[Observation]:
    from portreg.targets import yamlscan as ys

    address, container = "", None
    if ys.is_mapping(entry):
        ports, node = _published_long(entry), ys.get(entry, "published") or entry
        field = "published"
        address = ys.scalar(ys.get(entry, "host_ip")) or ""
        container = ys.port_of(ys.get(entry, "target"))
    else:
        text = ys.scalar(entry) or ""
        split = _split_short(text)
        ports, node, field = published_short(text), entry, "ports"
        if split is not None:
            address = split[0]
            inside = expand(split[2])
            container = inside[0] if len(inside) == 1 else None
    group = project_of(display)
    for port in ports:
        yield Observation(
            NAME,
            display,
            ys.line_of(node),
            port,
            field,
            "port",
            service,
            HOST,
            group,
            "" if address in ("0.0.0.0", "::") else address,
            container,
        )


def scan_text(display: str, text: str) -> list[Observation]:
    """Observations of one compose file (raises PortregError if it is not YAML)."""
    from portreg.targets import yamlscan as ys

    found: list[Observation] = []
    for doc in ys.documents(text, display):
        for service, body in ys.items(ys.get(doc, "services")):
            for entry in ys.sequence(ys.get(body, "ports")):
                found.extend(_entry(display, service, entry))
    return found


def set_port(display: str, text: str, service: str, port: int) -> str:
    """``text`` with ``service``'s published host port at ``port`` (byte-exact, proven by
    yamledit). Only a service with one published port is edited: with several (an app
    and a debugger), which is the service's would be a guess."""
    from portreg.edit import yaml as yamledit
    from portreg.targets import yamlscan as ys

    found = [o for o in scan_text(display, text) if o.service == service]
    if not found or all(o.port == port for o in found):
        return text  # nothing of the service's to move here
    docs = ys.documents(text, display)
    if len(docs) != 1:
        raise _refused(display, found[0], f"the file holds {len(docs)} YAML documents")
    entries = list(ys.sequence(ys.get(ys.get(ys.get(docs[0], "services"), service), "ports")))
    if len(entries) != 1:
        why = f"{service} publishes {len(entries)} ports here; which is its port would be a guess"
        raise _refused(display, found[0], why)
    entry = entries[0]
    base: yamledit.Path = ("services", service, "ports", 0)
    if ys.is_mapping(entry):
        published = ys.scalar(ys.get(entry, "published"))
        if published is None or not is_digits(published):
            raise _refused(display, found[0], "its published port is not a literal")
        return yamledit.set_values(text, {(*base, "published"): port}, display)
    short = ys.scalar(entry) or ""
    hosts = published_short(short)
    if len(hosts) != 1:
        raise _refused(display, found[0], f"{short!r} publishes a range of ports")
    return yamledit.set_values(text, {base: _short_with(short, hosts[0], port)}, display)


def _refused(display: str, seen: Observation, why: str) -> FileEditError:
    return FileEditError(
        f"{seen.field} {seen.port}: {why}", where=f"{display}:{seen.line}", hint="edit it by hand"
    )


def _short_with(short: str, old: int, port: int) -> str:
    """``[IP:]HOST:CONTAINER[/PROTO]`` with only the digits of HOST moved: the container
    still listens where it did (``"8002:8002"`` -> ``"8001:8002"``)."""
    spec, slash, protocol = short.partition("/")
    parts = spec.split(":")
    host = len(parts) - 2
    number = re.compile(rf"(?<![0-9]){old}(?![0-9])")  # only the digits: spaces, a range stay
    moved = [
        number.sub(str(port), part) if index == host else part for index, part in enumerate(parts)
    ]
    return ":".join(moved) + slash + protocol


class ComposeTarget(ScannedTarget):
    """compose files: ``fix`` moves a service's one published host port (``set_port``)."""

    name = NAME

    def scan_file(self, display: str, text: str) -> list[Observation]:
        return scan_text(display, text)

    def set_port(self, display: str, text: str, service: str, port: int) -> str:
        return set_port(display, text, service, port)
