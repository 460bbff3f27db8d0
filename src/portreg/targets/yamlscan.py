"""Reading YAML as positioned nodes for the scanners (compose, manifests, Helm values).

``yaml.compose_all`` gives nodes that know their line, without building Python
objects or resolving anchors into copies; through the one loader
(:mod:`portreg.edit.yaml.loader`: libyaml, no regex per plain scalar).
Only literal scalars are read: a templated value (``{{ .Values.port }}``) is not
a port and is skipped, never guessed.

Numbers are read as the file's own tool reads them. Kubernetes manifests and
Helm values go through go-yaml v2, a YAML 1.1 resolver: :func:`int_of` (so
``017501`` is 8001), and of duplicate keys the last wins (:func:`last`), which
:func:`refuse_duplicates` reports when the key holds a port. Compose (go-yaml
v3, YAML 1.2) reads the decimal text: :func:`number_of` and :func:`port_of`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from portreg.edit.heap import collector_paused
from portreg.errors import FileEditError, PortregError
from portreg.model import yaml11_int

_NUMBER_TEXT = re.compile(r"[0-9]{1,9}")


def documents(text: str, display: str, limit: int | None = None) -> list[Any]:
    """Every document of a YAML stream as a node tree (the first ``limit`` only: a reader
    that refuses a second one need not compose 60,000); a parse error names path:line."""
    # PyYAML is imported here, on the first file read: importing a reader costs nothing
    import yaml

    from portreg.edit.yaml.loader import Loader

    found: list[Any] = []
    try:
        with collector_paused():
            for node in yaml.compose_all(text, Loader=Loader):
                if node is not None:
                    found.append(node)
                if limit is not None and len(found) >= limit:
                    break
        return found
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


def int_of(node: Any, *, quoted: bool = False) -> int | None:
    """The whole number a scalar means to a YAML 1.1 reader (kind, Helm, kubectl), or None.

    A quoted scalar is a string, which kind and the Kubernetes API refuse for a
    port field, so it is no port; ``quoted=True`` reads its text all the same
    (a Helm value: the template writes the text into a manifest, where it is
    read again as plain YAML).
    """
    if node is None or node.id != "scalar" or (node.style and not quoted):
        return None
    if node.style in ("|", ">"):
        return None
    return yaml11_int(str(node.value))


def int_port_of(node: Any, *, quoted: bool = False) -> int | None:
    """:func:`int_of` when it is a port (1-65535), else None."""
    number = int_of(node, quoted=quoted)
    return number if number is not None and 1 <= number <= 65535 else None


def pairs(node: Any, key: str) -> list[tuple[Any, Any]]:
    """Every (key node, value node) of a mapping node under ``key``: more than one when
    the key is written twice."""
    return by_key(node).get(key, [])


def by_key(node: Any) -> dict[str, list[tuple[Any, Any]]]:
    """:func:`pairs` of every scalar key of a mapping node, in one pass."""
    found: dict[str, list[tuple[Any, Any]]] = {}
    if node is not None and node.id == "mapping":
        for pair in node.value:
            if pair[0].id == "scalar":
                found.setdefault(pair[0].value, []).append(pair)
    return found


def last(node: Any, key: str) -> Any:
    """The value node under ``key`` as go-yaml v2 reads it: of duplicate keys, the last."""
    found = pairs(node, key)
    return found[-1][1] if found else None


def refuse_duplicates(found: list[tuple[Any, Any]], name: str, where: str, taken: str) -> None:
    """Raise when a key holding a port is written twice: which one counts is up to the tool
    (``taken`` says what it does), and a reader that picked one would be guessing."""
    if len(found) < 2:
        return
    lines = [line_of(key) for key, _value in found]
    listed = ", ".join(map(str, lines[:-1])) + f" and {lines[-1]}"
    raise FileEditError(  # a PortregError; fix says "Not fixed" for it as well
        f"duplicate key {name} (lines {listed}); {taken}",
        where=f"{where}:{lines[-1]}",
        hint="remove the duplicate key",
    )


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
