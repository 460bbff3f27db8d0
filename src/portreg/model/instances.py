"""Instances: several checkouts of one repo running at once on one machine (pure).

Each checkout has an instance. Instance 0 keeps the committed host ports; instance
``n`` shifts every host port the repo binds by ``n * stride`` (strategy "offset"), or
keeps the numbers on its own loopback address ``127.0.0.(n + 1)`` (strategy
"loopback", where instance 0 binds 127.0.0.1). The ledger (``io.ledger``) holds one
:class:`Block` per checkout; :func:`choose` finds a new checkout's block among the
others. NodePorts stay as committed: each instance runs its own cluster.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from portreg.errors import PortregError

STEP = 100  # strides are whole hundreds, so an instance's ports read as the committed ones
TILT_UI_PORT = 10350  # Tilt's web UI, bound by every `tilt up` (TILT_PORT moves it)
STRATEGIES = ("offset", "loopback")
LEDGER_VERSION = 1
SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # what `export NAME=...` can set
LOOPBACK = re.compile(r"127(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}")


class InstanceError(PortregError):
    """No block can be found, or the ledger cannot be read."""


class Block(NamedTuple):
    """One checkout's instance: the host ports it binds and how they are moved (a
    NamedTuple: `env` reads one at every shell prompt, and a dataclass costs more to
    define than the whole read).

    ``base``: the committed host ports it binds; ``variables``: the environment
    variable that carries each of those ports (``INVOICE_PORT`` -> 8002); ``host``:
    the loopback address every port binds on ("" = the addresses the files name).
    """

    repo: str
    checkout: str
    instance: int
    offset: int
    host: str
    base: tuple[int, ...]
    variables: tuple[tuple[str, int], ...]
    created: str
    names: tuple[tuple[str, str], ...] = ()  # KIND_CLUSTER_NAME -> shop-1
    # the files read for it, each with its stamp (mtime ns, size) then; None: a row of a
    # ledger written before stamps were kept
    sources: tuple[tuple[str, int, int], ...] | None = None

    @property
    def ports(self) -> frozenset[int]:
        return frozenset(port + self.offset for port in self.base)

    def port(self, committed: int) -> int:
        return committed + self.offset

    def clashes(self, ports: Iterable[int], host: str) -> bool:
        """Would binding ``ports`` on ``host`` meet one of this block's? A port bound on
        every address meets the same port on any address."""
        if self.host and host and self.host != host:
            return False
        return not self.ports.isdisjoint(ports)

    def as_json(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "checkout": self.checkout,
            "instance": self.instance,
            "offset": self.offset,
            "host": self.host,
            "base": list(self.base),
            "variables": dict(self.variables),
            "names": dict(self.names),
            "created": self.created,
            **({} if self.sources is None else {"sources": [list(s) for s in self.sources]}),
        }


def block_from_json(raw: Any) -> Block:
    """A ledger row; ``ValueError`` names what is wrong with it."""
    if not isinstance(raw, dict):
        raise ValueError("an instance is not an object")
    try:
        block = Block(
            repo=_text(raw["repo"]),
            checkout=_text(raw["checkout"]),
            instance=_number(raw["instance"]),
            offset=_number(raw["offset"]),
            host=_text(raw["host"]),
            base=tuple(sorted(_number(p) for p in raw["base"])),
            variables=tuple(sorted((_text(k), _number(v)) for k, v in raw["variables"].items())),
            created=_text(raw["created"]),
            names=tuple(sorted((_text(k), _text(v)) for k, v in raw.get("names", {}).items())),
            sources=_sources(raw["sources"]) if "sources" in raw else None,
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"an instance lacks or mistypes {exc}") from exc
    for name, _value in block.variables + block.names:
        if not SHELL_NAME.fullmatch(name):
            raise ValueError(f"a variable name {name!r} is not a shell name")
    if block.base and block.base[-1] + block.offset > 65535:
        raise ValueError(f"an instance's ports run past 65535 ({block.base[-1]} + {block.offset})")
    if block.host and not LOOPBACK.fullmatch(block.host):
        raise ValueError(f"an instance's host {block.host!r} is not a loopback address")
    if not block.checkout.startswith("/"):
        raise ValueError(f"an instance's checkout {block.checkout!r} is not an absolute path")
    return block


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("a text field")
    return value


def _sources(raw: Any) -> tuple[tuple[str, int, int], ...]:
    """``[[path, mtime_ns, size], ...]``."""
    found = []
    for item in raw if isinstance(raw, list) else [None]:
        if not isinstance(item, list) or len(item) != 3:
            raise TypeError("a file stamp")
        path, mtime, size = item
        if any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in (mtime, size)):
            raise TypeError("a file stamp")
        found.append((_text(path), mtime, size))
    return tuple(found)


def _number(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
        raise TypeError("a port or number field")
    return value


def stride(base: Iterable[int]) -> int:
    """The smallest whole hundred by which the committed ports, shifted, clear
    themselves (8001-8150 shift by 200: instance 1 must not meet instance 0)."""
    ports = set(base)
    step = STEP
    while any(port + step in ports for port in ports):
        step += STEP
    return step


def loopback(instance: int) -> str:
    return f"127.0.0.{instance + 1}"


class Machine(NamedTuple):
    """What this machine rules out for a new block: the kernel's ephemeral range (its
    outgoing connections take ports from it), the cluster's NodePort range, and what
    something listens on now: port -> the addresses, "" for every address (a block must
    be free when it is handed out)."""

    ephemeral: tuple[int, int]
    node_ports: tuple[int, int]
    listening: Mapping[int, frozenset[str]] = {}

    def rules_out(self, port: int, host: str = "") -> bool:
        """A shifted port (``host`` ""): out of range, or anything listens on it. A port on
        a loopback address of its own keeps its committed number: only a listener on
        that address, or on every address, meets it."""
        if host:
            return not self.listening.get(port, frozenset()).isdisjoint((host, ""))
        return (
            not 1 <= port <= 65535
            or self.ephemeral[0] <= port <= self.ephemeral[1]
            or self.node_ports[0] <= port <= self.node_ports[1]
            or port in self.listening
        )


def choose(
    wanted: Block,
    ledger: Sequence[Block],
    machine: Machine,
    strategy: str = "offset",
    keep: Block | None = None,
) -> Block:
    """``wanted`` (instance and offset unset) placed: as ``keep`` (the checkout's block
    now) numbers it when that is still clear, else the lowest number its repo has free
    whose block meets no other checkout's. Instance 0 is the committed ports as they are
    (a listener on them may be this checkout's own stack); a further instance's ports
    must also be clear of what ``machine`` rules out, except those the kept block
    already held (its own stack may listen on them)."""
    others = [block for block in ledger if block.checkout != wanted.checkout]
    taken = {block.instance for block in others if block.repo == wanted.repo}
    step = stride(wanted.base)
    limit = 254 if strategy == "loopback" else 65535 // step
    order = ([] if keep is None else [keep.instance]) + list(range(limit + 1))
    for number in order:
        if number in taken:
            continue
        candidate = _placed(wanted, number, step, strategy)
        if any(port > 65535 for port in candidate.ports):
            continue
        kept = keep is not None and number == keep.instance and candidate.host == keep.host
        held = candidate.ports - keep.ports if kept and keep is not None else candidate.ports
        if number and any(machine.rules_out(p, candidate.host) for p in held):
            continue
        if not any(block.clashes(candidate.ports, candidate.host) for block in others):
            return candidate
    highest = max(wanted.base, default=0)
    if strategy != "loopback" and highest + step > 65535:
        raise InstanceError(
            f"no further instance for {wanted.checkout}: its host port {highest} shifted by "
            f"{step} is past 65535",
            hint='move that port lower, or set [instances] strategy = "loopback" (the same '
            "numbers on 127.0.0.N)",
        )
    raise InstanceError(
        f"no free block of {len(wanted.base)} host ports for {wanted.checkout}",
        hint="`portreg instance prune` reclaims instances whose checkout is gone; "
        "`portreg instance list` shows who holds the rest",
    )


def _placed(wanted: Block, number: int, step: int, strategy: str) -> Block:
    if strategy == "loopback":
        return wanted._replace(instance=number, offset=0, host=loopback(number))
    return wanted._replace(instance=number, offset=number * step, host="")


def names(base: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(base.items()))


_NAME_PART = re.compile(r"[^a-z0-9-]+")


def suffixed(name: str, instance: int) -> str:
    """A cluster's or compose project's name for an instance: ``shop`` stays ``shop`` in
    instance 0 and is ``shop-2`` in instance 2 (lowercase, as both tools require)."""
    plain = _NAME_PART.sub("-", name.lower()).strip("-") or "portreg"
    return plain if instance == 0 else f"{plain}-{instance}"
