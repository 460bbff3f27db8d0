"""``fix`` never makes a green ``check`` red, and on a green repo it changes nothing.

Repos are generated with bindings in every namespace: registered services with their
kind mappings or Tilt forwards, a compose stack that runs on its own, Services whose
own ports and targetPorts repeat the host ports (in-cluster: no clash), and foreign
infrastructure ports outside the range. Some are perturbed into real disagreements, so
both sides of the property are exercised.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import CliRunner, tree

REG = "scripts/port-registry.json"
NAMES = ["invoice", "ledger", "billing", "payments", "audit"]
FOREIGN = [5432, 6379, 3000, 9090, 10000]


@st.composite
def repos(draw: st.DrawFn) -> dict[str, str]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    ports = draw(
        st.lists(st.integers(8001, 8030), min_size=len(names), max_size=len(names), unique=True)
    )
    services = dict(zip(names, ports, strict=True))
    tilt_owns = draw(st.booleans())  # Tilt forwards the service ports, kind maps none
    infra = draw(st.lists(st.sampled_from(FOREIGN), max_size=2, unique=True))
    mappings = (
        []
        if tilt_owns
        else [(f"{n.title()} Service", 31000 + p - 8000, p) for n, p in services.items()]
    )
    mappings += [("Infrastructure", 30000 + i, port) for i, port in enumerate(infra)]
    kind = "kind: Cluster\nnodes:\n- role: control-plane\n  extraPortMappings:\n" + "".join(
        f"  # {comment}\n  - containerPort: {node}\n    hostPort: {host}\n"
        for comment, node, host in mappings
    )
    tilt = "".join(
        f"k8s_resource('{n}', port_forwards='{p}:{draw(st.sampled_from([p, 80, 8080]))}')\n"
        for n, p in services.items()
        if tilt_owns
    )
    manifests = "".join(  # a Service's own port may be anything: it is in-cluster
        f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: {n}}}\nspec:\n  ports:\n"
        f"  - port: {draw(st.sampled_from([p, 80, 8080]))}\n    targetPort: {p}\n"
        for n, p in services.items()
    )
    compose = "services:\n" + "".join(  # another way to run the stack: its own project
        f"  {n}:\n    ports: ['{draw(st.sampled_from([p, 9000 + i]))}:{p}']\n"
        for i, (n, p) in enumerate(services.items())
    )
    compose += "".join(f"  infra{port}:\n    ports: ['{port}:{port}']\n" for port in infra)
    registry = {"reserved_ports": [8080], "assignments": services}
    files = {
        REG: json.dumps(registry, indent=2) + "\n",
        "kind-config.yaml": kind,
        "Tiltfile": tilt,
        "k8s/services.yaml": manifests,
        "compose.yaml": compose,
        "portreg.toml": "[helm]\nenabled = false\n[manifests]\nfiles = ['k8s/*.yaml']\n"
        + ("[kind]\nskip-host-ports = [[8001, 8099]]\n" if tilt_owns else ""),
    }
    if draw(st.booleans()):  # a real disagreement somewhere, now and then
        _name, port = draw(st.sampled_from(sorted(services.items())))
        where = draw(st.sampled_from(["Tiltfile", "kind-config.yaml", REG]))
        other = draw(st.integers(8001, 8030))
        files[where] = files[where].replace(str(port), str(other), 1)
    return files


# the cli fixture runs main() in-process with a clean environment; it holds no state
# between examples, so sharing it across them is safe
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(repos())
def test_fix_on_a_green_repo_changes_nothing_and_leaves_only_what_check_reports(
    cli: CliRunner, files: dict[str, str]
) -> None:
    root = Path(tempfile.mkdtemp())
    try:
        (root / ".git").mkdir()
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        check = cli("--root", str(root), "check", "-o", "json")
        assert check.code in (0, 1), check.err
        reported = {f"{f['path']}:{f['line']}" for f in json.loads(check.out)["findings"]}
        before = tree(root)
        fixed = cli("--root", str(root), "fix")
        assert "Traceback" not in fixed.err
        if check.code == 0:
            event("green")
            assert tree(root) == before, fixed.out
            assert fixed.code == 0
            assert fixed.err == ""
        else:
            event("red")
        # every Not fixed line names a place check reported
        for line in fixed.err.splitlines():
            if line.startswith("⚠️  Not fixed: "):
                place = line.removeprefix("⚠️  Not fixed: ").split(": ")[0]
                assert place in reported, (line, reported)
        if fixed.code == 0:  # what fix says it repaired, check agrees with
            assert cli("--root", str(root), "check").code == 0
            again = tree(root)
            assert cli("--root", str(root), "fix").out == "ℹ️  Nothing to fix\n"
            assert tree(root) == again
    finally:
        shutil.rmtree(root)
