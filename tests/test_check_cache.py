"""check's scan cache: unchanged files are not read again, and nothing stale is ever reported."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from portreg.check import gather
from portreg.check.scancache import ScanCache, fingerprint
from portreg.settings_cache import cache_file
from portreg.targets.base import Observation

from conftest import CliRunner

MESSY = Path(__file__).parent / "fixtures" / "messy"
BILLING = "helm/rerp-microservice/values/billing.yaml"
SIX = ["accounts-receivable", "general-ledger", "invoice", "notifications", "payments", "reporting"]


def age(root: Path) -> None:
    """Date every file an hour back, as a checkout is (fresher files are never cached)."""
    hour_ago = time.time_ns() - 3600 * 10**9
    for path in root.rglob("*"):
        os.utime(path, ns=(hour_ago, hour_ago))


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    root = tmp_path / "messy"
    shutil.copytree(MESSY, root)
    (root / ".git").mkdir()
    age(root)
    return root


def check(cli: CliRunner, root: Path) -> tuple[int, str]:
    run = cli("--root", str(root), "check", "--format", "json")
    assert run.err == ""
    return run.code, run.out


def places(out: str) -> set[tuple[str, int]]:
    return {(f["path"], f["line"]) for f in json.loads(out)["findings"]}


def saved(root: Path) -> dict[str, dict[str, object]]:
    data = json.loads(Path(cache_file("scan", str(root))).read_text())
    scanners: dict[str, dict[str, object]] = data["scanners"]
    return scanners


def no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> str:
        raise AssertionError("a cached file was read")

    monkeypatch.setattr(gather.HelmFiles, "read", refuse)


def test_a_warm_run_reads_no_unchanged_file_and_reports_the_same(
    cli: CliRunner, messy: Path, monkeypatch: pytest.MonkeyPatch
):
    cold = check(cli, messy)
    assert sorted(saved(messy)) == ["compose", "helm", "kind", "manifests", "tilt"]
    assert len(saved(messy)["helm"]) == 7
    no_reading(monkeypatch)
    assert check(cli, messy) == cold


def test_a_changed_file_is_read_again_even_with_its_old_size_and_mtime(cli: CliRunner, messy: Path):
    _, before = check(cli, messy)
    assert (BILLING, 6) in places(before)
    path = messy / BILLING
    info = path.stat()
    # same length, mtime put back: only the ctime tells the change apart
    path.write_text(path.read_text().replace("nodePort: 30801", "nodePort: 30802"))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size
    _, after = check(cli, messy)
    said = [f["message"] for f in json.loads(after)["findings"] if f["path"] == BILLING]
    assert any("30802" in message for message in said)
    assert not any("30801" in message for message in said)


def test_a_file_changed_in_the_last_two_seconds_is_not_cached(cli: CliRunner, messy: Path):
    (messy / BILLING).write_text((messy / BILLING).read_text())  # just now
    check(cli, messy)
    helm = saved(messy)["helm"]
    assert sorted(helm) == sorted(f"helm/rerp-microservice/values/{n}.yaml" for n in SIX)


def test_an_unreadable_file_is_reported_on_every_run(cli: CliRunner, messy: Path):
    (messy / BILLING).write_text("service: [port\n")
    age(messy)
    for _ in range(2):
        code, out = check(cli, messy)
        assert code == 1
        assert any(
            f["code"] == "PR017" and f["path"] == BILLING for f in json.loads(out)["findings"]
        )
    assert BILLING not in saved(messy)["helm"]


@pytest.mark.parametrize(
    "garbage",
    [
        "not json",
        '{"key": 1}',
        '{"key": "K", "root": "R", "scanners": {"helm": {"x.yaml": [[1], "", [[1, 2]]]}}}',
        '{"key": "K", "root": "R", "scanners": {"helm": 3}}',
    ],
)
def test_a_broken_cache_is_ignored_and_rewritten(cli: CliRunner, messy: Path, garbage: str):
    cold = check(cli, messy)
    key = json.loads(Path(cache_file("scan", str(messy))).read_text())["key"]
    text = garbage.replace('"K"', json.dumps(key)).replace('"R"', json.dumps(str(messy)))
    Path(cache_file("scan", str(messy))).write_text(text)
    assert check(cli, messy) == cold
    assert len(saved(messy)["helm"]) == 7


def test_rows_of_the_wrong_shape_are_not_trusted(tmp_path: Path):
    path = tmp_path / "a.yaml"
    path.write_text("port: 1\n")
    age(tmp_path)
    cache = ScanCache(str(tmp_path), "k")
    found = [Observation("helm", "a.yaml", 1, 8001, "service.port", "port", "a")]
    cache.put("helm", "a.yaml", cache.stat("a.yaml"), found, "a")
    cache.save()
    again = ScanCache(str(tmp_path), "k")
    assert again.get("helm", "a.yaml", again.stat("a.yaml"), "a") == found
    assert again.get("helm", "a.yaml", again.stat("a.yaml"), "b") is None  # another service
    assert ScanCache(str(tmp_path), "other key").get("helm", "a.yaml", cache.stat("a.yaml")) is None
    entry = again.saved["helm"]["a.yaml"]
    assert isinstance(entry, list)
    entry[2] = [["helm", "a.yaml", "1", 8001, "service.port", "port", "a"]]
    assert again.get("helm", "a.yaml", again.stat("a.yaml"), "a") is None


def test_the_key_changes_with_the_config():
    assert fingerprint("Settings(a=1)") == fingerprint("Settings(a=1)")
    assert fingerprint("Settings(a=1)") != fingerprint("Settings(a=2)")


def test_a_config_change_is_never_answered_from_the_cache(cli: CliRunner, messy: Path):
    config = messy / "portreg.toml"
    target = '\n[[targets]]\nname = "dotenv"\nfiles = ".env"\nkind = "text"\nline = "{line}"\n'
    text = config.read_text()
    config.write_text(text + target.format(line="{SERVICE_UPPER}_URL=http://localhost:{port}"))
    (messy / ".env").write_text(
        "INVOICE_URL=http://localhost:8009\nINVOICE_API=http://localhost:8002\n"
    )
    age(messy)
    _, before = check(cli, messy)
    assert (".env", 1) in places(before)
    # same .env, another line template: the cached rows for .env no longer apply
    config.write_text(text + target.format(line="{SERVICE_UPPER}_API=http://localhost:{port}"))
    age(messy)
    _, after = check(cli, messy)
    assert not {place for place in places(after) if place[0] == ".env"}
