"""The registry document's text, its timestamp, and the port search (pure)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from portreg.errors import ConfigError


def render(
    document: Mapping[str, object],
    assignments: Mapping[str, int],
    reserved: Sequence[int],
    next_port: int | None,
    timestamp: str | None,
) -> str:
    """2-space JSON with a final newline; key order of the original document kept."""
    out = dict(document)
    out["next_port"] = next_port
    out["reserved_ports"] = list(reserved)
    out["assignments"] = dict(assignments)
    metadata = out.get("metadata")
    if isinstance(metadata, dict) and has_last_updated(out) and timestamp is not None:
        out["metadata"] = {**metadata, "last_updated": timestamp}
    text = json.dumps(out, indent=2, ensure_ascii=False) + "\n"
    return _RESERVED.sub(_one_line, text, count=1)


# the top-level list of reserved ports (ints only, so its first ``]`` closes it)
_RESERVED = re.compile(r'(?m)^(  "reserved_ports": )\[([^\]]*)\]')


def _one_line(match: re.Match[str]) -> str:
    """``"reserved_ports": [8080, 9000]`` on one line, as the seed's registry has it."""
    numbers = ", ".join(part.strip() for part in match.group(2).split(",") if part.strip())
    return f"{match.group(1)}[{numbers}]"


def has_last_updated(document: Mapping[str, object]) -> bool:
    """Whether ``render`` would write a timestamp (the seed's ``metadata.last_updated``)."""
    metadata = document.get("metadata")
    return isinstance(metadata, dict) and "last_updated" in metadata


def timestamp() -> str:
    """Now (or SOURCE_DATE_EPOCH, for reproducible output) as the seed writes it."""

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    plain = epoch is not None and epoch.isascii() and epoch.isdigit() and len(epoch) <= 12
    if epoch and not (plain and int(epoch) <= _LAST_EPOCH):
        raise ConfigError(
            f"SOURCE_DATE_EPOCH: expected whole seconds since 1970 (ASCII digits, at most "
            f"{_LAST_EPOCH}), got {epoch[:40]!r}",
            hint="unset it, or set it to e.g. $(git log -1 --format=%ct)",
        )
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now()
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


_LAST_EPOCH = 253402300799  # 9999-12-31T23:59:59, the last second isoformat can write


def lowest_free(first: int, last: int, taken: Iterable[int], hint: int | None) -> int | None:
    """The lowest port not taken at or above ``hint``, wrapping to the lowest free one."""
    blocked = set(taken)
    start = min(max(hint or first, first), last + 1)
    candidates: list[int] = [*range(start, last + 1), *range(first, start)]
    return next((port for port in candidates if port not in blocked), None)
