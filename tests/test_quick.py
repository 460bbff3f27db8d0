"""The fast road for query/list answers exactly as the full CLI does, or steps aside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portreg import quick

from conftest import run_full

REGISTRY = "scripts/port-registry.json"


def both(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[object, object]:
    code = quick.run(argv)
    fast = (code, *capsys.readouterr())
    slow = (run_full(argv), *capsys.readouterr())
    return fast, slow


@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["list", "--json"],
        ["query", "invoice"],
        ["query", "invoice", "--json"],
        ["query", "nope"],
        ["__complete", "services"],
    ],
    ids=" ".join,
)
def test_quick_and_full_answers_are_identical(
    seed_repo: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    fast, slow = both(["--root", str(seed_repo), *command], capsys)
    assert fast == slow


def test_quick_uses_cached_settings_after_a_full_load(
    seed_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PORTREG_CACHE_DIR", str(tmp_path / "cache"))
    config = seed_repo / "portreg.toml"
    config.write_text("node-port-base = 30500\nnode-port-range = [30500, 31499]\n")
    hour_ago = os.stat(config).st_mtime_ns - 3600 * 10**9
    os.utime(config, ns=(hour_ago, hour_ago))  # settled: a file changed just now is not cached
    argv = ["--root", str(seed_repo), "query", "invoice"]
    assert quick.run(argv) is None  # nothing cached yet: the full CLI answers
    assert run_full(argv) == 0
    assert capsys.readouterr().out == "Service 'invoice': Port 8002  NodePort 30502\n"
    assert quick.run(argv) == 0
    assert capsys.readouterr().out == "Service 'invoice': Port 8002  NodePort 30502\n"
    (seed_repo / "portreg.toml").write_text(
        "node-port-base = 30600\nnode-port-range = [30600, 31599]\n"
    )
    assert quick.run(argv) is None  # the config changed: the cache entry no longer counts


@pytest.mark.parametrize(
    "registry",
    [
        '{"assignments": {"a": "8001"}}',
        '{"assignments": {"a": 8001, "a": 8002}}',
        '{"assignments": {"Bad": 8001}}',
        '{"assignments": [1]}',
        '{"assignments": {"a": 8001}, "next_port": "x"}',
        '{"assignments": {"a": 8001}',
        "[]",
    ],
)
def test_anything_unusual_goes_to_the_full_cli(repo: Path, registry: str) -> None:
    (repo / REGISTRY).write_text(registry)
    assert quick.run(["--root", str(repo), "list"]) is None


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "--help"],
        ["query"],
        ["query", "Bad"],
        ["--store", "etcd://x:1/p", "list"],
        ["assign", "x", "--update-configs", "--json"],
        ["assign", "x", "--update-configs", "--dry-run"],
        ["assign", "x", "--port", "8500"],
        ["assign", "x", "--force"],
    ],
    ids=" ".join,
)
def test_unusual_command_lines_go_to_the_full_cli(seed_repo: Path, argv: list[str]) -> None:
    assert quick.run(["--root", str(seed_repo), *argv]) is None
