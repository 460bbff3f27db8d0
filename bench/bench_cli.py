"""CLI start-up and the core commands on a 500-service repo, as ratios to `python -c pass`.

Each command runs *cold* (every file of the repo rewritten just before the run,
as after a branch switch) and *warm* (files unchanged for an hour).
Targets (issue 12): query and list <= 2.5x cold and warm; assign (registry
only) <= 3.5x cold; assign --update-configs on 500 values files + a
500-mapping kind-config <= 6x cold, <= 5x warm.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import BASELINE, PORTREG, age, freshen, machine, measure, table

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


QUERY = "query (500 services)"
LIST = "list (500 services)"
ASSIGN = "assign (registry only)"
UPDATE = "assign --update-configs (500 files)"
TARGETS = {
    f"{QUERY}, cold": 2.5,
    f"{QUERY}, warm": 2.5,
    f"{LIST}, cold": 2.5,
    f"{LIST}, warm": 2.5,
    f"{ASSIGN}, cold": 3.5,
    f"{UPDATE}, cold": 6.0,
    f"{UPDATE}, warm": 5.0,
}


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        repos = {}
        for name in ("plain-cold", "plain-warm", "full-cold", "full-warm"):
            repos[name] = root = Path(temp, name)
            build_repo(root)
            for index in range(60) if name.startswith("full") else ():
                (root / f"helm/rerp-microservice/values/new-{index}.yaml").write_text(
                    "service:\n  type: NodePort\n"
                )
            age(root)

        def run(repo: str, *words: str) -> list[str]:
            return [PORTREG, "--root", str(repos[repo]), *words]

        cases = {"python -c pass": lambda i: BASELINE}
        before = {}
        for heat in ("cold", "warm"):
            plain, full = f"plain-{heat}", f"full-{heat}"
            cases[f"{QUERY}, {heat}"] = lambda i, r=plain: run(r, "query", "service-250")
            cases[f"{LIST}, {heat}"] = lambda i, r=plain: run(r, "list")
            cases[f"{ASSIGN}, {heat}"] = lambda i, r=plain: run(r, "assign", f"new-{i}")
            cases[f"{UPDATE}, {heat}"] = lambda i, r=full: run(
                r, "assign", f"new-{i}", "--update-configs"
            )
            if heat == "cold":
                for name, repo in ((QUERY, plain), (LIST, plain), (ASSIGN, plain), (UPDATE, full)):
                    before[f"{name}, cold"] = lambda r=repo: freshen(repos[r])
        medians = measure(cases, rounds=30, warmup=3, before=before)
    print(table(f"bench_cli on {machine()}", medians, "python -c pass", TARGETS))


if __name__ == "__main__":
    main()
