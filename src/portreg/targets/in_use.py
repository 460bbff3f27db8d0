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


class HasFiles(Protocol):
    def files(self, ws: Workspace) -> Sequence[str | Path]: ...


# a run of ASCII digits with leading zeros dropped (``08002`` is 8002 to a YAML int)
_NUMBER = re.compile(r"(?<![0-9])0*([0-9]{1,5})(?![0-9])")


def numbers_in(text: str) -> set[int]:
    """Every number of at most five digits in ``text`` that could be a TCP port."""
    return {port for port in map(int, _NUMBER.findall(text)) if 1 <= port <= 65535}


def ports_in_use(ws: Workspace, targets: Iterable[HasFiles]) -> set[int]:
    """The numbers in every file of every target, read through ``ws`` (planned text wins)."""
    ports: set[int] = set()
    for target in targets:
        for name in target.files(ws):
            ports |= numbers_in(ws.read(ws.root / name) or "")
    return ports
