"""Instructions (valgrind --tool=callgrind) of `query` and `list` on bench_cli's
500-service repo, where wall time is too noisy to compare two versions.

    .venv/bin/python bench/bench_callgrind.py [SRC ...]

Each SRC is a `src/` folder of a portreg checkout (default: this one's); every
version runs on the same generated repo, with no config (the layout and ports found
at each run) and after `portreg init` (the config written down), one run per case
(callgrind counts are repeatable to a fraction of a percent). Two floors run beside
them: `python -c pass` and a seed-like query (argparse and json, reading the registry
and printing one line, as the seed's `scripts/assign-port.py` does by its README).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_cli import build_repo

HERE = Path(__file__).resolve().parent.parent / "src"
SEED_LIKE = """\
import argparse, json, sys
parser = argparse.ArgumentParser()
parser.add_argument("command"); parser.add_argument("service")
args = parser.parse_args()
with open("scripts/port-registry.json") as f:
    registry = json.load(f)
port = registry["assignments"][args.service]
print(f"Service '{args.service}': Port {port}  NodePort {31000 + port - 8000}")
"""


def instructions(argv: list[str], cwd: Path, src: Path | None = None) -> int:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", run.stderr)
    assert found, run.stderr[-500:]
    return int(found.group(1))


def main() -> None:
    sources = [Path(arg).resolve() for arg in sys.argv[1:]] or [HERE]
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        build_repo(repo)
        python = sys.executable
        configured = Path(tmp) / "configured"  # the same repo after `portreg init`
        build_repo(configured)
        subprocess.run(
            [python, "-m", "portreg", "init"], cwd=configured, check=True, capture_output=True
        )
        for src in sources:  # byte-compiled first, as an installed package is
            subprocess.run([python, "-m", "compileall", "-q", str(src)], check=True)
        rows = [
            ("python -c pass", instructions([python, "-c", "pass"], repo)),
            ("seed-like query", instructions([python, "-c", SEED_LIKE, "q", "service-100"], repo)),
        ]
        for where, folder in (("no config", repo), ("after init", configured)):
            for src in sources:
                for name, args in (
                    ("query service-100", ["query", "service-100"]),
                    ("list", ["list"]),
                ):
                    argv = [python, "-m", "portreg", *args]
                    case = f"{name}, {where} ({src.parent.name})"
                    rows.append((case, instructions(argv, folder, src)))
    print("| case | instructions |\n|---|---:|")
    for name, count in rows:
        print(f"| {name} | {count / 1e6:.1f} M |")


if __name__ == "__main__":
    main()
