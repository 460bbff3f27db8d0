"""Named points on a command's write path, where the tests inject faults.

Steps, in the order a command reaches them:

* ``after-plan``: everything planned in memory, nothing written (api);
* ``after-stage``: the journal and every temp file written, no original replaced;
* ``between-writes``: between two file replaces;
* ``before-registry`` / ``after-registry``: around the registry write (the last replace on
  the file store, the compare-and-swap on etcd).

Nothing in portreg sets :data:`observer`, so in an installed portreg every point does
nothing and no environment variable changes that. The tests' fault injector
(``tests/fault_injector.py``) sets it to kill, pause or fail at a step.
"""

from __future__ import annotations

from collections.abc import Callable

observer: Callable[[str], None] | None = None


def reach(step: str) -> None:
    """Tell the observer, if a test installed one, that the command reached ``step``."""
    if observer is not None:
        observer(step)
