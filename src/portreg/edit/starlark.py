"""Starlark (a Tiltfile) read through Python's own parser: Starlark's syntax is a subset
of Python's, so ``ast`` reads it with exact positions; nothing is evaluated. The
Tiltfile target reads forwards from the tree; detection reads ``docker_compose()``."""

from __future__ import annotations

import ast
import re
import warnings
from bisect import bisect_left
from itertools import accumulate

from portreg.edit.heap import collector_paused
from portreg.errors import PortregError

_NEWLINE = re.compile(r"\r\n?|\n")  # the line ends Python's tokenizer counts


class Source:
    """The text and its positions: ast's (line, UTF-8 byte column) as str offsets.

    A leading byte order mark is not Starlark: it is left out of what is parsed and
    counted back into every offset.
    """

    def __init__(self, text: str) -> None:
        self.original = text
        self.shift = 1 if text.startswith("\ufeff") else 0
        self.text = text[self.shift :]
        self._starts: list[int] = []
        self._bytes: dict[int, list[int] | None] = {}  # line -> its chars' byte offsets

    def offset(self, line: int, column: int) -> int:
        """The str offset of a byte column of a line, in the original text."""
        if not self._starts:
            self._starts = [0, *(match.end() for match in _NEWLINE.finditer(self.text))]
        start = self._starts[line - 1]
        if line not in self._bytes:  # once per line: the work stays linear in the text
            end = self._starts[line] if line < len(self._starts) else len(self.text)
            chars = self.text[start:end]
            widths = None if chars.isascii() else (len(c.encode()) for c in chars)
            self._bytes[line] = None if widths is None else list(accumulate(widths, initial=0))
        widths_before = self._bytes[line]
        chars_before = column if widths_before is None else bisect_left(widths_before, column)
        return self.shift + start + chars_before

    def span(self, node: ast.expr) -> tuple[int, int]:
        end_line = node.end_lineno or node.lineno
        end_column = node.end_col_offset if node.end_col_offset is not None else node.col_offset
        return self.offset(node.lineno, node.col_offset), self.offset(end_line, end_column)

    def written(self, node: ast.expr, limit: int | None = None) -> str:
        """The source text of an expression (its first ``limit`` characters)."""
        start, end = self.span(node)
        if limit is not None:
            end = min(end, start + limit * 4)  # enough for ``limit`` after blanks fold
        return self.original[start:end]


def parse(display: str, text: str) -> tuple[ast.Module, Source]:
    """The syntax tree of a Tiltfile, or one PortregError line naming where it breaks."""
    source = Source(text)
    try:
        # an invalid escape warns: never onto the terminal
        with warnings.catch_warnings(), collector_paused():
            warnings.simplefilter("ignore")
            return ast.parse(source.text, filename=display), source
    except SyntaxError as exc:
        reason, line = exc.msg, exc.lineno or 1
    except ValueError as exc:  # a NUL byte, before Python 3.12
        reason, line = str(exc), 1
    except (RecursionError, MemoryError):  # absurd nesting: Python's parser gives up
        reason, line = "nested too deeply for Python's parser", 1
    raise PortregError(f"cannot read the Tiltfile ({reason})", where=f"{display}:{line}")


def literal(node: ast.expr | None) -> int | str | None:
    """The value of an int or string literal, else None (a bool is not a port)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | str):
        return None if isinstance(node.value, bool) else node.value
    return None


def callee(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else ""


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)
