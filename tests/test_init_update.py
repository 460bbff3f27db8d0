"""``portreg init --update``: a repo that changed since ``init`` gets the change to its
config as a diff, applied as text (every other byte, comments and the user's own keys
stay); ``--dry-run`` writes nothing."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from portreg.edit.toml import set_keys

from conftest import CliRunner, tree

CONFIG = """\
# ours: the team's notes stay
first-port = 8001
last-port = 8999   # agreed in #ports
reserved = []

[tilt]
enabled = true
files = ["Tiltfile"]

[compose]
enabled = false

[ignore]
services = ["legacy"]
"""
UPDATED = """\
# ours: the team's notes stay
first-port = 8001
last-port = 8999   # agreed in #ports
reserved = []

[tilt]
enabled = true
files = ["Tiltfile"]

[compose]
enabled = true
files = ["deploy/compose.yaml"]

[ignore]
services = ["legacy"]

[kind]
enabled = false

[helm]
enabled = false

[manifests]
enabled = false
"""


def changed_repo(tmp_path: Path) -> Path:
    """A repo whose config was written before a compose stack came in."""
    root = tmp_path / "repo"
    files = {
        "portreg.toml": CONFIG,
        "Tiltfile": "k8s_resource('api', port_forwards='8101:8080')\n",
        "deploy/compose.yaml": "services:\n  web:\n    image: w\n    ports: ['8102:80']\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_update_shows_the_change_as_a_diff_and_dry_run_writes_nothing(
    tmp_path: Path, cli: CliRunner
) -> None:
    root = changed_repo(tmp_path)
    before = tree(root)
    run = cli("--root", str(root), "init", "--update", "--dry-run")
    assert run.code == 0
    assert "--- a/portreg.toml\n+++ b/portreg.toml\n" in run.out
    assert '+enabled = true\n+files = ["deploy/compose.yaml"]\n' in run.out
    assert run.err == "(dry run: nothing was written)\n"
    assert tree(root) == before


def test_update_edits_only_what_changed_and_a_second_run_has_nothing_to_do(
    tmp_path: Path, cli: CliRunner
) -> None:
    root = changed_repo(tmp_path)
    run = cli("--root", str(root), "init", "--update")
    assert run.code == 0, run.err
    assert run.out.endswith("✅ Updated portreg.toml\n")
    assert (root / "portreg.toml").read_text() == UPDATED
    again = cli("--root", str(root), "init", "--update")
    assert (again.code, again.err) == (0, "ℹ️  portreg.toml already says what the files show\n")
    assert (root / "portreg.toml").read_text() == UPDATED


def test_update_without_a_config_says_what_to_run(tmp_path: Path, cli: CliRunner) -> None:
    root = changed_repo(tmp_path)
    (root / "portreg.toml").unlink()
    before = tree(root)
    run = cli("--root", str(root), "init", "--update")
    assert run.code == 2
    assert run.err == (
        "portreg: error: init --update edits a portreg.toml, and there is none here "
        "(run `portreg init` to write one (a [tool.portreg] table is yours to edit))\n"
    )
    assert tree(root) == before


# ---------------------------------------------------------------- the text edit

KEYS = st.sampled_from(["first-port", "last-port", "reserved", "files", "enabled"])
VALUES = st.one_of(
    st.integers(0, 65535),
    st.booleans(),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12),
    st.lists(st.integers(0, 65535), max_size=4),
)
TABLES = st.sampled_from(["", "compose", "helm.set", "kind"])


@given(st.dictionaries(st.tuples(TABLES, KEYS), VALUES, max_size=6))
def test_set_keys_gives_each_value_and_keeps_every_other_line(
    changes: dict[tuple[str, str], object],
) -> None:
    after = set_keys(CONFIG, changes)
    parsed = tomllib.loads(after)
    for (table, key), value in changes.items():
        section = parsed
        for part in filter(None, table.split(".")):
            section = section[part]
        assert section[key] == value
    kept = [line for line in CONFIG.splitlines() if line.startswith("#") or "[" in line[:1]]
    assert all(line in after.splitlines() for line in kept)
