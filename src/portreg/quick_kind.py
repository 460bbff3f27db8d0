"""What the fast road learned about kind-config last time, so it composes the file once.

Appending a mapping needs the old text's structure (which node, which items,
where the list ends) and a proof that the new text holds exactly the old
content plus the new item. Composing a 500-mapping kind-config is most of
the work, and the full road composes it twice: once to plan, once to prove.

After every append the fast road keeps, under the user's cache folder, the
new text itself and what it composed from it: the node's index, each item's
comment and hostPort, where the next item goes, and a checksum of every value
in the document (its flattened leaves). A later run whose kind-config is
*exactly* that text (compared in full, never by a hash) plans from the
memo, composes only its own new text, and proves it by checking the new
item's values and that every other value still sums to the memo's checksum.
Any difference, a config change (node role), or a memo it cannot read, and
it composes the file as the full road does. A memo only ever costs speed.
"""

from __future__ import annotations

import marshal
import os
import zlib

from portreg import yamledit
from portreg.errors import PortregError
from portreg.kind_doc import MAPPINGS, NODES
from portreg.settings_cache import cache_file, read_json, write_json
from portreg.yamledit.render import render_scalar
from portreg.yamledit.splice import flatten, insert_at, insert_position

VERSION = 1

Item = tuple[str | None, int | None]
"""A list item's comment line (stripped) and hostPort, as ``Document.items`` reads them."""


class Memo:
    """The kind-config text an append produced, and what composing it showed."""

    __slots__ = ("dash", "digest", "gap", "items", "newline", "node", "position", "role")

    def __init__(
        self, role: str, node: int, items: list[Item], where: tuple[int, int, int], digest: str
    ) -> None:
        self.role = role
        self.node = node
        self.items = items
        self.position, self.dash, self.gap = where
        self.digest = digest
        self.newline = "\n"


def checksum(leaves: dict[tuple[object, ...], tuple[str, ...]]) -> str:
    """Two independent 32-bit sums and the length over every leaf, in document order.

    Over ``marshal``'s bytes (a third of ``repr``'s cost); they differ between
    Python versions, where a memo then simply fails its proof and is rebuilt.
    """
    data = marshal.dumps(list(leaves.items()))
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data)}"


def _path(root: str, relative: str) -> str:
    return cache_file("kind", os.path.join(root, relative))


def load(root: str, relative: str, text: str, role: str) -> Memo | None:
    """The memo of exactly ``text`` (under this node role), or None."""
    saved = read_json(_path(root, relative))
    if not isinstance(saved, dict) or saved.get("version") != VERSION:
        return None
    if saved.get("text") != text or saved.get("role") != role:
        return None
    try:
        items = [(comment, host) for comment, host in saved["items"]]
        where = (int(saved["position"]), int(saved["dash"]), int(saved["gap"]))
        memo = Memo(role, int(saved["node"]), items, where, str(saved["digest"]))
        memo.newline = str(saved["newline"])
    except (KeyError, TypeError, ValueError):
        return None
    return memo


def save(root: str, relative: str, text: str, doc: yamledit.Document, memo: Memo) -> None:
    data = {
        "version": VERSION,
        "text": text,
        "role": memo.role,
        "node": memo.node,
        "items": memo.items,
        "position": memo.position,
        "dash": memo.dash,
        "gap": memo.gap,
        "newline": doc.newline,
        "digest": memo.digest,
    }
    write_json(_path(root, relative), data)


def describe(
    doc: yamledit.Document, role: str, node: int, items: list[Item], digest: str | None = None
) -> Memo:
    """The memo of a composed kind-config whose mapping list (with ``items``) has items."""
    listed = doc.find((*NODES, node, MAPPINGS))
    after, dash, gap = yamledit.lists.append_point(doc, listed)
    position = insert_position(doc, after)
    digest = digest or checksum(flatten(doc.root))
    return Memo(role, node, items, (position, dash, gap), digest)


def append(
    text: str,
    source: str,
    memo: Memo,
    mapping: list[tuple[str, yamledit.Scalar]],
    comment: str,
) -> tuple[str, yamledit.Document, str] | None:
    """The text with ``mapping`` appended as the memo says, its composed document and
    checksum; None when the proof fails (the caller then takes the full road)."""
    lines = yamledit.lists.item_lines(mapping, memo.dash, memo.gap, comment)
    edit = insert_at(text, memo.newline, memo.position, lines)
    new = text[: edit.start] + edit.text + text[edit.end :]
    try:
        doc = yamledit.parse(new, source)
    except PortregError:
        return None  # a memo that put the item somewhere odd: compose the file instead
    leaves = flatten(doc.root)
    digest = checksum(leaves)
    count = len(memo.items)
    base = (*NODES, memo.node, MAPPINGS, count)
    for key, value in mapping:
        if leaves.pop((*base, key), None) != render_scalar(value)[1]:
            return None
    return (new, doc, digest) if checksum(leaves) == memo.digest else None
