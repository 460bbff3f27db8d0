"""The repo's own files, as ``init`` and a repo without a config look for its layout.

In a git checkout, git's own list (tracked files and untracked ones it does not
ignore), so a build folder or a local virtualenv in ``.gitignore`` is never read;
anywhere else, a walk. A folder symlink is one entry ending in ``/`` (``k8s/``),
never followed (as git keeps it): what it holds is read only where the config names
it, and a link out of the repo is then refused. Either way, vendored and generated
folders (``node_modules``, ``vendor``, ...) and hidden folders are
left out: their files are someone else's; so are test fixtures (``fixtures``,
``testdata``): files that stand for another repo's, fed to a test, never run here.
"""

from __future__ import annotations

import os
import subprocess

from portreg.io.lock import git_dir

SKIPPED_FOLDERS = frozenset(
    {
        "node_modules",
        "vendor",
        "third_party",
        "bower_components",
        "__pycache__",
        "venv",
        "site-packages",
        "dist",
        "build",
        "target",
        "out",
        "fixtures",
        "__fixtures__",
        "test-fixtures",
        "test_fixtures",
        "testdata",
    }
)
MAX_FILES = 200_000  # a listing beyond this is not a service repo's layout


def repo_files(root: str) -> list[str]:
    """Repo-relative ``/``-joined paths of the repo's own files, sorted; a linked folder's
    ends in ``/``, so it is told from a file of the same name."""
    listed = _git_files(root)
    if listed is None:
        listed = _walked_files(root)
    return sorted(name for name in listed if _kept(name))


def _kept(name: str) -> bool:
    """Not in a skipped folder, and a name a config can hold (printable, as every config
    string must be): one that is not UTF-8 (its bytes kept as surrogates) or holds a
    control character is written in no ``portreg.toml``, so it is no part of a layout."""
    *folders, _file = name.split("/")
    if any(part in SKIPPED_FOLDERS or part.startswith(".") for part in folders):
        return False
    return name.isprintable()


def _git_files(root: str) -> list[str] | None:
    """``git ls-files`` at the checkout's top; None when ``root`` is not one (or git fails)."""

    if git_dir(root) is None:
        return None
    try:
        done = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    names = [name for name in os.fsdecode(done.stdout).split("\0") if name]
    return [entry for name in names[:MAX_FILES] if (entry := _entry(root, name)) is not None]


def _entry(root: str, name: str) -> str | None:
    """A file as it is, a linked folder as ``name/`` (git lists one as one entry, never
    its files), anything else (a FIFO, a socket, a file gone since) None."""
    path = os.path.join(root, name)
    if os.path.islink(path):
        return name + "/" if os.path.isdir(path) else name
    return name if os.path.isfile(path) else None


def _walked_files(root: str) -> list[str]:
    found: list[str] = []
    for folder, folders, files in os.walk(root, followlinks=False):
        relative = os.path.relpath(folder, root)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        kept = [n for n in folders if not n.startswith(".") and n not in SKIPPED_FOLDERS]
        linked = [n for n in kept if os.path.islink(os.path.join(folder, n))]
        folders[:] = sorted(set(kept) - set(linked))
        found += [prefix + name for name in files] + [prefix + name + "/" for name in linked]
        if len(found) > MAX_FILES:
            break
    return found[:MAX_FILES]
