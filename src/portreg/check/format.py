"""Findings as text, JSON or GitHub workflow commands. Returns strings; the CLI prints."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from portreg.check.findings import Finding, counts

GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(findings: Sequence[Finding], *, verbose: bool = True, ignored: int = 0) -> str:
    tally = counts(findings)
    aside = f" ({ignored} ignored as the repo asks)" if ignored else ""
    if not findings:
        return f"✅ No port conflicts: every file agrees with the registry{aside}"
    parts = [_plural(tally["error"], "error"), _plural(tally["warning"], "warning")]
    mark = "❌" if tally["error"] else "⚠️ " if tally["warning"] else "✅"
    hidden = " (--verbose shows it)" if tally["info"] and not verbose else ""
    return f"{mark} {', '.join(parts)}, {tally['info']} info{hidden}{aside}"


def _shown(findings: Sequence[Finding], verbose: bool) -> list[Finding]:
    """Info notes only with ``--verbose``: a note on every run is noise, not a check."""
    return [f for f in findings if verbose or f.severity != "info"]


def text(
    findings: Sequence[Finding], *, verbose: bool = False, ignored: Sequence[Finding] = ()
) -> str:
    """``path:line: severity CODE message`` and an indented hint, then a summary line."""
    lines: list[str] = []
    for f in _shown(findings, verbose):
        lines.append(f"{f.path}:{f.line}: {f.severity} {f.code} {f.message}")
        if f.hint:
            lines.append(f"    hint: {f.hint}")
    lines.append(summary(findings, verbose=verbose, ignored=len(ignored)))
    return "\n".join(lines) + "\n"


def as_json(
    findings: Sequence[Finding], *, verbose: bool = False, ignored: Sequence[Finding] = ()
) -> str:
    """One document: every finding, the counts per severity, and what was ignored."""
    document = {
        "findings": [f.as_json() for f in findings],
        "counts": counts(findings),
        "ignored": [f.as_json() for f in ignored],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(
    findings: Sequence[Finding], *, verbose: bool = False, ignored: Sequence[Finding] = ()
) -> str:
    """``::error file=...,line=...,title=CODE::message (hint)`` per finding."""
    lines = []
    for f in _shown(findings, verbose):
        props = f"file={_escape_property(f.path)},line={f.line},title={_escape_property(f.code)}"
        body = f"{f.message} ({f.hint})" if f.hint else f.message
        lines.append(f"::{GITHUB_LEVEL[f.severity]} {props}::{_escape_data(body)}")
    return "".join(line + "\n" for line in lines)


FORMATS: dict[str, Callable[..., str]] = {
    "text": text,
    "json": as_json,
    "github": github,
}
