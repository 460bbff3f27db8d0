"""Every reader on 4 MB inputs of several shapes ends with its answer or one clear error:
no hang, no traceback (bench/bench_large_inputs.py times the same shapes; no clock here)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portreg.config import Settings, TargetSpec
from portreg.errors import PortregError
from portreg.targets import compose, manifests, tilt
from portreg.targets.helm import HelmTarget
from portreg.targets.kind import KindTarget
from portreg.targets.text import TextTarget
from portreg.targets.user import UserTarget

pytestmark = pytest.mark.slow

SIZE = 4 << 20
KIND = (
    "kind: Cluster\nnodes:\n- role: control-plane\n  extraPortMappings:\n"
    "  - containerPort: 31001\n    hostPort: 8001\n"
)
HELM = "service:\n  type: NodePort\n  port: 8001\n  nodePort: 31001\n"
SERVICE = (
    "kind: Service\nmetadata: {name: a}\nspec:\n  ports:\n  - port: 8001\n    nodePort: 31001\n"
)
COMPOSE = 'services:\n  a:\n    ports:\n      - "8001:80"\n'
SERVER = '{"url": "http://localhost:8001", "description": "local"}'


def fill(unit: str) -> str:
    return unit * (SIZE // len(unit))


def deep_yaml() -> str:
    """Block mappings nested deeper than libyaml allows, each line indented one more."""
    return "".join(f"{' ' * i}k:\n" for i in range(2000)) + " " * 2000 + "port: 8001\n"


def kind(text: str) -> list[Any]:
    return KindTarget(Settings(root=Path("."))).scan_file("kind-config.yaml", text)


def helm(text: str) -> list[Any]:
    return HelmTarget(Settings(root=Path("."))).scan_file(
        "helm/values/a.yaml",
        text,  # the default values pattern
    )


def json_target(text: str) -> list[Any]:
    spec = TargetSpec(
        "api",
        "api/{service}.json",
        "json",
        (("servers[?description=='local'].url", "http://localhost:{port}"),),
    )
    return UserTarget(Settings(root=Path(".")), spec).scan_file("api/a.json", text)


def dotenv(text: str) -> list[Any]:
    spec = TargetSpec("env", ".env", "text", line="{SERVICE_UPPER}_PORT={port}")
    return TextTarget(Settings(root=Path(".")), spec).scan_file(".env", text)


def ports(reader: Callable[[str], list[Any]], text: str) -> list[int]:
    return sorted({obs.port for obs in reader(text)})


YAML_READERS = {
    "kind": (kind, KIND),
    "helm": (helm, HELM),
    "manifests": (lambda text: manifests.scan_text("k8s/a.yaml", text), SERVICE),
    "compose": (lambda text: compose.scan_text("compose.yaml", text), COMPOSE),
}
EXPECTED = {
    "kind": [8001, 31001],
    "helm": [8001, 31001],
    "manifests": [8001, 31001],
    "compose": [8001],
}


@pytest.mark.parametrize("name", YAML_READERS)
@pytest.mark.parametrize(
    "shape",
    [
        lambda doc: "filler: [" + fill("8, ")[:-2] + "]\n" + doc,
        lambda doc: "# " + fill("port 9 ") + "\n" + doc,
        lambda doc: 'note: "' + fill("x") + '"\n' + doc,
        lambda doc: "note: >\n" + fill("  folded text 9\n") + doc,
    ],
    ids=["one-long-line", "4mb-comment", "4mb-scalar", "4mb-block-scalar"],
)
def test_a_4mb_yaml_file_is_read(name: str, shape: Callable[[str], str]) -> None:
    reader, doc = YAML_READERS[name]
    assert ports(reader, shape(doc)) == EXPECTED[name]


@pytest.mark.parametrize("name", YAML_READERS)
def test_4mb_of_yaml_documents_is_read_or_refused(name: str) -> None:
    reader, doc = YAML_READERS[name]
    text = fill("---\n" + doc)
    if name == "helm":
        with pytest.raises(PortregError, match="more than one YAML document"):
            reader(text)
    elif name == "kind":
        with pytest.raises(PortregError, match="expected a single document"):
            reader(text)
    elif name == "compose":  # documents merge as compose merges them: one service, one port
        assert ports(reader, text) == EXPECTED[name]
        assert len(reader(text)) == len(EXPECTED[name])
    else:
        assert ports(reader, text) == EXPECTED[name]
        assert len(reader(text)) == len(EXPECTED[name]) * (SIZE // len("---\n" + doc))


@pytest.mark.parametrize("name", YAML_READERS)
def test_deeply_nested_yaml_is_one_error(name: str) -> None:
    reader, doc = YAML_READERS[name]
    with pytest.raises(PortregError, match="not valid YAML"):
        reader(doc + "deep:\n" + "".join("  " + line + "\n" for line in deep_yaml().splitlines()))


def test_100k_kind_mappings_are_read() -> None:
    entry = "  - containerPort: 31001\n    hostPort: 8001\n"
    text = "kind: Cluster\nnodes:\n- role: control-plane\n  extraPortMappings:\n" + fill(entry)
    assert len(kind(text)) == 2 * (SIZE // len(entry))


def test_a_4mb_compose_port_string_is_no_port() -> None:
    for spec in (fill("8"), "8001-" + fill("8")):
        assert (
            compose.scan_text("compose.yaml", f'services:\n  a:\n    ports: ["{spec}:80"]\n') == []
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# " + fill("port_forwards=8002 ") + "\nk8s_resource('a', port_forwards=8001)\n", [8001]),
        ("x = '" + fill("8002:80 ") + "'\nk8s_resource('a', port_forwards=8001)\n", [8001]),
        ("x = [" + fill("9, ") + "]\nk8s_resource('a', port_forwards=8001)\n", [8001]),
        (fill("k8s_resource('a', port_forwards=8001)\n"), [8001]),
    ],
    ids=["4mb-comment-line", "huge-string", "one-long-line", "many-forwards"],
)
def test_a_4mb_tiltfile_is_read(text: str, expected: list[int]) -> None:
    assert ports(lambda t: tilt.scan_text("Tiltfile", t), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"servers": [' + fill(SERVER + ", ")[:-2] + "]}", [8001]),
        ('{"note": "' + fill("x") + '", "servers": [' + SERVER + "]}", [8001]),
    ],
    ids=["one-long-line", "4mb-string"],
)
def test_a_4mb_json_target_is_read(text: str, expected: list[int]) -> None:
    assert ports(json_target, text) == expected


def test_deeply_nested_json_is_one_error() -> None:
    with pytest.raises(PortregError, match="nested more than"):
        json_target("[" * (SIZE // 2) + "]" * (SIZE // 2))


@pytest.mark.parametrize(
    ("text", "count"),
    [(fill("A_PORT=8001\n"), SIZE // len("A_PORT=8001\n")), ("A_PORT=" + fill("8") + "\n", 0)],
    ids=["many-lines", "one-4mb-line"],
)
def test_a_4mb_env_file_is_read(text: str, count: int) -> None:
    assert len(dotenv(text)) == count
