"""Configuration: defaults, discovery, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from portreg.config import Settings, find_root, load_settings, settings_from_table
from portreg.errors import ConfigError


def test_defaults_belong_to_no_project(tmp_path: Path) -> None:
    """The seed's layout is one `init` finds in a repo's files; no default names it."""
    settings = Settings(root=tmp_path)
    assert (settings.first_port, settings.last_port, settings.reserved) == (8001, 8999, None)
    assert settings.new_reserved == (8080,)  # what a new registry records unless init chose
    assert settings.node_port(8002) == 31002
    assert settings.registry == "scripts/port-registry.json"
    assert settings.helm.values == "helm/values/{service}.yaml"
    assert dict(settings.helm.set) == {"service.port": "{port}", "service.nodePort": "{node_port}"}
    assert "rerp" not in repr(settings)


def test_portreg_toml_is_read(repo: Path) -> None:
    (repo / "portreg.toml").write_text(
        "first-port = 9001\nlast-port = 9100\nnode-port-offset = 9000\n"
    )
    settings = load_settings(repo, environ={})
    assert (settings.first_port, settings.node_port(9001)) == (9001, 31001)


def test_pyproject_tool_table_is_read_and_marks_the_root(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.portreg]\nreserved = [8080, 8081]\n'
    )
    nested = repo / "services" / "invoice"
    nested.mkdir(parents=True)
    assert find_root(nested) == repo
    assert load_settings(repo, environ={}).reserved == (8080, 8081)


def test_root_is_found_by_walking_up(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nested = repo / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert load_settings(environ={}).root == repo.resolve()


def test_environment_overrides_root_and_store(repo: Path, tmp_path: Path) -> None:
    env = {"PORTREG_ROOT": str(repo), "PORTREG_STORE": "etcd://127.0.0.1:2379/x"}
    settings = load_settings(environ=env)
    assert settings.root == repo.resolve()
    assert settings.store == "etcd://127.0.0.1:2379/x"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"first-prot": 8001}, "first-prot: unknown key"),
        ({"first-port": "8001"}, "first-port: expected an integer"),
        ({"first-port": True}, "first-port: expected an integer"),
        ({"reserved": 8080}, "reserved: expected a list of ports"),
        ({"reserved": [8080, 99999]}, "reserved[1]: 99999 is not a TCP port"),
        (
            {"last-port": 9000},
            "last-port: port 9000 maps to NodePort 32000, outside node-port-range",
        ),
        (
            {"node-port-range": [29000, 31999]},
            "node-port-range: [29000, 31999] is outside Kubernetes",
        ),
        ({"first-port": 8100, "last-port": 8050}, "first-port: 8100 is above last-port 8050"),
        ({"first-port": 8001, "last-port": 8002, "reserved": [8001, 8002]}, "reserved: every port"),
        ({"helm": {"valuez": "x"}}, "helm.valuez: unknown key"),
        ({"helm": "x"}, "helm: expected a table"),
        ({"helm": {"set": {"service.port": True}}}, "helm.set.service.port: expected a string"),
        ({"kind": {"skip-host-ports": [[8099, 8001]]}}, "kind.skip-host-ports[0]: low end"),
        ({"targets": {"name": "x"}}, "targets: expected an array of tables"),
        ({"targets": [{"name": "x", "files": "a", "kind": "xml"}]}, "targets.x.kind: 'xml'"),
        ({"targets": [{"name": "x", "files": "a", "kind": "text"}]}, "targets.x.line"),
        ({"targets": [{"files": "a", "kind": "text"}]}, "targets[0].name: missing"),
    ],
)
def test_bad_config_names_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        settings_from_table(Path("/r"), table, "portreg.toml")
    assert message in error.value.line()


def test_bad_toml_names_the_file(repo: Path) -> None:
    (repo / "portreg.toml").write_text("first-port = \n")
    with pytest.raises(ConfigError) as error:
        load_settings(repo, environ={})
    assert "portreg.toml" in error.value.line()
    assert "not valid TOML" in error.value.line()


def test_settings_are_frozen() -> None:
    settings = Settings(root=Path("/r"))
    with pytest.raises(AttributeError):
        settings.first_port = 1  # type: ignore[misc]
