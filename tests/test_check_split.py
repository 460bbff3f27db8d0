"""check on two cores: the same findings whether or not the files were shared with a child."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portreg.check import split

from conftest import CliRunner

MESSY = Path(__file__).parent / "fixtures" / "messy"


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    root = tmp_path / "messy"
    shutil.copytree(MESSY, root)
    (root / ".git").mkdir()
    values = root / "helm/rerp-microservice/values"
    (values / "broken.yaml").write_text("service:\n  port: [8001\n")
    for index in range(40):  # enough files for both sides to get some
        port = 8100 + index
        (values / f"extra-{index}.yaml").write_text(f"service:\n  port: {port}\n")
    return root


def test_shared_and_unshared_runs_report_the_same(
    cli: CliRunner, messy: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(split, "SMALLEST", 10**12)  # never split
    alone = cli("--root", str(messy), "check", "--format", "json")
    forks: list[int] = []
    real_fork = os.fork
    monkeypatch.setattr(split, "SMALLEST", 0)
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real_fork())
    shared = cli("--root", str(messy), "check", "--format", "json")
    assert forks == [1]
    assert shared == alone
    assert '"path": "helm/rerp-microservice/values/broken.yaml"' in shared.out
    assert alone.code == 1


def test_a_failing_child_costs_time_not_results(monkeypatch: pytest.MonkeyPatch):
    parent = os.getpid()

    def work(job: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("the child breaks")
        return job * 2

    monkeypatch.setattr(split, "SMALLEST", 0)
    jobs = list(range(10))
    assert split.run_all(jobs, [1] * 10, work, lambda r: r, lambda s: s) == [j * 2 for j in jobs]


def test_what_the_child_sends_back_is_checked(monkeypatch: pytest.MonkeyPatch):
    parent = os.getpid()

    def work(job: int) -> int:
        return job if os.getpid() == parent else -1

    def decode(sent: object) -> int | None:  # refuses the child's -1: the parent redoes those
        return sent if isinstance(sent, int) and sent >= 0 else None

    monkeypatch.setattr(split, "SMALLEST", 0)
    assert split.run_all(list(range(6)), [5] * 6, work, lambda r: r, decode) == list(range(6))


@given(st.lists(st.integers(min_value=0, max_value=10**6), max_size=60))
def test_the_split_is_a_partition_near_its_shares(weights: list[int]):
    for share in (0.5, split.CHILD_SHARE):
        here, there = split.split_even(weights, share)
        assert sorted(here + there) == list(range(len(weights)))
        theirs = sum(weights[i] for i in there)
        assert abs(theirs - share * sum(weights)) <= max(weights, default=0)
