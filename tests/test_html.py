"""export --format html: the port map page, as text and as headless Chromium renders it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from portreg.commands.export_html import build_map, render_html
from portreg.config import Settings
from portreg.config.record import replace
from portreg.model import parse_registry

from conftest import CliRunner

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


@dataclass(frozen=True)
class FakeBinding:
    address: str
    port: int
    owner: str | None
    source: str
    where: str
    leads: str


HOST = [
    FakeBinding("", 8001, "general-ledger", "kind", "kind-config.yaml:16", "node 31001"),
    FakeBinding("", 8001, "general-ledger", "registry", "scripts/port-registry.json:6", ""),
    FakeBinding("127.0.0.1", 8010, "tilt-ui", "tilt", "Tiltfile:3", ""),
]


def page(host: Sequence[FakeBinding] = (), ignored: int = 0) -> str:
    state = parse_registry(json.dumps(REGISTRY), "registry")
    conflicts = {8010: ["shipping", "tilt-ui"]}
    return render_html(SETTINGS, state, FINDINGS, conflicts=conflicts, host=host, ignored=ignored)


def cell_states(html: str) -> Counter[str]:
    return Counter(re.findall(r'<i class="cell ([a-z]+)" data-port=', html))


def test_the_grid_draws_only_the_rows_with_a_port_in_use():
    """8001-8122 are in use in a range of 8001-8999: rows 8000 and 8100 are drawn, 8050-8099
    is one line, nothing past 8149; 8003 has two services, 8010 clashes with a file."""
    html = page()
    assert cell_states(html) == Counter(assigned=5, conflict=2, reserved=1, free=91)
    assert '<div class="gap">8050\u20138099: no port in use</div>' in html
    assert 'data-port="8150"' not in html
    assert "ports 8000\u20138149 (the rows with a port in use)" in html


def test_the_grid_is_collapsed_and_comes_after_findings_assignments_and_host_ports():
    html = page(host=HOST)
    places = [html.index(mark) for mark in ('id="findings"', 'id="assignments"', 'id="host"')]
    assert places == sorted(places)
    assert places[-1] < html.index('<details class="map" id="map">')  # no `open`: collapsed


def test_no_port_in_use_draws_no_grid():
    state = parse_registry(json.dumps({**REGISTRY, "assignments": {}}), "registry")
    html = render_html(SETTINGS, state)
    assert 'id="grid"' not in html
    assert "no port of the range is in use" in html
    assert "No services yet." in html
    assert "No findings: the files agree with the registry." in html


def test_page_is_self_contained():
    html = page()
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert "@import" not in html
    assert "<link" not in html


def test_a_holder_found_only_in_files_is_marked():
    row = re.search(r'<tr class="conflict" data-port="8010"><td>tilt-ui</td>.*?</tr>', page())
    assert row is not None
    assert "conflict with shipping \u00b7 in files only, not registered" in row.group(0)


def test_an_assignment_names_the_files_binding_its_port_not_the_registry():
    row = re.search(r'<tr class="assigned" data-port="8001">.*?</tr>', page(host=HOST))
    assert row is not None
    assert row.group(0) == (
        '<tr class="assigned" data-port="8001"><td>general-ledger</td><td>8001</td>'
        "<td>31001</td><td>kind-config.yaml:16</td><td>ok</td></tr>"
    )


def test_the_nodeport_column_is_there_only_where_the_repo_derives_nodeports():
    assert "<th>NodePort</th>" in page()
    helm, kind = replace(SETTINGS.helm, enabled=False), replace(SETTINGS.kind, enabled=False)
    settings = replace(SETTINGS, helm=helm, kind=kind)
    state = parse_registry(json.dumps(REGISTRY), "registry")
    html = render_html(settings, state)
    assert "NodePort" not in html
    assert "<td>general-ledger</td><td>8001</td><td>-</td><td>ok</td>" in html


def test_the_host_namespace_is_listed_with_address_owner_where_and_where_it_leads():
    html = page(host=HOST)
    assert "<h2>Host ports (3)</h2>" in html
    assert (
        '<tr data-port="8001"><td>8001</td><td>general-ledger</td><td>kind-config.yaml:16</td>'
        "<td>node 31001</td></tr>"
    ) in html
    assert "<td>127.0.0.1:8010</td><td>tilt-ui</td>" in html


def test_findings_are_escaped_and_listed():
    html = page()
    assert "hostPort 8003 &lt;script&gt;" in html
    assert "PR101" in html
    assert "helm/rerp-microservice/values/invoice.yaml:7" in html


def test_the_summary_counts_the_range_and_what_check_found():
    line = re.search(r'<p class="summary".*?</p>', page(ignored=2))
    assert line is not None
    text = re.sub(r"<[^>]+>", "", line.group(0))
    assert text == (
        "7 of 997 usable ports in use (0.7% full) &middot; 2 in conflict &middot; "
        "1 error, 1 warning &middot; 1 outside the range &middot; 2 ignored ([ignore])"
    )


def test_summary_counts():
    state = parse_registry(json.dumps(REGISTRY), "registry")
    pm = build_map(SETTINGS, state)
    assert pm.usable == 997
    assert pm.used == 7
    assert pm.outside == (("edge", 9050),)


def test_without_host_bindings_the_table_says_so():
    html = page()
    assert "<h2>Host ports (0)</h2>" in html
    assert '<tr><td colspan="4" class="empty">No host bindings.</td></tr>' in html


def test_a_free_cell_is_its_port_and_state_a_held_one_says_whose():
    html = page()
    assert '<i class="cell free" data-port="8004"></i>' in html
    assert '<i class="cell reserved" data-port="8100"></i>' in html
    assert (
        '<i class="cell assigned" data-port="8001" '
        'title="8001 \u00b7 general-ledger \u00b7 NodePort 31001"></i>'
    ) in html
    assert 'title="8003 \u00b7 CONFLICT: held by billing and payments' in html


def test_the_page_is_light():
    """A page of 9 services and the whole range once weighed 78 KB, mostly grid cells."""
    assert len(page(host=HOST).encode()) < 40_000


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


# What the tests add to a copy of the page (never to the product): a listener for script
# errors before anything runs, and at the end a note of where things are laid out.
CATCH = (
    "<script>window.errors=[];addEventListener('error',function(e){"
    "window.errors.push(String(e.message))});</script>"
)
MEASURE = """<script>addEventListener('load', function () {
  function box(selector) {
    var el = document.querySelector(selector);
    if (!el) { return null; }
    var r = el.getBoundingClientRect();
    return {top: r.top + scrollY, bottom: r.bottom + scrollY, height: r.height};
  }
  var layout = {
    width: innerWidth, height: innerHeight, errors: window.errors,
    js: document.documentElement.dataset.js || null,
    findings: box("#findings h2"), finding: box("#findings tbody tr"),
    findingsEnd: box("#findings"),
    assignments: box("#assignments h2"), assignment: box("#assignments tbody tr"),
    assignmentsEnd: box("#assignments"),
    host: box("#host"), map: box("#map"), grid: box("#grid"),
    mapOpen: document.getElementById("map").open
  };
  var out = document.createElement("pre");
  out.id = "layout";
  out.textContent = JSON.stringify(layout);
  document.body.appendChild(out);
});</script>"""
FIRST_SCREEN = 900  # px: what a 1200x900 window shows before any scrolling
# Headless Chromium takes 143 px of a --window-size for a browser frame it does not draw:
# a screen of that size and kiosk mode make the page's own viewport 1200x900.
WINDOW = ["--window-size=1200,900", "--screen-info={1200x900}", "--kiosk"]


def layout(tmp_path: Path, page_file: Path) -> dict[str, Any]:
    """Where a real browser lays the page out in a 1200x900 window (a measuring copy)."""
    html = page_file.read_text()
    probe = tmp_path / f"probe-{page_file.name}"
    probe.write_text(
        html.replace("<head>", "<head>" + CATCH, 1).replace("</body>", MEASURE + "</body>", 1)
    )
    dom = chromium(
        tmp_path,
        *WINDOW,
        "--virtual-time-budget=10000",
        "--dump-dom",
        probe.as_uri(),
    )
    found = re.search(r'<pre id="layout">(.*?)</pre>', dom, re.S)
    assert found is not None, dom[-2000:]
    result: dict[str, Any] = json.loads(unescape(found.group(1)))
    assert (result["width"], result["height"]) == (1200, FIRST_SCREEN)
    return result


def export_html(cli: CliRunner, root: Path, target: Path) -> str:
    run = cli("--root", str(root), "export", "-o", "html", "--out", str(target))
    assert run.code == 0, run.err
    return target.read_text()


def screenshot(tmp_path: Path, page_file: Path, name: str) -> None:
    """A 1200x900 picture of the first screen, kept for a human to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / name
    shot.unlink(missing_ok=True)
    chromium(tmp_path, f"--screenshot={shot}", *WINDOW, page_file.as_uri())
    assert shot.stat().st_size > 10_000  # not a blank page


def assert_first_screen(seen: dict[str, Any]) -> None:
    """No script error; the findings and the assignments start in the first screen, each
    with its first row whole; the grid is there, collapsed, below both."""
    assert seen["errors"] == []
    assert seen["js"] == "ready"  # the page's own script ran to its end
    assert seen["finding"]["bottom"] <= FIRST_SCREEN
    assert seen["assignment"]["bottom"] <= FIRST_SCREEN
    assert seen["findings"]["top"] < seen["assignments"]["top"] < seen["host"]["top"]
    assert seen["map"]["top"] > seen["host"]["top"]
    assert seen["mapOpen"] is False
    assert seen["map"]["height"] < 60  # one line: the grid is drawn only when opened


@pytest.mark.browser
def test_chromium_shows_three_services_on_one_screen(tmp_path: Path, rerp_example: Path, cli):
    """The demo repo (three services' files, a broken NodePort, a spec on the wrong port)."""
    target = tmp_path / "ports.html"
    html = export_html(cli, rerp_example, target)
    assert len(html.encode()) < 40_000

    seen = layout(tmp_path, target)

    assert_first_screen(seen)
    # Small enough that both tables end in the first screen, and the grid's line too.
    assert seen["findingsEnd"]["bottom"] <= FIRST_SCREEN
    assert seen["assignmentsEnd"]["bottom"] <= FIRST_SCREEN
    assert seen["map"]["bottom"] <= FIRST_SCREEN
    screenshot(tmp_path, target, "port-map.png")


def thousand_services(root: Path) -> None:
    """A registry of 1000 services and a kind config that maps each one's host port."""
    items = [(f"svc-{i:04d}", 8001 + i + (i >= 79)) for i in range(1000)]  # 8080 is reserved
    registry = {"version": "1.0", "next_port": 9002, "reserved_ports": [8080]}
    (root / "scripts" / "port-registry.json").write_text(
        json.dumps({**registry, "assignments": dict(items)}, indent=2)
    )
    lines = ["kind: Cluster", "apiVersion: kind.x-k8s.io/v1alpha4", "nodes:"]
    lines += ["  - role: control-plane", "    extraPortMappings:"]
    for _name, port in items:
        lines += [f"      - containerPort: {31000 + port - 8000}", f"        hostPort: {port}"]
    (root / "kind-config.yaml").write_text("\n".join(lines) + "\n")
    (root / "portreg.toml").write_text(
        "first-port = 8001\nlast-port = 9001\nnode-port-range = [31000, 32001]\n"
    )


@pytest.mark.browser
def test_chromium_shows_a_thousand_services_without_a_giant_grid(tmp_path: Path, repo: Path, cli):
    thousand_services(repo)
    target = tmp_path / "ports.html"
    html = export_html(cli, repo, target)
    # about 430 bytes a service: three rows of tables (assignment, kind and registry
    # host bindings) and a grid cell; once 624 KB
    assert len(html.encode()) < 460_000
    assert html.count('<tr class="assigned"') == 1000

    seen = layout(tmp_path, target)

    assert_first_screen(seen)
    screenshot(tmp_path, target, "port-map-1000.png")


@pytest.mark.browser
def test_the_page_lists_what_check_reports_ignores_applied(rerp_example: Path, cli):
    """One road: the page's findings are ``check``'s, so an ignored code is on neither."""
    with (rerp_example / "portreg.toml").open("a") as config:
        config.write('\n[ignore]\ncodes = ["PR005"]\n')
    run = cli("--root", str(rerp_example), "check", "-o", "json")
    reported = [(f["code"], f"{f['path']}:{f['line']}") for f in json.loads(run.out)["findings"]]
    assert len(reported) == 2  # PR006 and PR019; PR005 ignored
    html = cli("--root", str(rerp_example), "export", "-o", "html").out
    listed = re.findall(r"<td><code>(PR\d+)</code></td><td><code>([^<]*)</code>", html)
    assert sorted(listed) == sorted(reported)
    assert "1 ignored ([ignore])" in html
