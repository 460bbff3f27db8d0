"""Store URLs and [etcd] settings: parsed, or refused in one line, before any network call."""

from __future__ import annotations

from pathlib import Path

import pytest

from portreg.store.etcd import Endpoint, parse_url

from conftest import CliRunner

GOOD = {
    "one": ("etcd://127.0.0.1:2379/portreg/rerp", False, ["127.0.0.1:2379"], "/portreg/rerp"),
    "default-port": ("etcd://etcd.local/portreg/rerp", False, ["etcd.local:2379"], "/portreg/rerp"),
    "three": (
        "etcd://h1:2379,h2:2380,h3/team/ports/",
        False,
        ["h1:2379", "h2:2380", "h3:2379"],
        "/team/ports",
    ),
    "tls-ipv6": ("etcds://[::1]:2379/p", True, ["[::1]:2379"], "/p"),
}


@pytest.mark.parametrize("case", GOOD.values(), ids=GOOD.keys())
def test_parse_url(case: tuple[str, bool, list[str], str]) -> None:
    url, tls, endpoints, key = case
    parsed_tls, parsed_endpoints, parsed_key = parse_url(url)
    assert (parsed_tls, [str(e) for e in parsed_endpoints], parsed_key) == (tls, endpoints, key)
    assert isinstance(parsed_endpoints[0], Endpoint)


BAD = {
    "no-key": ("etcd://127.0.0.1:2379", "no key path"),
    "no-host": ("etcd:///portreg", "no endpoint"),
    "bad-port": ("etcd://h1:23x9/portreg", "endpoint 'h1:23x9' has no valid port"),
    "port-range": ("etcd://h1:70000/portreg", "has no valid port"),
    "empty-endpoint": ("etcd://h1:2379,/portreg", "endpoint '' has no host"),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_urls_are_one_line_exit_2(repo: Path, cli: CliRunner, case: tuple[str, str]) -> None:
    url, message = case
    result = cli("--store", url, "list", cwd=repo)
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert message in result.err
    assert "etcd://host:2379" in result.err


SETTINGS = {
    "ca-on-plain": ('ca = "ca.pem"', "etcd://h:2379/k", "use etcds://"),
    "missing-ca": ('ca = "nope.pem"', "etcds://h:2379/k", "cannot load the TLS files"),
    "key-without-cert": ('key = "k.pem"', "etcds://h:2379/k", "etcd.key: set without etcd.cert"),
    "no-password": ('username = "me"', "etcd://h:2379/k", "$PORTREG_ETCD_PASSWORD is not set"),
}


@pytest.mark.parametrize("case", SETTINGS.values(), ids=SETTINGS.keys())
def test_bad_etcd_settings_are_one_line_exit_2(
    repo: Path, cli: CliRunner, case: tuple[str, str, str]
) -> None:
    toml, url, message = case
    (repo / "portreg.toml").write_text(f"[etcd]\n{toml}\n")
    result = cli("--store", url, "list", cwd=repo)
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert message in result.err


def test_store_commands_need_an_etcd_store(repo: Path, cli: CliRunner) -> None:
    result = cli("store", "status", cwd=repo)
    assert result.code == 2
    assert "`portreg store` needs an etcd store" in result.err
