"""`portreg check` on a 1000-service repo vs a plain loop that only parses the same files.

The repo (1000 Helm values files, a kind-config with 1000 mappings, a Tiltfile with
a 1000-entry service -> port dict and a resource per service, a registry) is
generated in a temp dir. Both sides run as whole processes, interleaved, so
interpreter start-up counts for both.
Targets (issue 12): check, cold (every file rewritten just before the run) <= 1.0 s
wall and <= 1.5x the parse-only loop; warm (files unchanged) is shown beside it.
Not a timed test: run `python bench/bench_check.py` and copy the table into
bench/README.md.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_cli import VALUES
from common import PORTREG, age, freshen, machine, measure, table

SERVICES = 1000
COLD = "portreg check, cold (files just edited)"
WARM = "portreg check, warm (files unchanged)"
FIRST = 8001
# what `portreg init` writes for this repo (every section written: no detection at each run)
CONFIG = """\
first-port = 8001
last-port = 9001
node-port-range = [31000, 32001]

[kind]
enabled = true
config = "kind-config.yaml"

[helm]
enabled = true
values = "helm/rerp-microservice/values/{service}.yaml"

[tilt]
enabled = true
files = ["Tiltfile"]

[compose]
enabled = false

[manifests]
enabled = false
"""
PARSE_ONLY = """\
import glob, sys, yaml
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
root = sys.argv[1]
files = sorted(glob.glob(root + "/helm/rerp-microservice/values/*.yaml"))
for path in files + [root + "/kind-config.yaml"]:
    with open(path, encoding="utf-8") as handle:
        yaml.load(handle, Loader=loader)
"""


def services() -> list[tuple[str, int]]:
    ports = [p for p in range(FIRST, FIRST + SERVICES + 1) if p != 8080]
    return [(f"svc-{i:04d}", port) for i, port in enumerate(ports[:SERVICES])]


def title(name: str) -> str:
    return " ".join(part.capitalize() for part in name.split("-"))


def kind_config(items: list[tuple[str, int]]) -> str:
    lines = ["kind: Cluster", "apiVersion: kind.x-k8s.io/v1alpha4", "nodes:"]
    lines += ["  - role: control-plane", "    extraPortMappings:"]
    for name, port in items:
        lines.append(f"      # {title(name)} Service")
        lines.append(f"      - containerPort: {31000 + port - 8000}")
        lines += [f"        hostPort: {port}", "        protocol: TCP"]
    return "\n".join(lines) + "\n"


def tiltfile(items: list[tuple[str, int]]) -> str:
    """Every port in a service -> port dict, and a resource per service forwarding from it
    (kind maps the host ports here, so Tilt forwarding the same literal ports would be a
    double bind, PR022)."""
    lines = ["# generated", "load('ext://restart_process', 'docker_build_with_restart')"]
    lines += ["SERVICE_PORTS = {", *(f"    '{n}': {p}," for n, p in items), "}"]
    lines += [f"k8s_resource('{n}', port_forwards=SERVICE_PORTS['{n}'])" for n, _p in items]
    return "\n".join(lines) + "\n"


def build(root: Path) -> None:
    root.mkdir()
    items = services()
    values = root / "helm" / "rerp-microservice" / "values"
    values.mkdir(parents=True)
    for name, port in items:
        text = VALUES.format(
            name=name, port=port, node_port=31000 + port - 8000, snake=name.replace("-", "_")
        )
        (values / f"{name}.yaml").write_text(text)
    (root / "scripts").mkdir()
    registry = {"version": "1.0", "next_port": items[-1][1] + 1, "reserved_ports": [8080]}
    registry["assignments"] = dict(items)
    (root / "scripts" / "port-registry.json").write_text(json.dumps(registry, indent=2) + "\n")
    (root / "kind-config.yaml").write_text(kind_config(items))
    (root / "Tiltfile").write_text(tiltfile(items))
    (root / "portreg.toml").write_text(CONFIG)
    (root / ".git").mkdir()
    age(root)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "repo"
        build(root)
        check = [PORTREG, "--root", str(root), "check"]
        cases = {
            "parse only (CSafeLoader loop)": lambda _: [
                sys.executable,
                "-c",
                PARSE_ONLY,
                str(root),
            ],
            COLD: lambda _: check,
            WARM: lambda _: check,
        }
        rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
        medians = measure(cases, rounds=rounds, warmup=2, before={COLD: lambda: freshen(root)})
    title_line = f"check on {SERVICES} services ({machine()})"
    print(table(title_line, medians, "parse only (CSafeLoader loop)", {COLD: 1.5}))
    for case in (COLD, WARM):
        wall = medians[case]
        verdict = "yes" if wall <= 1 else "NO"
        print(f"{case} wall: {wall * 1000:.0f} ms (target <= 1000 ms: {verdict})")


if __name__ == "__main__":
    main()
