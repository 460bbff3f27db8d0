"""What the standard library alone costs at start-up, as ratios to `python -c pass`.

Not a target of its own: it shows where the floor under `assign` and `check`
lies. Every command needs argparse, dataclasses (frozen Settings), typing
and pathlib before it does any work; editing YAML adds PyYAML.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import BASELINE, machine, measure, table

IMPORTS = {
    "import json": "import json",
    "import argparse": "import argparse",
    "import pathlib": "import pathlib",
    "import typing": "import typing",
    "import dataclasses": "import dataclasses",
    "import yaml": "import yaml",
    "import all five (no portreg)": "import json, argparse, pathlib, typing, dataclasses",
    "import portreg.cli + portreg.api": "import portreg.cli, portreg.api",
}


def main() -> None:
    cases = {"python -c pass": lambda _: BASELINE}
    for name, code in IMPORTS.items():
        cases[name] = lambda _, code=code: [sys.executable, "-c", code]
    print(table(f"bench_floor on {machine()}", measure(cases, rounds=20), "python -c pass", {}))


if __name__ == "__main__":
    main()
