"""User-defined ``[[targets]]``: yaml/json set paths and text lines, whole files, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portreg.config import settings_from_table
from portreg.edit.json import set_values as json_set
from portreg.edit.yaml import parse_path
from portreg.errors import ConfigError
from portreg.targets.text import remove_line, set_line

from conftest import CliRunner, tree

OPENAPI_TARGET = """
[[targets]]
name = "openapi-servers"
files = "openapi/*/{service}/openapi.yaml"
kind = "yaml"
set = { "servers[?description=='local'].url" = "http://localhost:{port}/api/v1/{service}" }
"""
JSON_TARGET = """
[[targets]]
name = "openapi-json"
files = "api/{service}.json"
kind = "json"
set = { "servers[?description=='local'].url" = "http://localhost:{port}/v1", "x-node-port" = "{node_port}" }
"""
DOTENV_TARGET = """
[[targets]]
name = "dotenv"
files = ".env.example"
kind = "text"
line = "{SERVICE_UPPER}_URL=http://localhost:{port}"
"""

OPENAPI_BEFORE = (
    "openapi: 3.0.3\r\n"
    "servers:\r\n"
    "  # Swagger's Try it uses the first one\r\n"
    "  - url: 'http://localhost:9999/api/v1/invoice'  # stale\r\n"
    "    description: local\r\n"
    "  - url: https://api.example.com\r\n"
    "    description: production"
)
OPENAPI_AFTER = OPENAPI_BEFORE.replace("9999", "8002")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())


def read(root: Path, name: str) -> str:
    return (root / name).read_bytes().decode()


def test_yaml_target_keeps_crlf_comments_quotes_and_no_final_newline(
    seed_repo: Path, cli: CliRunner
) -> None:
    name = "openapi/v1/invoice/openapi.yaml"
    write(seed_repo, {"portreg.toml": OPENAPI_TARGET, name: OPENAPI_BEFORE})
    assert cli("--root", str(seed_repo), "update-configs", "invoice").code == 0
    assert read(seed_repo, name) == OPENAPI_AFTER


@pytest.mark.parametrize("indent", ["  ", "    ", "\t"], ids=["2-space", "4-space", "tabs"])
def test_json_target_keeps_the_file_style(seed_repo: Path, cli: CliRunner, indent: str) -> None:
    before = (
        '{\n#"openapi": "3.0.0",\n#"servers": [\n##{\n###"url": "http://localhost:1/v1",\n'
        '###"description": "local"\n##}\n#],\n#"x-node-port": 30802\n}'
    ).replace("#", indent)
    write(seed_repo, {"portreg.toml": JSON_TARGET, "api/invoice.json": before})
    assert cli("--root", str(seed_repo), "update-configs", "invoice").code == 0
    after = before.replace("localhost:1/", "localhost:8002/").replace("30802", "31002")
    assert read(seed_repo, "api/invoice.json") == after


def test_json_create_adds_a_member_and_an_item_in_style(seed_repo: Path, cli: CliRunner) -> None:
    before = '{\n    "openapi": "3.0.0",\n    "servers": []\n}\n'
    toml = JSON_TARGET + "create = true\n"
    write(seed_repo, {"portreg.toml": toml, "api/invoice.json": before})
    assert cli("--root", str(seed_repo), "update-configs", "invoice").code == 0
    after = read(seed_repo, "api/invoice.json")
    assert after == (
        "{\n"
        '    "openapi": "3.0.0",\n'
        '    "servers": [{"url": "http://localhost:8002/v1", "description": "local"}],\n'
        '    "x-node-port": 31002\n'
        "}\n"
    )


def test_json_edit_of_one_line_file() -> None:
    text = '{"a":{"port":8001},"b":"x"}'
    new = json_set(text, {parse_path("a.port"): 8002, parse_path("a.host"): "h"}, "f.json")
    assert new == '{"a":{"port":8002, "host":"h"},"b":"x"}'
    assert json.loads(new) == {"a": {"port": 8002, "host": "h"}, "b": "x"}


def test_missing_path_is_a_warning_and_create_adds_the_item(
    seed_repo: Path, cli: CliRunner
) -> None:
    name = "openapi/v1/invoice/openapi.yaml"
    before = "openapi: 3.0.3\nservers:\n- url: https://api.example.com\n  description: production\n"
    write(seed_repo, {"portreg.toml": OPENAPI_TARGET, name: before})
    run = cli("--root", str(seed_repo), "update-configs", "invoice")
    assert run.code == 0
    assert "servers[?description=='local'].url matches nothing" in run.err + run.out
    assert read(seed_repo, name) == before
    write(seed_repo, {"portreg.toml": OPENAPI_TARGET + "create = true\n"})
    assert cli("--root", str(seed_repo), "update-configs", "invoice").code == 0
    assert read(seed_repo, name) == before + (
        "- url: http://localhost:8002/api/v1/invoice\n  description: local\n"
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("A=1\n", "A=1\nINVOICE_URL=http://localhost:8002\n"),
        ("A=1", "A=1\nINVOICE_URL=http://localhost:8002"),
        ("A=1\r\n", "A=1\r\nINVOICE_URL=http://localhost:8002\r\n"),
        ("", "INVOICE_URL=http://localhost:8002\n"),
        (
            "# c\r\nINVOICE_URL=http://localhost:9\r\nB=2",
            "# c\r\nINVOICE_URL=http://localhost:8002\r\nB=2",
        ),
    ],
    ids=["append", "no-final-newline", "crlf", "empty", "in-place"],
)
def test_set_line(before: str, after: str) -> None:
    key = "INVOICE_URL=http://localhost:"
    assert set_line(before, key, "INVOICE_URL=http://localhost:8002") == after


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("A=1\nK=1\nB=2\n", "A=1\nB=2\n"),
        ("A=1\nK=1", "A=1"),
        ("A=1\r\nK=1\r\n", "A=1\r\n"),
        ("K=1\n", ""),
    ],
    ids=["middle", "last-no-newline", "crlf", "only"],
)
def test_remove_line(before: str, after: str) -> None:
    assert remove_line(before, "K=") == after


def test_text_target_update_and_release(seed_repo: Path, cli: CliRunner) -> None:
    before = "# local URLs\r\nGENERAL_LEDGER_URL=http://localhost:8001\r\nLOG_LEVEL=info"
    write(seed_repo, {"portreg.toml": DOTENV_TARGET, ".env.example": before})
    assert cli("--root", str(seed_repo), "update-configs", "--all").code == 0
    added = before + "\r\nINVOICE_URL=http://localhost:8002"
    assert read(seed_repo, ".env.example") == added
    assert cli("--root", str(seed_repo), "release", "invoice", "--update-configs").code == 0
    assert read(seed_repo, ".env.example") == before


def test_check_reports_drift_and_strangers_and_fix_rewrites_them(
    seed_repo: Path, cli: CliRunner
) -> None:
    name = "openapi/v1/invoice/openapi.yaml"
    write(
        seed_repo,
        {
            "portreg.toml": "[kind]\nenabled = false\n[helm]\nenabled = false\n"
            + OPENAPI_TARGET
            + DOTENV_TARGET,
            name: OPENAPI_BEFORE,
            ".env.example": (
                "GENERAL_LEDGER_URL=http://localhost:8002\n"
                "INVOICE_URL=http://localhost:8002\n"
                "PAYMENTS_URL=http://localhost:8001\n"
            ),
        },
    )
    run = cli("--root", str(seed_repo), "check", "--format", "json")
    assert run.code == 1
    found = {(f["code"], f["path"], f["line"]) for f in json.loads(run.out)["findings"]}
    assert ("PR019", name, 4) in found
    assert ("PR019", ".env.example", 1) in found  # general-ledger on invoice's port
    assert ("PR020", ".env.example", 3) in found  # payments is not registered, 8001 is taken
    assert not {code for code, *_ in found} - {"PR019", "PR020", "PR014"}
    assert cli("--root", str(seed_repo), "fix").code == 0
    assert read(seed_repo, name) == OPENAPI_AFTER
    env = read(seed_repo, ".env.example")
    assert env.startswith(
        "GENERAL_LEDGER_URL=http://localhost:8001\nINVOICE_URL=http://localhost:8002\n"
    )
    assert "PAYMENTS_URL=http://localhost:8001" not in env
    assert cli("--root", str(seed_repo), "check").code == 0


def test_user_target_ports_are_skipped_when_allocating(seed_repo: Path, cli: CliRunner) -> None:
    write(
        seed_repo,
        {"portreg.toml": DOTENV_TARGET, ".env.example": "LEGACY_URL=http://localhost:8003\n"},
    )
    run = cli("--root", str(seed_repo), "assign", "payments")
    assert "port 8004" in run.out


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            {"set": {"servers[?description==": "{port}"}},
            "targets.t.set: bad path",
        ),
        ({"set": {"a.b": "{prot}"}}, "targets.t.set: unknown placeholder {prot}"),
        ({"set": {"a.{svc}": "{port}"}}, "targets.t.set: unknown placeholder {svc}"),
        ({"files": "shared.yaml", "set": {"a.b": "{port}"}}, "targets.t.set: 'a.b' names no"),
        ({"files": "{service}/{port}.yaml", "set": {"a": "1"}}, "targets.t.files: only {service}"),
        ({"kind": "text", "line": "URL={port}", "files": ".env"}, "targets.t.line: the part"),
        ({"kind": "text", "line": "{service}_URL=x"}, "targets.t.line: "),
        ({"kind": "text", "line": "{SERVICE_UPPER}={port}{nope}"}, "unknown placeholder {nope}"),
    ],
    ids=["path-syntax", "value-placeholder", "path-placeholder", "shared-path", "files",
         "text-key", "text-port", "text-placeholder"],
)  # fmt: skip
def test_config_errors_name_the_target_and_key(target: dict[str, object], message: str) -> None:
    table = {"name": "t", "files": "x/{service}.yaml", "kind": "yaml", **target}
    with pytest.raises(ConfigError) as error:
        settings_from_table(Path("/r"), {"targets": [table]}, "portreg.toml")
    assert message in error.value.line()


def test_required_glob_matching_nothing_exits_2(seed_repo: Path, cli: CliRunner) -> None:
    write(seed_repo, {"portreg.toml": DOTENV_TARGET + "required = true\n"})
    before = tree(seed_repo)
    for command in (["check"], ["update-configs", "invoice"]):
        run = cli("--root", str(seed_repo), *command)
        assert run.code == 2
        assert "targets.dotenv.files: '.env.example' matches no file (required = true)" in run.err
    assert tree(seed_repo) == before


def test_bad_path_in_portreg_toml_exits_2(seed_repo: Path, cli: CliRunner) -> None:
    write(seed_repo, {"portreg.toml": OPENAPI_TARGET.replace("servers[?", "servers[")})
    run = cli("--root", str(seed_repo), "check")
    assert run.code == 2
    assert "targets.openapi-servers.set: bad path" in run.err


@pytest.mark.parametrize(
    ("target", "name", "before", "after"),
    [
        (
            OPENAPI_TARGET,
            "openapi/v1/invoice/openapi.yaml",
            "openapi: 3.0.3\ninfo:\n  title: Invoice  # the API\npaths: {}\n",
            "openapi: 3.0.3\ninfo:\n  title: Invoice  # the API\npaths: {}\n"
            "servers:\n- url: http://localhost:8002/api/v1/invoice\n  description: local\n",
        ),
        (
            JSON_TARGET,
            "api/invoice.json",
            '{\n  "openapi": "3.0.3",\n  "x-node-port": 31002\n}\n',
            '{\n  "openapi": "3.0.3",\n  "x-node-port": 31002,\n  "servers": [\n    {\n'
            '      "url": "http://localhost:8002/v1",\n      "description": "local"\n'
            "    }\n  ]\n}\n",
        ),
    ],
    ids=["yaml", "json"],
)
def test_create_adds_a_missing_list_with_its_item(  # noqa: PLR0917
    seed_repo: Path, cli: CliRunner, target: str, name: str, before: str, after: str
) -> None:
    """A spec with no ``servers`` at all gets one holding the local server."""
    config = "[helm]\nenabled = false\n[kind]\nenabled = false\n" + target + "create = true\n"
    write(seed_repo, {"portreg.toml": config, name: before})
    run = cli("--root", str(seed_repo), "update-configs", "invoice")
    assert (run.code, run.err) == (0, "")
    assert read(seed_repo, name) == after
    assert cli("--root", str(seed_repo), "update-configs", "invoice").out == (
        "ℹ️  Config files already match the registry\n"
    )
