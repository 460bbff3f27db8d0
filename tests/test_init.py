"""``portreg init``: the full commented config, what the repo already holds, the next step."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from portreg import config
from portreg.commands.init import COMPAT_SCRIPT
from portreg.config import Settings, settings_from_table
from portreg.config.reference import render_config

from conftest import CliRunner, tree

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "rerp"
README = Path(__file__).resolve().parent.parent / "README.md"
SEED_SCRIPT = "#!/usr/bin/env python3\nprint('the seed')\n"


def found_notes(out: str) -> tuple[list[str], list[str]]:
    """init's output: the lines saying what it found and chose (🔎), and the rest."""
    lines = out.splitlines()
    return [x for x in lines if x.startswith("🔎")], [x for x in lines if not x.startswith("🔎")]


def readme_config() -> str:
    text = README.read_text()
    return text.split("## Configuration", 1)[1].split("```toml\n", 1)[1].split("```\n", 1)[0]


def test_the_readme_config_holds_every_default(tmp_path: Path) -> None:
    table = tomllib.loads(readme_config())
    assert settings_from_table(tmp_path, table, None) == Settings(root=tmp_path)


@pytest.mark.parametrize(
    ("section", "schema"),
    [("", config.TOP_SCHEMA)]
    + [(name, schema) for name, (_cls, schema) in config.SECTIONS.items()]
    + [("targets", config.TARGET_SCHEMA)],
)
def test_the_readme_config_shows_every_key(section: str, schema: config.Schema) -> None:
    """Set or as a commented example: a user reads what can be set in one place."""
    block = readme_config()
    if section:
        header = "[[targets]]" if section == "targets" else f"[{section}]"
        assert re.search(rf"^(# )?{re.escape(header)}$", block, re.M), header
    for key in schema:
        if key != "set":
            assert re.search(rf"^(# )?{re.escape(key)} = ", block, re.M), key


def test_init_writes_what_it_found_in_an_empty_repo(repo: Path, cli: CliRunner) -> None:
    run = cli("--root", str(repo), "init")
    assert run.code == 0, run.err
    assert (repo / "portreg.toml").read_text() == render_config(
        {
            "first-port": 8001,
            "last-port": 8999,
            "reserved": [],
            "helm": {"enabled": False},
            "kind": {"enabled": False},
            "tilt": {"enabled": False},
            "compose": {"enabled": False},
            "manifests": {"enabled": False},
        }
    )


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    """A repo that had the seed's script: values files, a kind-config, no portreg.toml."""
    root = tmp_path / "rerp"
    shutil.copytree(EXAMPLE, root)
    (root / "portreg.toml").unlink()
    (root / "scripts" / "port-registry.json").unlink()
    (root / "scripts" / "assign-port.py").write_text(SEED_SCRIPT)
    (root / ".git").mkdir()
    return root


def test_init_in_a_repo_with_services_says_what_it_found_and_what_to_run(
    existing: Path, cli: CliRunner
) -> None:
    run = cli("init", cwd=existing)
    assert (run.code, run.err) == (0, "")
    notes, lines = found_notes(run.out)
    assert (
        notes
        == [
            "🔎 kind cluster configs: 1 file (kind-config.yaml)",
            "🔎 Helm values per service: 3 files (helm/rerp-microservice/values/{service}.yaml, "
            "the seed's layout)",
            "🔎 Tiltfiles: 1 file (Tiltfile)",
            "🔎 compose files: none",
            "🔎 Kubernetes manifests with a Service: none",
            "🔎 range 8001-8999: holds the 2 service port(s) found; reserved 8080 "
            "(the seed's layout keeps it free)",
            "🔎 NodePorts: the seed's formula, 31000 + (port - 8000)",
            "🔎 .env files with a service's *_PORT= line: none",
        ][: len(notes)]
    )
    assert lines[:2] == ["✅ Created portreg.toml", "✅ Created scripts/port-registry.json"]
    found = lines[2]
    assert found.startswith("ℹ️  Found 3 services the registry does not know: ")
    for service in ("general-ledger", "invoice", "accounts-receivable"):
        assert f"{service} (helm/rerp-microservice/values/{service}.yaml)" in found
    assert lines[3] == (
        "ℹ️  Left scripts/assign-port.py (the seed's script) as it is; "
        "`portreg init --compat-script --force` replaces it with one that runs portreg"
    )
    assert lines[4] == (
        "   Next: `portreg reconcile --dry-run` shows how portreg would record them; then "
        "`portreg reconcile`, and `portreg fix` brings every file in line"
    )
    assert len(lines) == 5
    assert (existing / "scripts" / "assign-port.py").read_text() == SEED_SCRIPT
    # the steps it names work: reconcile adopts all three, fix aligns, check goes green
    assert cli("reconcile", cwd=existing).code == 0
    held = json.loads((existing / "scripts/port-registry.json").read_text())["assignments"]
    assert set(held) == {"general-ledger", "invoice", "accounts-receivable"}
    assert cli("fix", cwd=existing).code == 0
    assert cli("check", cwd=existing).code == 0


def test_compat_script_replaces_the_seeds_only_with_force(existing: Path, cli: CliRunner) -> None:
    cli("init", cwd=existing)
    before = tree(existing)
    asked = cli("init", "--compat-script", cwd=existing)
    assert asked.code == 0
    assert "ℹ️  Left scripts/assign-port.py as it is: it is not portreg's (add --force" in asked.out
    assert tree(existing) == before
    forced = cli("init", "--compat-script", "--force", cwd=existing)
    assert forced.code == 0
    assert forced.out.splitlines()[0] == "✅ Replaced scripts/assign-port.py"
    assert "Left scripts/assign-port.py" not in forced.out
    assert (existing / "scripts" / "assign-port.py").read_text() == COMPAT_SCRIPT
    assert {k: v for k, v in tree(existing).items() if k != "scripts/assign-port.py"} == {
        k: v for k, v in before.items() if k != "scripts/assign-port.py"
    }


def test_force_never_overwrites_the_config_or_the_registry(existing: Path, cli: CliRunner) -> None:
    (existing / "portreg.toml").write_text("first-port = 8001\n")
    (existing / "scripts" / "port-registry.json").write_text('{"assignments": {"invoice": 8002}}\n')
    before = tree(existing)
    run = cli("init", "--compat-script", "--force", cwd=existing)
    assert run.code == 0
    assert {k: v for k, v in tree(existing).items() if k != "scripts/assign-port.py"} == {
        k: v for k, v in before.items() if k != "scripts/assign-port.py"
    }
    assert run.out.splitlines()[0] == "✅ Replaced scripts/assign-port.py"


def test_init_in_a_registered_clean_repo_names_check(seed_repo: Path, cli: CliRunner) -> None:
    run = cli("--root", str(seed_repo), "init")
    assert run.out.splitlines()[-1] == (
        "   Next: `portreg check` reports any file that disagrees with the registry"
    )


def test_init_with_a_broken_registry_warns_and_still_writes_the_config(
    repo: Path, cli: CliRunner
) -> None:
    (repo / "scripts" / "port-registry.json").write_text("{\n")
    run = cli("--root", str(repo), "init")
    assert run.code == 0
    _notes, lines = found_notes(run.out)
    assert lines[0] == "✅ Created portreg.toml"
    assert lines[1].startswith("⚠️  Cannot read scripts/port-registry.json:2:1: not valid JSON")
    assert lines[-1] == (
        "   Next: repair the registry or config by hand (or restore from git), then `portreg check`"
    )
    assert (repo / "scripts" / "port-registry.json").read_text() == "{\n"


def test_init_names_a_broken_values_file_before_any_next_step(
    existing: Path, cli: CliRunner
) -> None:
    broken = existing / "helm" / "rerp-microservice" / "values" / "invoice.yaml"
    broken.write_text("service:\n  port: [8002\n")
    run = cli("init", cwd=existing)
    assert run.code == 0
    lines = run.out.splitlines()
    warnings = [line for line in lines if line.startswith("⚠️")]
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "⚠️  Cannot read helm/rerp-microservice/values/invoice.yaml:3: not valid YAML"
    )
    assert lines[-1] == (
        "   Next: repair the files above by hand (or restore from git), then `portreg check`"
    )


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_script_path_that_is_not_a_file_is_left_alone_unless_forced(
    existing: Path, cli: CliRunner, kind: str
) -> None:
    import os

    script = existing / "scripts" / "assign-port.py"
    script.unlink()
    if kind == "folder":
        script.mkdir()
    else:
        os.mkfifo(script)
    run = cli("init", "--compat-script", cwd=existing)
    assert run.code == 0, run.err
    assert "ℹ️  Left scripts/assign-port.py as it is: it is not portreg's" in run.out
    forced = cli("init", "--compat-script", "--force", cwd=existing)
    assert (forced.code, forced.out) == (2, "")
    assert forced.err.startswith("portreg: error: scripts/assign-port.py: ")
    assert forced.err.endswith("(move it away first)\n")
    assert str(existing) not in forced.err


def test_the_compat_script_without_portreg_says_how_to_install_it(
    repo: Path, cli: CliRunner
) -> None:
    import subprocess

    assert cli("--root", str(repo), "init", "--compat-script").code == 0
    python = "/usr/bin/python3"
    probe = subprocess.run([python, "-c", "import portreg"], capture_output=True, check=False)
    if probe.returncode == 0:
        pytest.skip("the system python has portreg installed")
    done = subprocess.run(
        [python, str(repo / "scripts" / "assign-port.py"), "query", "invoice"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "assign-port.py: portreg is not installed "
        "(run: pipx install git+https://github.com/portreg/portreg@v0.1.0)\n"
    )


def test_the_readme_config_is_the_one_the_keys_declare() -> None:
    """Each key is declared once, on its settings field (default, validator, comment);
    the README's block is rendered from those declarations, byte for byte."""
    from portreg.config.reference import reference

    assert readme_config() == reference()


def test_init_writes_each_key_under_its_one_line_comment(repo: Path, cli: CliRunner) -> None:
    (repo / "Tiltfile").write_text("k8s_resource('api', port_forwards='8001:8001')\n")
    assert cli("--root", str(repo), "init").code == 0
    assert (repo / "portreg.toml").read_text() == (
        "# portreg: the port registry of this repo, written by `portreg init` from what the\n"
        "# repo's files show. Every key is optional; the README's \"Configuration\" section\n"
        "# lists them all.\n"
        "\n"
        "# The range's lowest port: services get the lowest free one.\n"
        "first-port = 8001\n"
        "# The range's highest port.\n"
        "last-port = 8999\n"
        "# Never handed out to a service.\n"
        "reserved = []\n"
        "\n"
        "[helm]\n"
        "# false: portreg leaves the Helm values alone.\n"
        "enabled = false\n"
        "\n"
        "[kind]\n"
        "# false: portreg leaves the kind config alone.\n"
        "enabled = false\n"
        "\n"
        "[tilt]\n"
        "# false: portreg neither reads nor edits these files.\n"
        "enabled = true\n"
        "# The files to read (globs).\n"
        'files = ["Tiltfile"]\n'
        "\n"
        "[compose]\n"
        "# false: portreg neither reads nor edits these files.\n"
        "enabled = false\n"
        "\n"
        "[manifests]\n"
        "# false: portreg neither reads nor edits these files.\n"
        "enabled = false\n"
    )


@pytest.mark.parametrize("example", ["rerp", "empty"])
def test_the_comments_change_no_setting(example: str, tmp_path: Path, cli: CliRunner) -> None:
    """init's portreg.toml loads to the same settings with its comments and without."""
    root = tmp_path / "repo"
    if example == "rerp":
        shutil.copytree(EXAMPLE, root)
        (root / "portreg.toml").unlink()
        (root / "scripts" / "port-registry.json").unlink()
    (root / ".git").mkdir(parents=True)
    assert cli("--root", str(root), "init").code == 0
    written = (root / "portreg.toml").read_text()
    bare = "".join(line for line in written.splitlines(True) if not line.startswith("#"))
    assert written.count("\n# ") > 8  # there were comments to take away
    commented = settings_from_table(root, tomllib.loads(written), None)
    assert commented == settings_from_table(root, tomllib.loads(bare), None)


@pytest.mark.parametrize(
    "section", ["", *config.SECTIONS, "targets"], ids=lambda s: s or "top-level"
)
def test_every_key_declares_a_one_line_comment(section: str) -> None:
    for name, key in config.declared(section).items():
        assert key.comment.strip(), name
        assert "\n" not in key.comment, name
        assert len(f"# {key.comment}") <= 88, name
