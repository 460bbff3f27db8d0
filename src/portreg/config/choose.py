"""The port settings a repo's own bindings call for (pure): what ``init`` writes, and
what a repo with no config runs with.

- **The range** holds every service's host port: the registry's, and the ports the
  files bind for services. Infrastructure (a database, a broker, a collector, an
  ingress on 80) is not a service: its ports are reserved when they fall inside.
  A repo whose service ports all lie in 8001-8999 keeps that range.
- **NodePorts** are derived only where the repo derives them (kind mappings that
  reach a NodePort, values files under the NodePort convention): the formula is
  read from those pairs. Elsewhere the range is free of the NodePort band.
- **Tilt owns the host ports** when its forwards bind the services' ports and the
  kind cluster maps none of them: kind gets no mapping there.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from portreg.config import discovery
from portreg.config.formula import formula_text, port_for

K8S_LOW, K8S_HIGH = 30000, 32767
MAX_PORT = 65535
INFRA_WORDS = frozenset(
    [
        "postgres",
        "postgresql",
        "pg",
        "db",
        "database",
        "mysql",
        "mariadb",
        "mongo",
        "mongodb",
        "redis",
        "valkey",
        "memcached",
        "cassandra",
        "scylla",
        "clickhouse",
        "couchdb",
        "neo4j",
        "kafka",
        "zookeeper",
        "rabbitmq",
        "nats",
        "pulsar",
        "activemq",
        "elasticsearch",
        "opensearch",
        "kibana",
        "grafana",
        "prometheus",
        "alertmanager",
        "jaeger",
        "zipkin",
        "otel",
        "otelcol",
        "collector",
        "loki",
        "tempo",
        "minio",
        "localstack",
        "mailhog",
        "mailpit",
        "smtp",
        "vault",
        "consul",
        "etcd",
        "keycloak",
        "registry",
        "pgadmin",
        "adminer",
        "dynamodb",
        "pubsub",
        "datastore",
        "bigtable",
        "firestore",
        "emulator",
        "ingress",
        "traefik",
        "nginx",
        "envoy",
        "haproxy",
        "debugger",
        "debug",
    ]
)
INFRA_PORTS = frozenset(
    {
        2181,
        2379,
        3306,
        4317,
        4318,
        5432,
        5433,
        5672,
        6379,
        8500,
        9042,
        9092,
        9200,
        9300,
        9411,
        10350,  # Tilt's own UI
        11211,
        14268,
        15672,
        16686,
        27017,
    }
)


@dataclass(frozen=True)
class HostPort:
    """A host port a file binds: whose, which tool binds it, the NodePort it reaches (a
    kind mapping) and the port it leads to, the one the process serves (``8502:5432``)."""

    port: int
    owner: str | None
    source: str  # the target kind that read it: kind, tilt, compose, ...
    node_port: int | None = None
    serves: int | None = None

    def infrastructure(self) -> bool:
        """Infrastructure binds it: by the port it serves, or its owner's name."""
        return is_infrastructure(self.owner, self.port, self.serves)


@dataclass
class Choice:
    """Top-level keys (and ``kind`` keys) for the config, and why each was chosen."""

    table: dict[str, Any] = field(default_factory=dict)
    kind: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def is_infrastructure(owner: str | None, port: int, serves: int | None = None) -> bool:
    """A port no service of the repo's own serves: a privileged one, a well-known one
    served (``serves``, the port a forward leads to, else ``port``: ``8502:5432`` is a
    database's, ``8500:8080`` no Consul's), or one whose owner's name says what it is
    (``postgres``, ``redis-cache``, ``otel-collector``)."""
    if port < 1024 or (port if serves is None else serves) in INFRA_PORTS:
        return True
    words = set(re.split(r"[^a-z0-9]+", (owner or "").lower()))
    return bool(words & INFRA_WORDS)


def choose_ports(
    bindings: Iterable[HostPort],
    registered: dict[str, int],
    *,
    node_port_files: Iterable[tuple[int, int]] = (),
    seed_layout: bool = False,
    kind_cluster: bool = False,
    registry_reserves: bool = False,
    node_port_range: tuple[int, int] = discovery.NODE_PORT_RANGE,
) -> Choice:
    """The range, reserved ports, NodePort formula and Tilt's share for these bindings;
    ``node_port_files`` are (port, nodePort) pairs values files write (under the NodePort
    convention their port is the service's). A binding no one owns (a kind mapping with
    no comment naming a service) says nothing about the range. ``seed_layout``: the
    seed's layout brings its formula and its reserved port (8080), which the files' pairs
    do not change;
    ``kind_cluster``: the repo has a kind cluster, which may leave the range to Tilt;
    ``registry_reserves``: a registry exists, whose reserved_ports stand;
    ``node_port_range``: the band the seed's formula must map the range into."""
    found = list(bindings)
    values = list(node_port_files)
    choice = Choice()
    owned = {b.port for b in found if b.owner and not b.infrastructure()}
    # the registry's ports and those values files give their service are services' ports
    known = {*registered.values(), *(port for port, _node in values)}
    services = sorted(known | owned)
    first, last = _range(services)
    if seed_layout:  # its formula is fixed: the range ends where its NodePorts must
        base, offset = discovery.NODE_PORT_BASE, discovery.NODE_PORT_OFFSET
        last = min(last, port_for(base, offset, node_port_range[1]))
    choice.table["first-port"], choice.table["last-port"] = first, last
    note = _range_note(services, first, last)
    if not registry_reserves:
        infrastructure = {b.port for b in found if b.infrastructure()}
        brought = set(discovery.RESERVED) if seed_layout else set()
        free = {p for p in infrastructure | brought if first <= p <= last} - set(services)
        infra = sorted(free & infrastructure)
        seeds = sorted(free - infrastructure)
        choice.table["reserved"] = sorted([*infra, *seeds])
        note += _reserved_note(infra, "infrastructure binds them")
        note += _reserved_note(seeds, "the seed's layout keeps it free")
    choice.notes.append(note)
    pairs = [(b.port, b.node_port) for b in found if b.node_port is not None]
    if not seed_layout:
        _node_ports(choice, [*pairs, *values], first, last, convention=bool(values))
    else:
        choice.notes.append(f"NodePorts: the seed's formula, {formula_text(31000, 8000)}")
    if kind_cluster:
        _tilt_share(choice, found, first, last)
    return choice


GAP = 1000  # a port further than this from every other is an outlier's, not the range's


def _range(services: list[int]) -> tuple[int, int]:
    """The default range when it holds every service port; else the whole hundreds around
    the largest run of service ports (sorted, no two more than GAP apart): one outlier, a
    game server's 25565, does not stretch the range over everything between, and a dense
    run of a thousand services is never cut."""
    first, last = discovery.FIRST_PORT, discovery.LAST_PORT
    if not services or (first <= services[0] and services[-1] <= last):
        return first, last
    runs = [[services[0]]]
    for port in services[1:]:
        if port - runs[-1][-1] > GAP:
            runs.append([])
        runs[-1].append(port)
    # the most ports; of runs alike, the one nearest the usual dev ports (8001-8999)
    held = max(runs, key=lambda run: (len(run), -abs(run[0] - first), -run[0]))
    if first <= held[0] and held[-1] <= last:
        return first, last
    low = held[0] // 100 * 100
    high = min(held[-1] // 100 * 100 + 99, MAX_PORT)  # 65500's hundred ends at 65535
    return (low + 1 if low == held[0] - 1 else low), high


def _reserved_note(ports: list[int], why: str) -> str:
    return f"; reserved {', '.join(map(str, ports))} ({why})" if ports else ""


def _range_note(services: list[int], first: int, last: int) -> str:
    inside = sum(first <= p <= last for p in services)
    held = f"the {len(services)} service port(s) found" if services else "no service port yet"
    if inside < len(services):
        held = (
            f"{inside} of the {len(services)} service ports found (the others are foreign: "
            "checked, never moved)"
        )
    return f"range {first}-{last}: holds {held}"


def _node_ports(
    choice: Choice, pairs: list[tuple[int, int]], first: int, last: int, *, convention: bool
) -> None:
    """The formula the pairs follow, when one shift fits the range into the NodePort band
    (one pair alone follows its own: nothing says it drifted). Kind mappings that follow
    no one shift derive no NodePorts; values files under the NodePort convention
    (``convention``) do, and a pair off the formula is their drift."""
    # distinct pairs: one service's port written in two files is one mapping, not two
    shifts = Counter(node - port for port, node in set(pairs) if K8S_LOW <= node <= K8S_HIGH)
    if not shifts:
        choice.notes.append("NodePorts: no kind mapping or values file reaches one")
        return
    default = discovery.NODE_PORT_BASE - discovery.NODE_PORT_OFFSET
    shift, agreeing = shifts.most_common(1)[0]
    if default in shifts or (agreeing < 2 and len(shifts) > 1 and convention):
        shift = default  # the seed's formula where one follows it; values files off any
    elif agreeing < 2 and len(shifts) > 1:
        choice.table["derive-node-ports"] = False
        choice.notes.append("NodePorts: not derived (no two mappings follow one formula)")
        return
    low, high = first + shift, last + shift
    if low < K8S_LOW or high > K8S_HIGH:
        choice.table["derive-node-ports"] = False
        choice.notes.append(
            f"NodePorts: not derived (port + {shift} leaves Kubernetes' {K8S_LOW}-{K8S_HIGH} "
            f"for {first}-{last})"
        )
        return
    offset = discovery.NODE_PORT_OFFSET if shift == default else first // 1000 * 1000
    base = offset + shift
    band = [max(K8S_LOW, low // 1000 * 1000), min(K8S_HIGH, high // 1000 * 1000 + 999)]
    choice.table.update({"node-port-base": base, "node-port-offset": offset})
    choice.table["node-port-range"] = band
    choice.notes.append(
        f"NodePorts: {formula_text(base, offset)}, as the repo's mappings derive them"
    )


def _tilt_share(choice: Choice, found: list[HostPort], first: int, last: int) -> None:
    """Kind maps no host port in the range while Tilt forwards some: Tilt owns them."""
    inside = [b for b in found if first <= b.port <= last]
    tilt = any(b.source == "tilt" for b in inside)
    kind = any(b.source == "kind" for b in inside)
    if tilt and not kind:
        choice.kind["skip-host-ports"] = [[first, last]]
        choice.notes.append(
            f"host ports {first}-{last}: Tilt forwards them, so kind maps none there"
        )
