"""Findings as text, JSON, GitHub workflow commands or SARIF. Returns strings; the CLI prints."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from portreg import __version__
from portreg.check.findings import Finding, counts
from portreg.targets.base import Observation

GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def unread_line(obs: Observation) -> str:
    """``Tiltfile:12: not read: port_forwards=_port_forwards (computed; ...)``: a port a
    file computes, named where it is (``check --verbose``, ``ports``)."""
    return f"{obs.path}:{obs.line}: not read: {obs.field} (computed; portreg does not guess)"


def _unread_note(unread: int, verbose: bool) -> str:
    """``; 2 ports not read (--verbose names them)`` on the summary line."""
    if not unread:
        return ""
    named = "listed above" if verbose else f"--verbose names {'it' if unread == 1 else 'them'}"
    return f"; {_plural(unread, 'port')} not read ({named})"


def summary(
    findings: Sequence[Finding], *, verbose: bool = True, ignored: int = 0, unread: int = 0
) -> str:
    tally = counts(findings)
    aside = f" ({ignored} ignored as the repo asks)" if ignored else ""
    aside += _unread_note(unread, verbose)
    if not findings:
        return f"✅ No port conflicts: every file agrees with the registry{aside}"
    parts = [_plural(tally["error"], "error"), _plural(tally["warning"], "warning")]
    mark = "❌" if tally["error"] else "⚠️ " if tally["warning"] else "✅"
    hidden = " (--verbose shows it)" if tally["info"] and not verbose else ""
    return f"{mark} {', '.join(parts)}, {tally['info']} info{hidden}{aside}"


def _place(obs: Observation) -> tuple[str, int, str]:
    return obs.path, obs.line, obs.field


def _shown(findings: Sequence[Finding], verbose: bool) -> list[Finding]:
    """Info notes only with ``--verbose``: a note on every run is noise, not a check."""
    return [f for f in findings if verbose or f.severity != "info"]


def text(
    findings: Sequence[Finding],
    *,
    verbose: bool = False,
    ignored: Sequence[Finding] = (),
    unread: Sequence[Observation] = (),
) -> str:
    """``path:line: severity CODE message`` and an indented hint, then (``verbose``) a line
    per port a file computes, then a summary line."""
    lines: list[str] = []
    for f in _shown(findings, verbose):
        lines.append(f"{f.path}:{f.line}: {f.severity} {f.code} {f.message}")
        if f.hint:
            lines.append(f"    hint: {f.hint}")
    if verbose:
        lines += [unread_line(obs) for obs in sorted(unread, key=_place)]
    lines.append(summary(findings, verbose=verbose, ignored=len(ignored), unread=len(unread)))
    return "\n".join(lines) + "\n"


def as_json(
    findings: Sequence[Finding],
    *,
    verbose: bool = False,
    ignored: Sequence[Finding] = (),
    unread: Sequence[Observation] = (),
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
    findings: Sequence[Finding],
    *,
    verbose: bool = False,
    ignored: Sequence[Finding] = (),
    unread: Sequence[Observation] = (),
) -> str:
    """``::error file=...,line=...,title=CODE::message (hint)`` per finding."""
    lines = []
    for f in _shown(findings, verbose):
        props = f"file={_escape_property(f.path)},line={f.line},title={_escape_property(f.code)}"
        body = f"{f.message} ({f.hint})" if f.hint else f.message
        lines.append(f"::{GITHUB_LEVEL[f.severity]} {props}::{_escape_data(body)}")
    return "".join(line + "\n" for line in lines)


SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
INFORMATION_URI = "https://github.com/portreg/portreg"
HELP_URI = f"{INFORMATION_URI}#checks"
FINGERPRINT = "portregFinding/v1"


def _pascal(name: str) -> str:
    """``registry-duplicate`` -> ``RegistryDuplicate`` (SARIF's rule names are PascalCase)."""
    return "".join(part.capitalize() for part in name.split("-"))


def _sarif_rules() -> list[dict[str, Any]]:
    from portreg.check.rules import RULES

    return [
        {
            "id": rule.code,
            "name": _pascal(rule.name),
            "shortDescription": {"text": rule.summary},
            "fullDescription": {
                "text": f"{rule.summary[:1].upper()}{rule.summary[1:]}. {rule.help}"
            },
            "help": {"text": rule.help},
            "helpUri": HELP_URI,
            "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
        }
        for rule in RULES
    ]


def _fingerprints(findings: Sequence[Finding]) -> list[str]:
    """One key per finding that survives edits elsewhere in the file: the code, the file,
    the service, the port and its other holder (not the line, not the message, which names
    other files' lines), and an ordinal when those alone repeat."""

    seen: dict[str, int] = {}
    keys = []
    for f in findings:
        identity = "\0".join(map(str, (f.code, f.path, f.service, f.port, f.holder)))
        seen[identity] = seen.get(identity, 0) + 1
        digest = hashlib.sha256(f"{identity}\0{seen[identity]}".encode()).hexdigest()
        keys.append(digest[:32])
    return keys


def _sarif_result(f: Finding, index: dict[str, int], key: str, ignored: bool) -> dict[str, Any]:
    uri = quote(f.path, safe="/")  # a URI reference: a space or a '#' in a name is escaped
    location: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}
    if f.line >= 1:  # a finding about a whole file (line 0) has no region
        location["region"] = {"startLine": f.line}
    result: dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": index[f.code],
        "level": SARIF_LEVEL[f.severity],
        "message": {"text": f"{f.message}\nhint: {f.hint}" if f.hint else f.message},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {FINGERPRINT: key},
        "properties": {
            name: value
            for name, value in (
                ("hint", f.hint),
                ("service", f.service),
                ("port", f.port),
                ("holder", f.holder),
            )
            if value not in (None, "")
        },
    }
    if ignored:
        result["suppressions"] = [
            {
                "kind": "external",
                "justification": "ignored as the repo asks (portreg.toml or an inline comment)",
            }
        ]
    return result


def sarif(
    findings: Sequence[Finding],
    *,
    verbose: bool = False,
    ignored: Sequence[Finding] = (),
    unread: Sequence[Observation] = (),
) -> str:
    """One SARIF 2.1.0 log for GitHub code scanning: every rule, every finding (info notes
    as ``note``, ``verbose`` or not) and the ignored ones as suppressed results."""

    rules = _sarif_rules()
    index = {rule["id"]: number for number, rule in enumerate(rules)}
    everything = [*findings, *ignored]
    keys = _fingerprints(everything)
    results = [
        _sarif_result(f, index, key, ignored=number >= len(findings))
        for number, (f, key) in enumerate(zip(everything, keys, strict=True))
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "portreg",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


FORMATS: dict[str, Callable[..., str]] = {
    "text": text,
    "json": as_json,
    "github": github,
    "sarif": sarif,
}
