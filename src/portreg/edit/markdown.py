"""A port table inside a Markdown file (pure: text in, text out): its rendering, and its
place between two markers, replaced byte-exactly.

The table lives between two HTML comments, invisible when rendered::

    <!-- portreg:begin -->
    | Service | Port | NodePort |
    ...
    <!-- portreg:end -->

Only the text between the markers is replaced; every other byte of the file,
including its newline style (CRLF stays CRLF), stays as it was.

For ``check``: :func:`docs_is_current` tells whether a file's table matches,
:func:`begin_line` gives the line to report, and :func:`stale_docs` runs both
over ``settings.docs``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from portreg.errors import FileEditError, Problem

BEGIN = "<!-- portreg:begin -->"
END = "<!-- portreg:end -->"
HINT = f"add a line {BEGIN} and a line {END} where the port table should go"


def _block(text: str, where: str) -> tuple[int, int]:
    """The offsets just after the begin marker and at the end marker."""
    begin = text.find(BEGIN)
    if begin < 0:
        raise FileEditError(f"no {BEGIN} marker", where=where, hint=HINT)
    if text.find(BEGIN, begin + 1) >= 0:
        raise FileEditError(f"{BEGIN} appears twice", where=where, hint="keep one table")
    end = text.find(END, begin)
    if end < 0:
        where_line = f"{where}:{begin_line(text)}"
        raise FileEditError(f"no {END} marker after {BEGIN}", where=where_line, hint=HINT)
    return begin + len(BEGIN), end


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def replace_table(text: str, table: str, where: str = "docs") -> str:
    """``text`` with the block between the markers replaced by ``table`` (``\\n`` newlines)."""
    start, end = _block(text, where)
    newline = _newline(text)
    body = "".join(line + newline for line in table.splitlines())
    return text[:start] + newline + body + text[end:]


def docs_is_current(text: str, table: str) -> bool:
    """True when the file already holds exactly ``table`` (raises if the markers are missing)."""
    return replace_table(text, table) == text


def begin_line(text: str) -> int | None:
    """1-based line of the begin marker, or None without one."""
    index = text.find(BEGIN)
    return None if index < 0 else text.count("\n", 0, index) + 1


def stale_docs(
    paths: Sequence[str], table: str, read: Callable[[Path], str | None], root: Path
) -> list[Problem]:
    """Each of ``paths`` (repo-relative, e.g. ``settings.docs``) whose table is not ``table``."""
    problems = []
    for path in paths:
        text = read(root / path)
        if text is None:
            problems.append(Problem(path, 1, "docs file does not exist", "create it or drop it"))
            continue
        try:
            current = docs_is_current(text, table)
        except FileEditError as exc:
            problems.append(Problem(path, begin_line(text) or 1, exc.message, exc.hint or HINT))
            continue
        if not current:
            line = begin_line(text) or 1
            problems.append(
                Problem(path, line, "port table is out of date", f"run `portreg docs {path}`")
            )
    return problems


def port_table(rows: Sequence[tuple[str, int, int]], node_ports: bool = True) -> str:
    """A GitHub table of (service, port, NodePort) rows in the order given, with aligned
    columns, so a one-line change is a one-line diff; the NodePort column only where the
    repo derives NodePorts."""
    cells = [("Service", "Port", "NodePort")]
    cells += [(service, str(port), str(node)) for service, port, node in rows]
    columns = 3 if node_ports else 2
    width = [max(len(row[i]) for row in cells) for i in range(columns)]
    lines = [
        "| "
        + " | ".join(
            row[i].rjust(width[i]) if i else row[0].ljust(width[0]) for i in range(columns)
        )
        + " |"
        for row in cells
    ]
    rule = "| " + " | ".join(["-" * width[0], *("-" * (w - 1) + ":" for w in width[1:])]) + " |"
    return "\n".join([lines[0], rule, *lines[1:]]) + "\n"
