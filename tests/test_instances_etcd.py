"""The machine's ledger on a real etcd (``PORTREG_LEDGER``): CI hosts whose jobs run
several clusters at once share one ledger; processes asking at once, some killed on
the way, never get overlapping blocks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from test_instances import ask_and_kill_half, assert_disjoint, host_ports, make_shop, worktrees

if TYPE_CHECKING:
    from etcd_util import EtcdCluster

pytest_plugins = ["etcd_util"]
pytestmark = pytest.mark.etcd
PORTREG = [sys.executable, "-m", "portreg"]


@pytest.fixture
def ledger(
    etcd_server: EtcdCluster, etcd_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("PORTREG_LEDGER", etcd_server.url(etcd_key))
    monkeypatch.setenv("PORTREG_STATE_HOME", str(tmp_path / "state"))
    return etcd_key


def spawn(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*PORTREG, "--root", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stored(etcd_server: EtcdCluster, key: str) -> list[dict[str, object]]:
    import base64

    from etcd_util import gateway

    reply = gateway(
        etcd_server.members[0].endpoint,
        "/v3/kv/range",
        {"key": base64.b64encode(key.encode()).decode()},
    )
    text = base64.b64decode(reply["kvs"][0]["value"]).decode()
    return list(json.loads(text)["instances"])


def test_twenty_processes_in_ten_worktrees_share_one_ledger_on_etcd(
    tmp_path: Path, ledger: str, etcd_server: EtcdCluster
) -> None:
    shop = make_shop(tmp_path / "shop")
    checkouts = worktrees(shop, 10)
    asking = [spawn(root, "env", "-o", "json") for root in checkouts for _twice in (1, 2)]
    answers = [p.communicate(timeout=300) for p in asking]
    assert [p.returncode for p in asking] == [0] * 20, answers
    envs = [json.loads(out) for out, _err in answers]
    for first, second in zip(envs[::2], envs[1::2], strict=True):
        assert first == second
    assert sorted(int(e["PORTREG_INSTANCE"]) for e in envs[::2]) == list(range(10))
    assert_disjoint([host_ports(e) for e in envs[::2]])
    assert len(stored(etcd_server, ledger)) == 10
    assert not (tmp_path / "state" / "instances.json").exists()  # the file ledger is unused


def test_a_process_killed_while_allocating_on_etcd_leaves_the_ledger_whole(
    tmp_path: Path, ledger: str, etcd_server: EtcdCluster
) -> None:
    shop = make_shop(tmp_path / "shop")
    checkouts = worktrees(shop, 6)
    survivors = ask_and_kill_half(checkouts)
    held = stored(etcd_server, ledger)
    assert survivors <= {b["checkout"] for b in held}
    again = [spawn(root, "env", "-o", "json") for root in checkouts]
    envs = [json.loads(p.communicate(timeout=120)[0]) for p in again]
    assert_disjoint([host_ports(e) for e in envs])
