"""A finding: one disagreement between the registry and the files, with a stable code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True, order=True)
class Finding:
    code: str
    severity: Severity
    path: str
    line: int
    message: str
    hint: str = ""  # what to do: a portreg command where one fixes it
    service: str | None = None  # whose entry this is, when the file says
    port: int | None = None  # the port (or NodePort) the finding is about
    holder: str | None = None  # the other service that holds that port, if any

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings of each severity (every severity present, zero or not)."""
    result: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        result[finding.severity] += 1
    return result


def exit_code(findings: Iterable[Finding], *, strict: bool = False) -> int:
    """0 clean, 1 errors (with ``strict``, warnings count as errors too)."""
    failing = {"error", "warning"} if strict else {"error"}
    return 1 if any(f.severity in failing for f in findings) else 0
