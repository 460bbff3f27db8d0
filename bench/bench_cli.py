"""CLI start-up and the core commands on a 500-service repo, as ratios to `python -c pass`.

Targets (issues 2 and 3): query and list <= 2.5x, assign (registry only) <= 3x,
assign --update-configs on 500 values files + a 500-mapping kind-config <= 5x.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import BASELINE, PORTREG, age, machine, measure, table

SERVICES = 500
VALUES = """\
# ⚠️ PORT CONFIGURATION REFERENCE: managed by portreg
image:
  name: "rerp-{name}"
  tag: latest
service:
  name: {name}
  type: NodePort
  port: {port}
  containerPort: {port}
  nodePort: {node_port}
app:
  serviceName: {name}
  binaryName: {snake}_service_api
"""
KIND_HEAD = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  extraPortMappings:
"""
KIND_ENTRY = """\
  # {title} Service
  - containerPort: {node_port}
    hostPort: {port}
    protocol: TCP
"""


def build_repo(root: Path, services: int = SERVICES) -> None:
    (root / ".git").mkdir(parents=True)
    (root / "scripts").mkdir()
    values = root / "helm/rerp-microservice/values"
    values.mkdir(parents=True)
    assignments = {}
    kind = [KIND_HEAD]
    for index in range(services):
        name, port = f"service-{index:03d}", 8001 + index + (index >= 79)
        assignments[name] = port
        fields = {
            "name": name,
            "port": port,
            "node_port": 31000 + port - 8000,
            "snake": name.replace("-", "_"),
            "title": name.replace("-", " ").title(),
        }
        (values / f"{name}.yaml").write_text(VALUES.format(**fields))
        kind.append(KIND_ENTRY.format(**fields))
    (root / "kind-config.yaml").write_text("".join(kind))
    registry = {
        "version": "1.0",
        "next_port": 8001,
        "reserved_ports": [8080],
        "assignments": assignments,
    }
    (root / "scripts/port-registry.json").write_text(json.dumps(registry, indent=2) + "\n")
    age(root)


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        plain, full = Path(temp, "plain"), Path(temp, "full")
        build_repo(plain)
        build_repo(full)
        for index in range(60):
            (full / f"helm/rerp-microservice/values/new-{index}.yaml").write_text(
                "service:\n  type: NodePort\n"
            )
        cases = {
            "python -c pass": lambda i: BASELINE,
            "portreg query (500 services)": lambda i: [
                PORTREG,
                "--root",
                str(plain),
                "query",
                "service-250",
            ],
            "portreg list (500 services)": lambda i: [PORTREG, "--root", str(plain), "list"],
            "portreg assign (registry only)": lambda i: [
                PORTREG,
                "--root",
                str(plain),
                "assign",
                f"new-{i}",
            ],
            "portreg assign --update-configs (500 files)": lambda i: [
                PORTREG,
                "--root",
                str(full),
                "assign",
                f"new-{i}",
                "--update-configs",
            ],
        }
        medians = measure(cases, rounds=30, warmup=3)
    targets = {
        "portreg query (500 services)": 2.5,
        "portreg list (500 services)": 2.5,
        "portreg assign (registry only)": 3.0,
        "portreg assign --update-configs (500 files)": 5.0,
    }
    print(table(f"bench_cli on {machine()}", medians, "python -c pass", targets))


if __name__ == "__main__":
    main()
