"""portreg: a port registry for microservice repositories on Kubernetes.

    >>> from portreg import Registry
    >>> outcome = Registry.open("path/to/repo").assign("invoice", update_configs=True)
    >>> outcome.port, outcome.node_port, outcome.changed_files

Names are imported lazily so ``portreg query`` starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from portreg.api import Outcome, Registry
    from portreg.errors import PortregError
    from portreg.model import Assignment

__all__ = ["Assignment", "Outcome", "PortregError", "Registry"]
__version__ = "0.1.0"

_HOMES = {
    "Registry": "portreg.api",
    "Outcome": "portreg.api",
    "Assignment": "portreg.model",
    "PortregError": "portreg.errors",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'portreg' has no attribute {name!r}")
