"""Real etcd processes for tests and benchmarks: one member or a cluster on 127.0.0.1.

Each member gets free ports and its own data dir (on /dev/shm when there is one,
since fsync on a real disk would dominate the timings) and is stopped at the end.
Without an etcd binary the tests skip, except in CI (``CI=true``) where they fail:
CI installs Debian's ``etcd-server`` package, so a missing binary is a broken setup.

Use as a pytest plugin (``pytest_plugins = ["etcd_util"]``) for the fixtures, or
import ``EtcdCluster`` directly (bench/).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ETCD_PATHS = ("/usr/bin/etcd", "/usr/local/bin/etcd")
START_TIMEOUT = 20.0


def find_etcd() -> str | None:
    return shutil.which("etcd") or next((p for p in ETCD_PATHS if os.access(p, os.X_OK)), None)


def etcd_binary() -> str:
    """The etcd binary, or skip (fail in CI) with the reason."""
    import pytest

    found = find_etcd()
    if found:
        return found
    reason = "no etcd binary (install it: apt-get install -y etcd-server)"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{reason}; CI must provide it", pytrace=False)
    pytest.skip(reason)
    raise AssertionError("unreachable")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gateway(endpoint: str, path: str, body: dict[str, Any], token: str = "") -> dict[str, Any]:
    """POST to an etcd v3 JSON gateway; an error reply is returned, not raised."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = token
    request = urllib.request.Request(
        f"http://{endpoint}{path}", json.dumps(body).encode(), headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return dict(json.load(response))
    except urllib.error.HTTPError as exc:
        return dict(json.load(exc))


def b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.b64encode(raw).decode()


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


def make_tls(folder: Path) -> TlsFiles:
    """A throwaway CA and one cert for 127.0.0.1, used by etcd as server and portreg as client."""
    import pytest

    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make test certificates")
    ca, cert, key = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ext = folder / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", folder / "ca.key", "-out", ca, "-subj", "/CN=portreg-test-ca"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    subprocess.run(
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
         "-out", folder / "cert.csr", "-subj", "/CN=127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    subprocess.run(
        ["openssl", "x509", "-req", "-in", folder / "cert.csr", "-CA", ca, "-CAkey",
         folder / "ca.key", "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return TlsFiles(ca, cert, key)


@dataclass
class Member:
    name: str
    data_dir: Path
    client_port: int = field(default_factory=free_port)
    peer_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    cluster: str = ""
    tls: TlsFiles | None = None

    @property
    def client_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.endpoint}"

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"

    def start(self) -> None:
        """Start (or restart, keeping the data dir) this member; returns without waiting."""
        client_url = self.client_url
        args = [
            etcd_binary(),
            f"--name={self.name}",
            f"--data-dir={self.data_dir}",
            f"--listen-client-urls={client_url}",
            f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls={self.peer_url}",
            f"--initial-advertise-peer-urls={self.peer_url}",
            f"--initial-cluster={self.cluster}",
            "--initial-cluster-state=new",
            "--initial-cluster-token=portreg-test",
            # fast elections, so a killed leader is replaced well inside portreg's timeouts
            "--heartbeat-interval=50",
            "--election-timeout=500",
        ]
        if self.tls:
            args += [
                f"--cert-file={self.tls.cert}",
                f"--key-file={self.tls.key}",
                f"--trusted-ca-file={self.tls.ca}",
                "--client-cert-auth",
            ]
        log = (self.data_dir.parent / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=log)
        log.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self) -> bool:
        context = None
        if self.tls:
            import ssl

            context = ssl.create_default_context(cafile=str(self.tls.ca))
            context.load_cert_chain(self.tls.cert, self.tls.key)
        try:
            url = f"{self.client_url}/health"
            with urllib.request.urlopen(url, timeout=1, context=context) as response:
                return bool(json.load(response).get("health") == "true")
        except (OSError, ValueError):
            return False

    def kill(self) -> None:
        """SIGKILL: the member vanishes mid-request, as a crashed node does."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def _end(self, sig: signal.Signals) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        path = self.data_dir.parent / f"{self.name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


class EtcdCluster:
    """``size`` etcd members on loopback; ``url(key)`` names them all in a store URL."""

    def __init__(
        self, size: int = 1, base: Path | None = None, tls: TlsFiles | None = None
    ) -> None:
        shm = Path("/dev/shm")
        parent = base or (shm if shm.is_dir() and os.access(shm, os.W_OK) else None)
        self.base = Path(tempfile.mkdtemp(prefix="portreg-etcd-", dir=parent))
        self.size = size
        self.tls = tls
        self.members: list[Member] = []

    def __enter__(self) -> EtcdCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> EtcdCluster:
        """Start every member and wait until each is healthy (new ports on a port clash)."""
        logs = ""
        for attempt in range(3):
            self._create_members(attempt)
            for member in self.members:
                member.start()
            if self.wait_healthy():
                return self
            logs = "\n".join(m.log() for m in self.members)
            self.stop(remove=False)
        raise RuntimeError(f"etcd did not start:\n{logs}")

    def _create_members(self, attempt: int) -> None:
        names = [f"m{i}" for i in range(self.size)]
        self.members = [Member(n, self.base / f"{n}-{attempt}" / "data") for n in names]
        cluster = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
        for member in self.members:
            member.data_dir.parent.mkdir(parents=True)
            member.cluster = cluster
            member.tls = self.tls

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = [m for m in self.members if m.process is not None]
            if any(not m.alive() for m in running):
                return False
            if all(m.healthy() for m in running):
                return True
            time.sleep(0.05)
        return False

    def stop(self, *, remove: bool = True) -> None:
        for member in self.members:
            member.stop()
        if remove:
            shutil.rmtree(self.base, ignore_errors=True)

    # ---------------------------------------------------------- addressing

    @property
    def endpoints(self) -> str:
        return ",".join(m.endpoint for m in self.members)

    def url(self, key: str, order: list[Member] | None = None) -> str:
        members = order or self.members
        scheme = "etcds" if self.tls else "etcd"
        return f"{scheme}://{','.join(m.endpoint for m in members)}{key}"

    def live(self) -> Member:
        return next(m for m in self.members if m.alive())

    def leader(self) -> Member:
        """The member that leads the raft group now."""
        for member in self.members:
            if member.alive():
                reply = gateway(member.endpoint, "/v3/maintenance/status", {})
                if reply.get("leader") == reply.get("header", {}).get("member_id"):
                    return member
        raise RuntimeError("no leader")

    # ------------------------------------------------------- raw key access

    def get(self, key: str, token: str = "") -> bytes | None:
        reply = gateway(self.live().endpoint, "/v3/kv/range", {"key": b64(key)}, token)
        kvs = reply.get("kvs") or []
        return base64.b64decode(kvs[0].get("value", "")) if kvs else None

    def put(self, key: str, value: str | bytes, token: str = "") -> None:
        body = {"key": b64(key), "value": b64(value)}
        reply = gateway(self.live().endpoint, "/v3/kv/put", body, token)
        assert "error" not in reply, reply

    def revision(self, key: str) -> int:
        reply = gateway(self.live().endpoint, "/v3/kv/range", {"key": b64(key)})
        kvs = reply.get("kvs") or []
        return int(kvs[0]["mod_revision"]) if kvs else 0

    def enable_auth(self, user: str, password: str) -> str:
        """Turn on etcd auth with ``user`` as root; returns a token for raw access."""
        endpoint = self.live().endpoint
        gateway(endpoint, "/v3/auth/user/add", {"name": user, "password": password})
        gateway(endpoint, "/v3/auth/role/add", {"name": "root"})
        gateway(endpoint, "/v3/auth/user/grant", {"user": user, "role": "root"})
        reply = gateway(endpoint, "/v3/auth/enable", {})
        assert "error" not in reply, reply
        token = gateway(endpoint, "/v3/auth/authenticate", {"name": user, "password": password})
        return str(token["token"])


# ------------------------------------------------------------------ fixtures

try:
    import pytest
except ImportError:  # bench/ imports this module without pytest installed
    pass
else:

    @pytest.fixture(scope="module")
    def etcd_server() -> Iterator[EtcdCluster]:
        """One etcd member shared by a test module; give each test its own ``etcd_key``."""
        etcd_binary()
        with EtcdCluster(1) as cluster:
            yield cluster

    @pytest.fixture
    def etcd_private() -> Iterator[EtcdCluster]:
        """A single member of its own, for tests that stop it or turn on auth."""
        etcd_binary()
        with EtcdCluster(1) as cluster:
            yield cluster

    @pytest.fixture
    def etcd_cluster3() -> Iterator[EtcdCluster]:
        """Three members on loopback."""
        etcd_binary()
        with EtcdCluster(3) as cluster:
            yield cluster

    @pytest.fixture
    def etcd_tls(tmp_path: Path) -> Iterator[EtcdCluster]:
        """A single member that speaks only TLS and wants a client certificate."""
        etcd_binary()
        tls = make_tls(tmp_path)
        with EtcdCluster(1, tls=tls) as cluster:
            yield cluster

    @pytest.fixture
    def etcd_key() -> str:
        return f"/portreg/test/{uuid.uuid4().hex[:12]}"
