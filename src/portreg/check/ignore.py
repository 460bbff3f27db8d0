"""What a repo asked portreg to leave alone: never reported by ``check``, never edited by
``fix`` or ``reconcile``.

Two ways to say it:

- ``[ignore]`` in the config: ``files`` (globs), ``services``, ``ports`` and ``codes``;
- an inline comment on the line itself: ``# portreg: ignore`` (every code on that line)
  or ``# portreg: ignore[PR002, PR022]`` (only those codes; ``//`` comments too). Either
  way ``fix`` leaves the line's value alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from portreg.check.findings import Finding
from portreg.config import IgnoreSettings
from portreg.io.files import glob_regex
from portreg.targets.base import Observation

_INLINE = re.compile(r"(?:#|//)[^\n]*?portreg:\s*ignore(?:\[([A-Z0-9,\s]*)\])?")

LineOf = Callable[[str, int], str]
"""The text of a repo file's line (path, 1-based line); "" when there is none."""


def inline_codes(line: str) -> frozenset[str] | None:
    """None: no ignore comment on the line; empty: every code; else just those codes."""
    match = _INLINE.search(line)
    if match is None:
        return None
    listed = match.group(1)
    return frozenset(code.strip() for code in (listed or "").split(",") if code.strip())


class Ignores:
    """One repo's ignores, asked about findings (``check``) and observations (``fix``)."""

    def __init__(self, settings: IgnoreSettings, line_of: LineOf) -> None:
        self.settings = settings
        self.line_of = line_of
        self._files = [glob_regex(pattern) for pattern in settings.files]

    def _configured(self, path: str, service: str | None, port: int | None) -> bool:
        return (
            any(regex.fullmatch(path) for regex in self._files)
            or (service is not None and service in self.settings.services)
            or (port is not None and port in self.settings.ports)
        )

    def finding(self, finding: Finding) -> bool:
        if finding.code in self.settings.codes:
            return True
        if self._configured(finding.path, finding.service, finding.port):
            return True
        if finding.holder is not None and finding.holder in self.settings.services:
            return True  # a clash with a service the repo asked to leave alone is its too
        codes = inline_codes(self.line_of(finding.path, finding.line))
        return codes is not None and (not codes or finding.code in codes)

    def observation(self, obs: Observation) -> bool:
        """True when ``fix`` must not touch this entry: configured, or any inline ignore on
        its line (fixing what the line asks not to be told about would undo the ask)."""
        if self._configured(obs.path, obs.service, obs.port):
            return True
        return inline_codes(self.line_of(obs.path, obs.line)) is not None

    def split(self, findings: Iterable[Finding]) -> tuple[list[Finding], list[Finding]]:
        """(reported, ignored)."""
        kept: list[Finding] = []
        ignored: list[Finding] = []
        for finding in findings:
            (ignored if self.finding(finding) else kept).append(finding)
        return kept, ignored
