"""Every reader on 4 MB inputs of several shapes: each must finish in under 2 s.

Issue 19: "every reader runs in linear time: a 4 MB input of any shape
finishes in under 2 s". Each case runs one reader's public read function
(``scan_text`` / ``scan_file``) on one generated input, in a child process of
its own with a time limit, so a reader that hangs or crashes is one row of the
table, not the end of the run. The time is the reader's own (the input is
built before the clock starts). A PortregError is a result (the input is not
valid for that format: one clear line); a traceback or a timeout is not.

    .venv/bin/python bench/bench_large_inputs.py            # every case
    .venv/bin/python bench/bench_large_inputs.py kind helm  # the cases whose name starts so
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import machine

MB = 1 << 20
SIZE = 4 * MB
LIMIT = 2.0  # seconds: the bound
TIMEOUT = 60  # a case still running after this is a hang

KIND_HEAD = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n"
KIND_ENTRY = "  - containerPort: 31001\n    hostPort: 8001\n    protocol: TCP\n"
HELM_BODY = "service:\n  type: NodePort\n  port: 8001\n  nodePort: 31001\n"
SERVICE = "kind: Service\nmetadata: {name: a}\nspec:\n  type: NodePort\n  ports:\n"
COMPOSE_HEAD = "services:\n  a:\n    image: a\n    ports:\n"


def fill(unit: str, size: int = SIZE) -> str:
    """``unit`` repeated to about ``size`` characters."""
    return unit * max(1, size // len(unit))


def nested_yaml(size: int = SIZE) -> str:
    """Block mappings nested as deep as 4 MB of indentation allows (the deepest lines
    are the longest: depth d costs about d*d/2 characters)."""
    depth = int((2 * size) ** 0.5 / 1.5)
    return "".join(f"{' ' * i}k:\n" for i in range(depth)) + f"{' ' * depth}port: 8001\n"


def yaml_shapes(head: str, body: str) -> dict[str, str]:
    """The YAML shapes around one valid document: ``head`` then ``body``."""
    return {
        "one long line": head + "filler: [" + fill("8001, ")[:-2] + "]\n" + body,
        "4 MB comment": head + "# " + fill("port 8001 ") + "\n" + body,
        "many documents": fill("---\n" + head + body),
        "deep nesting": head
        + body
        + "deep:\n"
        + "\n".join("  " + line for line in nested_yaml().splitlines())
        + "\n",
        "4 MB scalar": head + 'note: "' + fill("x") + '"\n' + body,
    }


def settings() -> Any:
    from portreg.config import Settings

    return Settings(root=Path.cwd())


def kind(text: str) -> Any:
    from portreg.targets.kind import KindTarget

    return KindTarget(settings()).scan_file("kind-config.yaml", text)


def helm(text: str) -> Any:
    from portreg.targets.helm import HelmTarget

    return HelmTarget(settings()).scan_file("helm/values/a.yaml", text)  # the default pattern


def manifests(text: str) -> Any:
    from portreg.targets.manifests import scan_text

    return scan_text("k8s/a.yaml", text)


def compose(text: str) -> Any:
    from portreg.targets.compose import scan_text

    return scan_text("compose.yaml", text)


def tilt(text: str) -> Any:
    from portreg.targets.tilt import scan_text

    return scan_text("Tiltfile", text)


def json_target(text: str) -> Any:
    from portreg.config import TargetSpec
    from portreg.targets.user import UserTarget

    spec = TargetSpec(
        "openapi",
        "openapi/{service}.json",
        "json",
        (("servers[?description=='local'].url", "http://localhost:{port}"),),
    )
    return UserTarget(settings(), spec).scan_file("openapi/a.json", text)


def dotenv(text: str) -> Any:
    from portreg.config import TargetSpec
    from portreg.targets.text import TextTarget

    spec = TargetSpec("dotenv", ".env", "text", line="{SERVICE_UPPER}_PORT={port}")
    return TextTarget(settings(), spec).scan_file(".env", text)


def json_shapes() -> dict[str, str]:
    server = '{"url": "http://localhost:8001", "description": "local"}'
    return {
        "one long line": '{"servers": [' + fill(server + ", ")[:-2] + "]}",
        "many lines": '{\n  "servers": [\n' + fill("    " + server + ",\n")[:-2] + "\n  ]\n}\n",
        "4 MB string": '{"note": "' + fill("x") + '", "servers": [' + server + "]}",
        "deep nesting": "[" * (SIZE // 2) + "]" * (SIZE // 2),
        "NaN": '{"servers": [' + fill('{"url": "x", "weight": NaN}, ')[:-2] + "]}",
    }


def tilt_shapes() -> dict[str, str]:
    forward = "k8s_resource('a', port_forwards=8001)\n"
    return {
        "4 MB comment line": "# " + fill("port_forwards=8001 ") + "\n" + forward,
        "huge string": "x = '" + fill("8001:80 ") + "'\n" + forward,
        "huge triple-quoted string": 'x = """' + fill("8001\n") + '"""\n' + forward,
        "100k forwards": fill(forward, 100_000 * len(forward)),
        "deep nesting": "x = " + "f(" * 100_000 + "1" + ")" * 100_000 + "\n" + forward,
        "one long line": "x = [" + fill("8001, ") + "]\n" + forward,
    }


def cases() -> dict[str, tuple[Callable[[str], Any], Callable[[], str]]]:
    """name -> (reader, input builder); built lazily in the child that runs the case."""
    formats: dict[str, tuple[Callable[[str], Any], str, str]] = {
        "kind": (
            kind,
            KIND_HEAD,
            "nodes:\n- role: control-plane\n  extraPortMappings:\n" + KIND_ENTRY,
        ),
        "helm": (helm, "", HELM_BODY),
        "manifests": (manifests, "", SERVICE + "  - port: 8001\n    nodePort: 31001\n"),
        "compose": (compose, "", COMPOSE_HEAD + '      - "8001:80"\n'),
    }
    found: dict[str, tuple[Callable[[str], Any], Callable[[], str]]] = {}
    for name, (reader, head, body) in formats.items():
        for shape in yaml_shapes("", ""):
            found[f"{name}: {shape}"] = (
                reader,
                lambda head=head, body=body, shape=shape: yaml_shapes(head, body)[shape],
            )
    found["kind: 100k mappings"] = (
        kind,
        lambda: (
            KIND_HEAD + "nodes:\n- role: control-plane\n  extraPortMappings:\n" + fill(KIND_ENTRY)
        ),
    )
    found["manifests: 100k ports"] = (
        manifests,
        lambda: SERVICE + fill("  - port: 8001\n    nodePort: 31001\n"),
    )
    found["compose: 4 MB port string"] = (
        compose,
        lambda: COMPOSE_HEAD + '      - "' + fill("8") + ':80"\n',
    )
    found["compose: 4 MB port range"] = (
        compose,
        lambda: COMPOSE_HEAD + '      - "8001-' + fill("8") + ':80"\n',
    )
    for shape in tilt_shapes():
        found[f"tilt: {shape}"] = (tilt, lambda shape=shape: tilt_shapes()[shape])
    for shape in json_shapes():
        found[f"json target: {shape}"] = (json_target, lambda shape=shape: json_shapes()[shape])
    found["text (.env): 100k lines"] = (dotenv, lambda: fill("A_PORT=8001\n"))
    found["text (.env): one 4 MB line"] = (dotenv, lambda: "A_PORT=" + fill("8") + "\n")
    return found


def run_case(name: str) -> None:
    """In the child: build the input, time the reader, print seconds and what it gave."""
    from portreg.errors import PortregError

    reader, build = cases()[name]
    text = build()
    start = time.perf_counter()
    try:
        result = f"{len(reader(text))} ports"
    except PortregError as exc:
        result = "error: " + exc.line()[:60]
    print(f"{time.perf_counter() - start:.3f}\t{len(text) / MB:.1f}\t{result}")


def run_all(prefixes: list[str]) -> None:
    print(f"bench_large_inputs on {machine()}\n")
    print("| reader: shape | MB | seconds | < 2 s | result |")
    print("|---|---:|---:|---|---|")
    for name in cases():
        if prefixes and not any(name.startswith(p) for p in prefixes):
            continue
        try:
            run = subprocess.run(
                [sys.executable, __file__, "--case", name],
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            print(f"| {name} | | > {TIMEOUT} | **no** | hang |")
            continue
        if run.returncode != 0:
            last = (run.stderr.strip().splitlines() or ["?"])[-1][:60]
            print(f"| {name} | | | **no** | crashed: {last} |")
            continue
        seconds, size, result = run.stdout.strip().split("\t")
        ok = "ok" if float(seconds) < LIMIT else "**no**"
        print(f"| {name} | {size} | {float(seconds):.2f} | {ok} | {result} |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--case"]:
        run_case(sys.argv[2])
    else:
        run_all(sys.argv[1:])
