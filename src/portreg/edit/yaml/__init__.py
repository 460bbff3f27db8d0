"""Byte-exact edits of YAML text (pure: text in, text out).

The text is composed with PyYAML (libyaml when available) into nodes that know
their line and column. Each change becomes an :class:`_Edit` (a span of the
original text and its replacement), and the edits are spliced into the
original string from the end backwards, as pre-commit's ``migrate_config``
does. Every byte outside the edited spans stays as it was: comments, blank
lines, key order, quoting, flow maps, block literals, ``---``, CRLF, a missing
final newline.

Positions come from a mark's line and column, never from ``mark.index``:
libyaml does not count a byte-order mark in ``index``, while lines and
columns count characters the same way in both loaders.

After every edit the new text is composed again and its content compared with
the old content plus the intended change; anything else (a value that moved
into a block literal, a sibling that changed) is refused, never written.
Anything that cannot be edited faithfully raises :class:`FileEditError` with
``path:line``. Aliases are never expanded: composing keeps one node per
anchor, and every walk here visits a node once.

A path is a tuple of keys: ``str`` for a mapping key, ``int`` for a list
index, :class:`Select` for the list item whose field has a value (OpenAPI
``servers[?description=='local']``). :func:`parse_path` reads the text form.
"""

from portreg.edit.yaml.base import Item, Key, Node, Path, Scalar, Select, format_path, parse_path
from portreg.edit.yaml.document import Document, parse
from portreg.edit.yaml.lists import append_item, remove_item
from portreg.edit.yaml.mappings import set_values
from portreg.edit.yaml.render import nest, render_scalar

__all__ = [
    "Document",
    "Item",
    "Key",
    "Node",
    "Path",
    "Scalar",
    "Select",
    "append_item",
    "format_path",
    "nest",
    "parse",
    "parse_path",
    "remove_item",
    "render_scalar",
    "set_values",
]
