"""Test-only fault points: ``PORTREG_FAULT=step:action`` makes portreg die, pause or fail there.

Steps, in the order a command reaches them:

* ``after-plan``: everything planned in memory, nothing written (api);
* ``after-stage``: the journal and every temp file written, no original replaced (plan);
* ``between-writes``: between two config file replaces (plan);
* ``before-registry`` / ``after-registry``: around the registry write (the last replace on
  the file store, the compare-and-swap on etcd).

Actions: ``kill`` (SIGKILL itself), ``pause`` (sleep ``PORTREG_FAULT_PAUSE`` seconds),
``fail`` (an OSError as if the disk were full). Does nothing unless the variable is set.
"""

from __future__ import annotations

import os


def point(step: str) -> None:
    """Die, pause or fail here if ``PORTREG_FAULT`` names this step; otherwise nothing."""
    spec = os.environ.get("PORTREG_FAULT")
    if not spec:
        return
    wanted, _, action = spec.partition(":")
    if wanted != step:
        return
    if action == "kill":
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "pause":
        import time

        try:
            pause = float(os.environ.get("PORTREG_FAULT_PAUSE", "5"))
        except ValueError:
            pause = 5.0
        import math

        time.sleep(min(max(pause, 0.0), 60.0) if math.isfinite(pause) else 5.0)
    elif action == "fail":
        import errno

        raise OSError(errno.ENOSPC, "No space left on device (injected)")
