"""Reading YAML as positioned nodes for the read-only scanners (compose, manifests).

``yaml.compose_all`` gives nodes that know their line, without building Python
objects or resolving anchors into copies; libyaml's CSafeLoader when present.
Only literal scalars are read: a templated value (``{{ .Values.port }}``) is not
a port and is skipped, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from portreg.errors import PortregError

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


class TextLoader(_Loader):
    """A loader whose nodes carry the text as written and the default tags only.

    Scanners read literals (``port_of`` reads the text, so ``"8001"`` and
    ``8001`` are alike, and a template is never a port), so they never look at
    a resolved tag; skipping implicit resolution (a regex per scalar, in
    Python) takes a third off every compose.
    """

    def resolve(self, kind: type[yaml.Node], value: str | None, implicit: object) -> str:
        if kind is yaml.ScalarNode:
            return str(self.DEFAULT_SCALAR_TAG)
        if kind is yaml.SequenceNode:
            return str(self.DEFAULT_SEQUENCE_TAG)
        return str(self.DEFAULT_MAPPING_TAG)


_NUMBER_TEXT = re.compile(r"[0-9]{1,9}")


def documents(text: str, display: str) -> list[Any]:
    """Every document of a YAML stream as a node tree; a parse error names path:line."""
    try:
        return [node for node in yaml.compose_all(text, Loader=TextLoader) if node is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise PortregError(f"not valid YAML ({exc.problem})", where=f"{display}:{line}") from exc
    except yaml.YAMLError as exc:
        raise PortregError(f"not valid YAML ({exc})", where=display) from exc


def get(node: Any, key: str) -> Any:
    """The value node under ``key`` in a mapping node (None for anything else)."""
    if node is None or node.id != "mapping":
        return None
    for key_node, value in node.value:
        if key_node.id == "scalar" and key_node.value == key:
            return value
    return None


def items(node: Any) -> Iterator[tuple[str, Any]]:
    """(key, value node) pairs of a mapping node with scalar keys."""
    if node is not None and node.id == "mapping":
        for key_node, value in node.value:
            if key_node.id == "scalar":
                yield str(key_node.value), value


def is_mapping(node: Any) -> bool:
    return node is not None and bool(node.id == "mapping")


def sequence(node: Any) -> list[Any]:
    return list(node.value) if node is not None and node.id == "sequence" else []


def scalar(node: Any) -> str | None:
    """The literal text of a scalar node, as written (so ``22:22`` is not sexagesimal)."""
    return str(node.value) if node is not None and node.id == "scalar" else None


def port_of(node: Any) -> int | None:
    """A port literal (1-65535) or None; quoted digits count, templates do not."""
    number = number_of(node)
    return number if number is not None and 1 <= number <= 65535 else None


def number_of(node: Any) -> int | None:
    """A literal whole number in ASCII digits (any size, so ``323002`` in a port field is
    reported as wrong rather than skipped), or None."""
    text = scalar(node)
    if text is None or not _NUMBER_TEXT.fullmatch(text.strip()):
        return None
    return int(text)


def line_of(node: Any) -> int:
    return int(node.start_mark.line) + 1


MERGE_KEY = "<<"


def lookup(node: Any, key: str, memo: dict[tuple[int, str], Any] | None = None) -> Any:
    """``get`` that follows YAML merge keys (``<<: *base``, ``<<: [*a, *b]``): the
    mapping's own key wins, then the merged mappings in order, as YAML 1.1 merges.

    ``memo`` (one per document) keeps a chain of anchors that merge each other from
    being walked again for every mapping that merges it: linear in the document.
    """
    memo = {} if memo is None else memo
    if not is_mapping(node):
        return None
    known = (id(node), key)
    if known in memo:
        return memo[known]
    memo[known] = None  # a cycle (impossible in composed YAML) ends here, not in a loop
    found = get(node, key)
    if found is None:
        found = next(
            (hit for base in _merged(node) if (hit := lookup(base, key, memo)) is not None),
            None,
        )
    memo[known] = found
    return found


def _merged(node: Any) -> list[Any]:
    """The mappings a mapping node merges in (plain ``<<`` keys only, as YAML 1.1 reads)."""
    bases: list[Any] = []
    for key_node, value in node.value:
        if key_node.id == "scalar" and key_node.value == MERGE_KEY and not key_node.style:
            bases += [value] if is_mapping(value) else sequence(value)
    return bases
