"""Issue 20, part 4: the traps a newcomer fell into on a small repo of their own, each
held by a real CLI run: its exact output and exit code, and the files before and after."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CliRunner, tree

QUICK_START = """\
Quick start:
  portreg init            write portreg.toml and an empty registry
  portreg check           report every port clash and file out of line
  portreg fix --dry-run   preview the edits that make `check` pass (then: portreg fix)
"""


def test_portreg_alone_prints_the_short_help_starting_with_the_quick_start(
    cli: CliRunner,
) -> None:
    run = cli()
    assert (run.code, run.err) == (0, "")
    assert run.out.startswith(QUICK_START + "\nCommands:\n  assign          assign the next")
    assert "  merge-driver    git merge driver for the registry (%O %A %B)\n" in run.out
    assert "__complete" not in run.out
    assert run.out.endswith(
        "\n`portreg COMMAND --help` says more about one; `portreg --help`: every option.\n"
    )


def test_the_top_level_help_has_the_quick_start_too(cli: CliRunner) -> None:
    run = cli("--help")
    assert run.code == 0
    assert run.out.split("\n\n")[1] + "\n" == QUICK_START


def test_init_force_without_compat_script_is_a_usage_error(repo: Path, cli: CliRunner) -> None:
    before = tree(repo)
    run = cli("init", "--force", cwd=repo)
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "portreg: error: init: --force replaces scripts/assign-port.py, so it needs "
        "--compat-script (run `portreg init --compat-script --force`, or drop --force)\n"
    )
    assert tree(repo) == before


def test_list_and_every_export_format_share_one_order_by_port(repo: Path, cli: CliRunner) -> None:
    # registry order, name order and port order all differ
    (repo / "scripts" / "port-registry.json").write_text(
        '{"assignments": {"orders": 8003, "billing": 8005, "audit": 8004}}\n'
    )
    root = ("--root", str(repo))
    assert cli(*root, "list").out == (
        "Port Assignments:\n"
        "--------------------------------------------------\n"
        "  orders                      Port: 8003\n"
        "  audit                       Port: 8004\n"
        "  billing                     Port: 8005\n"
        "--------------------------------------------------\n"
        "\n"
        "Total: 3 services\n"
    )
    assert cli(*root, "export", "-o", "csv").out == (
        "service,port,node_port\norders,8003,\naudit,8004,\nbilling,8005,\n"
    )
    assert cli(*root, "export", "-o", "markdown").out == (
        "| Service | Port |\n"
        "| ------- | ---: |\n"
        "| orders  | 8003 |\n"
        "| audit   | 8004 |\n"
        "| billing | 8005 |\n"
    )
    assert cli(*root, "export", "-o", "env").out.splitlines() == [
        "ORDERS_PORT=8003",
        "AUDIT_PORT=8004",
        "BILLING_PORT=8005",
    ]
    for listing in (cli(*root, "list", "-o", "json").out, cli(*root, "export", "-o", "json").out):
        assert [row["service"] for row in json.loads(listing)] == ["orders", "audit", "billing"]


VALUES = "helm/rerp-microservice/values"
NEWCOMER_REGISTRY = '{\n  "assignments": {\n    "invoice": 8002,\n    "shipping": 8004\n  }\n}\n'
KIND = """\
kind: Cluster
nodes:
- role: control-plane
  extraPortMappings:
  # Invoice Service
  - containerPort: 31002
    hostPort: 8002
  # Orders Service
  - containerPort: 31001
    hostPort: 8001
  # Shipping Service
  - containerPort: 31004
    hostPort: 8004
"""


def values(service: str, port: int) -> str:
    return (
        f"service:\n  name: {service}\n  type: NodePort\n  port: {port}\n"
        f"  containerPort: {port}\n  nodePort: {31000 + port - 8000}\n"
    )


@pytest.fixture
def newcomer(repo: Path) -> Path:
    """The newcomer's small repo: invoice and shipping registered; orders only in the
    files (values file and kind mapping, on 8001); a values file named Billing_API."""
    (repo / "scripts" / "port-registry.json").write_text(NEWCOMER_REGISTRY)
    (repo / VALUES).mkdir(parents=True)
    for name, service, port in (
        ("invoice", "invoice", 8002),
        ("orders", "orders", 8001),
        ("shipping", "shipping", 8004),
        ("Billing_API", "billing", 8010),
    ):
        (repo / VALUES / f"{name}.yaml").write_text(values(service, port))
    (repo / "kind-config.yaml").write_text(KIND)
    return repo


def test_a_values_file_that_names_no_service_is_a_warning_naming_it(
    newcomer: Path, cli: CliRunner
) -> None:
    run = cli("--root", str(newcomer), "check")
    assert (run.code, run.err) == (1, "")  # orders' values file (PR006) is the error
    assert run.out == (
        f"{VALUES}/Billing_API.yaml:4: warning PR026 values file Billing_API.yaml names no "
        "service (a service name is lowercase letters, digits and '-'), so no rule checks its "
        "ports (service.port 8010) and `fix` adopts nothing from it\n"
        f"    hint: rename it to {VALUES}/billing-api.yaml, or list it in [ignore] files\n"
        f"{VALUES}/orders.yaml:4: error PR006 values file for orders, which the registry does "
        "not know\n"
        "    hint: run `portreg reconcile` to adopt it, or `portreg fix --prune`\n"
        "❌ 1 error, 1 warning, 0 info\n"
    )
    (newcomer / VALUES / "Billing_API.yaml").rename(newcomer / VALUES / "billing-api.yaml")
    renamed = cli("--root", str(newcomer), "check")
    assert "PR026" not in renamed.out
    assert f"{VALUES}/billing-api.yaml:4: error PR006" in renamed.out  # now fix adopts it


def test_a_service_left_with_no_host_binding_after_fix_is_a_warning(
    repo: Path, cli: CliRunner
) -> None:
    (repo / "scripts" / "port-registry.json").write_text(
        '{\n  "assignments": {\n    "invoice": 8002,\n    "ledger": 8003\n  }\n}\n'
    )
    (repo / "kind-config.yaml").write_text(
        "kind: Cluster\nnodes:\n- role: control-plane\n  extraPortMappings:\n"
        "  # Invoice Service\n  - containerPort: 31002\n    hostPort: 8002\n"
        "  # Ledger Service\n  - containerPort: 31003\n    hostPort: 8003\n"
    )
    (repo / "Tiltfile").write_text("k8s_resource('invoice', port_forwards=8002)\n")
    (repo / "portreg.toml").write_text(
        "[helm]\nenabled = false\n[kind]\nskip-host-ports = [[8001, 8099]]\n"
    )
    fixed = cli("--root", str(repo), "fix")
    assert fixed.code == 0
    assert "🗑  Removed kind mapping for ledger (8003)" in fixed.out
    run = cli("--root", str(repo), "check")
    assert (run.code, run.err) == (0, "")  # a warning: fix has nothing to change
    assert run.out == (
        "scripts/port-registry.json:4: warning PR027 ledger is registered on 8003, but no file "
        "binds that port on this machine: [kind] skip-host-ports 8001-8099 leaves it to Tilt, "
        "and no Tilt forward (nor compose port) binds it\n"
        "    hint: forward it in the Tiltfile: k8s_resource('ledger', port_forwards=8003), or "
        "release it: `portreg release ledger --update-configs`\n"
        "⚠️  0 errors, 1 warning, 0 info\n"
    )
    before = tree(repo)
    assert cli("--root", str(repo), "fix").out == "ℹ️  Nothing to fix\n"
    assert tree(repo) == before
    (repo / "Tiltfile").write_text(
        "k8s_resource('invoice', port_forwards=8002)\nk8s_resource('ledger', port_forwards=8003)\n"
    )
    assert cli("--root", str(repo), "check").out.startswith("✅ No port conflicts")


@pytest.mark.parametrize(
    ("port", "bound"),
    [
        (8010, f"{VALUES}/Billing_API.yaml:4 (service.port)"),
        (
            8001,
            f"for orders by {VALUES}/orders.yaml:4 (service.port), kind-config.yaml:10 (hostPort)",
        ),
        (8020, "for web by compose.yaml:4 (ports)"),
        (8030, "for api by Tiltfile:1 (port_forwards)"),
    ],
    ids=["unnamed-values-file", "values-and-kind", "compose-published", "tilt-forward"],
)
def test_assign_port_refuses_a_port_a_file_binds(
    newcomer: Path, cli: CliRunner, port: int, bound: str
) -> None:
    (newcomer / "compose.yaml").write_text("services:\n  web:\n    ports:\n      - '8020:80'\n")
    (newcomer / "Tiltfile").write_text("k8s_resource('api', port_forwards='8030:8080')\n")
    before = tree(newcomer)
    run = cli("--root", str(newcomer), "assign", "foo", "--port", str(port))
    assert (run.code, run.out) == (2, "")
    by = bound if bound.startswith("for ") else f"by {bound}"
    assert run.err == (
        f"portreg: error: port {port} is already bound {by} "
        "(pick another port; `portreg ports` lists what binds each)\n"
    )
    assert tree(newcomer) == before


def test_assign_port_takes_the_port_the_services_own_files_bind(
    newcomer: Path, cli: CliRunner
) -> None:
    run = cli("--root", str(newcomer), "assign", "orders", "--port", "8001")
    assert (run.code, run.out) == (
        0,
        "✅ Assigned port 8001 to service 'orders'\n   NodePort: 31001\n"
        "   Updated scripts/port-registry.json\n",
    )


def test_query_of_a_service_the_files_hold_points_at_adoption_where_it_is(
    newcomer: Path, cli: CliRunner
) -> None:
    run = cli("--root", str(newcomer), "query", "orders")
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        "portreg: error: service 'orders' has no port assigned (the files hold it on 8001: "
        f"{VALUES}/orders.yaml:4, kind-config.yaml:10; adopt it with `portreg fix --dry-run`, "
        "then `portreg fix`)\n"
    )
    fixed = cli("--root", str(newcomer), "fix")
    assert fixed.out.startswith(
        f"➕ Adopted 'orders' on its port 8001 ({VALUES}/orders.yaml:4, kind-config.yaml:10)\n"
    )
    assert cli("--root", str(newcomer), "query", "orders").out == (
        "Service 'orders': Port 8001  NodePort 31001\n"
    )


def test_query_of_a_service_only_a_forward_names_points_at_reconcile(
    newcomer: Path, cli: CliRunner
) -> None:
    (newcomer / "Tiltfile").write_text("k8s_resource('pay', port_forwards=8009)\n")
    run = cli("--root", str(newcomer), "query", "pay")
    assert run.err == (  # no error of check names it, so fix would leave it
        "portreg: error: service 'pay' has no port assigned (the files hold it on 8009: "
        "Tiltfile:1; adopt it with `portreg reconcile --dry-run`, then `portreg reconcile`)\n"
    )
    reconciled = cli("--root", str(newcomer), "reconcile")
    assert "➕ Adopted 'pay' on its port 8009 (Tiltfile:1)\n" in reconciled.out


def test_query_of_a_service_no_file_names_still_says_assign(newcomer: Path, cli: CliRunner) -> None:
    run = cli("--root", str(newcomer), "query", "nobody")
    assert (run.code, run.err) == (
        1,
        "portreg: error: service 'nobody' has no port assigned "
        "(assign one with: portreg assign nobody --update-configs)\n",
    )


def test_release_says_what_check_now_reports_and_the_command_that_finishes_it(
    newcomer: Path, cli: CliRunner
) -> None:
    run = cli("--root", str(newcomer), "release", "shipping")
    assert (run.code, run.out) == (
        0,
        "✅ Released port 8004 from service 'shipping'\n   Updated scripts/port-registry.json\n",
    )
    assert run.err == (
        "⚠️  `portreg check` now reports 1 error, 0 warnings about shipping:\n"
        f"   {VALUES}/shipping.yaml:4: PR006 values file for shipping, which the registry does "
        "not know\n"
        "   Finish the release with: portreg release shipping --update-configs\n"
    )
    finish = cli("--root", str(newcomer), "release", "shipping", "--update-configs")
    assert (finish.code, finish.err) == (0, "")
    assert finish.out == (
        "✅ Removed what still named 'shipping' (it has no port)\n"
        f"   Deleted {VALUES}/shipping.yaml\n"
        "   Updated kind-config.yaml\n"
    )
    assert (newcomer / "kind-config.yaml").read_text() == KIND.replace(
        "  # Shipping Service\n  - containerPort: 31004\n    hostPort: 8004\n", ""
    )
    assert "shipping" not in cli("--root", str(newcomer), "check").out
    again = cli("--root", str(newcomer), "release", "shipping", "--update-configs")
    assert (again.code, again.err) == (
        1,
        "portreg: error: service 'shipping' has no port assigned "
        "(`portreg list` shows the services that have one)\n",
    )


def test_a_repo_that_derives_no_nodeports_is_shown_none(tmp_path: Path, cli: CliRunner) -> None:
    """compose only: no kind cluster, no Helm values, so no NodePort is derived, and
    assign, query and list name none (a NodePort 48566 nothing would ever use misled)."""
    root = tmp_path / "shop"
    (root / "scripts").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "compose.yaml").write_text('services:\n  web: {image: nginx, ports: ["8001:80"]}\n')
    at = ("--root", str(root))
    assigned = cli(*at, "assign", "api")
    assert (assigned.code, assigned.out) == (
        0,
        "✅ Assigned port 8002 to service 'api'\n   Created scripts/port-registry.json\n",
    )
    assert cli(*at, "query", "api").out == "Service 'api': Port 8002\n"
    assert json.loads(cli(*at, "query", "api", "-o", "json").out) == {
        "service": "api",
        "port": 8002,
        "node_port": None,
    }
    assert "  api                         Port: 8002\n" in cli(*at, "list").out


def test_assign_as_json_names_no_nodeport_where_none_is_derived(
    tmp_path: Path, cli: CliRunner
) -> None:
    """A manifest's nodePort 31001 in a repo with no kind and no Helm: assign takes 8001
    (nothing binds it on the host) and, as query and list, names no NodePort for it."""
    root = tmp_path / "shop"
    (root / "scripts").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "k8s").mkdir()
    (root / "k8s/web.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n"
        "  ports:\n  - port: 80\n    nodePort: 31001\n"
    )
    run = cli("--root", str(root), "assign", "newsvc", "--json")
    assert run.code == 0
    assert json.loads(run.out) == {
        "service": "newsvc",
        "port": 8001,
        "node_port": None,
        "new": True,
        "changed_files": ["scripts/port-registry.json"],
    }
