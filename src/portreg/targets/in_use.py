"""The ports a repo's files already use: the one set ``assign`` skips.

Every number in every file a target reads counts, in any YAML style and in
comments too. That is a superset of every port ``check`` can observe (check
reads only literal digits), which is the point: skipping a port costs nothing,
handing out one a file already uses breaks a cluster. No parse, so it costs
one read and one regex per file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from portreg.io.workspace import Workspace
from portreg.model import yaml11_int
from portreg.targets.compose import MAX_RANGE


class HasFiles(Protocol):
    def files(self, ws: Workspace) -> Sequence[str | Path]: ...


# a run of ASCII digits with leading zeros dropped (``08002`` is 8002 to a YAML int),
# and when a range follows (compose ``8001-8003:8001-8003``), its other end
_NUMBER = re.compile(r"(?<![0-9])0*([0-9]{1,5})(?:[ \t]*-[ \t]*0*([0-9]{1,5}))?(?![0-9])")
# Starlark/Python int literals a Tiltfile may use: 0x1F42, 0o17502, 0b..., 8_002
_LITERAL = re.compile(r"\b0[xXoObB][0-9a-fA-F_]{1,70}|\b[0-9]{1,5}(?:_[0-9]{1,5})+")
# YAML 1.1 spellings kind, Helm and kubectl read (portreg.model.yaml11_int): 017501 is octal,
# 8.001e3 a whole float
_YAML11 = re.compile(r"\b[-+]?0[0-7_]+\b|\b[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]{1,3}\b")
# escapes a quoted YAML or Starlark string may spell a digit with, and YAML's escaped line break
_ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|\r?\n[ \t]*)")


def numbers_in(text: str) -> set[int]:
    """Every number in ``text`` that could be a TCP port, however it is spelled."""
    found = _numbers(text)
    if "\\" in text:
        found |= _numbers(_ESCAPE.sub(_unescape, text))
    return found


def _numbers(text: str) -> set[int]:
    found: set[int] = set()
    for low, high in _NUMBER.findall(text):
        found.add(int(low))
        if high:
            found.add(int(high))
            # a range publishes every port between its ends (compose reports no wider one)
            found.update(range(int(low) + 1, int(high)) if int(high) - int(low) < MAX_RANGE else ())
    for literal in _LITERAL.findall(text):
        digits = literal.replace("_", "")
        try:
            found.add(int(digits, 0) if digits[1:2].isalpha() else int(digits, 10))
        except ValueError:  # 0b12, 0x: not a number in any base it names
            continue
    for literal in _YAML11.findall(text):
        found.add(yaml11_int(literal) or 0)
    return {port for port in found if 1 <= port <= 65535}  # YAML 1.1 reads "-01" as -1


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1) or match.group(2) or match.group(3)
    if code is None:
        return ""  # an escaped line break joins the two lines
    number = int(code, 16)
    return chr(number) if number < 0x110000 else ""


def ports_in_use(ws: Workspace, targets: Iterable[HasFiles]) -> set[int]:
    """The numbers in every file of every target, read through ``ws`` (planned text wins)."""
    ports: set[int] = set()
    for target in targets:
        for name in target.files(ws):
            ports |= numbers_in(ws.read(ws.root / name) or "")
    return ports
