"""``export --format html``: one self-contained page about the repo's ports (pure).

In the order a reader needs it: a one-line summary, then the findings of ``check``
(its ignores applied: the caller passes what ``check`` reports), then the
assignments (service, port, NodePort where the repo derives them, the files that
bind the port on this machine), then the host namespace (every host binding
portreg read, the registry's and the files', as ``portreg ports`` lists them),
and last, collapsed in a ``<details>``, a grid of the part of the range in use.
Everything (CSS, JS) is inline; the page loads nothing, so it can be attached to a
CI run or opened offline from a file.

The page stays light at a thousand services: the tables are plain rows laid out
with ``table-layout: fixed``; the grid draws only the rows (of ``ROW`` ports) from
the lowest to the highest port in use, and a run of rows with no port in use as a
single line. Cells (and the rows of the assignments) carry ``data-port`` and their
state as a class; a held port's cell also a hover title naming its services, so
tests (and scripts) can read the map back out of the DOM. The JS only adds a detail
line and cross-highlighting; the page is complete without it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Protocol

from portreg.config import Settings
from portreg.config.formula import formula_text
from portreg.model import RegistryState, reserved_ports

STATES = ("assigned", "conflict", "reserved", "free")
ROW = 50  # cells per row; rows start at multiples of 50 so a column is a port's last digits
REGISTRY = "registry"  # a host binding's source when it is the registry's own entry


class HostBinding(Protocol):
    """What the page needs of a host binding (``commands.ports.Binding`` fits)."""

    @property
    def address(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def owner(self) -> str | None: ...
    @property
    def source(self) -> str: ...
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


@dataclass(frozen=True)
class Rows:
    """A run of grid rows ``start`` to ``stop`` (exclusive): drawn, or one line saying
    that none of its ports is in use."""

    start: int
    stop: int
    drawn: bool


def grid_rows(pm: PortMap) -> list[Rows]:
    """The rows of ``ROW`` ports from the lowest to the highest port in use, each run of
    rows without a port in use merged into one: the grid grows with the services, not
    with the range (empty when no port of the range is in use)."""
    used = [cell.port for cell in pm.cells if cell.services]
    if not used:
        return []
    runs: list[Rows] = []
    held = set(used)
    for start in range(min(used) - min(used) % ROW, max(used) + 1, ROW):
        drawn = any(port in held for port in range(start, start + ROW))
        if runs and not drawn and not runs[-1].drawn:
            runs[-1] = Rows(runs[-1].start, start + ROW, drawn=False)
        else:
            runs.append(Rows(start, start + ROW, drawn))
    return runs


# ------------------------------------------------------------------ pieces


def _percent(part: int, whole: int) -> str:
    value = 100 * part / whole if whole else 0.0
    return f"{value:.1f}".rstrip("0").rstrip(".") + "%"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _summary(pm: PortMap, findings: Sequence[FindingLike], ignored: int) -> str:
    """One line: how full the range is, how many clash, what ``check`` found."""
    clashes = pm.count("conflict")
    by = {sev: sum(1 for f in findings if f.severity == sev) for sev in ("error", "warning")}
    parts = [
        f"<strong>{pm.used} of {pm.usable}</strong> usable ports in use "
        f"({_percent(pm.used, pm.usable)} full)",
        f'<span class="{"bad" if clashes else "ok"}">{clashes} in conflict</span>',
        f'<span class="{"bad" if by["error"] else "ok"}">{_plural(by["error"], "error")}</span>, '
        f"{_plural(by['warning'], 'warning')}",
    ]
    parts += [f"{len(pm.outside)} outside the range"] if pm.outside else []
    parts += [f"{ignored} ignored ([ignore])"] if ignored else []
    return (
        f'<p class="summary" id="summary" data-used="{pm.used}" data-usable="{pm.usable}">'
        f"{' &middot; '.join(parts)}</p>"
    )


def _table(head: Sequence[tuple[str, int]], rows: Sequence[str], empty: str) -> str:
    """A table with fixed column widths (percent): a browser lays out its first rows
    without reading the rest, so a thousand rows stay fast."""
    cols = "".join(f'<col style="width:{width}%">' for _, width in head)
    ths = "".join(f"<th>{name}</th>" for name, _ in head)
    body = "".join(rows) or f'<tr><td colspan="{len(head)}" class="empty">{empty}</td></tr>'
    head_row = f"<colgroup>{cols}</colgroup><thead><tr>{ths}</tr></thead>"
    return f"<table>{head_row}<tbody>{body}</tbody></table>"


def _findings(findings: Sequence[FindingLike]) -> str:
    rows = []
    for f in findings:
        where = f"{f.path}:{f.line}" if f.line else f.path
        hint = f'<div class="hint">{escape(f.hint)}</div>' if f.hint else ""
        rows.append(
            f'<tr data-severity="{escape(f.severity)}">'
            f'<td><span class="sev {escape(f.severity)}">{escape(f.severity)}</span></td>'
            f"<td><code>{escape(f.code)}</code></td><td><code>{escape(where)}</code></td>"
            f"<td>{escape(f.message)}{hint}</td></tr>"
        )
    head = [("Severity", 10), ("Code", 8), ("Where", 32), ("What", 50)]
    table = _table(head, rows, "No findings: the files agree with the registry.")
    return f'<div class="scroll">{table}</div>'


def _files_binding(host: Sequence[HostBinding]) -> dict[int, list[str]]:
    """Port -> ``path:line`` of each file binding it on this machine (not the registry's
    own entry), naming the owner when the file gives it to no one or someone else."""
    files: dict[int, list[str]] = {}
    for b in host:
        if b.source != REGISTRY:
            files.setdefault(b.port, []).append(b.where if b.owner else f"{b.where} (no owner)")
    return files


def _status(pm: PortMap, by_port: Mapping[int, Cell], port: int, service: str) -> tuple[str, str]:
    """(state, what the Status column says) of one service on one port."""
    cell = by_port.get(port)
    state = cell.state if cell else "outside"
    if cell and state == "conflict":
        others = [s for s in cell.services if s != service]
        note = f"conflict with {', '.join(others)}" if others else "conflict: port is reserved"
    else:
        note = {"assigned": "ok", "outside": "outside the range"}.get(state, state)
    if service not in pm.registered:
        note += " \u00b7 in files only, not registered"
    return state, note


def _assignments(pm: PortMap, settings: Settings, host: Sequence[HostBinding]) -> str:
    by_port = {c.port: c for c in pm.cells}
    files = _files_binding(host)
    nodeports = settings.derives_node_ports
    entries = [(c.port, s) for c in pm.cells for s in c.services] + [(p, s) for s, p in pm.outside]
    rows = []
    for port, service in sorted(entries):
        state, note = _status(pm, by_port, port, service)
        node = f"<td>{settings.node_port(port)}</td>" if nodeports else ""
        bound = "<br>".join(escape(where) for where in files.get(port, ()))
        rows.append(
            f'<tr class="{state}" data-port="{port}"><td>{escape(service)}</td><td>{port}</td>'
            f"{node}<td>{bound or '-'}</td><td>{escape(note)}</td></tr>"
        )
    head = [("Service", 24), ("Port", 8)] + ([("NodePort", 9)] if nodeports else [])
    head += [("Bound in (files)", 39 if nodeports else 48), ("Status", 20)]
    return _table(head, rows, "No services yet.")


def _host(bindings: Sequence[HostBinding]) -> str:
    """The host namespace: port (and address), owner, file:line, what it leads to."""
    rows = [
        f'<tr data-port="{b.port}"><td>'
        f"{escape(b.address + ':') if b.address else ''}{b.port}</td>"
        f"<td>{escape(b.owner or '-')}</td><td>{escape(b.where)}</td>"
        f"<td>{escape(b.leads)}</td></tr>"
        for b in bindings
    ]
    head = [("Port", 12), ("Owner", 26), ("Where", 44), ("Leads to", 18)]
    return _table(head, rows, "No host bindings.")


def _legend(pm: PortMap) -> str:
    labels = {"assigned": "Assigned", "conflict": "In conflict", "reserved": "Reserved"}
    labels["free"] = "Free"
    items = "".join(
        f'<li><i class="cell {state}"></i>{labels[state]} '
        f'<span class="n" data-count="{state}">{pm.count(state)}</span></li>'
        for state in STATES
    )
    return f'<ul class="legend">{items}</ul>'


def _title(cell: Cell, settings: Settings) -> str:
    node = (
        f" \u00b7 NodePort {settings.node_port(cell.port)}" if settings.derives_node_ports else ""
    )
    if cell.state == "conflict":
        who = " and ".join(cell.services)
        why = "reserved, yet assigned to" if len(cell.services) == 1 else "held by"
        return f"{cell.port} \u00b7 CONFLICT: {why} {who}{node}"
    return f"{cell.port} \u00b7 {cell.services[0]}{node}"


def _cell(cell: Cell, settings: Settings) -> str:
    """A held port's cell in full; a free or reserved one as its port and state only
    (most cells of a row are free)."""
    head = f'<i class="cell {cell.state}" data-port="{cell.port}"'
    if not cell.services:
        return f"{head}></i>"
    return f'{head} title="{escape(_title(cell, settings))}"></i>'


def _grid(pm: PortMap, settings: Settings, runs: Sequence[Rows]) -> str:
    by_port = {cell.port: cell for cell in pm.cells}
    ticks = "".join(f"<i>{'+' + str(i) if i % 10 == 0 else ''}</i>" for i in range(ROW))
    rows = [f'<div class="row ticks"><span class="label"></span>{ticks}</div>']
    for run in runs:
        if not run.drawn:
            rows.append(f'<div class="gap">{run.start}\u2013{run.stop - 1}: no port in use</div>')
            continue
        cells = "".join(
            _cell(by_port[port], settings) if port in by_port else '<i class="pad"></i>'
            for port in range(run.start, run.stop)
        )
        rows.append(f'<div class="row"><span class="label">{run.start}</span>{cells}</div>')
    return f'<div class="grid" id="grid">{"".join(rows)}</div>'


def _map(pm: PortMap, settings: Settings) -> str:
    """The grid of the part of the range in use, collapsed: a click opens it."""
    runs = grid_rows(pm)
    if runs:
        shown = f"ports {runs[0].start}\u2013{runs[-1].stop - 1} (the rows with a port in use)"
    else:
        shown = "no port of the range is in use"
    return (
        f'<details class="map" id="map"><summary><h2>Port grid</h2> {shown}</summary>'
        f'<div class="maphead">{_legend(pm)}'
        '<p id="detail" class="detail">Hover a cell to see its port.</p></div>'
        f"{_grid(pm, settings, runs) if runs else ''}</details>"
    )


# -------------------------------------------------------------------- page


def render_html(
    settings: Settings,
    state: RegistryState,
    findings: Sequence[FindingLike] = (),
    *,
    conflicts: Mapping[int, Iterable[str]] | None = None,
    host: Sequence[HostBinding] = (),
    ignored: int = 0,
    generated: str | None = None,
) -> str:
    """The whole page. ``findings``: what ``check`` reports (``ignored``: how many more
    the repo's ignores hid); ``conflicts``: extra port -> services clashes found in
    files; ``host``: the host bindings, sorted."""
    pm = build_map(settings, state, conflicts)
    meta = [settings.registry, f"range {pm.first}\u2013{pm.last}"]
    if settings.derives_node_ports:
        base, offset = settings.node_port_base, settings.node_port_offset
        meta.append(f"NodePort = {formula_text(base, offset)}")
    meta += [f"generated {generated}"] if generated else []
    nav = " &middot; ".join(
        f'<a href="#{anchor}">{name}</a>'
        for anchor, name in [
            ("findings", "Findings"),
            ("assignments", "Assignments"),
            ("host", "Host ports"),
            ("map", "Port grid"),
        ]
    )
    parts = [
        '<header><h1>Port map</h1><p class="meta">',
        " &middot; ".join(escape(m) for m in meta),
        f"</p><nav>{nav}</nav></header>",
        _summary(pm, findings, ignored),
        f'<section id="findings"><h2>Findings ({len(findings)})</h2>',
        _findings(findings),
        f'</section><section id="assignments"><h2>Assignments ({len(state.assignments)})</h2>',
        _assignments(pm, settings, host),
        f'</section><section id="host"><h2>Host ports ({len(host)})</h2>',
        _host(host),
        "</section>",
        _map(pm, settings),
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
--ink:#0f172a;--muted:#64748b;--line:#e2e8f0}
*{box-sizing:border-box}
body{margin:0;padding:16px 28px 40px;font:14px/1.45 system-ui,sans-serif;color:var(--ink);
background:#f8fafc}
h1{font-size:20px;margin:0}h2{font-size:15px;margin:14px 0 6px}
.meta,nav{margin:2px 0 0;color:var(--muted)}nav a{color:inherit}
.summary{margin:10px 0 0;padding:8px 12px;background:#fff;border:1px solid var(--line);
border-radius:8px}
.bad{color:var(--conflict);font-weight:600}.ok{color:#15803d}
.scroll{max-height:40vh;overflow:auto;border-radius:8px}
table{border-collapse:collapse;width:100%;table-layout:fixed;background:#fff;
border:1px solid var(--line)}
th,td{padding:4px 10px;text-align:left;border-bottom:1px solid var(--line);vertical-align:baseline;
overflow-wrap:anywhere}
th{background:#f1f5f9;font-size:12px;color:#475569}
td{font-variant-numeric:tabular-nums}
tr.hl td{background:#eff6ff}
.sev{font-size:12px;padding:0 7px;border-radius:9px}
.sev.error{background:#fee2e2;color:#991b1b;font-weight:600}
.sev.warning{background:#fef3c7;color:#92400e}.sev.info{background:#dbeafe;color:#1e40af}
tr.assigned td:last-child{color:#15803d}tr.outside td:last-child{color:#92400e}
tr.conflict td:first-child,tr.conflict td:last-child{color:var(--conflict);font-weight:600}
.hint,.empty,.gap{color:var(--muted);font-size:13px}
code,#host td:nth-child(3),#assignments td:nth-last-child(2){font:12px ui-monospace,monospace}
.map{margin-top:14px;padding:4px 12px;background:#fff;border:1px solid var(--line);
border-radius:8px}
.map summary{cursor:pointer;color:var(--muted)}.map summary h2{display:inline;color:var(--ink)}
.maphead{display:flex;justify-content:space-between;gap:16px;flex-wrap:wrap}
.legend{display:flex;gap:16px;padding:0;list-style:none}
.legend li{display:flex;align-items:center;gap:6px}.legend .n{color:var(--muted)}
.detail{color:var(--muted)}
.grid{display:flex;flex-direction:column;gap:3px;margin-bottom:10px}
.row{display:flex;gap:3px;align-items:center}
.label{width:44px;flex:none;color:var(--muted);font-size:11px}
.row i{flex:1 1 0;max-width:18px;min-width:6px;aspect-ratio:1;border-radius:3px}
.row>:nth-child(10n+2){margin-left:5px}
.ticks i{aspect-ratio:auto;white-space:nowrap;color:var(--muted);font:11px sans-serif}
.legend .cell{display:inline-block;width:14px;height:14px;border-radius:3px}
.cell.free{background:var(--free);box-shadow:inset 0 0 0 1px #d5dde7}
.cell.assigned{background:var(--assigned)}
.cell.reserved{background:repeating-linear-gradient(135deg,var(--reserved) 0 3px,#94a3b8 3px 6px)}
.cell.conflict{background:var(--conflict);box-shadow:0 0 0 2px #fecaca}
.cell:hover,.cell.hl{outline:2px solid var(--ink);outline-offset:1px}
"""

# Detail line and cell <-> row highlighting: two listeners on the document, not one per
# cell or row. Marks <html data-js="ready"> so a browser test can tell it ran to the end.
JS = """
(function () {
  var detail = document.getElementById("detail");
  function mark(port, on) {
    document.querySelectorAll('[data-port="' + port + '"]').forEach(function (el) {
      el.classList.toggle("hl", on);
    });
  }
  function hover(event, on) {
    var el = event.target.closest(".grid .cell, tr[data-port]");
    if (!el) { return; }
    if (on && el.classList.contains("cell")) {
      detail.textContent = el.title || el.dataset.port + " \u00b7 " + el.classList[1];
    }
    mark(el.dataset.port, on);
  }
  document.addEventListener("mouseover", function (e) { hover(e, true); });
  document.addEventListener("mouseout", function (e) { hover(e, false); });
  document.documentElement.dataset.js = "ready";
})();
"""
