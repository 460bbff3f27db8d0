"""`assign --update-configs` on the fast road: the same files and output as the full road,
or it steps aside before writing anything."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from portreg import quick, quick_configs, quick_kind
from portreg.settings_cache import cache_file

from conftest import SEED_REGISTRY, CliRunner, run_full, tree

VALUES = "helm/rerp-microservice/values"
KIND = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  extraPortMappings:
  # General Ledger Service
  - containerPort: 31001
    hostPort: 8001
    protocol: TCP
  # Invoice Service
  - containerPort: 31002
    hostPort: 8002
    protocol: TCP
- role: worker
"""
KIND_INDENTED_WITH_PATCHES = """\
# kind cluster for local development
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    kubeadmConfigPatches:
      - |
        kind: InitConfiguration
        nodeRegistration:
          kubeletExtraArgs:
            node-labels: "ingress-ready=true"
    extraPortMappings:
      # Invoice Service
      - containerPort: 31002
        hostPort: 8002
        protocol: TCP

# trailing notes
"""
FULL_VALUES = """\
# ⚠️ PORT CONFIGURATION REFERENCE: managed by portreg
image:
  name: "rerp-placeholder"   # quoted, comment kept
  tag: 'latest'
service:
  type: NodePort
  port: 0

app:
  env:
    - name: RUST_LOG
      value: info
"""
SETUPS = {
    "bench-like values file": {f"{VALUES}/billing.yaml": "service:\n  type: NodePort\n"},
    "values with comments and quotes": {f"{VALUES}/billing.yaml": FULL_VALUES},
    "CRLF values (PyYAML composes it)": {
        f"{VALUES}/billing.yaml": FULL_VALUES.replace("\n", "\r\n")
    },
    "no values file": {},
    "indented kind list with a literal block": {
        f"{VALUES}/billing.yaml": FULL_VALUES,
        "kind-config.yaml": KIND_INDENTED_WITH_PATCHES,
    },
    "no final newline": {
        f"{VALUES}/billing.yaml": "service:\n  port: 1",
        "kind-config.yaml": KIND.rstrip("\n"),
    },
    "no kind-config": {f"{VALUES}/billing.yaml": FULL_VALUES, "kind-config.yaml": None},
    "own helm.set, kind comment and role": {
        f"{VALUES}/billing.yaml": FULL_VALUES,
        "kind-config.yaml": KIND.replace("control-plane", "main"),
        "portreg.toml": (
            '[helm.set]\n"service.port" = "{port}"\n"service.replicas" = 2\n'
            '"app.url" = "http://localhost:{port}"\n'
            '[kind]\nnode-role = "main"\ncomment = "# {service} ({port})"\n'
        ),
    },
    "helm off": {"portreg.toml": "[helm]\nenabled = false\n"},
    "kind off": {
        f"{VALUES}/billing.yaml": FULL_VALUES,
        "portreg.toml": "[kind]\nenabled = false\n",
    },
}


def make(root: Path, files: dict[str, str | None]) -> None:
    (root / "scripts/port-registry.json").write_text(SEED_REGISTRY)
    (root / VALUES).mkdir(parents=True)
    (root / "kind-config.yaml").write_text(KIND)
    for name, text in files.items():
        path = root / name
        if text is None:
            path.unlink()
        else:
            path.write_bytes(text.encode())


def twins(root: Path, tmp_path: Path) -> tuple[Path, Path]:
    fast, full = tmp_path / "fast", tmp_path / "full"
    shutil.copytree(root, fast)
    shutil.copytree(root, full)
    return fast, full


def settle_config(root: Path) -> None:
    """A full run validates and caches the config table; the fast road reads that cache."""
    config = root / "portreg.toml"
    if config.exists():
        hour_ago = config.stat().st_mtime_ns - 3600 * 10**9
        os.utime(config, ns=(hour_ago, hour_ago))
        assert run_full(["--root", str(root), "query", "general-ledger"]) == 0


@pytest.mark.parametrize("setup", SETUPS.values(), ids=SETUPS.keys())
def test_both_roads_write_the_same_bytes_and_say_the_same(
    seed_repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    setup: dict[str, str | None],
) -> None:
    make(seed_repo, setup)
    fast, full = twins(seed_repo, tmp_path)
    for root in (fast, full):
        settle_config(root)
    capsys.readouterr()
    assert quick.run(["--root", str(fast), "assign", "billing", "--update-configs"]) == 0
    said_fast = capsys.readouterr()
    assert run_full(["--root", str(full), "assign", "billing", "--update-configs"]) == 0
    said_full = capsys.readouterr()
    assert (said_fast.out, said_fast.err) == (said_full.out, said_full.err)
    assert tree(fast) == tree(full)
    assert tree(fast) != tree(seed_repo)  # something was written
    assert not list(fast.rglob("*.journal"))


FALLBACKS = {
    "already has a port": ({}, "invoice"),
    "its kind mapping exists (updated in place)": (
        {"kind-config.yaml": KIND.replace("Invoice Service", "Billing Service")},
        "billing",
    ),
    "skip-host-ports": ({"portreg.toml": "[kind]\nskip-host-ports = [[8001, 8099]]\n"}, "billing"),
    "user targets": (
        {
            ".env": "X=1\n",
            "portreg.toml": '[[targets]]\nname = "env"\nfiles = ".env"\nkind = "text"\n'
            'line = "{SERVICE_UPPER}_URL=http://localhost:{port}"\n',
        },
        "billing",
    ),
    "values template configured, file missing": (
        {
            "templates/values.yaml": "service:\n  port: {port}\n",
            "portreg.toml": ('[helm]\ntemplate = "templates/values.yaml"\n'),
        },
        "billing",
    ),
    "no nodes in kind-config": ({"kind-config.yaml": "kind: Cluster\n"}, "billing"),
    "a values file that is not YAML": ({f"{VALUES}/billing.yaml": "service: [port\n"}, "billing"),
}


@pytest.mark.parametrize(("setup", "service"), FALLBACKS.values(), ids=FALLBACKS.keys())
def test_anything_unusual_is_left_to_the_full_road_untouched(
    seed_repo: Path, setup: dict[str, str | None], service: str
) -> None:
    (seed_repo / "templates").mkdir()
    make(seed_repo, setup)
    settle_config(seed_repo)
    before = tree(seed_repo)
    assert quick.run(["--root", str(seed_repo), "assign", service, "--update-configs"]) is None
    assert tree(seed_repo) == before


def test_a_symlinked_values_file_is_left_to_the_full_road(seed_repo: Path, tmp_path: Path):
    make(seed_repo, {})
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(FULL_VALUES)
    (seed_repo / VALUES / "billing.yaml").symlink_to(outside)
    before = tree(seed_repo)
    assert quick.run(["--root", str(seed_repo), "assign", "billing", "--update-configs"]) is None
    assert tree(seed_repo) == before


def test_a_failed_write_puts_back_what_was_written(
    seed_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make(seed_repo, {f"{VALUES}/billing.yaml": FULL_VALUES})
    before = tree(seed_repo)
    real_replace = os.replace
    calls: list[str] = []

    def replace(source: str, target: str) -> None:
        calls.append(str(target))
        if str(target).endswith("port-registry.json"):
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(quick_configs.os, "replace", replace)
    assert quick.run(["--root", str(seed_repo), "assign", "billing", "--update-configs"]) is None
    assert any(call.endswith("kind-config.yaml") for call in calls)  # it got that far
    monkeypatch.undo()
    assert tree(seed_repo) == before  # kind-config and values put back, journal gone
    assert not [p for p in seed_repo.rglob("*") if p.name.endswith((".tmp", ".journal"))]


def fast_assign(root: Path, service: str) -> None:
    assert quick.run(["--root", str(root), "assign", service, "--update-configs"]) == 0


def test_the_kind_memo_plans_the_next_append_and_gives_the_same_bytes(
    seed_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    indented = KIND_INDENTED_WITH_PATCHES.split("    kubeadmConfigPatches:", maxsplit=1)[0]
    indented += KIND_INDENTED_WITH_PATCHES.split('"ingress-ready=true"\n')[1]
    make(seed_repo, {"kind-config.yaml": indented})
    fast, full = twins(seed_repo, tmp_path)
    appended: list[bool] = []
    real_append = quick_kind.append

    def spy(*args: object, **kwargs: object) -> object:
        result = real_append(*args, **kwargs)  # type: ignore[arg-type]
        appended.append(result is not None)
        return result

    monkeypatch.setattr(quick_kind, "append", spy)
    for service in ("billing", "payments", "reports"):
        fast_assign(fast, service)
        assert run_full(["--root", str(full), "assign", service, "--update-configs"]) == 0
        assert tree(fast) == tree(full)
    assert appended == [True, True]  # the first run had no memo; the next two used it


def test_a_kind_config_changed_since_is_composed_again(seed_repo: Path, tmp_path: Path):
    make(seed_repo, {})
    fast, full = twins(seed_repo, tmp_path)
    fast_assign(fast, "billing")
    assert run_full(["--root", str(full), "assign", "billing", "--update-configs"]) == 0
    for root in (fast, full):  # an edit by hand: the memo no longer matches the text
        kind = root / "kind-config.yaml"
        kind.write_text(kind.read_text().replace("hostPort: 8002", "hostPort: 8102"))
    fast_assign(fast, "payments")
    assert run_full(["--root", str(full), "assign", "payments", "--update-configs"]) == 0
    assert tree(fast) == tree(full)


@pytest.mark.parametrize("damage", ["digest", "position", "garbage", "role"])
def test_a_wrong_or_broken_memo_never_writes_a_wrong_file(
    seed_repo: Path, tmp_path: Path, damage: str
) -> None:
    make(seed_repo, {})
    fast, full = twins(seed_repo, tmp_path)
    fast_assign(fast, "billing")
    assert run_full(["--root", str(full), "assign", "billing", "--update-configs"]) == 0
    memo_file = Path(cache_file("kind", str(fast / "kind-config.yaml")))
    saved = json.loads(memo_file.read_text())
    if damage == "garbage":
        memo_file.write_text("{not json")
    else:
        saved.update(digest="0", position=3, role="worker")  # each alone must be caught too
        saved = {
            k: v
            for k, v in saved.items()
            if k
            in (
                damage,
                "version",
                "text",
                "items",
                "position",
                "dash",
                "gap",
                "newline",
                "node",
                "digest",
                "role",
            )
        }
        original = json.loads(memo_file.read_text())
        original[damage] = saved[damage]
        memo_file.write_text(json.dumps(original))
    fast_assign(fast, "payments")
    assert run_full(["--root", str(full), "assign", "payments", "--update-configs"]) == 0
    assert tree(fast) == tree(full)


class Killed(BaseException):
    """Stands for SIGKILL between two replaces: nothing in portreg catches it."""


def test_a_run_killed_between_writes_is_finished_by_the_next_command(
    seed_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    make(seed_repo, {f"{VALUES}/billing.yaml": FULL_VALUES})
    killed, whole = twins(seed_repo, tmp_path)
    assert run_full(["--root", str(whole), "assign", "billing", "--update-configs"]) == 0
    real_replace = os.replace
    replaced: list[str] = []

    def replace(source: str, target: str) -> None:
        in_repo = str(target).startswith(str(killed)) and not str(target).endswith(".journal")
        if replaced and in_repo:
            raise Killed  # the kind-config is new, the values file and registry are not
        real_replace(source, target)
        if in_repo:
            replaced.append(str(target))

    monkeypatch.setattr(quick_configs.os, "replace", replace)
    with pytest.raises(Killed):
        quick.run(["--root", str(killed), "assign", "billing", "--update-configs"])
    monkeypatch.undo()
    assert replaced == [str(killed / "kind-config.yaml")]
    assert list(killed.rglob("*.journal"))
    again = cli("--root", str(killed), "assign", "billing")  # the next writer takes the lock
    assert again.code == 0
    assert "already has port 8003" in again.out
    finished = {k: v for k, v in tree(killed).items() if not k.endswith(".tmp")}
    assert finished == tree(whole)
