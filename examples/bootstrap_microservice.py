#!/usr/bin/env python3
"""Bootstrap a microservice and give it a port, in one step (the seed's "Integration with
bootstrap_microservice.py").

    python examples/bootstrap_microservice.py invoice --root path/to/repo

Creates the service's folder, then calls portreg's Python API, which assigns the
next free port, writes the Helm values file (from the template when it is
missing) and the kind port mapping, and records the assignment - all files or
none. Running it again for the same service changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from portreg import PortregError, Registry


def scaffold_service(root: Path, service: str) -> list[str]:
    """Your own bootstrap steps go here; this demo only writes a README once."""
    readme = root / "services" / service / "README.md"
    if readme.exists():
        return []
    readme.parent.mkdir(parents=True, exist_ok=True)
    readme.write_text(f"# {service}\n\nCreated by bootstrap_microservice.py.\n")
    return [readme.relative_to(root).as_posix()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("service", help="service name (a DNS-1035 label, e.g. invoice)")
    parser.add_argument("--root", default=".", help="repo root (default: this folder)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    try:
        registry = Registry.open(root)
        outcome = registry.assign(args.service, update_configs=True, scaffold=True)
    except PortregError as exc:  # a bad name, a full range, a busy lock: one clear line
        print(f"bootstrap: error: {exc.line()}", file=sys.stderr)
        return exc.exit_code
    created = scaffold_service(root, args.service)
    verb = "Assigned" if outcome.new else "Already had"
    print(f"{verb} port {outcome.port} (NodePort {outcome.node_port}) for '{args.service}'")
    for name in [*created, *outcome.changed_files]:
        print(f"   wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
