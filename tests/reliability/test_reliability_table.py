"""docs/reliability.md is rendered from the case tables the tests run, and must match them."""

from __future__ import annotations

import os
from pathlib import Path

from reliability_cases import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
REGENERATE = "PORTREG_WRITE_RELIABILITY=1 .venv/bin/pytest tests/reliability"


def test_docs_reliability_md_matches_the_cases() -> None:
    wanted = render()
    if os.environ.get("PORTREG_WRITE_RELIABILITY") == "1":
        DOC.write_text(wanted, encoding="utf-8")
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert current == wanted, f"docs/reliability.md is out of date; regenerate it: {REGENERATE}"
