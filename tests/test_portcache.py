"""The port cache never hides a change: what `assign` skips is what the files say now."""

from __future__ import annotations

import os
from pathlib import Path

from portreg.portcache import cached_ports, ports_in_files
from portreg.targets.base import port_like_numbers

from conftest import CliRunner

HOUR_AGO_NS = 3600 * 10**9


def aged(path: Path, text: str) -> None:
    """Write ``text`` and date the file an hour back, out of the racy window."""
    path.write_text(text)
    stamp = os.stat(path).st_mtime_ns - HOUR_AGO_NS
    os.utime(path, ns=(stamp, stamp))


def scan_counting(calls: list[str]):
    def scan(_path: str, text: str) -> set[int]:
        calls.append(text)
        return port_like_numbers(text)

    return scan


def regex_scan(_path: str, text: str) -> set[int]:
    return port_like_numbers(text)


def test_unchanged_files_are_not_read_again(tmp_path: Path) -> None:
    files = [tmp_path / f"s{i}.yaml" for i in range(3)]
    for index, path in enumerate(files):
        aged(path, f"service:\n  port: {8001 + index}\n")
    calls: list[str] = []
    paths = [str(p) for p in files]
    assert cached_ports(str(tmp_path), "t", paths) is None
    assert ports_in_files(str(tmp_path), "t", paths, scan_counting(calls)) == {8001, 8002, 8003}
    assert len(calls) == 3
    assert ports_in_files(str(tmp_path), "t", paths, scan_counting(calls)) == {8001, 8002, 8003}
    assert len(calls) == 3
    assert cached_ports(str(tmp_path), "t", paths) == {8001, 8002, 8003}
    assert cached_ports(str(tmp_path), "other", paths) is None  # another target's scan


def test_a_same_size_edit_with_its_old_mtime_restored_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    aged(path, "service:\n  port: 8001\n")
    info = os.stat(path)
    assert ports_in_files(str(tmp_path), "t", [str(path)], regex_scan) == {8001}
    path.write_text("service:\n  port: 8009\n")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # ctime still moves
    assert ports_in_files(str(tmp_path), "t", [str(path)], regex_scan) == {8009}


def test_files_changed_just_now_are_never_trusted_from_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("service:\n  port: 8001\n")
    calls: list[str] = []
    for _ in range(2):
        assert ports_in_files(str(tmp_path), "t", [str(path)], scan_counting(calls)) == {8001}
    assert len(calls) == 2
    assert cached_ports(str(tmp_path), "t", [str(path)]) is None  # quick must not trust it


def test_assign_skips_a_port_a_values_file_takes_after_the_first_run(
    seed_repo: Path, cli: CliRunner
) -> None:
    values = seed_repo / "helm/rerp-microservice/values"
    values.mkdir(parents=True)
    aged(values / "legacy.yaml", "service:\n  port: 8003\n")
    assert cli("--root", str(seed_repo), "assign", "one", "--json").out.count('"port": 8004') == 1
    aged(values / "legacy.yaml", "service:\n  port: 8005\n")
    assert cli("--root", str(seed_repo), "assign", "two", "--json").out.count('"port": 8006') == 1
