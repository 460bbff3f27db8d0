"""``portreg store push|pull|status``: move the registry between the file and etcd."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from portreg.commands import (
    add_output,
    command,
    out,
)
from portreg.config import load_settings
from portreg.errors import EXIT_OK
from portreg.store import open_store

if TYPE_CHECKING:
    import argparse

    from portreg.commands import Subparsers


def _services(count: int) -> str:
    return f"{count} service{'' if count == 1 else 's'}"


def main(args: argparse.Namespace) -> int:
    """``store push|pull|status``: move the registry between the file and etcd."""

    from portreg.store import etcd  # http.client: only this command needs it

    settings = load_settings(args.root, args.config)
    store = etcd.require_etcd(open_store(settings, args.store))
    if args.action == "push":
        count = _services(etcd.push(settings, store, force=args.force))
        out(f"✅ Pushed {settings.registry} ({count}) to {store.location}")
        out(f"   revision {store.revision}")
    elif args.action == "pull":
        edit, services = etcd.pull(settings, store)
        if edit is None:
            out(f"ℹ️  {settings.registry} already matches {store.location}")
        else:
            out(f"✅ Pulled {store.location} ({_services(services)}) into {edit.display}")
    elif args.output == "json":
        out(json.dumps(asdict(etcd.status(store)), ensure_ascii=False))
    else:
        info = etcd.status(store)
        out(f"Store:     {info.location}\nEndpoint:  {info.endpoint}\nKey:       {info.key}")
        if info.services is None:
            out("Revision:  (key not set; run `portreg store push`)")
        else:
            out(f"Revision:  {info.revision} (cluster {info.cluster_revision})")
            out(f"Services:  {info.services}")
    return EXIT_OK


def add(sub: Subparsers) -> None:
    store = command(
        sub,
        "store",
        "copy the registry between the file and etcd",
        example="portreg --store etcd://127.0.0.1:2379/portreg/rerp store push",
    )
    store.add_argument("action", choices=("push", "pull", "status"), help="what to do")
    store.add_argument("--force", action="store_true", help="push: overwrite an existing key")
    add_output(store, ("text", "json"))  # what status prints
    store.set_defaults(handler=main)
