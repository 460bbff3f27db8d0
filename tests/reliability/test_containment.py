"""A hostile repo cannot make portreg read or write outside it, hang, or end in a traceback.

Every test builds the hostile input, snapshots the repo *and* a folder outside
it, runs the real CLI, and asserts exit 2, one ``portreg: error:`` line naming
the culprit, no traceback and no file changed on either side. Runs that could
hang (FIFOs, a live lock holder) run in a subprocess with a time bound.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_cases import (
    BAD_ENVIRONMENT,
    FIFO_CASES,
    FORGING_NAMES,
    LONG_TIMEOUTS,
    NOT_ASCII_DIGITS,
    NOT_SERVICE_NAMES,
    ODD_REPLIES,
    PASSWORD_URLS,
    PLANT_DEPTHS,
    PLANTABLE,
    PLANTED_JOURNALS,
    SECRET_ENV_NAMES,
    VALUES,
)

from conftest import SEED_REGISTRY, CliRunner, Run

KIND = """\
kind: Cluster
nodes:
- role: control-plane
  extraPortMappings:
  # Invoice Service
  - containerPort: 31002
    hostPort: 8002
    protocol: TCP
"""
INVOICE = "service:\n  port: 8002\n  containerPort: 8002\n  nodePort: 31002\n"
TEXT_TARGET = """\
[[targets]]
name = "dotenv"
files = ".env"
kind = "text"
line = "{SERVICE_UPPER}_PORT={port}"

[[targets]]
name = "openapi"
files = "openapi/{service}.yaml"
kind = "yaml"
set = { "servers[?description=='local'].url" = "http://localhost:{port}" }
"""
OPENAPI = "servers:\n- url: http://localhost:8002\n  description: local\n"
BOUND = 20  # seconds: a run that blocks is a failure, not a hang of the suite


def snapshot(*roots: Path) -> dict[str, bytes | str]:
    """Every entry under the roots: file bytes, or where a symlink points (never followed).

    ``.git`` is included (a planted journal aimed at ``.git/config`` is the classic
    attack); portreg's own lock there is left out: taking the lock creates it.
    """
    found: dict[str, bytes | str] = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            key = str(path)
            if path.name == "portreg.lock" and not path.is_symlink():
                continue
            if path.is_symlink():
                found[key] = f"-> {os.readlink(path)}"
            elif path.is_file():
                found[key] = path.read_bytes()
    return found


def refused(run: Run, *needles: str) -> str:
    assert run.code == 2, run
    assert run.out == "", run
    assert run.err.startswith("portreg: error: "), run.err
    assert run.err.count("\n") == 1, run.err
    assert "Traceback" not in run.err
    for needle in needles:
        assert needle in run.err, run.err
    return run.err


@pytest.fixture
def repo_and_outside(seed_repo: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A repo with every kind of file portreg reads, and an outside folder holding twins of
    them (what a planted symlink would lead to)."""
    files = {
        f"{VALUES}/invoice.yaml": INVOICE,
        "kind-config.yaml": KIND,
        "Tiltfile": "k8s_resource('invoice', port_forwards='8002:8002')\n",
        "compose.yaml": "services:\n  invoice:\n    ports: ['8002:8002']\n",
        "k8s/invoice.yaml": "kind: Service\nspec:\n  ports:\n  - port: 8002\n",
        ".env": "INVOICE_PORT=8002\n",
        "openapi/invoice.yaml": OPENAPI,
        "portreg.toml": TEXT_TARGET,
    }
    outside = tmp_path / "outside"
    for root in (seed_repo, outside):
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
    (outside / "scripts").mkdir(exist_ok=True)
    (outside / "scripts/port-registry.json").write_text(SEED_REGISTRY)
    (outside / "home-file").write_text("precious\n")
    return seed_repo, outside


def plant(repo: Path, outside: Path, name: str, depth: int) -> None:
    """Replace the ``depth``-th component of ``name`` (0: the first folder) by a symlink to
    its twin outside the repo."""
    parts = Path(name).parts
    link = repo.joinpath(*parts[: depth + 1])
    target = outside.joinpath(*parts[: depth + 1])
    if link.is_dir() and not link.is_symlink():
        import shutil

        shutil.rmtree(link)
    else:
        link.unlink()
    link.symlink_to(target, target_is_directory=target.is_dir())


# ---------------------------------------------------------- symlinks at every level


@settings(
    max_examples=PLANT_DEPTHS,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=st.sampled_from(sorted(PLANTABLE)), depth=st.integers(min_value=0, max_value=4))
def test_a_symlink_out_of_the_repo_at_any_depth_is_refused(
    tmp_path_factory: pytest.TempPathFactory, name: str, depth: int
) -> None:
    from portreg.cli import main

    base = tmp_path_factory.mktemp("hostile")
    repo, outside = base / "repo", base / "outside"
    for root in (repo, outside):
        for file, text in {
            f"{VALUES}/invoice.yaml": INVOICE,
            "kind-config.yaml": KIND,
            "Tiltfile": "k8s_resource('invoice', port_forwards='8002:8002')\n",
            "compose.yaml": "services:\n  invoice:\n    ports: ['8002:8002']\n",
            "k8s/invoice.yaml": "kind: Service\nspec:\n  ports:\n  - port: 8002\n",
            ".env": "INVOICE_PORT=8002\n",
            "openapi/invoice.yaml": OPENAPI,
            "scripts/port-registry.json": SEED_REGISTRY,
        }.items():
            (root / file).parent.mkdir(parents=True, exist_ok=True)
            (root / file).write_text(text)
    (repo / ".git").mkdir()
    (repo / "portreg.toml").write_text(TEXT_TARGET)
    plant(repo, outside, name, min(depth, len(Path(name).parts) - 1))
    before = snapshot(repo, outside)
    code = main(["--root", str(repo), *PLANTABLE[name]])
    assert code == 2
    assert snapshot(repo, outside) == before


@pytest.mark.parametrize("name", sorted(PLANTABLE))
def test_the_refusal_names_the_file_and_says_why(
    repo_and_outside: tuple[Path, Path], cli: CliRunner, name: str
) -> None:
    repo, outside = repo_and_outside
    plant(repo, outside, name, len(Path(name).parts) - 1)
    before = snapshot(repo, outside)
    err = refused(cli("--root", str(repo), *PLANTABLE[name]), "leads outside the repo")
    assert name in err
    assert snapshot(repo, outside) == before


def test_check_reports_a_scanned_file_outside_as_one_finding(
    repo_and_outside: tuple[Path, Path], cli: CliRunner
) -> None:
    """check is a report: the planted Tiltfile is one error, the rest is still checked."""
    repo, outside = repo_and_outside
    plant(repo, outside, "Tiltfile", 0)
    before = snapshot(repo, outside)
    run = cli("--root", str(repo), "check")
    assert run.code == 1
    assert "Tiltfile:1: error PR017 leads outside the repo" in run.out
    assert snapshot(repo, outside) == before


def test_a_lock_file_that_is_a_symlink_is_never_written_through(
    repo_and_outside: tuple[Path, Path], cli: CliRunner
) -> None:
    repo, outside = repo_and_outside
    (repo / ".git/portreg.lock").symlink_to(outside / "home-file")
    before = snapshot(repo, outside)
    refused(cli("--root", str(repo), "assign", "payroll"), "lock file", "is a symlink")
    assert (outside / "home-file").read_text() == "precious\n"
    assert snapshot(repo, outside) == before


@pytest.mark.parametrize("how", PLANTED_JOURNALS)
def test_a_planted_journal_is_refused(
    repo_and_outside: tuple[Path, Path], cli: CliRunner, how: str
) -> None:
    """A journal portreg did not write is never finished: one that is a symlink, names a file
    outside the repo, or names one of git's own files."""
    repo, outside = repo_and_outside
    journal = repo / ".git/portreg.journal"
    victim = outside / "home-file"
    (repo / ".git/config").write_text("[core]\n")
    if how == "names-git":
        entry = {"path": "config", "before": "[core]\n", "after": "[core]\n\tfsmonitor = x\n"}
        journal.write_text(json.dumps({"portreg-journal": 1, "files": [entry]}))
    elif how == "symlink":
        journal.symlink_to(outside / "evil.journal")
        entry = {"path": "port-registry.json", "before": SEED_REGISTRY, "after": "{}"}
        (outside / "evil.journal").write_text(json.dumps({"portreg-journal": 1, "files": [entry]}))
    else:
        path = str(victim) if how == "names-outside" else os.path.relpath(victim, journal.parent)
        entry = {"path": path, "display": "x", "before": "precious\n", "after": "pwned\n"}
        journal.write_text(json.dumps({"portreg-journal": 1, "files": [entry]}))
    before = snapshot(repo, outside)
    err = refused(cli("--root", str(repo), "assign", "payroll"))
    assert "journal" in err
    assert victim.read_text() == "precious\n"
    assert (repo / ".git/config").read_text() == "[core]\n"
    assert snapshot(repo, outside) == before


@pytest.mark.parametrize("argv", [("check",), ("assign", "payroll"), ("list",)])
def test_a_journal_shipped_in_the_work_tree_is_never_read(
    repo_and_outside: tuple[Path, Path], cli: CliRunner, argv: tuple[str, ...]
) -> None:
    """portreg's journal lives in the git dir, which no clone carries: one a repo ships
    beside the registry is just a file."""
    repo, _outside = repo_and_outside
    entry = {"path": "../.git/config", "before": None, "after": "[core]\n\tfsmonitor = x\n"}
    shipped = repo / "scripts/port-registry.json.journal"
    shipped.write_text(json.dumps({"portreg-journal": 1, "files": [entry]}))
    run = cli("--root", str(repo), *argv)
    assert run.code in (0, 1), run.err
    assert not (repo / ".git/config").exists()
    assert shipped.exists()


def test_a_registry_outside_the_repo_is_refused_even_when_named(
    repo_and_outside: tuple[Path, Path], cli: CliRunner
) -> None:
    """The registry lives in the repo, whoever names it (a registry shared beyond one
    checkout belongs on etcd)."""
    repo, outside = repo_and_outside
    before = snapshot(repo, outside)
    store = f"file:{outside / 'scripts/port-registry.json'}"
    refused(cli("--root", str(repo), "--store", store, "assign", "payroll"), "leads outside")
    assert snapshot(repo, outside) == before


# ---------------------------------------------------------- odd file types, no hang


def run_bounded(root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portreg", "--root", str(root), *argv],
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )


@pytest.mark.parametrize(("name", "argv"), FIFO_CASES)
def test_a_fifo_where_a_file_should_be_is_refused_at_once(
    repo_and_outside: tuple[Path, Path], name: str, argv: tuple[str, ...]
) -> None:
    repo, outside = repo_and_outside
    (repo / name).unlink(missing_ok=True)
    os.mkfifo(repo / name)
    before = snapshot(repo, outside)
    run = run_bounded(repo, *argv)
    assert run.returncode == 2, run
    assert run.stderr.count("\n") == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert "not a regular file" in run.stderr
    assert snapshot(repo, outside) == before


@pytest.mark.parametrize("kind", ["folder", "loop"])
def test_a_folder_or_a_symlink_loop_where_a_values_file_should_be(
    repo_and_outside: tuple[Path, Path], cli: CliRunner, kind: str
) -> None:
    repo, outside = repo_and_outside
    values = repo / VALUES / "payroll.yaml"
    if kind == "folder":
        values.mkdir()
    else:
        values.symlink_to(values)
    before = snapshot(repo, outside)
    err = refused(cli("--root", str(repo), "assign", "payroll", "--update-configs"))
    assert "payroll.yaml" in err
    assert snapshot(repo, outside) == before


def test_a_config_that_is_not_utf8(repo_and_outside: tuple[Path, Path], cli: CliRunner) -> None:
    repo, outside = repo_and_outside
    (repo / "portreg.toml").write_bytes(b'registry = "caf\xe9.json"\n')
    before = snapshot(repo, outside)
    refused(cli("--root", str(repo), "list"), "portreg.toml", "not UTF-8")
    assert snapshot(repo, outside) == before


def test_a_registry_nested_too_deeply(repo_and_outside: tuple[Path, Path], cli: CliRunner) -> None:
    repo, outside = repo_and_outside
    deep = '{"assignments": {}, "x": ' + "[" * 50_000 + "]" * 50_000 + "}\n"
    (repo / "scripts/port-registry.json").write_text(deep)
    before = snapshot(repo, outside)
    for argv in (("list",), ("assign", "payroll"), ("check",)):
        refused(cli("--root", str(repo), *argv), "nested more than 200 levels")
    assert snapshot(repo, outside) == before


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, "- " * 5000 + "x", "a:\n" * 1])
def test_yaml_nested_too_deeply_is_one_line(
    repo_and_outside: tuple[Path, Path], cli: CliRunner, text: str
) -> None:
    repo, outside = repo_and_outside
    deep = text if text != "a:\n" else "".join(" " * i + "a:\n" for i in range(3000)) + "b\n"
    (repo / VALUES / "invoice.yaml").write_text(deep + "\n")
    before = snapshot(repo, outside)
    refused(cli("--root", str(repo), "update-configs", "invoice"), "invoice.yaml")
    assert snapshot(repo, outside) == before


# ---------------------------------------------------------- numbers and strings from outside


@pytest.mark.parametrize("digits", NOT_ASCII_DIGITS)
def test_digits_that_are_not_ascii_are_not_ports(
    repo_and_outside: tuple[Path, Path], cli: CliRunner, digits: str
) -> None:
    """``٨٠٠٢`` is not a port in a config file: check neither reads it as 8002 nor crashes."""
    repo, _outside = repo_and_outside
    (repo / "kind-config.yaml").write_text(KIND.replace("hostPort: 8002", f"hostPort: {digits}"))
    run = cli("--root", str(repo), "check", "--format", "json")
    assert run.code in (0, 1), run
    assert "Traceback" not in run.err
    found = json.loads(run.out)["findings"]
    assert [f for f in found if f["path"] == "kind-config.yaml" and f["port"] == 8002] == []
    # the mapping's hostPort is no port at all: it binds nothing twice (Tilt and compose
    # forward 8002 here, which is why no kind mapping is asked for either: PR010)
    assert [f for f in found if f["code"] == "PR022"] == []
    assert ("PR010", "invoice") not in {(f["code"], f["service"]) for f in found}


@pytest.mark.parametrize(("variable", "value", "needle"), BAD_ENVIRONMENT)
def test_environment_variables_are_checked_where_they_enter(  # noqa: PLR0917
    repo_and_outside: tuple[Path, Path],
    cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    needle: str,
) -> None:
    repo, outside = repo_and_outside
    monkeypatch.setenv(variable, value)
    before = snapshot(repo, outside)
    refused(cli("--root", str(repo), "assign", "payroll"), needle)
    assert snapshot(repo, outside) == before


def test_a_lock_timeout_of_infinity_is_refused_before_waiting(
    repo_and_outside: tuple[Path, Path],
) -> None:
    """With a live lock holder, an infinite timeout would wait forever: it never loads."""
    import fcntl

    repo, _outside = repo_and_outside
    (repo / "portreg.toml").write_text("lock-timeout = inf\n")
    lock = repo / "scripts/port-registry.json.lock"
    with lock.open("w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        run = run_bounded(repo, "assign", "payroll")
    assert run.returncode == 2
    assert "lock-timeout: expected a finite number of seconds" in run.stderr


# ---------------------------------------------------------- secrets and output


def test_a_password_in_a_store_url_never_shows(
    repo_and_outside: tuple[Path, Path], cli: CliRunner
) -> None:
    repo, _outside = repo_and_outside
    for url in ("etcd://root:s3cret@127.0.0.1:2379/k", "nope://root:s3cret@host/k"):
        err = refused(cli("--root", str(repo), "--store", url, "list"))
        assert "s3cret" not in err
        assert "***@" in err


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_an_output_that_cannot_encode_emoji_never_turns_success_into_failure(
    repo_and_outside: tuple[Path, Path], encoding: str
) -> None:
    repo, _outside = repo_and_outside
    env = {**os.environ, "PYTHONIOENCODING": encoding, "LC_ALL": "C", "LANG": "C"}
    run = subprocess.run(
        [sys.executable, "-m", "portreg", "--root", str(repo), "assign", "payroll"],
        capture_output=True,
        timeout=BOUND,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(b"? Assigned port 8003 to service 'payroll'")
    registry = json.loads((repo / "scripts/port-registry.json").read_text())
    assert registry["assignments"]["payroll"] == 8003


# ---------------------------------------------------------- a killed run's leftovers


def test_temp_files_a_killed_run_left_are_ignored_then_removed(
    repo_and_outside: tuple[Path, Path], cli: CliRunner
) -> None:
    """A SIGKILL between staging and replacing leaves ``.<name>.<pid>-<n>.tmp`` files: check
    never reads them as config files, and the next writing command removes them."""
    repo, _outside = repo_and_outside
    leftovers = [
        repo / VALUES / ".invoice.yaml.4242-0.tmp",
        repo / "scripts/.port-registry.json.4242-1.tmp",
        repo / ".kind-config.yaml.4242-2.tmp",
    ]
    for path in leftovers:
        path.write_text("service:\n  port: 8002\n  nodePort: 30802\n")
    run = cli("--root", str(repo), "check", "--format", "json")
    assert ".tmp" not in run.out
    # the journal of the killed run names every file it was writing (all already new here)
    journal = repo / ".git/portreg.journal"
    names = [f"../{VALUES}/invoice.yaml", "../scripts/port-registry.json", "../kind-config.yaml"]
    entries = []
    for name in names:
        text = (journal.parent / name).read_text()
        entries.append({"path": name, "display": name, "before": text, "after": text})
    journal.write_text(json.dumps({"portreg-journal": 1, "files": entries}))
    assert cli("--root", str(repo), "assign", "payroll").code == 0
    assert not journal.exists()
    assert [path for path in leftovers if path.exists()] == []


# ---------------------------------------------------------- found by a hostile review


@pytest.mark.parametrize("name", NOT_SERVICE_NAMES)
def test_a_values_file_whose_name_is_no_service_is_never_adopted(
    repo_and_outside: tuple[Path, Path], cli: CliRunner, name: str
) -> None:
    repo, _outside = repo_and_outside
    (repo / VALUES / name).write_text("service:\n  port: 8004\n")
    before = (repo / "scripts/port-registry.json").read_text()
    run = cli("--root", str(repo), "reconcile")
    assert run.code == 0, run.err
    assert (repo / "scripts/port-registry.json").read_text() == before
    # but its ports still count: assign skips 8004
    assign = cli("--root", str(repo), "assign", "payroll", "--json")
    assert json.loads(assign.out)["port"] == 8003
    assert cli("--root", str(repo), "assign", "other", "--json").out.count('"port": 8005') == 1


@pytest.mark.parametrize("name", FORGING_NAMES)
def test_a_file_name_that_could_forge_output_is_refused(
    repo_and_outside: tuple[Path, Path], cli: CliRunner, name: str
) -> None:
    repo, outside = repo_and_outside
    (repo / VALUES / name).write_text("service:\n  port: 8004\n")
    before = snapshot(repo, outside)
    for argv in (("check",), ("reconcile",), ("assign", "payroll")):
        err = refused(cli("--root", str(repo), *argv), "not printable UTF-8")
        assert "\n::error" not in err.rstrip("\n")
    assert snapshot(repo, outside) == before


def test_a_file_name_that_is_not_utf8_is_refused(repo_and_outside: tuple[Path, Path]) -> None:
    repo, outside = repo_and_outside
    os.close(os.open(os.path.join(bytes(repo / VALUES), b"\xff\xfe.yaml"), os.O_CREAT, 0o644))
    before = snapshot(repo, outside)
    for argv in (("reconcile",), ("export", "--format", "html")):
        run = run_bounded(repo, *argv)
        assert run.returncode == 2, run.stderr
        assert "not printable UTF-8" in run.stderr
        assert "Traceback" not in run.stderr
    assert snapshot(repo, outside) == before


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("kind-config.yaml", KIND.replace("hostPort: 8002", "hostPort: " + "9" * 5000)),
        ("Tiltfile", f"k8s_resource('invoice', port_forwards=port_forward({'9' * 5000}, 80))\n"),
        ("scripts/port-registry.json", '{"assignments": {"a": ' + "9" * 5000 + "}}\n"),
    ],
    ids=["kind", "tilt", "registry"],
)
def test_a_number_of_thousands_of_digits_is_no_traceback(
    repo_and_outside: tuple[Path, Path], cli: CliRunner, name: str, text: str
) -> None:
    repo, _outside = repo_and_outside
    (repo / name).write_text(text)
    for argv in (("check",), ("fix", "--dry-run")):
        run = cli("--root", str(repo), *argv)
        assert run.code in (0, 1, 2), run
        assert "Traceback" not in run.err
    if name.endswith(".json"):
        refused(cli("--root", str(repo), "list"), "not valid JSON")


def test_symlinked_folders_under_a_glob_never_hang(repo_and_outside: tuple[Path, Path]) -> None:
    repo, _outside = repo_and_outside
    for link in ("a", "b", "c"):
        (repo / "k8s" / link).symlink_to(".")
    (repo / "k8s/root").symlink_to("/")
    for argv in (("check",), ("assign", "payroll")):
        run = run_bounded(repo, *argv)
        assert run.returncode in (0, 1), run.stderr


def test_a_config_symlinked_outside_is_never_read_or_echoed(
    repo_and_outside: tuple[Path, Path], cli: CliRunner
) -> None:
    repo, outside = repo_and_outside
    (outside / "credentials.toml").write_text('[registry]\ntoken = "cio_SECRET_TOKEN"\n')
    (repo / "portreg.toml").unlink()
    (repo / "portreg.toml").symlink_to(outside / "credentials.toml")
    err = refused(cli("--root", str(repo), "list"), "leads outside the repo")
    assert "cio_SECRET" not in err


def test_config_errors_never_echo_a_table(
    repo_and_outside: tuple[Path, Path], cli: CliRunner
) -> None:
    repo, _outside = repo_and_outside
    (repo / "portreg.toml").write_text('[registry]\ntoken = "cio_SECRET_TOKEN"\n')
    err = refused(cli("--root", str(repo), "list"), "registry: expected a non-empty string")
    assert "cio_SECRET" not in err


@pytest.mark.parametrize("name", SECRET_ENV_NAMES)
def test_a_repo_cannot_choose_which_secret_is_sent_to_etcd(
    repo_and_outside: tuple[Path, Path], cli: CliRunner, name: str
) -> None:
    repo, _outside = repo_and_outside
    (repo / "portreg.toml").write_text(
        f'store = "etcd://127.0.0.1:1/k"\n[etcd]\nusername = "root"\npassword-env = "{name}"\n'
    )
    refused(cli("--root", str(repo), "check"), "is not a PORTREG_* variable")


@pytest.mark.parametrize("url", PASSWORD_URLS)
def test_a_password_never_shows_however_the_url_is_written(
    repo_and_outside: tuple[Path, Path], cli: CliRunner, url: str
) -> None:
    repo, _outside = repo_and_outside
    err = refused(cli("--root", str(repo), "--store", url, "list"))
    assert "ss3cret" not in err


@pytest.mark.parametrize("value", LONG_TIMEOUTS)
def test_a_lock_timeout_longer_than_an_hour_is_refused(
    repo_and_outside: tuple[Path, Path], cli: CliRunner, value: str
) -> None:
    repo, _outside = repo_and_outside
    (repo / "portreg.toml").write_text(f"lock-timeout = {value}\n")
    refused(cli("--root", str(repo), "list"), "at most 3600")


@pytest.mark.parametrize(
    "text",
    ["a" + ".a" * 30000 + " = 1\n", "x = " + "[" * 1000 + "]" * 1000 + "\n"],
    ids=["dotted-key", "nested"],
)
def test_a_config_tomllib_would_choke_on_is_refused_at_once(
    repo_and_outside: tuple[Path, Path], text: str
) -> None:
    repo, _outside = repo_and_outside
    (repo / "portreg.toml").write_text(text)
    run = run_bounded(repo, "list")
    assert run.returncode == 2
    assert run.stderr.startswith("portreg: error: ")


@pytest.mark.parametrize("how", ["symlink", "none-inside-a-parent-repo"])
def test_init_git_never_edits_a_git_config_but_the_checkouts_own(
    tmp_path: Path, cli: CliRunner, how: str
) -> None:
    """`init --git` runs git on the repo's own .git only: not one a symlink leads to, not a
    parent repo's that git would find by walking up."""
    outside = tmp_path / "outside"
    subprocess.run(["git", "init", "-q", str(outside)], check=True)
    config = (outside / ".git/config").read_text()
    repo = outside / "repo" if how == "none-inside-a-parent-repo" else tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    if how == "symlink":
        (repo / ".git").symlink_to(outside / ".git")
    else:
        (repo / "portreg.toml").write_text("# a portreg repo without .git\n")
    refused(cli("--root", str(repo), "init", "--git"), "not the top of a git checkout")
    assert (outside / ".git/config").read_text() == config


def test_init_git_touches_git_only_after_every_file_is_known_safe(
    tmp_path: Path, cli: CliRunner
) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    outside.mkdir()
    (outside / "gi").write_text("keep\n")
    (repo / ".gitattributes").symlink_to(outside / "gi")
    config = (repo / ".git/config").read_text()
    refused(cli("--root", str(repo), "init", "--git"), "leads outside the repo")
    assert (repo / ".git/config").read_text() == config
    assert (outside / "gi").read_text() == "keep\n"


def test_docs_listed_in_the_config_are_read_only_inside_the_repo(
    repo_and_outside: tuple[Path, Path], cli: CliRunner
) -> None:
    repo, outside = repo_and_outside
    (outside / "PORTS.md").write_text("<!-- portreg:begin -->\n<!-- portreg:end -->\n")
    (repo / "docs").mkdir()
    (repo / "docs/PORTS.md").symlink_to(outside / "PORTS.md")
    (repo / "portreg.toml").write_text('docs = ["docs/PORTS.md"]\n')
    before = snapshot(repo, outside)
    for argv in (("docs", "--check"), ("docs",)):
        refused(cli("--root", str(repo), *argv), "leads outside the repo")
    assert snapshot(repo, outside) == before


# ---------------------------------------------------------- an etcd that misbehaves


def serve(reply: bytes, *, trickle: bool = False) -> tuple[int, object]:
    """A one-thread HTTP server on 127.0.0.1 that answers every POST with ``reply``."""
    import http.server
    import threading
    import time

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", str(100_000 if trickle else len(reply)))
            self.end_headers()
            if trickle:
                for byte in reply * 1000:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.05)
            else:
                self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1], server


@pytest.mark.parametrize("reply", ODD_REPLIES.values(), ids=ODD_REPLIES.keys())
def test_an_odd_etcd_reply_is_one_line(
    repo_and_outside: tuple[Path, Path], cli: CliRunner, reply: dict[str, object]
) -> None:
    repo, outside = repo_and_outside
    port, server = serve(json.dumps(reply).encode())
    try:
        before = snapshot(repo, outside)
        run = cli("--root", str(repo), "--store", f"etcd://127.0.0.1:{port}/k", "list")
        refused(run, "etcd")
        assert snapshot(repo, outside) == before
    finally:
        server.shutdown()  # type: ignore[attr-defined]


def test_an_etcd_that_trickles_its_reply_cannot_hold_portreg(
    repo_and_outside: tuple[Path, Path],
) -> None:
    repo, _outside = repo_and_outside
    (repo / "portreg.toml").write_text("[etcd]\ntimeout = 1\nretries = 1\n")
    port, server = serve(b'{"header": {}}', trickle=True)
    try:
        run = run_bounded(repo, "--store", f"etcd://127.0.0.1:{port}/k", "list")
    finally:
        server.shutdown()  # type: ignore[attr-defined]
    assert run.returncode == 2, run.stderr
    assert "took over 1 s" in run.stderr
