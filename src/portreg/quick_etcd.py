"""Just enough of etcd's JSON gateway for the fast ``assign``: read one key, swap it.

A raw HTTP/1.1 exchange over a socket (``http.client`` alone costs more to
import than a whole fast ``assign``). It speaks to the first endpoint only,
plain ``etcd://`` without auth; any trouble at all returns None, and the full
CLI (``store.etcd``: failover, TLS, auth, retries, clear errors) takes over.
"""

from __future__ import annotations

import base64
import json
import socket

DEFAULT_PORT = 2379
CONNECT_SECONDS = 0.5
ANSWER_SECONDS = 3.0


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _dechunk(body: bytes) -> bytes:
    """The payload of a ``Transfer-Encoding: chunked`` body."""
    out, rest = [], body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2 :]
    return b"".join(out)


class Key:
    """One registry key behind one endpoint, as ``etcd://host:port[,more]/key`` names it."""

    def __init__(self, host: str, port: int, key: str, location: str) -> None:
        self.host, self.port, self.key, self.location = host, port, key, location

    @classmethod
    def parse(cls, url: str) -> Key | None:
        """None for anything but plain host:port endpoints and a key path."""
        netloc, slash, path = url.removeprefix("etcd://").partition("/")
        key = (slash + path).rstrip("/")
        endpoints = []
        for part in netloc.split(","):
            host, _, port = part.strip().partition(":")
            if not host or "[" in host or (port and not port.isdigit()):
                return None
            endpoints.append((host, int(port) if port else DEFAULT_PORT))
        if not key or not endpoints:
            return None
        shown = ",".join(f"{host}:{port}" for host, port in endpoints)
        return cls(*endpoints[0], key, f"etcd://{shown}{key}")

    def _call(self, path: str, body: dict[str, object]) -> dict[str, object] | None:
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            "Connection: close\r\n\r\n"
        )
        try:
            with socket.create_connection((self.host, self.port), CONNECT_SECONDS) as conn:
                conn.settimeout(ANSWER_SECONDS)
                conn.sendall(head.encode() + payload)
                raw = b"".join(iter(lambda: conn.recv(65536), b""))
        except OSError:
            return None
        header, _, answer = raw.partition(b"\r\n\r\n")
        if not header.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
            return None
        if b"transfer-encoding: chunked" in header.lower():
            answer = _dechunk(answer)
        try:
            reply = json.loads(answer)
        except ValueError:
            return None
        return reply if isinstance(reply, dict) else None

    def read(self) -> tuple[str, int] | None:
        """The key's text and mod_revision; None when absent or on any trouble."""
        reply = self._call("/v3/kv/range", {"key": _b64(self.key)})
        kvs = reply.get("kvs") if reply else None
        if not isinstance(kvs, list) or not kvs or not isinstance(kvs[0], dict):
            return None
        try:
            text = base64.b64decode(str(kvs[0].get("value", ""))).decode("utf-8")
            return text, int(str(kvs[0]["mod_revision"]))
        except (ValueError, KeyError):
            return None

    def swap(self, revision: int, text: str) -> bool:
        """Put ``text`` if the key is still at ``revision``; True when it was written."""
        key = _b64(self.key)
        compare = {"key": key, "result": "EQUAL", "target": "MOD", "mod_revision": str(revision)}
        body = {
            "compare": [compare],
            "success": [{"request_put": {"key": key, "value": _b64(text)}}],
        }
        reply = self._call("/v3/kv/txn", body)
        return bool(reply and reply.get("succeeded"))
