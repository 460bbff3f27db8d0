"""The registry as one key in etcd v3, reached through its JSON gateway with ``http.client``.

URL: ``etcd://h1:2379,h2:2379/portreg/rerp`` (``etcds://`` for TLS). The URL path is
the key, verbatim: ``/portreg/rerp`` holds the whole registry document, the seed's
JSON byte for byte as portreg writes it. One key keeps every write a single
compare-and-swap on its ``mod_revision``; repos and CI runners that share a port
space name the same key.

Why the gateway and ``http.client``: a gRPC client or ``etcd3gw`` costs 100+ ms of
imports per run, the gateway a few ms per request (see bench/bench_etcd.py).

Failover: requests go to one endpoint over a kept-alive connection; when it does
not answer (refused, connect timeout, reset, gRPC ``Unavailable``) the next one is
tried, for two rounds. Connecting waits at most ``CONNECT_TIMEOUT`` so a wrong
address fails in a few seconds; an answer may take ``[etcd] timeout``.

A write replayed on another endpoint after a lost reply is safe: the txn's failure
branch reads the key back, and finding our own text there counts as success.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portreg.errors import ConfigError, RegistryError, StoreConflictError, StoreError, redact_url
from portreg.io.lock import FileLock, checkout_lock_path, journal_path
from portreg.io.workspace import FileEdit
from portreg.model import is_digits, parse_registry
from portreg.store.base import Snapshot
from portreg.store.file import FileStore

if TYPE_CHECKING:
    from portreg.config import EtcdSettings, Settings
    from portreg.store.base import Store

DEFAULT_PORT = 2379
CONNECT_TIMEOUT = 1.0
MAX_REPLY_BYTES = 16 * 1024 * 1024  # the registry is at most 8 MB, base64 adds a third
ROUNDS = 2
ROUND_PAUSE = 0.25
UNAVAILABLE_CODES = frozenset({4, 14})  # DeadlineExceeded, Unavailable: another member may answer
UNAUTHENTICATED = 16
PERMISSION_DENIED = 7
AUTH_NOT_ENABLED = "authentication is not enabled"


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


# ------------------------------------------------------------------ the URL


def _url_error(url: str, what: str) -> ConfigError:
    return ConfigError(
        f"store: {redact_url(url)!r}: {what}",
        hint="write it as etcd://host:2379[,host2:2379...]/key/path (etcds:// for TLS)",
    )


def _endpoint(url: str, text: str) -> Endpoint:
    if text.startswith("["):  # [::1]:2379
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = text.rpartition(":") if ":" in text else (text, "", "")
    if not host:
        raise _url_error(url, f"endpoint {text!r} has no host")
    if not port_text:
        return Endpoint(host, DEFAULT_PORT)
    if not is_digits(port_text) or len(port_text) > 5 or not 1 <= int(port_text) <= 65535:
        raise _url_error(url, f"endpoint {text!r} has no valid port")
    return Endpoint(host, int(port_text))


def parse_url(url: str) -> tuple[bool, tuple[Endpoint, ...], str]:
    """``(tls, endpoints, key)`` from ``etcd[s]://h1:p1,h2:p2/key``."""
    scheme, _, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    if not netloc:
        raise _url_error(url, "no endpoint")
    if "@" in netloc:
        raise ConfigError(
            f"store: {redact_url(url)!r}: credentials in the URL are never read (they would "
            "show in logs and process lists)",
            hint="set [etcd] username in portreg.toml and the password in $PORTREG_ETCD_PASSWORD",
        )
    endpoints = tuple(_endpoint(url, part.strip()) for part in netloc.split(","))
    key = (slash + path).rstrip("/")
    if not key:
        raise _url_error(url, "no key path (e.g. /portreg/myrepo) after the endpoints")
    return scheme == "etcds", endpoints, key


# ---------------------------------------------------------- TLS and auth


def _config_path(settings: Settings, value: str | None) -> str | None:
    """Certificate paths in portreg.toml are relative to the repo root."""
    return None if value is None else str(settings.root / Path(value).expanduser())


def _tls_context(settings: Settings) -> ssl.SSLContext:
    ca = _config_path(settings, settings.etcd.ca)
    cert = _config_path(settings, settings.etcd.cert)
    key = _config_path(settings, settings.etcd.key)
    if key and not cert:
        raise ConfigError("etcd.key: set without etcd.cert", hint="set both, or neither")
    try:
        context = ssl.create_default_context(cafile=ca)
        if cert:
            context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        raise ConfigError(
            f"etcd: cannot load the TLS files (ca={ca}, cert={cert}, key={key}): {reason}",
            where=settings.config_name,
            hint="check the ca, cert and key paths in [etcd]",
        ) from exc
    return context


def _credentials(settings: EtcdSettings) -> tuple[str, str] | None:
    """Username from the config, password only from the environment."""
    if settings.username is None:
        return None
    password = os.environ.get(settings.password_env)
    if not password:
        raise ConfigError(
            f"etcd.username is {settings.username!r} but ${settings.password_env} is not set",
            hint=f"export {settings.password_env}=... (the password is never read from a file)",
        )
    return settings.username, password


# -------------------------------------------------------------- transport


class _Unreachable(Exception):
    """This endpoint did not answer; the next one may."""


class _TokenExpired(Exception):
    """etcd no longer knows our auth token; authenticate again."""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError):
        return "connection closed"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


class GatewayClient:
    """POST JSON to etcd's v3 gateway: one kept-alive connection, failover, auth token."""

    def __init__(
        self,
        endpoints: tuple[Endpoint, ...],
        *,
        tls: ssl.SSLContext | None,
        credentials: tuple[str, str] | None,
        timeout: float,
        where: str,
    ) -> None:
        self.endpoints = endpoints
        self.tls = tls
        self.credentials = credentials
        self.timeout = timeout
        self.where = where
        self.index = 0
        self._connection: http.client.HTTPConnection | None = None
        self._token: str | None = None

    @property
    def endpoint(self) -> Endpoint:
        return self.endpoints[self.index]

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The gateway's answer from the first endpoint that gives one."""
        failures: dict[str, str] = {}
        for round_number in range(ROUNDS):
            if round_number:
                time.sleep(ROUND_PAUSE)
            for _ in self.endpoints:
                try:
                    return self._call_with_token(path, body)
                except _Unreachable as exc:
                    failures[str(self.endpoint)] = str(exc)
                    self.close()
                    self.index = (self.index + 1) % len(self.endpoints)
        tried = ", ".join(f"{name} ({why})" for name, why in failures.items())
        raise StoreError(
            f"cannot reach etcd: {tried}",
            where=self.where,
            hint="check that etcd runs there and the store URL is right",
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _call_with_token(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.credentials and self._token is None:
            self._token = self._authenticate(self.credentials)
        try:
            return self._post(path, body)
        except _TokenExpired:
            if not self.credentials:
                raise self._auth_required() from None
            self._token = self._authenticate(self.credentials)
            return self._post(path, body)

    def _authenticate(self, credentials: tuple[str, str]) -> str:
        name, password = credentials
        try:
            reply = self._post("/v3/auth/authenticate", {"name": name, "password": password})
        except StoreError as exc:
            if AUTH_NOT_ENABLED in exc.message:
                return ""  # a cluster without auth accepts us as we are
            raise
        return str(reply.get("token", ""))

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is not None:
            return self._connection
        host, port = self.endpoint.host, self.endpoint.port
        connection: http.client.HTTPConnection
        wait = min(CONNECT_TIMEOUT, self.timeout)
        if self.tls is not None:
            connection = http.client.HTTPSConnection(host, port, timeout=wait, context=self.tls)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=wait)
        try:
            connection.connect()
        except OSError as exc:
            connection.close()
            raise _Unreachable(_reason(exc)) from exc
        connection.sock.settimeout(self.timeout)
        self._connection = connection
        return connection

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        connection = self._connect()
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = self._token
        try:
            connection.request("POST", path, json.dumps(body), headers)
            response = connection.getresponse()
            data = self._read_within(response)
        except (OSError, http.client.HTTPException) as exc:
            raise _Unreachable(_reason(exc)) from exc
        try:
            reply = json.loads(data)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            raise _Unreachable(f"HTTP {response.status}, not an etcd v3 gateway")
        if response.status != 200:
            self._fail(reply)
        return reply

    def _read_within(self, response: http.client.HTTPResponse) -> bytes:
        """The reply body, read in chunks against one deadline for the whole reply and a
        size cap: a server that trickles bytes, or sends without end, cannot hold us."""

        deadline = time.monotonic() + self.timeout
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = response.read1(65536)
            if not chunk:
                # read() at the end marks the response done, so the kept-alive connection
                # takes the next request (read1 alone leaves it "not ready")
                chunks.append(response.read())
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_REPLY_BYTES:
                raise _Unreachable(f"the reply is over {MAX_REPLY_BYTES >> 20} MB")
            if time.monotonic() > deadline:
                raise _Unreachable(f"the reply took over {self.timeout:g} s")
            chunks.append(chunk)

    def _fail(self, reply: dict[str, Any]) -> None:
        code = reply.get("code")
        message = str(reply.get("message") or reply.get("error") or reply)
        message = message.removeprefix("etcdserver: ")
        if code in UNAVAILABLE_CODES:
            raise _Unreachable(message)
        if code == UNAUTHENTICATED:
            raise _TokenExpired(message)
        if "user name is empty" in message:
            raise self._auth_required()
        if "authentication failed" in message:
            user = self.credentials[0] if self.credentials else ""
            raise StoreError(
                f"etcd authentication failed for user {user!r}",
                where=self.where,
                hint="check [etcd] username and the password in the environment",
            )
        if code == PERMISSION_DENIED:
            user = self.credentials[0] if self.credentials else "(none)"
            raise StoreError(
                f"etcd: permission denied for user {user!r}",
                where=self.where,
                hint="grant the user's role readwrite on the registry key",
            )
        raise StoreError(f"etcd: {message}", where=self.where)

    def _auth_required(self) -> StoreError:
        return StoreError(
            "etcd requires authentication",
            where=self.where,
            hint="set username in [etcd] and the password in $PORTREG_ETCD_PASSWORD "
            "(or the variable named by password-env)",
        )


# ------------------------------------------------------------------ store


class EtcdStore:
    """The Store protocol on one etcd key: ``load`` reads it, ``commit`` compares-and-swaps."""

    files_first = False

    def __init__(
        self,
        client: GatewayClient,
        key: str,
        location: str,
        local_lock: FileLock | None = None,
        root: Path | None = None,
    ) -> None:
        self.client = client
        self.key = key
        self.location = location
        self.local_lock = local_lock
        self.root = root
        self.journal_path = Path(journal_path(str(local_lock.path))) if local_lock else None
        self.revision = 0
        """The cluster revision of the last answer (after a commit: the commit's revision)."""

    @classmethod
    def from_url(cls, url: str, settings: Settings) -> EtcdStore:
        tls, endpoints, key = parse_url(url)
        if not tls and (settings.etcd.ca or settings.etcd.cert):
            raise ConfigError(
                "etcd: ca/cert are set but the store URL is etcd:// (plain HTTP)",
                hint="use etcds:// to talk TLS, or drop ca/cert from [etcd]",
            )
        scheme = "etcds" if tls else "etcd"
        location = f"{scheme}://{','.join(map(str, endpoints))}{key}"
        client = GatewayClient(
            endpoints,
            tls=_tls_context(settings) if tls else None,
            credentials=_credentials(settings.etcd),
            timeout=settings.etcd.timeout,
            where=location,
        )
        return cls(client, key, location, _local_lock(settings), settings.root)

    def session(self) -> AbstractContextManager[None]:
        """No lock guards the registry (the compare-and-swap does), but portreg processes on
        this checkout still take turns: each edits the same local config files afterwards,
        through a journal that the next run finishes if this one is killed."""
        return self._local_session() if self.local_lock else _NoSession()

    @contextmanager
    def _local_session(self) -> Iterator[None]:
        from portreg.io.transaction import locked

        assert self.local_lock is not None
        with locked(self.local_lock, self.root or Path(self.local_lock.path).parent):
            yield

    def registry_edit(self, snapshot: Snapshot, text: str) -> FileEdit | None:
        return None

    def load(self) -> Snapshot:
        reply = self.client.call("/v3/kv/range", {"key": _b64(self.key)})
        self._note_revision(reply)
        kvs = reply.get("kvs") or []
        if not kvs:
            return Snapshot(None, 0)
        if not isinstance(kvs, list) or not isinstance(kvs[0], dict):
            raise self._odd_reply("kvs")
        return Snapshot(self._text(kvs[0]), self._revision(kvs[0].get("mod_revision")))

    def commit(self, snapshot: Snapshot, text: str) -> None:
        key, value = _b64(self.key), _b64(text)
        if snapshot.revision:
            compare = {"target": "MOD", "mod_revision": str(snapshot.revision)}
        else:  # the key must still not exist
            compare = {"target": "CREATE", "create_revision": "0"}
        body = {
            "compare": [{"key": key, "result": "EQUAL", **compare}],
            "success": [{"request_put": {"key": key, "value": value}}],
            "failure": [{"request_range": {"key": key}}],
        }
        try:
            reply = self.client.call("/v3/kv/txn", body)
        except StoreError as exc:
            exc.hint = "the registry may or may not hold this change; check with `portreg list`"
            raise
        self._note_revision(reply)
        # a failed txn has no "succeeded" key (proto3 leaves false out)
        if not reply.get("succeeded") and _current_value(reply) != value:
            raise StoreConflictError(
                "another writer changed the registry first", where=self.location
            )

    def _note_revision(self, reply: dict[str, Any]) -> None:
        header = reply.get("header", {})
        self.revision = self._revision(
            header.get("revision", 0) if isinstance(header, dict) else None
        )

    def _revision(self, value: object) -> int:
        """A revision as etcd's gateway writes it: a decimal string or number."""
        text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
        if not (text.isascii() and text.isdigit() and len(text) <= 20):
            raise self._odd_reply("revision")
        return int(text)

    def _odd_reply(self, what: str) -> StoreError:
        return StoreError(
            f"etcd answered with a {what} portreg cannot read; is this an etcd v3 gateway?",
            where=self.location,
            hint="check the store URL",
        )

    def _text(self, kv: dict[str, Any]) -> str:
        value = kv.get("value", "")
        if not isinstance(value, str):
            raise self._odd_reply("value")
        try:
            return base64.b64decode(value).decode("utf-8")
        except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
            raise RegistryError(
                "the key holds binary data, not a registry document",
                where=self.location,
                hint="check the key in the store URL, or replace it with `portreg store push "
                "--force`",
            ) from exc


def _current_value(reply: dict[str, Any]) -> str | None:
    """The key's value as the txn's failure branch read it (None when absent or odd)."""
    responses = reply.get("responses") or []
    for item in responses if isinstance(responses, list) else []:
        found = item.get("response_range", {}) if isinstance(item, dict) else {}
        kvs = found.get("kvs") or [] if isinstance(found, dict) else []
        if isinstance(kvs, list) and kvs and isinstance(kvs[0], dict):
            return str(kvs[0].get("value", ""))
    return None


def _local_lock(settings: Settings) -> FileLock:
    lock = checkout_lock_path(str(settings.root))
    return FileLock(lock, settings.lock_timeout, lock)


class _NoSession:
    """etcd needs no lock around read-plan-write: the compare-and-swap guards the write."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


# ---------------------------------------------- store push / pull / status


@dataclass(frozen=True)
class StoreStatus:
    location: str
    endpoint: str
    key: str
    revision: int
    """The key's mod_revision; 0 when the key does not exist."""
    cluster_revision: int
    services: int | None
    """None when the key does not exist."""


def require_etcd(store: Store) -> EtcdStore:
    if not isinstance(store, EtcdStore):
        raise ConfigError(
            f"`portreg store` needs an etcd store, and the store is {store.location}",
            hint="pass --store etcd://host:2379/key, set PORTREG_STORE, or store = in portreg.toml",
        )
    return store


def status(store: EtcdStore) -> StoreStatus:
    snapshot = store.load()
    services = None
    if snapshot.revision:
        services = len(parse_registry(snapshot.text, store.location).assignments)
    endpoint = str(store.client.endpoint)
    return StoreStatus(
        store.location, endpoint, store.key, snapshot.revision, store.revision, services
    )


def push(settings: Settings, store: EtcdStore, *, force: bool) -> int:
    """Copy the registry file into the key, byte for byte; returns its number of services."""

    where = settings.registry
    text = FileStore(settings.registry_path, settings.root, settings.lock_timeout).load().text
    if text is None:
        raise StoreError(
            f"no registry file at {where} to push",
            hint="run `portreg init` or `portreg store pull` first",
        )
    services = len(parse_registry(text, where).assignments)
    current = store.load()
    if current.revision and not force:
        raise StoreError(
            f"the key already holds a registry (revision {current.revision})",
            where=store.location,
            hint="pass --force to overwrite it, or `portreg store pull` to fetch it",
        )
    store.commit(current, text)
    return services


def pull(settings: Settings, store: EtcdStore) -> tuple[FileEdit | None, int]:
    """Write the key's registry to the registry file (atomic, under the file lock).

    Returns the edit made (None when the file already matched) and the number of services.
    """
    from portreg.io.transaction import apply_edits

    snapshot = store.load()
    if snapshot.text is None:
        raise StoreError(
            "the key holds no registry yet",
            where=store.location,
            hint="run `portreg store push` to copy the registry file there",
        )
    services = len(parse_registry(snapshot.text, store.location).assignments)
    path = settings.registry_path
    local = FileStore(path, settings.root, settings.lock_timeout)  # refuses a path outside
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create {path.parent}: {exc.strerror}", hint="make the repo writable"
        ) from exc
    with local.session():
        before = local.load().text
        if before == snapshot.text:
            return None, services
        edit = FileEdit(path, local.location, before, snapshot.text)
        apply_edits([edit], root=settings.root, journal=local.journal_path)
    return edit, services
