"""The one YAML loader: every reader and every edit composes with it.

libyaml (CSafeLoader when present) composes positioned nodes. PyYAML asks the
loader for each node's tag while it composes; its own answer runs a regex per
plain scalar, in Python, called from C: half of composing a 4 MB file of
numbers. Readers never look at a plain scalar's tag (they read the text as
written, as their tool reads it), so the loader leaves it open (None) and
``base.tag_of`` resolves it (:func:`resolved`), exactly as PyYAML would have,
where an edit needs it.
An explicit tag (``!!str 8001``, ``!reset``) is kept as written.

This module imports PyYAML; :mod:`portreg.edit.yaml` imports it only when a
text is composed.
"""

from __future__ import annotations

import operator
from typing import Any

import yaml
from yaml.resolver import Resolver

try:
    from yaml import CSafeLoader as _Base
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Base  # type: ignore[assignment]

_RESOLVER: Any = Resolver()  # holds no state between calls: one for every lazy tag


class Loader(_Base):
    """CSafeLoader whose plain scalars carry no tag (None) until ``base.tag_of`` asks."""

    # PyYAML calls these around every node for path resolvers, of which a safe loader
    # has none (its own methods return at once); C no-ops spare a Python call per node
    descend_resolver = operator.is_  # type: ignore[assignment]  # (parent, index): not bound
    ascend_resolver = tuple  # type: ignore[assignment]  # (): an empty tuple, ignored

    def resolve(self, kind: type[yaml.Node], value: str | None, implicit: Any) -> Any:
        if kind is yaml.ScalarNode:
            # implicit[0]: a plain scalar with no tag, the one kind a regex resolves
            return None if implicit[0] else self.DEFAULT_SCALAR_TAG
        if kind is yaml.SequenceNode:
            return self.DEFAULT_SEQUENCE_TAG
        return self.DEFAULT_MAPPING_TAG


def resolved(plain: str) -> str:
    """The tag PyYAML's SafeLoader gives a plain scalar written as ``plain``."""
    return str(_RESOLVER.resolve(yaml.ScalarNode, plain, (True, False)))
