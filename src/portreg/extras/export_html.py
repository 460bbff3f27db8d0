"""``export --format html``: one self-contained page with a map of the port range (pure).

The host namespace first: every host binding portreg read (the registry's and
the files', as ``portreg ports`` lists them). Then the configured range as a
grid of cells, one per port, coloured by state (assigned, reserved, free, in
conflict). Below it: the assignments with their NodePorts, and the findings of
``check``. Everything (CSS, JS) is inline; the page loads nothing, so it can be
attached to a CI run or opened offline.

Cells carry ``data-port`` and ``data-state``, and a held port's cell its
``data-services``, ``id`` and hover title, so tests (and scripts) can read the
map back out of the DOM. A free or reserved cell carries no more than its port
and state: most of a range is free, and the page stays small (the script gives
such a cell its title on hover). The JS only adds a detail panel and
cross-highlighting; the page is complete without it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Protocol

from portreg.config import Settings
from portreg.model import RegistryState, reserved_ports

STATES = ("assigned", "conflict", "reserved", "free")
ROW = 50  # cells per row; rows start at multiples of 50 so a column is a port's last digits


class HostBinding(Protocol):
    """What the page needs of a host binding (``commands.ports.Binding`` fits)."""

    @property
    def address(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def owner(self) -> str | None: ...
    @property
    def where(self) -> str: ...
    @property
    def leads(self) -> str: ...


class FindingLike(Protocol):
    """What the page needs of a ``check`` finding (``check.findings.Finding`` fits)."""

    @property
    def code(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def line(self) -> int | None: ...
    @property
    def message(self) -> str: ...
    @property
    def hint(self) -> str | None: ...


@dataclass(frozen=True)
class Cell:
    port: int
    state: str
    services: tuple[str, ...]
    reserved: bool = False


@dataclass(frozen=True)
class PortMap:
    """The range as cells, plus the counts the summary line needs."""

    first: int
    last: int
    cells: tuple[Cell, ...]
    outside: tuple[tuple[str, int], ...]  # assignments outside the configured range
    registered: frozenset[str] = frozenset()  # others come from clashes found in files

    def count(self, state: str) -> int:
        return sum(1 for cell in self.cells if cell.state == state)

    @property
    def usable(self) -> int:
        return sum(1 for cell in self.cells if not cell.reserved)

    @property
    def used(self) -> int:
        return self.count("assigned") + self.count("conflict")

    def clashes(self) -> list[Cell]:
        return [cell for cell in self.cells if cell.state == "conflict"]


def holders(
    state: RegistryState, extra: Mapping[int, Iterable[str]] | None = None
) -> dict[int, list[str]]:
    """Every port's services: the registry's, plus clashes found in files by ``check``."""
    result: dict[int, list[str]] = {}
    for service, port in sorted(state.assignments.items()):
        result.setdefault(port, []).append(service)
    for port, services in (extra or {}).items():
        names = result.setdefault(port, [])
        names += [s for s in services if s not in names]
    return result


def _cell_state(services: Sequence[str], reserved: bool) -> str:
    if len(services) > 1 or (services and reserved):
        return "conflict"  # two holders, or a service on a port that must stay free
    if services:
        return "assigned"
    return "reserved" if reserved else "free"


def build_map(
    settings: Settings, state: RegistryState, extra: Mapping[int, Iterable[str]] | None = None
) -> PortMap:
    first, last = settings.first_port, settings.last_port
    held = holders(state, extra)
    blocked = reserved_ports(settings, state)
    cells = []
    for port in range(first, last + 1):
        services = tuple(held.get(port, ()))
        reserved = port in blocked
        cells.append(Cell(port, _cell_state(services, reserved), services, reserved))
    outside = tuple(
        (s, p)
        for s, p in sorted(state.assignments.items(), key=lambda i: (i[1], i[0]))
        if not first <= p <= last
    )
    return PortMap(first, last, tuple(cells), outside, frozenset(state.assignments))


# ------------------------------------------------------------------ pieces


def _percent(part: int, whole: int) -> str:
    value = 100 * part / whole if whole else 0.0
    return f"{value:.1f}".rstrip("0").rstrip(".") + "%"


def _summary(pm: PortMap) -> str:
    clashes = pm.count("conflict")
    text = (
        f"<strong>{pm.used} of {pm.usable}</strong> usable ports in use "
        f"(<strong>{_percent(pm.used, pm.usable)} full</strong>) &middot; "
        f"{pm.count('free')} free &middot; {pm.count('reserved')} reserved &middot; "
        f'<span class="{"bad" if clashes else "ok"}">{clashes} in conflict</span>'
    )
    if pm.outside:
        text += f" &middot; {len(pm.outside)} outside the range"
    bar = "".join(
        f'<span class="seg {state}" style="width:{100 * pm.count(state) / len(pm.cells):.3f}%">'
        "</span>"
        for state in STATES
    )
    return (
        f'<section class="summary" id="summary" data-used="{pm.used}" data-usable="{pm.usable}">'
        f'<p class="headline" id="summary-line">{text}</p><div class="bar">{bar}</div></section>'
    )


def _clash_callout(pm: PortMap) -> str:
    clashes = pm.clashes()
    if not clashes:
        return ""
    items = "".join(
        f'<li><a href="#cell-{c.port}">port {c.port}</a>: {escape(", ".join(c.services))}'
        f"{' (reserved)' if len(c.services) == 1 else ''}</li>"
        for c in clashes
    )
    noun = "clash" if len(clashes) == 1 else "clashes"
    return f'<section class="callout"><h2>{len(clashes)} {noun}</h2><ul>{items}</ul></section>'


def _legend(pm: PortMap) -> str:
    labels = {"assigned": "Assigned", "conflict": "In conflict", "reserved": "Reserved"}
    labels["free"] = "Free"
    items = "".join(
        f'<li><span class="swatch {state}"></span>{labels[state]} '
        f'<span class="n" data-count="{state}">{pm.count(state)}</span></li>'
        for state in STATES
    )
    return f'<ul class="legend">{items}</ul>'


def _title(cell: Cell, settings: Settings) -> str:
    node = f"NodePort {settings.node_port(cell.port)}"
    if cell.state == "conflict":
        who = " and ".join(cell.services)
        why = "reserved, yet assigned to" if len(cell.services) == 1 else "held by"
        return f"{cell.port} \u00b7 CONFLICT: {why} {who} \u00b7 {node}"
    if cell.state == "assigned":
        return f"{cell.port} \u00b7 {cell.services[0]} \u00b7 {node}"
    return f"{cell.port} \u00b7 {cell.state}"


def _cell(cell: Cell, settings: Settings) -> str:
    """A held port's cell in full; a free or reserved one as its port and state only."""
    head = f'<span class="cell {cell.state}" data-port="{cell.port}" data-state="{cell.state}"'
    if not cell.services:
        return f"{head}></span>"
    services = escape(" ".join(cell.services))
    return (
        f'{head} id="cell-{cell.port}" data-services="{services}" '
        f'title="{escape(_title(cell, settings))}"></span>'
    )


def _grid(pm: PortMap, settings: Settings) -> str:
    by_port = {cell.port: cell for cell in pm.cells}
    ticks = "".join(
        f'<span class="tick">{"+" + str(i) if i % 10 == 0 else ""}</span>' for i in range(ROW)
    )
    rows = [f'<div class="row ticks"><span class="label"></span>{ticks}</div>']
    for start in range(pm.first - pm.first % ROW, pm.last + 1, ROW):
        cells = "".join(
            _cell(by_port[port], settings) if port in by_port else '<span class="pad"></span>'
            for port in range(start, start + ROW)
        )
        rows.append(f'<div class="row"><span class="label">{start}</span>{cells}</div>')
    return f'<div class="grid" id="grid">{"".join(rows)}</div>'


def _table(pm: PortMap, settings: Settings) -> str:
    status = {c.port: c for c in pm.cells}
    rows = []
    entries = [(p, s) for c in pm.cells for s in c.services for p in [c.port]]
    entries += [(p, s) for s, p in pm.outside]
    for port, service in sorted(entries):
        cell = status.get(port)
        state = cell.state if cell else "outside"
        if cell and state == "conflict":
            others = [s for s in cell.services if s != service]
            note = f"conflict with {', '.join(others)}" if others else "conflict: port is reserved"
        else:
            note = {"assigned": "ok", "outside": "outside the range"}.get(state, state)
        if service not in pm.registered:
            note += " \u00b7 in files only, not registered"
        rows.append(
            f'<tr data-port="{port}" data-state="{state}" data-service="{escape(service)}">'
            f'<td class="svc">{escape(service)}</td><td class="num">{port}</td>'
            f'<td class="num">{settings.node_port(port)}</td>'
            f'<td><span class="tag {state}">{escape(note)}</span></td></tr>'
        )
    body = "".join(rows) or '<tr><td colspan="4" class="empty">No services yet.</td></tr>'
    head = "<tr><th>Service</th><th>Port</th><th>NodePort</th><th>Status</th></tr>"
    return (
        f'<table class="assignments" id="assignments"><thead>{head}</thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _host(bindings: Sequence[HostBinding]) -> str:
    """The host namespace as a table: port (and address), owner, file:line, leads to."""
    rows = "".join(
        f'<tr data-port="{b.port}"><td class="num">'
        f"{escape(b.address + ':') if b.address else ''}{b.port}</td>"
        f"<td>{escape(b.owner or '-')}</td><td><code>{escape(b.where)}</code></td>"
        f"<td>{escape(b.leads)}</td></tr>"
        for b in bindings
    )
    body = rows or '<tr><td colspan="4" class="empty">No host bindings.</td></tr>'
    head = "<tr><th>Port</th><th>Owner</th><th>Where</th><th>Leads to</th></tr>"
    return f'<table id="host"><thead>{head}</thead><tbody>{body}</tbody></table>'


def _findings(findings: Sequence[FindingLike]) -> str:
    if not findings:
        return '<p class="empty" id="findings">No findings: the files agree with the registry.</p>'
    rows = []
    for f in findings:
        where = f"{f.path}:{f.line}" if f.line else f.path
        hint = f'<div class="hint">{escape(f.hint)}</div>' if f.hint else ""
        rows.append(
            f'<tr class="finding" data-severity="{escape(f.severity)}">'
            f'<td><span class="sev {escape(f.severity)}">{escape(f.severity)}</span></td>'
            f"<td><code>{escape(f.code)}</code></td><td><code>{escape(where)}</code></td>"
            f"<td>{escape(f.message)}{hint}</td></tr>"
        )
    head = "<tr><th>Severity</th><th>Code</th><th>Where</th><th>What</th></tr>"
    return f'<table id="findings"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


# -------------------------------------------------------------------- page


def render_html(
    settings: Settings,
    state: RegistryState,
    findings: Sequence[FindingLike] = (),
    *,
    conflicts: Mapping[int, Iterable[str]] | None = None,
    host: Sequence[HostBinding] = (),
    generated: str | None = None,
) -> str:
    """The whole page. ``conflicts``: extra port -> services clashes found in files;
    ``host``: the host bindings, sorted (the table before the map)."""
    pm = build_map(settings, state, conflicts)
    formula = f"NodePort = {settings.node_port_base} + (port \u2212 {settings.node_port_offset})"
    meta = [settings.registry, f"range {pm.first}\u2013{pm.last}", formula]
    meta += [f"generated {generated}"] if generated else []
    parts = [
        '<header><h1>Port map</h1><p class="meta">',
        " &middot; ".join(escape(m) for m in meta),
        "</p></header>",
        _summary(pm),
        _clash_callout(pm),
        f"<section><h2>Host ports ({len(host)})</h2>",
        _host(host),
        "</section>",
        '<section class="map"><div class="maphead">',
        _legend(pm),
        '<p id="detail" class="detail">Hover a cell to see its port.</p></div>',
        _grid(pm, settings),
        "</section>",
        f"<section><h2>Assignments ({len(state.assignments)})</h2>",
        _table(pm, settings),
        f"</section><section><h2>Findings ({len(findings)})</h2>",
        _findings(findings),
        "</section>",
    ]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Port map \u00b7 {escape(settings.registry)}</title>"
        f"<style>{CSS}</style></head>\n<body>{''.join(parts)}"
        f"<script>{JS}</script></body></html>\n"
    )


CSS = """
:root{--assigned:#2563eb;--conflict:#dc2626;--reserved:#64748b;--free:#e8edf3;
--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc}
*{box-sizing:border-box}
body{margin:0;padding:28px 36px 48px;font:14px/1.5 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
h1{font-size:24px;margin:0}h2{font-size:16px;margin:28px 0 10px}
.meta{margin:4px 0 0;color:var(--muted)}
.summary{margin:18px 0 0;padding:16px 18px;background:#fff;border:1px solid var(--line);
border-radius:10px}
.headline{margin:0 0 10px;font-size:16px}.bad{color:var(--conflict);font-weight:600}
.ok{color:#15803d}
.bar{display:flex;height:12px;border-radius:6px;overflow:hidden;background:var(--free)}
.seg.assigned{background:var(--assigned)}.seg.conflict{background:var(--conflict)}
.seg.reserved{background:var(--reserved)}.seg.free{background:var(--free)}
.callout{margin:14px 0 0;padding:10px 18px;border:1px solid #fecaca;background:#fef2f2;
border-radius:10px;color:#7f1d1d}.callout h2{margin:4px 0;color:var(--conflict)}
.callout ul{margin:4px 0 6px;padding-left:20px}.callout a{color:inherit;font-weight:600}
.map{margin-top:18px;padding:16px 18px;background:#fff;border:1px solid var(--line);
border-radius:10px}
.maphead{display:flex;justify-content:space-between;align-items:center;gap:16px;
margin-bottom:12px;flex-wrap:wrap}
.legend{display:flex;gap:18px;margin:0;padding:0;list-style:none}
.legend li{display:flex;align-items:center;gap:6px}.legend .n{color:var(--muted)}
.swatch{width:14px;height:14px;border-radius:3px;display:inline-block}
.detail{margin:0;color:var(--muted);min-height:21px;font-variant-numeric:tabular-nums}
.grid{display:flex;flex-direction:column;gap:3px}
.row{display:flex;gap:3px;align-items:center}
.label{width:44px;flex:none;color:var(--muted);font-size:11px;
font-variant-numeric:tabular-nums}
.cell,.pad,.tick{flex:1 1 0;max-width:22px;min-width:8px;aspect-ratio:1;border-radius:3px}
.row>:nth-child(10n+2){margin-left:5px}
.ticks .tick{aspect-ratio:auto;overflow:visible;white-space:nowrap;color:var(--muted);
font-size:11px}
.cell.free,.swatch.free{background:var(--free);box-shadow:inset 0 0 0 1px #d5dde7}
.cell.assigned,.swatch.assigned{background:var(--assigned)}
.cell.reserved,.swatch.reserved{background:repeating-linear-gradient(135deg,var(--reserved) 0 3px,
#94a3b8 3px 6px)}
.cell.conflict,.swatch.conflict{background:var(--conflict);
box-shadow:0 0 0 2px #fecaca}
.cell{cursor:default;transition:transform .08s}
.cell:hover,.cell.hl{transform:scale(1.35);outline:2px solid var(--ink);outline-offset:1px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);
border-radius:10px;overflow:hidden}
th,td{padding:7px 12px;text-align:left;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f1f5f9;font-weight:600;font-size:12px;text-transform:uppercase;
letter-spacing:.04em;color:#475569}
tr:last-child td{border-bottom:none}
td.num{font-variant-numeric:tabular-nums}
tr.hl td{background:#eff6ff}
.tag{font-size:12px;padding:1px 8px;border-radius:999px;background:#f1f5f9;color:#334155}
.tag.conflict{background:#fee2e2;color:#991b1b;font-weight:600}
.tag.assigned{background:#dcfce7;color:#166534}.tag.outside{background:#fef3c7;color:#92400e}
tr[data-state="conflict"] td.svc{color:var(--conflict);font-weight:600}
.sev{font-size:12px;font-weight:600;padding:1px 8px;border-radius:999px;background:#e2e8f0}
.sev.error{background:#fee2e2;color:#991b1b}.sev.warning{background:#fef3c7;color:#92400e}
.sev.info{background:#dbeafe;color:#1e40af}
.hint{color:var(--muted);font-size:13px}.empty{color:var(--muted)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
"""

# Detail panel and cell <-> row highlighting (one listener on the grid, not one per
# cell); a free cell's title is written on its first hover. Marks <html data-js="ready"> so a
# browser test can tell the script ran without errors.
JS = """
(function () {
  var detail = document.getElementById("detail");
  var grid = document.getElementById("grid");
  function mark(port, on) {
    var cell = grid.querySelector('.cell[data-port="' + port + '"]');
    if (cell) { cell.classList.toggle("hl", on); }
    document.querySelectorAll('tr[data-port="' + port + '"]').forEach(function (row) {
      row.classList.toggle("hl", on);
    });
  }
  function hover(event, on) {
    var cell = event.target;
    if (!cell.classList.contains("cell")) { return; }
    if (!cell.title) { cell.title = cell.dataset.port + " \u00b7 " + cell.dataset.state; }
    if (on) { detail.textContent = cell.title; }
    mark(cell.dataset.port, on);
  }
  grid.addEventListener("mouseover", function (e) { hover(e, true); });
  grid.addEventListener("mouseout", function (e) { hover(e, false); });
  document.querySelectorAll("tr[data-port]").forEach(function (row) {
    row.addEventListener("mouseenter", function () { mark(row.dataset.port, true); });
    row.addEventListener("mouseleave", function () { mark(row.dataset.port, false); });
  });
  document.documentElement.dataset.js = "ready";
})();
"""
