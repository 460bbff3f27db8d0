"""The tests' fault injector: ``PORTREG_FAULT=step:action`` makes portreg die, pause or fail.

The steps are portreg's checkpoints (``portreg.io.checkpoints``). This module is not part
of portreg: it is installed into a portreg process only by a test, either in process
(the ``inject_fault`` fixture of conftest.py) or as the program a test runs instead of
``python -m portreg`` (``FAULTY_PORTREG``). An installed portreg ignores ``PORTREG_FAULT``.

Actions: ``kill`` (SIGKILL itself), ``pause`` (sleep ``PORTREG_FAULT_PAUSE`` seconds),
``fail`` (an OSError as if the disk were full).
"""

from __future__ import annotations

import errno
import math
import os
import signal
import sys
import time

# argv of a portreg with the injector installed: ``[*FAULTY_PORTREG, "check"]``
FAULTY_PORTREG = (sys.executable, os.path.abspath(__file__))


def point(step: str) -> None:
    """Die, pause or fail here if ``PORTREG_FAULT`` names this step; otherwise nothing."""
    wanted, _, action = os.environ.get("PORTREG_FAULT", "").partition(":")
    if wanted != step:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "pause":
        try:
            pause = float(os.environ.get("PORTREG_FAULT_PAUSE", "5"))
        except ValueError:
            pause = 5.0
        time.sleep(min(max(pause, 0.0), 60.0) if math.isfinite(pause) else 5.0)
    elif action == "fail":
        raise OSError(errno.ENOSPC, "No space left on device (injected)")


def install() -> None:
    from portreg.io import checkpoints

    checkpoints.observer = point


if __name__ == "__main__":
    install()
    from portreg.cli import main

    sys.exit(main())
