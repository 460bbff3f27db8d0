"""Writing a file so that readers see the old text or the new, never half of either.

The new text goes to a temp file in the same folder (so ``os.replace`` is one
atomic rename), fsynced, with the old file's permission bits. Import-light:
``quick`` writes the registry through here too.
"""

from __future__ import annotations

import itertools
import os
import stat

_COUNTER = itertools.count()


def temp_name(target: str) -> str:
    """``.<name>.<pid>-<n>.tmp`` beside ``target``; ``plan`` sweeps these after a crash."""
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}.{os.getpid()}-{next(_COUNTER)}.tmp")


def write_beside(target: str, text: str) -> str:
    """Write ``text`` to a new temp file beside ``target``, fsynced; returns its path."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o644
    while True:
        temp = temp_name(target)
        try:
            descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
    except BaseException:
        os.unlink(temp)
        raise
    return temp


def fsync_folder(folder: str) -> None:
    """Make a rename in ``folder`` durable (best effort: not every system allows it)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def replace_file(target: str, text: str) -> None:
    """Replace one file's text atomically and durably."""
    os.replace(write_beside(target, text), target)
    fsync_folder(os.path.dirname(target) or ".")
