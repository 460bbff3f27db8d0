"""compose projects as ``docker compose`` runs them: override files and declared projects
run together, ``!reset``/``!override`` (compose v2, which the v1 oracle does not know),
merge keys, ``${VAR:-default}`` with a .env file, ports that cannot be read, edits of the
host digits only, and inputs that must stay linear."""

from __future__ import annotations

from pathlib import Path

import pytest

from portreg.config import load_settings
from portreg.errors import FileEditError
from portreg.io.workspace import Workspace
from portreg.targets.base import HOST, UNREAD, run_together
from portreg.targets.compose import (
    ComposeTarget,
    Project,
    Source,
    edit_project,
    published_short,
    scan_project,
    scan_text,
)


def _repo(root: Path, files: dict[str, str]) -> list[tuple[str, int, str | None, int, str]]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    target = ComposeTarget(load_settings(root))
    return [(o.path, o.line, o.service, o.port, o.group) for o in target.scan(Workspace(root))]


def test_a_file_and_its_override_are_one_project_other_files_are_not(tmp_path: Path) -> None:
    found = _repo(
        tmp_path,
        {
            "compose.yaml": 'services:\n  api:\n    ports: ["8001:80"]\n',
            "compose.override.yaml": 'services:\n  api:\n    ports: ["8002:80"]\n',
            "docker-compose-load.yaml": 'services:\n  api:\n    ports: ["8001:80"]\n',
        },
    )
    assert found == [
        ("compose.yaml", 3, "api", 8001, "compose:compose.yaml"),
        ("compose.override.yaml", 3, "api", 8002, "compose:compose.yaml"),
        ("docker-compose-load.yaml", 3, "api", 8001, "compose:docker-compose-load.yaml"),
    ]
    assert not run_together("compose:compose.yaml", "compose:docker-compose-load.yaml")


def test_the_config_declares_which_files_run_together(tmp_path: Path) -> None:
    (tmp_path / "portreg.toml").write_text(
        '[compose]\nprojects = [["docker-compose.yaml", "docker-compose-load.yaml"]]\n'
    )
    found = _repo(
        tmp_path,
        {
            "docker-compose.yaml": 'services:\n  api:\n    ports: ["8001:80"]\n',
            "docker-compose-load.yaml": 'services:\n  load:\n    ports: ["8001:81"]\n',
        },
    )
    assert found == [
        ("docker-compose.yaml", 3, "api", 8001, "compose:docker-compose.yaml"),
        ("docker-compose-load.yaml", 3, "load", 8001, "compose:docker-compose.yaml"),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"a.yaml"', "compose.projects: expected a list of lists of files, got 'a.yaml'"),
        ('[["../a.yaml"]]', "compose.projects[0][0]: ../a.yaml leads outside the repo"),
    ],
)
def test_a_bad_projects_key_is_one_line(tmp_path: Path, value: str, message: str) -> None:
    from portreg.errors import ConfigError

    (tmp_path / "portreg.toml").write_text(f"[compose]\nprojects = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert caught.value.message == message


def _project(*texts: str, env: dict[str, str] | None = None) -> Project:
    names = ["compose.yaml", "compose.override.yaml", "compose.third.yaml"]
    sources = tuple(Source(name, text) for name, text in zip(names, texts, strict=False))
    return Project("compose:compose.yaml", sources, env or {})


def _bindings(project: Project) -> list[tuple[str, int, str | None, int]]:
    return [(o.path, o.line, o.service, o.port) for o in scan_project(project)]


BASE = 'services:\n  api:\n    ports: ["8001:80", "9229:9229"]\n  db:\n    ports: ["5433:5432"]\n'


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            'services:\n  api:\n    ports: ["8001:80", "8002:81"]\n',
            [
                ("compose.yaml", 3, "api", 9229),
                ("compose.override.yaml", 3, "api", 8001),  # one entry: the later line wins
                ("compose.override.yaml", 3, "api", 8002),
                ("compose.yaml", 5, "db", 5433),
            ],
        ),
        (
            "services:\n  api:\n    ports: !reset []\n",
            [("compose.yaml", 5, "db", 5433)],
        ),
        (
            'services:\n  api:\n    ports: !override ["8003:80"]\n',
            [("compose.override.yaml", 3, "api", 8003), ("compose.yaml", 5, "db", 5433)],
        ),
        (
            "services:\n  db: !reset {}\n",
            [("compose.yaml", 3, "api", 8001), ("compose.yaml", 3, "api", 9229)],
        ),
        (
            "services:\n  api: !override\n    image: x\n",
            [("compose.yaml", 5, "db", 5433)],
        ),
    ],
    ids=["appended-as-a-set", "reset", "override", "reset-service", "override-service"],
)
def test_an_override_file_merges_as_compose_merges(override: str, expected: list[object]) -> None:
    assert _bindings(_project(BASE, override)) == expected


MERGED = """\
x-web: &web
  ports: ["8001:80"]
x-debug: &debug
  ports: ["9229:9229"]
  profiles: [debug]
services:
  api:
    <<: *web
  worker:
    <<: [*debug, *web]
  admin:
    <<: *web
    ports: ["8003:80"]
  docs:
    ports:
      - <<: {target: 80}
        published: 8004
"""


def test_merge_keys_are_followed_own_keys_win() -> None:
    assert [(o.line, o.service, o.port, o.leads_to) for o in scan_text("c.yaml", MERGED)] == [
        (2, "api", 8001, 80),  # where the port is written: in the anchor
        (4, "worker", 9229, 9229),  # the first merged mapping wins; profiles do not matter
        (13, "admin", 8003, 80),
        (17, "docs", 8004, 80),
    ]


INTERPOLATED = """\
services:
  invoice:
    ports: ["${INVOICE_PORT:-8001}:8080"]
  billing:
    ports: ["${BILLING_PORT-8002}:80", "127.0.0.1:$DEBUG_PORT:9229"]
  ledger:
    ports:
      - published: ${LEDGER_PORT}
        target: 80
"""


def test_variables_take_the_env_file_then_the_default_and_are_named() -> None:
    env = {"BILLING_PORT": "8012", "DEBUG_PORT": "9230", "LEDGER_PORT": "8013"}
    found = scan_project(_project(INTERPOLATED, env=env))
    assert [(o.line, o.service, o.port, o.field, o.address) for o in found] == [
        (3, "invoice", 8001, "ports (${INVOICE_PORT:-8001})", ""),
        (5, "billing", 8012, "ports (${BILLING_PORT-8002})", ""),
        (5, "billing", 9230, "ports ($DEBUG_PORT)", "127.0.0.1"),
        (8, "ledger", 8013, "published (${LEDGER_PORT})", ""),
    ]


def test_a_variable_with_no_value_is_named_never_guessed() -> None:
    found = scan_project(_project(INTERPOLATED, env={"INVOICE_PORT": ""}))
    assert [(o.line, o.service, o.port, o.namespace, o.role, o.field) for o in found] == [
        (3, "invoice", 8001, HOST, "port", "ports (${INVOICE_PORT:-8001})"),  # ":-": empty too
        (5, "billing", 8002, HOST, "port", "ports (${BILLING_PORT-8002})"),
        (5, "billing", 0, UNREAD, "other", "127.0.0.1:$DEBUG_PORT:9229"),
        (8, "ledger", 0, UNREAD, "other", "${LEDGER_PORT}"),
    ]


@pytest.mark.parametrize(
    ("entry", "address", "leads_to"),
    [
        ('"8001:80"', "", 80),
        ('"0.0.0.0:8001:80"', "", 80),
        ('"127.0.0.1:8001:80"', "127.0.0.1", 80),
        ('"[::1]:8001:80"', "::1", 80),
        ('"[::]:8001:80"', "", 80),
        ("{published: 8001, target: 80, host_ip: 127.0.0.2}", "127.0.0.2", 80),
        ("{published: 8001, target: 80, host_ip: '::'}", "", 80),
    ],
)
def test_the_container_side_and_the_address(entry: str, address: str, leads_to: int) -> None:
    found = scan_text("c.yaml", f"services:\n  a:\n    ports:\n      - {entry}\n")
    assert [(o.port, o.address, o.leads_to) for o in found] == [(8001, address, leads_to)]


@pytest.mark.parametrize("entry", ['"5672"', "5672", "{target: 5672}", '"8001:80/udp"'])
def test_an_ephemeral_or_udp_port_binds_nothing_here(entry: str) -> None:
    assert scan_text("c.yaml", f"services:\n  a:\n    ports: [{entry}]\n") == []


# ------------------------------------------------------------------- edits


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"8002:8002"', '"8001:8002"'),
        ("' 8002:80'", "' 8001:80'"),
        ('"${INVOICE_PORT:-8002}:8002"', '"${INVOICE_PORT:-8001}:8002"'),
        ('"127.0.0.1:${PORT8002-8002}:8002"', '"127.0.0.1:${PORT8002-8001}:8002"'),
    ],
    ids=["literal", "leading-space", "default", "default-of-a-name-with-digits"],
)
def test_fix_moves_only_the_host_digits(old: str, new: str) -> None:
    text = f"services:\n  invoice:\n    ports:\n      - {old}   # api\n"
    edited = edit_project(_project(text), "invoice", 8001)
    assert edited == {"compose.yaml": text.replace(old, new)}


def test_fix_moves_a_long_syntax_default() -> None:
    text = (
        "services:\n  invoice:\n    ports:\n      - published: '${P:-8002}'\n        target: 80\n"
    )
    assert edit_project(_project(text), "invoice", 8001) == {
        "compose.yaml": text.replace("${P:-8002}", "${P:-8001}")
    }


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        (
            'services:\n  invoice:\n    ports: ["${INVOICE_PORT:-8001}:80"]\n',
            {"INVOICE_PORT": "8002"},
            "compose.yaml:3: ports (${INVOICE_PORT:-8001}) 8002: its value comes from .env"
            " (edit .env by hand)",
        ),
        (
            MERGED,
            {},
            "compose.yaml:2: ports 8001: it is written in a YAML anchor other services may"
            " share (edit it by hand)",
        ),
    ],
    ids=["env-value", "anchor"],
)
def test_fix_refuses_what_is_not_this_files_digits(
    text: str, env: dict[str, str], message: str
) -> None:
    with pytest.raises(FileEditError) as refused:
        edit_project(_project(text, env=env), "api" if text is MERGED else "invoice", 8005)
    assert refused.value.line() == message


def test_fix_through_the_target_writes_only_the_file_that_holds_the_port(tmp_path: Path) -> None:
    from portreg.model import Assignment

    base = "services:\n  invoice:\n    image: x\n"
    override = 'services:\n  invoice:\n    ports: ["${INVOICE_PORT:-8002}:8002"]\n'
    (tmp_path / "compose.yaml").write_text(base)
    (tmp_path / "compose.override.yaml").write_text(override)
    (tmp_path / ".env").write_text("# no port here\nOTHER=1\n")
    ws = Workspace(tmp_path)
    ComposeTarget(load_settings(tmp_path)).update(ws, Assignment("invoice", 8001, 30001))
    assert [(e.display, e.after) for e in ws.edits()] == [
        ("compose.override.yaml", override.replace("8002}", "8001}"))
    ]


# ------------------------------------------------------------ linear inputs


def test_a_300_kb_port_string_is_read_in_one_pass() -> None:
    """The old host-IP pattern backtracked on a long name before a colon."""
    name = "a" * 300_000
    assert published_short(f"{name}!:8001:80") == [8001]
    assert published_short(f"{name}:{name}:80") == []
    assert published_short("8001-" + "9" * 300_000 + ":80") == []
    text = 'services:\n  a:\n    ports: ["' + "${X:-" * 50_000 + '8001:80"]\n'
    assert scan_text("c.yaml", text) == []  # not a variable compose reads either


def test_a_4_mb_compose_file_of_many_services() -> None:
    note = "    # " + "x" * 150 + "\n"
    body = "".join(
        f'  s{i}:\n    <<: *common\n{note}    ports: ["{8000 + i % 1000}:80", "9{i % 10}00"]\n'
        for i in range(20_000)
    )
    text = "x-common: &common\n  image: x\nservices:\n" + body
    assert len(text) > 4_000_000
    found = scan_text("c.yaml", text)
    assert len(found) == 20_000
    assert (found[-1].service, found[-1].port) == ("s19999", 8999)
