"""Applying planned edits all-or-nothing, with a journal that survives a kill.

Each file is written to a temp file in its own folder, fsynced, then
``os.replace``d over the original. Every temp file is written before any
original is replaced, and if a replace fails the ones already replaced are
put back, so a command changes all of its files or none. The registry is the
last edit in the list and so is replaced last.

A failed write is undone at once; a killed process cannot undo anything, so
the file store also passes a journal: every file's old and new text is
written there first, and the next portreg run that takes the lock finishes
the change (``recover``). The files are then all old (killed before the
journal was written) or all new.
"""

from __future__ import annotations

import errno
import glob
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from portreg.edit.shallow import require_shallow_json
from portreg.errors import StoreError, WriteError
from portreg.io import checkpoints
from portreg.io.files import RealPaths, fsync_folder, read_text, write_beside
from portreg.io.lock import FileLock, journal_path
from portreg.io.workspace import FileEdit


def _write_temp(target: Path, text: str, new_mode: int = 0o644) -> Path:
    """Write ``text`` beside ``target`` (same folder, so replace is atomic) and fsync it."""
    return Path(write_beside(str(target), text, new_mode))


def _writable(real: Path) -> Path:
    """Refuse a file its owner made read-only: replacing it would succeed, and ignore that."""
    if real.exists() and not os.access(real, os.W_OK):
        read_only_mount = os.statvfs(real).f_flag & os.ST_RDONLY
        code = errno.EROFS if read_only_mount else errno.EACCES
        raise OSError(code, os.strerror(code), str(real))
    return real


def _fsync_folder(folder: Path) -> None:
    fsync_folder(str(folder))


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


def _failure(edit: FileEdit, exc: OSError, lost: list[str], journal: Path | None) -> WriteError:
    message = f"cannot write: {exc.strerror or exc}"
    if lost and journal is not None:
        message += f"; could not put back {', '.join(lost)} (the next portreg command finishes it)"
    elif lost:
        message += f"; could not put back {', '.join(lost)} (restore them from git)"
    else:
        message += "; no file was changed"
    return WriteError(message, where=edit.display, hint="make the file writable and run again")


# ------------------------------------------------------------------ journal
# A kill between two replaces would leave some files new and some old. With a
# journal (the file store passes one, under its lock) the command first writes
# every file's old and new text to it: from then on the change is decided, and
# the next portreg run that takes the lock rolls it forward (``recover``).


def journal_text(files: Iterable[tuple[str, str, str | None, str | None]]) -> str:
    """The journal's text, one entry per file: its path relative to the journal's folder,
    how it is shown, and its old and new text (``recover`` reads it back)."""
    entries = [
        {"path": path, "display": display, "before": before, "after": after}
        for path, display, before, after in files
    ]
    return json.dumps({"portreg-journal": 1, "files": entries}, ensure_ascii=False)


def _write_journal(journal: Path, edits: Sequence[FileEdit], reals: list[Path]) -> None:
    document = journal_text(
        (os.path.relpath(real, journal.parent), edit.display, edit.before, edit.after)
        for edit, real in zip(edits, reals, strict=True)
    )
    os.replace(_write_temp(journal, document), journal)
    _fsync_folder(journal.parent)


def _drop_journal(journal: Path | None) -> None:
    if journal is not None:
        journal.unlink(missing_ok=True)
        _fsync_folder(journal.parent)


def _sweep_temps(target: Path) -> None:
    """Remove temp files a killed portreg left beside ``target`` (only safe under the lock)."""
    for leftover in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        leftover.unlink(missing_ok=True)


def _journal_files(journal: Path, text: str) -> list[dict[str, Any]]:
    try:
        require_shallow_json(text, str(journal))
        document = json.loads(text)
        files = document["files"]
        for item in files:
            if not isinstance(item["path"], str) or not isinstance(item["after"], str | None):
                raise TypeError(item)
            if not isinstance(item.get("before"), str | None):
                raise TypeError(item)
    except (ValueError, KeyError, TypeError) as exc:
        raise WriteError(
            "the journal of an interrupted portreg command is unreadable",
            where=str(journal),
            hint="check the config files with `git diff`, then delete the journal",
        ) from exc
    return list(files)


def recover(journal: Path, root: Path) -> list[str]:
    """Finish the change an interrupted command recorded in ``journal`` (caller holds the lock).

    Returns the files it wrote. A file edited by hand since then is not overwritten:
    that is refused, and the journal is kept for the user to resolve. A journal
    is never followed through a symlink, and one naming a file outside ``root``
    is refused: a cloned repo can hold a planted one.
    """
    _sweep_temps(journal)
    text = read_text(journal, follow_symlinks=False)
    if text is None:
        return []
    files = _journal_files(journal, text)
    real = RealPaths(str(root))
    edits: list[FileEdit] = []
    for item in files:
        path = journal.parent / item["path"]
        if not real.inside(str(path)):
            raise WriteError(
                f"the journal {journal.name} names a file outside the repo "
                f"({real.real(str(path))}); portreg wrote no such journal",
                where=str(journal),
                hint=f"delete {journal}",
            )
        current = read_text(path)
        _sweep_temps(path)
        if current == item["after"]:
            continue
        if current != item["before"]:
            raise WriteError(
                f"an interrupted portreg command left {journal.name}, and this file changed "
                "since, so its change cannot be finished",
                where=str(item.get("display") or path),
                hint=f"check the files with `git diff`, then delete {journal}",
            )
        edits.append(FileEdit(path, str(item.get("display") or path), current, item["after"]))
    if edits:
        _apply(edits, None, registry_last=False)
    _drop_journal(journal)
    return [edit.display for edit in edits]


@contextmanager
def locked(lock: FileLock, root: Path) -> Iterator[Path]:
    """Hold the checkout's lock (the one every writing command takes, on either store),
    finish a command killed while writing first, and yield the journal a write under
    it records itself in (``apply_edits(..., journal=...)``)."""
    journal = Path(journal_path(str(lock.path)))
    with lock.held():
        try:
            recover(journal, root)
        except OSError as exc:
            raise StoreError(
                f"cannot finish an interrupted command: {exc.strerror}",
                where=lock.where,
                hint="make the files writable and run again",
            ) from exc
        yield journal


# -------------------------------------------------------------------- apply


def _fault_before(index: int, count: int, registry_last: bool) -> None:
    """The named fault points between replaces (see ``checkpoints``)."""
    if registry_last and index == count - 1:
        checkpoints.reach("before-registry")
    elif index:
        checkpoints.reach("between-writes")


def apply_edits(
    edits: Sequence[FileEdit],
    *,
    root: Path | None,
    journal: Path | None = None,
    registry_last: bool = False,
) -> None:
    """Write every edit or none. A symlink stays a symlink: the file it points to is edited.

    ``root``: every edit must lead inside it (None only for a file the user named on
    the command line, as ``export --output`` and git's merge-driver paths are).
    ``journal`` (given by a caller holding the registry lock) makes the change survive a
    kill: it is recorded there before any file is touched and finished by ``recover``.
    ``registry_last`` names the last edit as the registry, for the fault points only.
    """
    if root is not None:
        _require_inside(edits, RealPaths(str(root)))
    if edits:
        _apply(edits, journal, registry_last=registry_last)


def _require_inside(edits: Sequence[FileEdit], real: RealPaths) -> None:
    for edit in edits:
        if not real.inside(str(edit.path)):
            raise WriteError(
                f"leads outside the repo ({real.real(str(edit.path))}); no file was changed",
                where=edit.display,
                hint="portreg reads and edits only files inside the repo",
            )


def _apply(edits: Sequence[FileEdit], journal: Path | None, *, registry_last: bool) -> None:
    staged: list[tuple[FileEdit, Path, Path | None]] = []  # no temp file for a deletion
    done: list[tuple[FileEdit, Path]] = []
    current = edits[0]
    try:
        reals = [_writable(edit.path.resolve()) for edit in edits]
        if journal is not None:
            _write_journal(journal, edits, reals)
        for edit, real in zip(edits, reals, strict=True):
            current = edit
            if edit.before is None:
                real.parent.mkdir(parents=True, exist_ok=True)
            temp = None if edit.after is None else _write_temp(real, edit.after, edit.mode)
            staged.append((edit, real, temp))
        checkpoints.reach("after-stage")
        for index, (edit, real, temp) in enumerate(staged):
            current = edit
            _fault_before(index, len(staged), registry_last)
            if temp is None:
                real.unlink(missing_ok=True)
            else:
                os.replace(temp, real)
            done.append((edit, real))
        if registry_last:
            checkpoints.reach("after-registry")
    except OSError as exc:
        for _edit, _real, temp in staged:
            if temp is not None:
                temp.unlink(missing_ok=True)
        lost = _restore(done)
        if not lost:
            _drop_journal(journal)
        raise _failure(current, exc, lost, journal) from exc
    for folder in {real.parent for _edit, real in done}:
        _fsync_folder(folder)
    _drop_journal(journal)
