"""``portreg merge-driver %O %A %B`` as git runs it, on what a hostile tester fed it (issue 19):
the merged registry moves a service only onto a port no file of the repo binds, never holds
one port twice, and stays a registry every later command reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import CliRunner, Run

CONFIG = "[helm]\nenabled = false\n[kind]\nenabled = false\n"
# the local side of a forward the registry does not govern: assign would skip 8003
TILTFILE = "k8s_resource('ledger-ui', port_forwards=['8003:3000'])\n"


def registry(assignments: dict[str, int], next_port: int | None = None) -> str:
    document = {
        "version": "1.0",
        "next_port": next_port or max(assignments.values(), default=8000) + 1,
        "reserved_ports": [8080],
        "assignments": assignments,
        "metadata": {"last_updated": "2026-01-01T00:00:00"},
    }
    text = json.dumps(document, indent=2) + "\n"
    return text.replace('"reserved_ports": [\n    8080\n  ]', '"reserved_ports": [8080]')


Merge = Callable[[str, str, str], tuple[Run, str]]


@pytest.fixture
def merge(repo: Path, cli: CliRunner) -> Merge:
    """Write base, ours and theirs, run the driver in the repo; (run, merged text)."""
    (repo / "portreg.toml").write_text(CONFIG)

    def run(base: str, ours: str, theirs: str) -> tuple[Run, str]:
        paths = []
        for name, text in (("base", base), ("ours", ours), ("theirs", theirs)):
            path = repo / f".merge_{name}"
            path.write_text(text)
            paths.append(str(path))
        result = cli("--root", str(repo), "merge-driver", *paths)
        return result, Path(paths[1]).read_text()

    return run


def test_a_moved_service_skips_the_ports_the_repo_files_bind(
    repo: Path, merge: Merge, cli: CliRunner
) -> None:
    (repo / "Tiltfile").write_text(TILTFILE)
    run, merged = merge(
        registry({"general-ledger": 8001}),
        registry({"general-ledger": 8001, "billing": 8002}),
        registry({"general-ledger": 8001, "invoice": 8002}),
    )
    assert run.code == 0
    assert merged == registry({"general-ledger": 8001, "billing": 8002, "invoice": 8004})
    assert run.err == (
        "portreg: merge: port 8002 was given to both 'billing' (ours) and 'invoice' (theirs); "
        "'invoice' now has port 8004\n"
        "portreg: merge: now run `portreg update-configs invoice` and commit the result\n"
    )
    assert (repo / "Tiltfile").read_text() == TILTFILE


def test_next_port_stays_inside_the_range_whatever_a_side_holds(
    repo: Path, merge: Merge, cli: CliRunner
) -> None:
    run, merged = merge(
        registry({"general-ledger": 8001}),
        registry({"general-ledger": 8001, "billing": 8002}),
        # hand-edited, its next_port left as it was: one past its highest port is 65536
        registry({"general-ledger": 8001, "edge": 65535}, next_port=8002),
    )
    assert run.code == 0
    expected = {"general-ledger": 8001, "billing": 8002, "edge": 65535}
    assert merged == registry(expected, next_port=9000)  # last-port 8999 + 1
    (repo / "scripts" / "port-registry.json").write_text(merged)
    listed = cli("--root", str(repo), "list", "-o", "json")
    assert listed.code == 0, listed.err
    assert [a["port"] for a in json.loads(listed.out)] == [8001, 8002, 65535]


@pytest.mark.parametrize(
    ("sides", "outcome"),
    [
        pytest.param(
            (
                {"general-ledger": 8001, "billing": 8002, "payments": 8002},
                {"general-ledger": 8001, "invoice": 8003},
            ),
            (
                {"general-ledger": 8001, "billing": 8002, "payments": 8004, "invoice": 8003},
                "port 8002 was given to both 'billing' (ours) and 'payments' (ours); "
                "'payments' now has port 8004",
            ),
            id="ours-held-twice",
        ),
        pytest.param(
            (
                {"general-ledger": 8001, "billing": 8002},
                {"general-ledger": 8001, "invoice": 8003, "shipping": 8003},
            ),
            (
                {"general-ledger": 8001, "billing": 8002, "invoice": 8003, "shipping": 8004},
                "port 8003 was given to both 'invoice' (theirs) and 'shipping' (theirs); "
                "'shipping' now has port 8004",
            ),
            id="theirs-held-twice",
        ),
    ],
)
def test_no_port_is_held_twice_after_a_merge(
    repo: Path,
    merge: Merge,
    cli: CliRunner,
    sides: tuple[dict[str, int], dict[str, int]],
    outcome: tuple[dict[str, int], str],
) -> None:
    (ours, theirs), (expected, said) = sides, outcome
    run, merged = merge(registry({"general-ledger": 8001}), registry(ours), registry(theirs))
    assert run.code == 0
    assert merged == registry(expected, next_port=8005)
    assert run.err.splitlines()[0] == f"portreg: merge: {said}"
    (repo / "scripts" / "port-registry.json").write_text(merged)
    assert cli("--root", str(repo), "assign", "ledger-ui").code == 0  # a writing command reads it


names = st.sampled_from(["a", "b", "c", "d", "e"])
sides = st.dictionaries(names, st.sampled_from([8001, 8002, 8003, 8080, 8999, 65535]), max_size=5)


@given(base=sides, ours=sides, theirs=sides, in_use=st.sets(st.integers(8001, 8010)))
def test_a_merge_never_holds_a_port_twice_and_always_reads_back(
    base: dict[str, int], ours: dict[str, int], theirs: dict[str, int], in_use: set[int]
) -> None:
    from portreg.commands.merge import merge_texts
    from portreg.config import Settings
    from portreg.model import parse_registry, reserved_ports

    settings = Settings(root=Path("/repo"))
    texts = [registry(side, next_port=8001) for side in (base, ours, theirs)]
    merged, result = merge_texts(settings, *texts, "registry", in_use=in_use)
    state = parse_registry(merged, "merged")  # every later command reads it
    assert state.duplicates() == {}
    for move in result.reassigned:
        assert move.new_port not in in_use | reserved_ports(settings, state)
