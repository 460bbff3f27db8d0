"""Random command sequences (hypothesis) against a temp repo; the invariants after every step.

The repo has a tiny range (8001-8006, 8003 reserved) so it fills up, Helm
values files (scaffolded on assign) and a kind-config. A release is followed
by deleting the service's values file, as a user removing the service would:
portreg leaves values files alone on purpose, and `check` would rightly flag
an orphan. Any refusal (exit 1 or 2) must leave every file as it was.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from reliability_cases import STATEFUL_COMMANDS

from portreg.cli import main

from conftest import SEED_HELM_CONFIG, tree

SERVICES = ("alpha", "beta", "gamma", "delta", "epsilon")
FIRST, LAST, RESERVED = 8001, 8006, 8003
TOML = f"first-port = {FIRST}\nlast-port = {LAST}\nreserved = [{RESERVED}]\n" + SEED_HELM_CONFIG
KIND = "kind: Cluster\nnodes:\n- role: control-plane\n- role: worker\n"
VALUES = "helm/rerp-microservice/values/{}.yaml"
REGISTRY = "scripts/port-registry.json"
EDIT = ("--update-configs", "--scaffold")


def node_port(port: int) -> int:
    return 31000 + (port - 8000)


class PortregMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="portreg-stateful-"))
        (self.root / ".git").mkdir()
        (self.root / "scripts").mkdir()
        (self.root / "portreg.toml").write_text(TOML)
        (self.root / "kind-config.yaml").write_text(KIND)
        self.model: dict[str, int] = {}

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def portreg(self, *args: str) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--root", str(self.root), *args])
        assert "Traceback" not in err.getvalue()
        return code, out.getvalue()

    def registry(self) -> dict[str, int]:
        path = self.root / REGISTRY
        if not path.exists():
            return {}
        assignments: dict[str, int] = json.loads(path.read_text())["assignments"]
        return assignments

    def refused_or(self, code: int, before: dict[str, bytes]) -> bool:
        """True when the command ran; a refusal must have changed nothing."""
        if code == 0:
            return True
        assert code in (1, 2)
        assert tree(self.root) == before
        return False

    def _assign(self, service: str, *extra: str) -> None:
        before = tree(self.root)
        code, _ = self.portreg("assign", service, *extra, *EDIT)
        if self.refused_or(code, before):
            self.model[service] = self.registry()[service]

    # ----------------------------------------------------------------- rules

    @rule(service=st.sampled_from(SERVICES))
    def assign(self, service: str) -> None:
        held = self.model.get(service)
        self._assign(service)
        assert held is None or self.model[service] == held  # idempotent

    @rule(service=st.sampled_from(SERVICES))
    def assign_force(self, service: str) -> None:
        self._assign(service, "--force")

    @rule(service=st.sampled_from(SERVICES), port=st.integers(FIRST - 1, LAST + 1))
    def assign_port(self, service: str, port: int) -> None:
        bound = {mapping["hostPort"] for mapping in self.kind_mappings()}
        self._assign(service, "--port", str(port))
        if self.model.get(service) != port:
            # refused: out of range, reserved, someone's port, or still bound by the kind
            # mapping of a service released without --update-configs (kind names it)
            refusable = (FIRST - 1, LAST + 1, RESERVED, *self.registry().values(), *bound)
            assert port in refusable

    def _release(self, service: str, *extra: str) -> None:
        before = tree(self.root)
        code, _ = self.portreg("release", service, *extra)
        values = self.root / VALUES.format(service)
        if self.refused_or(code, before) and service not in self.model:
            # finishing a plain release: what its files still held (its kind mapping) went
            assert "--update-configs" in extra
            assert tree(self.root) != before
            assert not values.exists()
        elif code == 0:
            del self.model[service]
            if "--update-configs" in extra:
                assert not values.exists()  # the file only it used went with it
            else:
                values.unlink()  # as the team would, with the service's code
        else:
            assert service not in self.model

    @rule(service=st.sampled_from(SERVICES))
    def release(self, service: str) -> None:
        self._release(service)

    @rule(service=st.sampled_from(SERVICES))
    def release_update_configs(self, service: str) -> None:
        self._release(service, "--update-configs")

    @rule(service=st.sampled_from(SERVICES))
    def update_configs(self, service: str) -> None:
        before = tree(self.root)
        code, _ = self.portreg("update-configs", service)
        if self.refused_or(code, before):
            assert tree(self.root) == before  # files were already in line

    # ------------------------------------------------------------ invariants

    @invariant()
    def registry_is_the_model_and_valid(self) -> None:
        held = self.registry()
        assert held == self.model
        ports = list(held.values())
        assert len(set(ports)) == len(ports)  # one service per port
        assert all(FIRST <= port <= LAST and port != RESERVED for port in ports)

    @invariant()
    def files_are_in_line(self) -> None:
        mappings = self.kind_mappings()
        host_ports = [m["hostPort"] for m in mappings]
        assert len(set(host_ports)) == len(host_ports)
        by_host = {m["hostPort"]: m["containerPort"] for m in mappings}
        for service, port in self.model.items():
            values = yaml.safe_load((self.root / VALUES.format(service)).read_text())
            assert values["service"]["port"] == port
            assert values["service"]["containerPort"] == port
            assert values["service"]["nodePort"] == node_port(port)
            assert by_host[port] == node_port(port)

    @invariant()
    def check_has_no_errors(self) -> None:
        code, out = self.portreg("check", "--format", "json")
        errors = [f for f in json.loads(out)["findings"] if f["severity"] == "error"]
        assert code == 0, errors

    def kind_mappings(self) -> list[dict[str, Any]]:
        document = yaml.safe_load((self.root / "kind-config.yaml").read_text())
        node = document["nodes"][0]
        mappings: list[dict[str, Any]] = node.get("extraPortMappings") or []
        return mappings


PortregMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class TestPortregStateMachine(PortregMachine.TestCase):  # type: ignore[misc, valid-type]
    """Rules: assign, assign --force, assign --port, release, update-configs, release --update-configs."""

    commands = STATEFUL_COMMANDS
