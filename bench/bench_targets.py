"""`portreg check` on a 500-service repo, without and with five declared ``[[targets]]``.

The repo is bench_cli's (500 Helm values files, a 500-mapping kind-config, a
registry). The second copy adds five user targets that cover every service:
an OpenAPI file per service (yaml), a JSON API description per service, a
shared ``.env.example`` (text), a shared Prometheus-style YAML and a shared
frontend proxy table (JSON). Target (issue 8): the five targets add at most
50% to check's time (ratio <= 1.5x). Whole processes, interleaved.
Not a timed test: run `python bench/bench_targets.py [rounds]`.
"""

from __future__ import annotations

import json
import sys
import tempfile
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_cli import SERVICES, build_repo
from common import PORTREG, age, freshen, machine, measure, table

TARGETS = """\
[[targets]]
name = "openapi-servers"
files = "openapi/v1/{service}/openapi.yaml"
kind = "yaml"
set = { "servers[?description=='local'].url" = "http://localhost:{port}/api/v1/{service}" }

[[targets]]
name = "api-json"
files = "api/{service}.json"
kind = "json"
[targets.set]
"servers[?description=='local'].url" = "http://localhost:{port}"
"x-node-port" = "{node_port}"

[[targets]]
name = "dotenv"
files = ".env.example"
kind = "text"
line = "{SERVICE_UPPER}_URL=http://localhost:{port}"

[[targets]]
name = "scrape"
files = "monitoring/scrape.yaml"
kind = "yaml"
set = { "targets.{service}.url" = "http://localhost:{port}/metrics" }

[[targets]]
name = "proxy"
files = "frontend/proxy.json"
kind = "json"
set = { "proxy./api/{service}.target" = "http://localhost:{port}" }
"""
OPENAPI = """\
openapi: 3.0.3
info:
  title: {name} API
  version: 1.0.0
servers:
  - url: http://localhost:{port}/api/v1/{name}
    description: local
  - url: https://api.example.com/api/v1/{name}
    description: production
paths: {{}}
"""


def add_targets(root: Path) -> None:
    registry = json.loads((root / "scripts/port-registry.json").read_text())
    items = list(registry["assignments"].items())
    for name, port in items:
        openapi = root / "openapi/v1" / name / "openapi.yaml"
        openapi.parent.mkdir(parents=True)
        openapi.write_text(OPENAPI.format(name=name, port=port))
        api = {
            "openapi": "3.0.3",
            "servers": [{"url": f"http://localhost:{port}", "description": "local"}],
            "x-node-port": 31000 + port - 8000,
        }
        (root / "api").mkdir(exist_ok=True)
        (root / "api" / f"{name}.json").write_text(json.dumps(api, indent=2) + "\n")
    env = [f"{n.replace('-', '_').upper()}_URL=http://localhost:{p}" for n, p in items]
    (root / ".env.example").write_text("# local URLs\n" + "\n".join(env) + "\n")
    scrape = ["targets:"] + [f"  {n}:\n    url: http://localhost:{p}/metrics" for n, p in items]
    (root / "monitoring").mkdir()
    (root / "monitoring/scrape.yaml").write_text("\n".join(scrape) + "\n")
    proxy = {"proxy": {f"/api/{n}": {"target": f"http://localhost:{p}"} for n, p in items}}
    (root / "frontend").mkdir()
    (root / "frontend/proxy.json").write_text(json.dumps(proxy, indent=4) + "\n")
    (root / "portreg.toml").write_text(TARGETS)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory() as temp:
        roots = [Path(temp, name) for name in ("plain", "extra", "plain-warm", "extra-warm")]
        for root in roots:
            build_repo(root)
            if "extra" in root.name:
                add_targets(root)
            else:
                (root / "portreg.toml").write_text("# no user targets\n")
            age(root)
        plain, extra, plain_warm, extra_warm = roots
        cold = {
            "cold: check (helm + kind)": lambda _: [PORTREG, "--root", str(plain), "check"],
            "cold: check (+ 5 user targets)": lambda _: [PORTREG, "--root", str(extra), "check"],
        }
        warm = {
            "warm: check (helm + kind)": lambda _: [PORTREG, "--root", str(plain_warm), "check"],
            "warm: check (+ 5 user targets)": lambda _: [
                PORTREG,
                "--root",
                str(extra_warm),
                "check",
            ],
        }
        before = {
            name: partial(freshen, root) for name, root in zip(cold, (plain, extra), strict=False)
        }
        medians = measure({**cold, **warm}, rounds=rounds, warmup=2, before=before)
    title = f"bench_targets: check on {SERVICES} services ({machine()})"
    for label, cases in (("files just edited", cold), ("files unchanged", warm)):
        base, extra_case = list(cases)
        picked = {name: medians[name] for name in cases}
        print(table(f"{title}, {label}", picked, base, {extra_case: 1.5}))


if __name__ == "__main__":
    main()
