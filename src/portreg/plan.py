"""Rendering planned edits as a diff, and applying them all-or-nothing.

Each file is written to a temp file in its own folder, fsynced, then
``os.replace``d over the original. Every temp file is written before any
original is replaced, and if a replace fails the ones already replaced are
put back, so a command changes all of its files or none. The registry is the
last edit in the list and so is replaced last.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

from portreg import faults
from portreg.errors import WriteError
from portreg.workspace import FileEdit


def render_diff(edits: Sequence[FileEdit]) -> str:
    """A unified diff of every planned edit, as ``git diff`` would show it."""
    import difflib

    chunks: list[str] = []
    for edit in edits:
        before = (edit.before or "").splitlines(keepends=True)
        after = edit.after.splitlines(keepends=True)
        old = "/dev/null" if edit.before is None else f"a/{edit.display}"
        chunks.extend(difflib.unified_diff(before, after, old, f"b/{edit.display}"))
        if chunks and not chunks[-1].endswith("\n"):
            chunks.append("\n\\ No newline at end of file\n")
    return "".join(chunks)


def _write_temp(target: Path, text: str) -> Path:
    """Write ``text`` beside ``target`` (same folder, so replace is atomic) and fsync it."""
    descriptor, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644
        os.chmod(temp, mode)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _fsync_folder(folder: Path) -> None:
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


def _restore(done: list[tuple[FileEdit, Path]]) -> list[str]:
    """Put back every file already replaced; returns the ones that could not be restored."""
    lost = []
    for edit, real in reversed(done):
        try:
            if edit.before is None:
                real.unlink(missing_ok=True)
            else:
                os.replace(_write_temp(real, edit.before), real)
        except OSError:
            lost.append(edit.display)
    return lost


def _failure(edit: FileEdit, exc: OSError, lost: list[str]) -> WriteError:
    message = f"cannot write: {exc.strerror or exc}"
    if lost:
        message += f"; could not put back {', '.join(lost)} (restore them from git)"
    else:
        message += "; no file was changed"
    return WriteError(message, where=edit.display, hint="make the file writable and run again")


def apply_edits(edits: Sequence[FileEdit]) -> None:
    """Write every edit or none. A symlink stays a symlink: the file it points to is edited."""
    staged: list[tuple[FileEdit, Path, Path]] = []
    try:
        for edit in edits:
            real = edit.path.resolve()
            if edit.before is None:
                real.parent.mkdir(parents=True, exist_ok=True)
            staged.append((edit, real, _write_temp(real, edit.after)))
    except OSError as exc:
        for _edit, _real, temp in staged:
            temp.unlink(missing_ok=True)
        raise _failure(edits[len(staged)], exc, []) from exc
    faults.point("after-stage")
    done: list[tuple[FileEdit, Path]] = []
    for index, (edit, real, temp) in enumerate(staged):
        try:
            if index == len(staged) - 1:
                faults.point("before-last")
            elif index:
                faults.point("between-writes")
            os.replace(temp, real)
        except OSError as exc:
            for _e, _r, leftover in staged[index:]:
                leftover.unlink(missing_ok=True)
            raise _failure(edit, exc, _restore(done)) from exc
        done.append((edit, real))
    for folder in {real.parent for _edit, real in done}:
        _fsync_folder(folder)
    faults.point("after-apply")
