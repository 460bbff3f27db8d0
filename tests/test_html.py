"""export --format html: the port map page, as text and as headless Chromium renders it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from portreg.config import Settings
from portreg.extras.export_html import build_map, render_html
from portreg.model import parse_registry

ARTIFACTS = Path(__file__).parent / "artifacts"
SETTINGS = Settings(root=Path("/repo"))
REGISTRY = {
    "version": "1.0",
    "next_port": 8123,
    "reserved_ports": [8080, 8100],
    "assignments": {
        "general-ledger": 8001,
        "invoice": 8002,
        "billing": 8003,
        "payments": 8003,  # a bad merge: two services on one port
        "shipping": 8010,
        "catalog": 8120,
        "search": 8121,
        "orders": 8122,
        "edge": 9050,  # outside the range
    },
}


@dataclass(frozen=True)
class FakeFinding:
    code: str
    severity: str
    path: str
    line: int | None
    message: str
    hint: str | None


FINDINGS = [
    FakeFinding(
        "PR101",
        "error",
        "helm/rerp-microservice/values/invoice.yaml",
        7,
        "service.nodePort is 30802, registry says 31002",
        "run `portreg update-configs invoice`",
    ),
    FakeFinding("PR201", "warning", "kind-config.yaml", 12, "hostPort 8003 <script>", None),
]


def page() -> str:
    state = parse_registry(json.dumps(REGISTRY), "registry")
    return render_html(SETTINGS, state, FINDINGS, conflicts={8010: ["shipping", "tilt-ui"]})


def cell_states(html: str) -> Counter[str]:
    return Counter(re.findall(r'class="cell [a-z]+"[^>]*data-state="([a-z]+)"', html))


# 8001-8999: 8003 has two services; 8010 clashes with a port found in files (below)
EXPECTED = Counter(assigned=5, conflict=2, reserved=2, free=990)


def test_cells_per_state_match_the_registry():
    assert cell_states(page()) == EXPECTED


def test_page_is_self_contained():
    html = page()
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert "@import" not in html
    assert "<link" not in html


def test_a_holder_found_only_in_files_is_marked():
    row = re.search(r'<tr data-port="8010"[^>]*data-service="tilt-ui".*?</tr>', page())
    assert row is not None
    assert "conflict with shipping \u00b7 in files only, not registered" in row.group(0)


def test_findings_are_escaped_and_listed():
    html = page()
    assert "hostPort 8003 &lt;script&gt;" in html
    assert "PR101" in html
    assert "helm/rerp-microservice/values/invoice.yaml:7" in html


def test_summary_counts():
    state = parse_registry(json.dumps(REGISTRY), "registry")
    pm = build_map(SETTINGS, state)
    assert pm.usable == 997
    assert pm.used == 7
    assert pm.outside == (("edge", 9050),)


# ------------------------------------------------------------------ browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium(tmp_path: Path, *args: str) -> str:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed, and CI must run the browser test")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    command = [CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.browser
def test_chromium_renders_the_map(tmp_path: Path, seed_repo: Path, cli):
    registry = seed_repo / "scripts" / "port-registry.json"
    registry.write_text(json.dumps({**REGISTRY, "metadata": {}}, indent=2))
    target = tmp_path / "ports.html"
    run = cli("--root", str(seed_repo), "export", "-o", "html", "--out", str(target))
    assert run.code == 0, run.err

    dom = chromium(tmp_path, "--dump-dom", target.as_uri())

    assert 'data-js="ready"' in dom  # the inline script ran to the end
    # No clash found in files here: 8010 is a plain assignment.
    assert cell_states(dom) == Counter(assigned=6, conflict=1, reserved=2, free=990)
    conflict = re.search(r'<span class="cell conflict"[^>]*data-port="8003"[^>]*>', dom)
    assert conflict is not None
    assert 'data-services="billing payments"' in conflict.group(0)
    assert "billing and payments" in conflict.group(0)  # the hover title names both
    assert re.search(r"7 of 997</strong> usable ports in use", dom)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "port-map.png"
    shot.unlink(missing_ok=True)
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1600", target.as_uri())
    assert shot.stat().st_size > 10_000


# ------------------------------------------------------- host table, size


def test_without_host_bindings_the_table_says_so():
    assert '<h2>Host ports (0)</h2><table id="host">' in page()
    assert '<tbody><tr><td colspan="4" class="empty">No host bindings.</td></tr></tbody>' in page()


def test_a_free_cell_is_its_port_and_state_a_held_one_says_whose():
    html = page()
    assert '<span class="cell free" data-port="8004" data-state="free"></span>' in html
    assert '<span class="cell reserved" data-port="8080" data-state="reserved"></span>' in html
    held = re.search(r'<span class="cell assigned" data-port="8001"[^>]*>', html)
    assert held is not None
    assert 'id="cell-8001"' in held.group(0)
    assert 'data-services="general-ledger"' in held.group(0)
    assert 'title="8001 \u00b7 general-ledger \u00b7 NodePort 31001"' in held.group(0)


def test_the_page_stays_small():
    """999 ports and 9 services: the grid once cost about 125 bytes a cell (130 KB a page)."""
    assert len(page().encode()) < 80_000
