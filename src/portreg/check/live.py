"""``check --live``: which ports something on this machine is listening on.

Linux: ``/proc/net/tcp`` and ``tcp6`` list every socket; state ``0A`` is
LISTEN. The owning process is found through ``/proc/<pid>/fd`` links
(``socket:[inode]``), which only works for our own processes unless run as
root, so the name is often unknown. Elsewhere: try to bind each port.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

LISTEN = "0A"


class Here(NamedTuple):
    """The instance ``check --live`` runs in: its ports are the committed ones moved by
    ``offset`` (or bound on ``host``), and ``others`` names the other instances' ports
    (live port -> "instance 2 of shop at /path")."""

    offset: int = 0
    host: str = ""
    others: Mapping[int, str] = {}


def _address(hex_address: str) -> str:
    """An IPv4 address as /proc/net/tcp writes it (little-endian hex); "" for any other."""
    if len(hex_address) != 8:
        return ""
    return ".".join(str(int(hex_address[i : i + 2], 16)) for i in (6, 4, 2, 0))


def parse_proc_net(text: str, host: str = "") -> dict[int, int]:
    """Listening port -> socket inode, from the text of /proc/net/tcp{,6} (pure); with
    ``host``, only sockets that meet it (on it, or on every address)."""
    found: dict[int, int] = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != LISTEN:
            continue
        address, _, port = fields[1].rpartition(":")
        if host and address.strip("0") and _address(address) != host:
            continue
        found.setdefault(int(port, 16), int(fields[9]))
    return found


def _process_names(inodes: set[int], proc: Path) -> dict[int, str]:
    """Socket inode -> ``name (pid N)`` for the processes we are allowed to look into."""
    names: dict[int, str] = {}
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (pid_dir / "fd").iterdir()]
            comm = (pid_dir / "comm").read_text().strip()
        except OSError:  # another user's process, or it exited: skip it
            continue
        for link in links:
            if link in wanted:
                names[wanted[link]] = f"{comm} (pid {pid_dir.name})"
    return names


def _from_proc(ports: set[int], proc: Path, host: str = "") -> dict[int, str]:
    inodes: dict[int, int] = {}
    for name in ("tcp", "tcp6"):
        try:
            listed = parse_proc_net((proc / "net" / name).read_text(), host)
        except OSError:
            continue
        inodes.update({p: i for p, i in listed.items() if p in ports and p not in inodes})
    names = _process_names(set(inodes.values()), proc)
    return {port: names.get(inode, "") for port, inode in inodes.items()}


def listening(proc: Path = Path("/proc")) -> dict[int, frozenset[str]]:
    """Every port something on this machine listens on, and the addresses ("" for every
    address; empty where /proc does not say)."""
    found: dict[int, frozenset[str]] = {}
    for name in ("tcp", "tcp6"):
        try:
            text = (proc / "net" / name).read_text()
        except OSError:
            continue
        for line in text.splitlines()[1:]:
            fields = line.split()
            if len(fields) < 10 or fields[3] != LISTEN:
                continue
            address, _, port = fields[1].rpartition(":")
            shown = "" if not address.strip("0") else _address(address) or f"[{address}]"
            number = int(port, 16)
            found[number] = found.get(number, frozenset()) | {shown}
    return found


EPHEMERAL = (32768, 60999)  # Linux's default ip_local_port_range


def ephemeral_range(proc: Path = Path("/proc")) -> tuple[int, int]:
    """The ports the kernel hands outgoing connections (Linux's default where /proc does
    not say)."""
    try:
        low, high = (
            int(part) for part in (proc / "sys/net/ipv4/ip_local_port_range").read_text().split()
        )
    except (OSError, ValueError):
        return EPHEMERAL
    return low, high


def _bind_fails(port: int, host: str) -> bool:
    import socket  # where /proc does not say: socket builds its enums at import (5 ms)

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def listeners(ports: Iterable[int], proc: Path = Path("/proc"), host: str = "") -> dict[int, str]:
    """Port -> who listens on it ("" when the OS will not say), for the given ports (on
    ``host``, or on every address)."""
    wanted = set(ports)
    if (proc / "net" / "tcp").exists():
        return _from_proc(wanted, proc, host)
    return {port: "" for port in sorted(wanted) if _bind_fails(port, host or "127.0.0.1")}


def holders(committed: Iterable[int], here: Here, proc: Path = Path("/proc")) -> dict[int, str]:
    """Committed port -> who listens now on the port this instance binds for it: the
    process, and the other instance whose block holds it."""
    live = {port + here.offset: port for port in committed}
    found = {}
    for port, who in listeners(live, proc, here.host).items():
        named = [part for part in (who, here.others.get(port, "")) if part]
        found[live[port]] = ", ".join(named)
    return found
