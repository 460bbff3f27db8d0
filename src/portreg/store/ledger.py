"""The machine's ledger of instances: one JSON file under the user's state folder.

Read without a lock (a write replaces the file by a rename, so a reader sees the old
ledger or the new one, whole); changed only under an exclusive lock beside it, so two
checkouts asking at the same moment never get overlapping blocks. A process killed
mid-change leaves the old file and at most a temp file beside it.
"""

from __future__ import annotations

import binascii
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from portreg.edit.shallow import require_shallow_json
from portreg.errors import PortregError, StoreConflictError
from portreg.io.files import fsync_folder, read_text, write_beside
from portreg.io.lock import FileLock, git_dir, user_state_home
from portreg.model.instances import LEDGER_VERSION, Block, InstanceError, block_from_json

if TYPE_CHECKING:
    from portreg.config import Settings

LOCK_TIMEOUT = 10.0
DAMAGED_HINT = "delete it: `portreg instance` records this checkout again"
LEDGER_ENV = "PORTREG_LEDGER"  # etcd://host:2379/key: a ledger shared by a CI host's jobs
Change = Callable[[list[Block]], list[Block]]


if TYPE_CHECKING:  # a Protocol costs its definition at run time: `env` never needs it

    class Ledger(Protocol):
        where: str

        def read(self) -> list[Block]: ...

        def change(self, update: Change) -> list[Block]: ...


def open_ledger(settings: Settings) -> Ledger:
    """The machine's ledger: the file under the state folder, or the etcd key
    ``$PORTREG_LEDGER`` names (its TLS and credentials from the repo's ``[etcd]``)."""
    url = os.environ.get(LEDGER_ENV, "")
    if url:
        from portreg.store.etcd import EtcdStore

        return EtcdLedger(EtcdStore.from_url(url, settings))
    return FileLedger(state_folder())


def state_folder() -> Path:
    """portreg's folder of the user's state (``io.lock.user_state_home``)."""
    return Path(user_state_home())


class FileLedger:
    """The ledger in ``folder``: ``instances.json`` and its lock ``instances.lock``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "instances.json"
        self.where = str(self.path)

    def read(self) -> list[Block]:
        """The ledger's blocks (none when there is no file yet). Read as portreg reads a
        config file: a FIFO, a folder or a file over its size is refused at once."""
        try:
            text = read_text(self.path)
        except PortregError as exc:
            raise InstanceError(
                f"cannot read the instance ledger: {exc.message}",
                where=self.where,
                hint=DAMAGED_HINT,
            ) from exc
        return [] if text is None else parse(text, self.where)

    def change(self, update: Change) -> list[Block]:
        """Apply ``update`` to the ledger under its lock; the ledger it wrote."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise unwritable("cannot create the state folder", exc, str(self.folder)) from exc
        lock = FileLock(
            self.folder / "instances.lock", LOCK_TIMEOUT, self.where, "the instance ledger"
        )
        with lock.held():
            before = self.read()
            after = update(list(before))
            if after != before:
                self._write(render(after))
        return after

    def _write(self, text: str) -> None:
        """Replace the ledger whole; a symlinked ledger stays a symlink (the file it leads
        to is changed). One error line when it cannot be written, no temp file left."""
        target = os.path.realpath(self.path)
        temp = None
        try:
            temp = write_beside(target, text)
            os.replace(temp, target)
        except OSError as exc:
            if temp is not None and os.path.lexists(temp):
                os.unlink(temp)
            raise unwritable("cannot write the instance ledger", exc, self.where) from exc
        fsync_folder(os.path.dirname(target))


def parse(text: str, where: str) -> list[Block]:
    """The ledger's blocks; one error line when it is not a ledger."""
    try:
        require_shallow_json(text, where)
        document = json.loads(text)
        version = document.get("version") if isinstance(document, dict) else None
        if isinstance(version, bool) or version != LEDGER_VERSION:
            raise ValueError(f"not a version {LEDGER_VERSION} ledger")
        rows = document.get("instances")
        if not isinstance(rows, list):
            raise ValueError("no list of instances")
        return [block_from_json(row) for row in rows]
    except PortregError as exc:
        raise InstanceError(
            f"the instance ledger is damaged: {exc.message}", where=where, hint=DAMAGED_HINT
        ) from exc
    except ValueError as exc:
        raise InstanceError(
            f"the instance ledger is damaged: {exc}", where=where, hint=DAMAGED_HINT
        ) from exc


def render(blocks: list[Block]) -> str:
    rows = [block.as_json() for block in sorted(blocks, key=lambda b: (b.repo, b.instance))]
    return json.dumps({"version": LEDGER_VERSION, "instances": rows}, indent=2) + "\n"


class EtcdLedger:
    """The ledger as one etcd key, changed by compare-and-swap (retried on a conflict)."""

    def __init__(self, store: EtcdStore) -> None:
        self.store = store
        self.where = store.location

    def read(self) -> list[Block]:
        text = self.store.load().text
        return [] if text is None else parse(text, self.where)

    def change(self, update: Change) -> list[Block]:
        for _attempt in range(100):
            snapshot = self.store.load()
            before = [] if snapshot.text is None else parse(snapshot.text, self.where)
            after = update(list(before))
            if after == before:
                return after
            try:
                self.store.commit(snapshot, render(after))
            except StoreConflictError:
                continue
            return after
        raise InstanceError("the ledger kept changing under us; gave up", where=self.where)


if TYPE_CHECKING:
    from portreg.store.etcd import EtcdStore


def repo_identity(root: Path) -> tuple[str, str]:
    """Who a checkout belongs to: its ``origin`` URL (clones of one repo are one repo),
    else the git dir its worktrees share; and a short name for the repo."""
    own = git_dir(str(root))
    if own is None:
        return os.path.realpath(root), Path(os.path.realpath(root)).name
    common = own
    pointer = read_text(os.path.join(own, "commondir"), of_paths=True)
    if pointer:
        common = os.path.normpath(os.path.join(own, pointer.strip()))
    common = os.path.realpath(common)
    url = _without_userinfo(_origin(read_text(os.path.join(common, "config")) or ""))
    if url:
        return url, url.rstrip("/").rpartition("/")[2].rpartition(":")[2].removesuffix(".git")
    return common, Path(common).parent.name


def _without_userinfo(url: str) -> str:
    """The URL without ``user:token@`` (``https://x-access-token:ghp_...@github.com/...``):
    the ledger and every message show the identity, never a credential."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url  # scp-like ``git@github.com:acme/shop.git``: a user name, no secret
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host.rpartition('@')[2]}{slash}{path}"


def _origin(config: str) -> str:
    """The ``url`` of ``[remote "origin"]`` in a git config's text."""
    section = ""
    for line in config.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        elif section == '[remote "origin"]' and stripped.startswith("url"):
            key, _, value = stripped.partition("=")
            if key.strip() == "url":
                return value.strip()
    return ""


_UNPLAIN = re.compile(r"[^A-Za-z0-9._-]+")


def short_mark(text: str) -> str:
    """Eight hex digits that tell one path or URL from another in a name (a crc32:
    hashlib would cost 5 M instructions at every prompt)."""
    return f"{binascii.crc32(os.fsencode(text)):08x}"


def instance_folder(block: Block) -> Path:
    """Where an instance's own files live (its kubeconfig, its kind config): under the
    state folder, outside every work tree."""
    digest = short_mark(block.checkout)
    # the checkout's name as plain characters: it goes into KUBECONFIG, and a newline or
    # a `$` in a dotenv line (or bytes that are not UTF-8) would break the line
    plain = _UNPLAIN.sub("-", Path(block.checkout).name).strip("-") or "checkout"
    return state_folder() / "instances" / f"{plain}-{digest}"


def write_private(path: Path, text: str) -> None:
    """Write a file of the user's state folder whole (temp file, then rename)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(write_beside(str(path), text), path)
    except OSError as exc:
        raise unwritable(f"cannot write {path.name}", exc, str(path.parent)) from exc


def unwritable(what: str, exc: OSError, where: str) -> InstanceError:
    """The one line for a state folder portreg cannot write."""
    return InstanceError(
        f"{what}: {exc.strerror}", where=where, hint="set PORTREG_STATE_HOME to a writable folder"
    )
