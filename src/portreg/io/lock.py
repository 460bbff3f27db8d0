"""An exclusive ``flock`` on a separate lock file, waited for up to a timeout.

The kernel drops an flock when its holder dies, so a lock file left behind by
a killed process never blocks anyone. The holder's pid is written into the
file only to name it in the timeout message.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from portreg.errors import LockTimeoutError, PortregError, StoreError
from portreg.io.files import read_text


class FileLock:
    def __init__(
        self, path: str | Path, timeout: float, where: str, what: str = "the registry"
    ) -> None:
        self.path = path
        self.timeout = timeout
        self.where = where
        self.what = what  # what the lock guards, as its timeout message names it

    @contextmanager
    def held(self) -> Iterator[None]:
        descriptor = self._open()
        try:
            self._acquire(descriptor)
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(descriptor)

    def _open(self) -> int:
        """The lock file, never through a symlink and never anything but a regular file
        (a planted link would have the lock truncate and write the file it points to)."""
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            descriptor = os.open(self.path, flags, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise StoreError(
                    f"the lock file {os.path.basename(self.path)} is a symlink; portreg "
                    "never writes through one",
                    where=self.where,
                    hint=f"delete {self.path} (portreg creates it again)",
                ) from exc
            raise StoreError(
                f"cannot create the lock file {os.path.basename(self.path)}: {exc.strerror}",
                where=self.where,
                hint=f"make {os.path.dirname(self.path) or '.'} writable",
            ) from exc
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise StoreError(
                f"the lock file {os.path.basename(self.path)} is not a regular file",
                where=self.where,
                hint=f"delete {self.path} (portreg creates it again)",
            )
        return descriptor

    def _holder(self, descriptor: int) -> str:
        try:
            pid = os.pread(descriptor, 32, 0).decode().strip()
        except (OSError, UnicodeDecodeError):
            return ""
        return f" (pid {pid})" if pid.isascii() and pid.isdigit() else ""

    def _acquire(self, descriptor: int) -> None:
        deadline = time.monotonic() + self.timeout
        delay = 0.002
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise StoreError(f"cannot lock: {exc.strerror}", where=self.where) from exc
            if time.monotonic() >= deadline:
                registry = self.what == "the registry"  # lock-timeout is the registry's
                raise LockTimeoutError(
                    f"{self.what} is locked by another portreg{self._holder(descriptor)} "
                    f"for more than {self.timeout:g} s",
                    where=self.where,
                    hint="wait for it to finish"
                    + (", or raise lock-timeout in portreg.toml" if registry else ""),
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


def state_folder(root: str) -> str:
    """Where portreg keeps its lock and journal for one checkout: the checkout's git dir
    (as git keeps ``index.lock``), else a folder of the user's outside the repo.

    Never in the work tree: there they would show in ``git status``, and a cloned repo
    could ship a lock or journal of its own choosing. A ``.git`` that is a symlink, or a
    ``gitdir:`` file that names no git dir, is not trusted: the user's folder is used.
    """
    return git_dir(root) or _user_state_folder(root)


def git_dir(root: str) -> str | None:
    """The git dir of the checkout whose top is ``root``: ``.git`` when it is a real folder,
    the ``gitdir:`` of a worktree's ``.git`` file when that names a git dir; else None."""
    dot_git = os.path.join(root, ".git")
    try:
        info = os.lstat(dot_git)
    except OSError:
        return None
    if stat.S_ISDIR(info.st_mode):
        return dot_git
    if stat.S_ISREG(info.st_mode):  # a worktree: "gitdir: <path>"
        return _worktree_git_dir(root, dot_git)
    return None


def _worktree_git_dir(root: str, dot_git: str) -> str | None:
    try:
        text = read_text(dot_git, of_paths=True) or ""
    except PortregError:
        return None
    key, _, value = text.strip().partition(":")
    if key != "gitdir" or not value.strip():
        return None
    git_dir = os.path.join(root, value.strip())
    return git_dir if os.path.isfile(os.path.join(git_dir, "HEAD")) else None


def user_state_home() -> str:
    """portreg's folder of the user's state (the instance ledger, the lock of a checkout
    outside git): ``$PORTREG_STATE_HOME``, else ``$XDG_STATE_HOME/portreg``, else
    ``~/.local/state/portreg``. A relative ``$XDG_STATE_HOME`` is ignored, as the XDG
    spec says; a relative ``$PORTREG_STATE_HOME`` is refused (the state would follow
    the current folder into a checkout)."""
    own = os.environ.get("PORTREG_STATE_HOME")
    if own:
        if not os.path.isabs(own):
            raise StoreError(
                f"{own!r} is a relative path; the state folder must not move with the "
                "current folder",
                where="PORTREG_STATE_HOME",
                hint="set it to an absolute path",
            )
        return own
    xdg = os.environ.get("XDG_STATE_HOME", "")
    base = xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "portreg")


def _user_state_folder(root: str) -> str:
    """``<user_state_home>/<checkout>``, made private."""
    import hashlib  # a checkout outside git only: query and list never hash

    name = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:32]
    folder = os.path.join(user_state_home(), name)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create portreg's state folder {folder}: {exc.strerror}",
            hint="set PORTREG_STATE_HOME to a writable folder",
        ) from exc
    return folder


def checkout_lock_path(root: str) -> str:
    """The lock every portreg process on one checkout takes (file store and etcd alike)."""
    return os.path.join(state_folder(root), "portreg.lock")


def journal_path(lock: str) -> str:
    """The journal a command writes under ``lock`` (``recover`` finishes it)."""
    return lock.removesuffix(".lock") + ".journal"
