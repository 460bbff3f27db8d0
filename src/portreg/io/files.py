"""The one door to repo files: contained paths, reading, listing, atomic writing.

Every read and write of a repo file goes through here:

- *contained*: :class:`RealPaths` says whether a path, with every symlink
  on the way followed, stays inside the repo root;
- *reading*: :func:`read_text` opens without blocking, refuses anything but a
  regular file and anything over :data:`MAX_FILE_BYTES`, and decodes UTF-8
  keeping the file's own newlines;
- *listing*: :func:`glob_files`, the repo files a pattern matches;
- *writing*: :func:`write_beside` stages the new text in a temp file in the
  same folder (so ``os.replace`` is one atomic rename), fsynced, with the old
  file's permission bits; ``io.transaction`` replaces the originals.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import stat
from collections.abc import Sequence

from portreg.errors import FileEditError

MAX_FILE_BYTES = 4 * 1024 * 1024
_COUNTER = itertools.count()


class RealPaths:
    """Where paths under one root really lead, with each folder resolved once.

    A file's real path is its folder's real path plus its name unless the file
    itself is a symlink, so a thousand values files in one folder cost one
    ``realpath`` and a thousand ``lstat`` calls, not a thousand ``realpath``.
    """

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)
        self._folders: dict[str, str] = {}

    def real(self, path: str) -> str:
        # ``..`` must be folded before the folder is looked up; a clean absolute path
        # (what the workspace builds) needs no normpath
        clean = path if os.path.isabs(path) and "/." not in path else os.path.abspath(path)
        folder, name = os.path.split(clean)
        real_folder = self._folders.get(folder)
        if real_folder is None:
            real_folder = self._folders[folder] = os.path.realpath(folder)
        try:
            is_link = stat.S_ISLNK(os.lstat(path).st_mode)
        except OSError:
            is_link = False
        return os.path.realpath(path) if is_link else os.path.join(real_folder, name)

    def inside(self, path: str) -> bool:
        """Inside the root, and not in its ``.git`` (git's own files are never portreg's)."""
        real = self.real(path)
        prefix = self.root.rstrip(os.sep) + os.sep
        if real == os.path.join(self.root, ".git") or real.startswith(prefix + ".git" + os.sep):
            return False
        return real == self.root or real.startswith(prefix)


def require_user_output(path: str, own: Sequence[str], git_dir: str | None = None) -> None:
    """A file the user names for portreg to write (``export --out``, ``docs FILE``) may lie
    anywhere, but never in a ``.git`` folder or the repo's git dir wherever it lives
    (``git init --separate-git-dir``, a worktree's), never over one of portreg's own files
    (``own``: the registry, the config), and never in a folder that does not exist."""
    real = os.path.realpath(path)
    inside_git = git_dir is not None and real.startswith(os.path.realpath(git_dir) + os.sep)
    if ".git" in real.split(os.sep) or inside_git:
        raise FileEditError(
            f"is inside a git folder ({real}); portreg never writes there",
            where=path,
            hint="name a file outside the git folder",
        )
    if real in {os.path.realpath(name) for name in own}:
        raise FileEditError(
            "is portreg's own file (the registry or the config); writing over it would lose it",
            where=path,
            hint="name another file",
        )
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise FileEditError(
            f"its folder {folder} does not exist", where=path, hint="create it first"
        )


def _too_large(where: str) -> FileEditError:
    return FileEditError(
        f"file is over {MAX_FILE_BYTES >> 20} MB; refusing to read it as a config file",
        where=where,
    )


def _require_regular(info: os.stat_result, where: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise FileEditError("is a folder, not a file", where=where)
    if not stat.S_ISREG(info.st_mode):
        raise FileEditError("is not a regular file (a FIFO, socket or device)", where=where)
    if info.st_size > MAX_FILE_BYTES:
        raise _too_large(where)


def stamp(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """A file's change stamp (mtime in ns, size), None when it is gone: whether a file
    read earlier changed since, at the cost of one ``stat``."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def read_text(
    path: str | os.PathLike[str], *, follow_symlinks: bool = True, of_paths: bool = False
) -> str | None:
    """A file's text with its own newlines kept (CRLF stays CRLF); None if it does not exist.

    Opened with ``O_NONBLOCK``, so a FIFO in a file's place is refused at once
    instead of waiting forever for a writer. ``follow_symlinks=False`` refuses a
    symlink (portreg's own files: the journal). ``of_paths``: the file holds file names
    (git's ``gitdir:`` and ``commondir``), decoded as the OS decodes a path, so a name
    that is not UTF-8 still leads where it did.
    """
    where = os.fspath(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        descriptor = os.open(where, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            what = "is a symlink" if not follow_symlinks else "is a symlink loop"
            raise FileEditError(f"{what}; portreg does not follow it", where=where) from exc
        if isinstance(exc, IsADirectoryError):
            raise FileEditError("is a folder, not a file", where=where) from exc
        raise FileEditError(f"cannot read: {exc.strerror}", where=where) from exc
    try:
        _require_regular(os.fstat(descriptor), where)
        data = os.read(descriptor, MAX_FILE_BYTES + 1)
        while len(data) <= MAX_FILE_BYTES:
            more = os.read(descriptor, MAX_FILE_BYTES + 1 - len(data))
            if not more:
                break
            data += more
    except OSError as exc:
        raise FileEditError(f"cannot read: {exc.strerror}", where=where) from exc
    finally:
        os.close(descriptor)
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(where)
    if of_paths:
        return os.fsdecode(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileEditError(f"not UTF-8 text ({exc.reason})", where=where) from exc


def _one_star(root: str, pattern: str) -> list[str] | None:
    """``dir/prefix*suffix`` (the shape of every values path) listed with one scandir;
    None for any other pattern. Same answer as ``glob``: ``*`` skips dot-files.
    Folders are dropped by the entry's type (no ``stat`` on most systems); anything else
    (a FIFO, a dangling link) is listed, for the reader to refuse by name."""
    folder, _, name = pattern.rpartition("/")
    if name.count("*") != 1 or any(c in pattern for c in "?[") or "*" in folder:
        return None
    prefix, _, suffix = name.partition("*")
    try:
        with os.scandir(os.path.join(root, folder)) as listing:
            entries = [
                entry.name
                for entry in listing
                if entry.name.startswith(prefix)
                and entry.name.endswith(suffix)
                and not entry.is_dir()
            ]
    except OSError:
        return []
    hidden_ok = prefix.startswith(".")
    lead = f"{folder}/" if folder else ""
    return [
        lead + entry
        for entry in entries
        if len(entry) >= len(prefix) + len(suffix) and (hidden_ok or not entry.startswith("."))
    ]


def _star_folder(root: str, pattern: str) -> list[str] | None:
    """``dir/*/rest`` (a file per service folder, as OpenAPI trees are laid out): one
    listdir and one ``stat`` per folder; None for other patterns."""
    head, star, rest = pattern.partition("/*/")
    if not star or any(c in head + rest for c in "*?[") or "*" in head:
        return None
    try:
        entries = os.listdir(os.path.join(root, head))
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.startswith("."):
            continue
        name = f"{head}/{entry}/{rest}" if head else f"{entry}/{rest}"
        path = os.path.join(root, name)
        if os.path.lexists(path) and not os.path.isdir(path):
            found.append(name)
    return found


def _fixed_folder(pattern: str) -> str:
    """The folders of ``pattern`` before its first wildcard (``k8s`` for ``k8s/**/*.yaml``)."""
    parts = pattern.split("/")
    fixed = []
    for part in parts[:-1]:
        if any(char in part for char in "*?["):
            break
        fixed.append(part)
    return "/".join(fixed)


def glob_files(root: str, pattern: str) -> list[str]:
    """Repo-relative entries matching ``pattern`` (``**`` allowed), sorted; folders dropped
    (everything else is kept: a FIFO or a dangling link is refused when it is read).

    A name that is not printable UTF-8 (a newline that would forge a line of output, bytes
    that are not UTF-8) is refused here, once, for every command.
    """
    listed = _one_star(root, pattern)
    if listed is None:
        listed = _star_folder(root, pattern)
    if listed is None and not any(char in pattern for char in "*?["):
        path = os.path.join(root, pattern)  # a plain path: one lstat, no listing
        listed = [pattern] if os.path.lexists(path) and not os.path.isdir(path) else []
    if listed is None and "**" not in pattern:
        import glob  # a fixed depth: glob cannot recurse, so cannot loop

        found = glob.glob(pattern, root_dir=root)
        listed = [name for name in found if not os.path.isdir(os.path.join(root, name))]
    if listed is None:
        listed = _walk(root, pattern)
    for name in listed:
        _require_plain_name(root, name)
    return sorted(listed)


def _require_plain_name(root: str, name: str) -> None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        printable = False
    else:
        printable = name.isprintable()
    if not printable:
        folder = os.path.dirname(name) or "."
        raise FileEditError(
            f"holds a file whose name is not printable UTF-8 ({name!r})",
            where=folder,
            hint="rename or remove it",
        )


def _walk(root: str, pattern: str) -> list[str]:
    """Any other pattern (``k8s/**/*.yaml``): a walk that never follows a folder symlink.

    ``glob.glob`` follows them, so a link loop (``k8s/a -> .``) or a link to ``/`` makes it
    walk forever; the names it gives otherwise are the same (dot-files skipped by
    wildcards, ``**`` entering no hidden folder).
    """
    base = _fixed_folder(pattern)
    start = os.path.join(root, base) if base else root
    if not os.path.isdir(start):
        return []
    regex = glob_regex(pattern)
    found = []
    for folder, folders, files in os.walk(start, followlinks=False):
        folders[:] = [name for name in folders if not os.path.islink(os.path.join(folder, name))]
        relative = os.path.relpath(folder, root)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        found += [prefix + name for name in files if regex.fullmatch(prefix + name)]
        found += [prefix + name for name in folders if regex.fullmatch(prefix + name)]
    return [name for name in found if not os.path.isdir(os.path.join(root, name))]


def glob_regex(pattern: str) -> re.Pattern[str]:
    """The names ``glob`` matches for ``pattern``, as one regex over ``/``-joined paths."""
    parts: list[str] = []
    segments = pattern.split("/")
    for index, segment in enumerate(segments):
        if segment == "**":
            last = index == len(segments) - 1
            parts.append(r"(?:(?!\.)[^/]+/)*(?!\.)[^/]+" if last else r"(?:(?!\.)[^/]+/)*")
            continue
        regex = "" if segment.startswith(".") else r"(?!\.)"
        position = 0
        while position < len(segment):
            char = segment[position]
            close = segment.find("]", position + 2) if char == "[" else -1
            if char == "*":
                regex += "[^/]*"
            elif char == "?":
                regex += "[^/]"
            elif close != -1:
                body = segment[position + 1 : close]
                body = "^" + body[1:] if body.startswith("!") else body
                regex += "[" + body.replace("\\", "\\\\") + "]"
                position = close
            else:
                regex += re.escape(char)
            position += 1
        parts.append(regex + ("" if index == len(segments) - 1 else "/"))
    return re.compile("".join(parts))


def temp_name(target: str) -> str:
    """``.<name>.<pid>-<n>.tmp`` beside ``target``; the transaction sweeps these after a crash."""
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}.{os.getpid()}-{next(_COUNTER)}.tmp")


def write_beside(target: str, text: str, new_mode: int = 0o644) -> str:
    """Write ``text`` to a new temp file beside ``target``, fsynced; returns its path.

    The temp file gets ``target``'s permission bits, or ``new_mode`` when there is none.
    """
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = new_mode
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
