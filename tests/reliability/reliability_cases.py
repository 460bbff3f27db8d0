"""Every fault and hostile input the reliability tests try, declared once.

The tests parametrize over these tables, and ``test_reliability_table.py``
renders docs/reliability.md from them, so the document cannot drift from what
the tests do. A case class is one row: its cases, and the outcome its tests
assert for every case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from conftest import SEED_REGISTRY

# --------------------------------------------------------------------- faults

# The command every fault test runs on a copy of examples/rerp: it edits the
# values file, kind-config.yaml and the registry (three files).
FAULT_COMMAND = ("assign", "accounts-receivable", "--update-configs")

# step -> what the tree holds once the next portreg run (here `check`) has run:
# killed before the journal is written -> old; after it -> finished, new.
KILL_STEPS: dict[str, str] = {
    "after-plan": "old",
    "after-stage": "new",
    "between-writes": "new",
    "before-registry": "new",
    "after-registry": "new",
}
FAIL_STEPS: tuple[str, ...] = tuple(KILL_STEPS)

LOCK_CASES: tuple[str, ...] = (
    "holder SIGKILLed mid-write: next run proceeds and finishes the change",
    "live holder: waits lock-timeout, then one line naming the holder's pid",
)
PERMISSION_CASES: tuple[str, ...] = (
    "modes 0640/0600/0664 kept",
    "values file symlinked inside the repo: link kept, target edited",
    "values file symlinked outside the repo: refused",
    "kind-config symlinked outside the repo: refused",
)
READ_ONLY_CASES: tuple[str, ...] = ("values folder 0555", "values file 0444", "kind-config 0444")
# root writes through mode bits, so as root (CI) the same targets are made read-only by a
# read-only bind mount instead: the kernel refuses every write with EROFS
READ_ONLY_MOUNT_CASES: tuple[str, ...] = ("values folder", "values file", "kind-config")

# --------------------------------------------------------------------- hostile

BAD_NAMES: dict[str, str] = {
    "empty": "",
    "space-and-bang": "Bad Name!",
    "path-traversal": "../../etc/passwd",
    "upper-case": "UPPER",
    "leading-dash": "-lead",
    "trailing-dash": "trail-",
    "64-chars": "a" * 64,
    "cyrillic-i": "\u0456nvoice",
    "greek-omicron": "inv\u03bfice",
    "fullwidth": "\uff49\uff4e\uff56\uff4f\uff49\uff43\uff45",
    "nul": "inv\x00oice",
    "newline": "invoice\nrm",
    "trailing-newline": "invoice\n",
}
NAME_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("assign", "{name}", "--update-configs"),
    ("assign", "{name}", "--force", "--port", "8005"),
    ("query", "{name}"),
    ("release", "{name}", "--update-configs"),
    ("update-configs", "{name}"),
)


def _seed_with(**changes: object) -> str:
    document = json.loads(SEED_REGISTRY)
    document.update(changes)
    return json.dumps(document, indent=2) + "\n"


# id -> (registry text, a substring of the one error line)
BAD_REGISTRIES: dict[str, tuple[str, str]] = {
    "invalid-json": ('{"assignments": {"invoice": 8002,}}\n', "not valid JSON"),
    "truncated": (SEED_REGISTRY[: len(SEED_REGISTRY) // 2], "not valid JSON"),
    "port-as-string": (
        _seed_with(assignments={"invoice": "8002"}),
        "invoice: port '8002' is not an integer",
    ),
    "negative-port": (_seed_with(assignments={"invoice": -8002}), "is not a TCP port"),
    "port-above-65535": (_seed_with(assignments={"invoice": 70000}), "is not a TCP port"),
    "same-port-twice": (
        _seed_with(assignments={"invoice": 8002, "billing": 8002}),
        "port 8002 is assigned twice",
    ),
    "assignments-a-list": (_seed_with(assignments=[["invoice", 8002]]), "must be an object"),
    "assignments-a-string": (_seed_with(assignments="invoice=8002"), "must be an object"),
    "document-a-list": ("[8001, 8002]\n", "must be a JSON object"),
    "duplicate-key": (
        '{"assignments": {"invoice": 8002, "invoice": 8003}}\n',
        "appears twice",
    ),
    "bad-service-key": (_seed_with(assignments={"Bad Name": 8003}), "is not a DNS-1035 label"),
    "not-utf8": ("\udcff", "not UTF-8"),
    "50-MB": ("", "refusing to read it"),  # written by the test, 50 MB
}
# Commands run against each broken registry: (argv, writes?)
REGISTRY_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("assign", "billing", "--update-configs"),
    ("release", "invoice"),
    ("update-configs", "--all"),
    ("list",),
    ("query", "invoice"),
)
# A registry that is unsafe only for writing (reading it is fine).
WRITE_ONLY_REFUSALS = frozenset({"same-port-twice"})

# YAML: id -> (text, a substring of the one error line). Each is the invoice
# values file, or kind-config.yaml, in a repo where invoice holds 8002.
BAD_VALUES: dict[str, tuple[str, str]] = {
    "syntax-error": ("service:\n  port: [8002\n", "not valid YAML"),
    "tab-indent": ("service:\n\tport: 8002\n", "a tab is used for indentation"),
    "duplicate-key": ("service:\n  port: 8002\n  port: 8003\n", "appears twice"),
    "alias-on-path": ("base: &b\n  port: 8002\nservice: *b\n", "alias"),
    "python-tag": (
        "service: !!python/object/apply:os.system ['touch PWNED']\n",
        "tag",
    ),
    "list-document": ("- service\n- port\n", "expected a mapping"),
    "scalar-document": ("just text\n", "expected a mapping"),
    "service-a-list": ("service:\n- port: 8002\n", "expected a mapping"),
}
BAD_KIND: dict[str, tuple[str, str]] = {
    "syntax-error": ("kind: Cluster\nnodes: [\n", "not valid YAML"),
    "tab-indent": (
        "kind: Cluster\nnodes:\n\t- role: control-plane\n",
        "a tab is used for indentation",
    ),
    "duplicate-key": ("kind: Cluster\nnodes: []\nnodes: []\n", "appears twice"),
    "alias-on-path": (
        "base: &n\n- role: control-plane\nkind: Cluster\nnodes: *n\n",
        "alias",
    ),
    "python-tag": ("kind: Cluster\nnodes: !!python/object/new:os.system [touch PWNED]\n", "tag"),
    "list-document": ("- kind\n- Cluster\n", "expected a mapping"),
}
# The bomb is run in a subprocess with RLIMIT_AS = 512 MB and a 60 s timeout.
ALIAS_BOMB_CASES: tuple[str, ...] = ("values file", "kind-config.yaml")
ALIAS_BOMB_LIMIT = 512 * 1024 * 1024


def alias_bomb(levels: int = 9) -> str:
    """Billion laughs: level n is a list of nine level n-1 aliases (9**levels leaves)."""
    lines = ['l0: &l0 ["lol"]']
    for level in range(1, levels + 1):
        items = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} [{items}]")
    return "\n".join(lines) + "\n"


# portreg.toml: id -> (text, a substring of the one error line)
BAD_CONFIGS: dict[str, tuple[str, str]] = {
    "port-a-string": ('first-port = "8001"\n', "first-port: expected an integer"),
    "reserved-not-a-list": ("reserved = 8080\n", "reserved: expected a list"),
    "timeout-a-string": ('lock-timeout = "soon"\n', "lock-timeout: expected a number"),
    "section-a-number": ("helm = 3\n", "helm: expected a table"),
    "bool-a-string": ('[helm]\nenabled = "yes"\n', "helm.enabled: expected true or false"),
    "port-a-float": ("last-port = 8999.5\n", "last-port: expected an integer"),
    "unknown-key": ('colour = "red"\n', "colour: unknown key"),
    "unknown-section-key": ('[kind]\nconfg = "k.yaml"\n', "kind.confg: unknown key"),
    "not-toml": ("first-port = \n", "not valid TOML"),
    "range-all-reserved": (
        "first-port = 8080\nlast-port = 8080\nreserved = [8080]\n",
        "every port of 8080-8080 is reserved",
    ),
    "range-past-node-ports": ("last-port = 9000\n", "maps to NodePort 32000"),
    "range-reversed": ("first-port = 8500\nlast-port = 8400\n", "is above last-port"),
    "node-range-past-k8s": ("node-port-range = [30000, 40000]\n", "node-port-range"),
    "base-past-k8s": ("node-port-base = 32700\n", "outside node-port-range"),
    "port-above-65535": ("last-port = 70000\n", "not a TCP port"),
    # numbers that are not finite, positive seconds
    "timeout-infinite": ("lock-timeout = inf\n", "lock-timeout: expected a finite number"),
    "timeout-nan": ("lock-timeout = nan\n", "lock-timeout: expected a finite number"),
    "timeout-zero": ("lock-timeout = 0\n", "lock-timeout: expected a finite number"),
    "timeout-negative": ("lock-timeout = -1\n", "lock-timeout: expected a finite number"),
    "etcd-timeout-infinite": ("[etcd]\ntimeout = inf\n", "etcd.timeout: expected a finite"),
    # paths that lead outside the repo
    "registry-absolute": ('registry = "/tmp/x.json"\n', "registry: /tmp/x.json leads outside"),
    "registry-climbs": ('registry = "../x.json"\n', "registry: ../x.json leads outside"),
    "registry-home": ('registry = "~/x.json"\n', "registry: ~/x.json leads outside"),
    "values-climbs": (
        '[helm]\nvalues = "../../etc/{service}.yaml"\n',
        "helm.values: ../../etc/{service}.yaml leads outside",
    ),
    "kind-absolute": ('[kind]\nconfig = "/etc/kind.yaml"\n', "kind.config: /etc/kind.yaml leads"),
    "template-climbs": ('[helm]\ntemplate = "../t.yaml"\n', "helm.template: ../t.yaml leads"),
    "tilt-absolute": ('[tilt]\nfiles = ["/home/u/Tiltfile"]\n', "tilt.files[0]: /home/u/Tiltfile"),
    "docs-climbs": ('docs = ["docs/../../x.md"]\n', "docs[0]: docs/../../x.md leads outside"),
    "target-glob-absolute": (
        '[[targets]]\nname = "t"\nfiles = "/root/.bashrc"\nkind = "text"\nline = "{SERVICE_UPPER}={port}"\n',
        "targets[0].files: /root/.bashrc leads outside",
    ),
    "target-glob-climbs": (
        '[[targets]]\nname = "t"\nfiles = "../**/*.env"\nkind = "text"\nline = "{SERVICE_UPPER}={port}"\n',
        "targets[0].files: ../**/*.env leads outside",
    ),
    "path-with-nul": ('registry = "a\\u0000b"\n', "registry: 'a\\x00b' holds a control"),
    # templates checked when the config loads, not written literally into files
    "helm-set-unknown": ('[helm.set]\n"service.port" = "{prot}"\n', "unknown placeholder {prot}"),
    "helm-set-unbalanced": ('[helm.set]\n"service.port" = "{port"\n', "unbalanced brace"),
    "helm-set-empty-segment": ('[helm.set]\n"service..port" = "{port}"\n', "empty segment"),
    "helm-set-key-placeholder": (
        '[helm.set]\n"svc.{service}" = "{port}"\n',
        "a Helm key is a literal dotted path",
    ),
    "kind-comment-unbalanced": ('[kind]\ncomment = "# {service Service"\n', "unbalanced brace"),
    "target-line-unbalanced": (
        '[[targets]]\nname = "t"\nfiles = ".env"\nkind = "text"\nline = "{SERVICE_UPPER}={port}}"\n',
        "unbalanced brace",
    ),
}

# ------------------------------------------------------- containment (issue 13)

VALUES = "helm/rerp-microservice/values"
PLANTABLE: dict[str, tuple[str, ...]] = {
    # file -> the commands that must refuse it, and what they read it for
    f"{VALUES}/invoice.yaml": ("assign", "payroll", "--update-configs"),
    "kind-config.yaml": ("assign", "payroll", "--update-configs"),
    ".env": ("assign", "payroll", "--update-configs"),
    "openapi/invoice.yaml": ("update-configs", "invoice"),
    "Tiltfile": ("assign", "payroll"),
    "compose.yaml": ("assign", "payroll"),
    "k8s/invoice.yaml": ("assign", "payroll"),
    "scripts/port-registry.json": ("assign", "payroll"),
}
PLANT_DEPTHS = 40  # hypothesis examples: a symlink out at a random level of a random path
FIFO_CASES = [
    (f"{VALUES}/invoice.yaml", ("assign", "payroll")),
    ("kind-config.yaml", ("assign", "payroll", "--update-configs")),
    ("scripts/port-registry.json", ("list",)),
    ("portreg.toml", ("query", "invoice")),
    ("Tiltfile", ("assign", "payroll")),
    (".git/portreg.lock", ("assign", "payroll")),
]
BAD_ENVIRONMENT = [
    ("SOURCE_DATE_EPOCH", "soon", "SOURCE_DATE_EPOCH: expected whole seconds"),
    ("SOURCE_DATE_EPOCH", "٣٣", "SOURCE_DATE_EPOCH: expected whole seconds"),
    ("SOURCE_DATE_EPOCH", "9" * 30, "SOURCE_DATE_EPOCH: expected whole seconds"),
    ("PORTREG_ROOT", "/tmp/a\x01b", "PORTREG_ROOT: "),
    ("PORTREG_CONFIG", "x\x7f", "PORTREG_CONFIG: "),
    ("PORTREG_STORE", "etcd://127.0.0.1:23x9/k", "has no valid port"),
    ("PORTREG_STORE", "etcd://127.0.0.1:٢٣٧٩/k", "has no valid port"),
    ("PORTREG_STORE", "etcd://127.0.0.1:99999/k", "has no valid port"),
]
NOT_ASCII_DIGITS = ["٨٠٠٢", "８００２", "8002²"]
PLANTED_JOURNALS = ("symlink", "names-outside", "climbs", "names-git")
NOT_SERVICE_NAMES = ["Upper_Case.yaml", "café.yaml", "-dash.yaml", "a_b.yaml"]
FORGING_NAMES = ["x\n::error file=evil.py::forged.yaml", "bad\x1b[31m.yaml"]
SECRET_ENV_NAMES = ["GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "HOME"]
LONG_TIMEOUTS = ["1e300", "86400", "3601"]
PASSWORD_URLS = [
    "etcd://root:pa/ss3cret@127.0.0.1:2379/k",
    "nope://root:pa/ss3cret@h/k",
    "root:pa/ss3cret@h:1/k",
    "etcd://root:pa/ss3cret@127.0.0.1:2379/k\x01",
]
ODD_REPLIES: dict[str, dict[str, object]] = {
    "revision-not-a-number": {"header": {"revision": "1"}, "kvs": [{"mod_revision": "abc"}]},
    "revision-missing": {"header": {"revision": "1"}, "kvs": [{"value": ""}]},
    "header-a-string": {"header": "x", "kvs": []},
    "kvs-a-string": {"header": {"revision": "1"}, "kvs": "nope"},
    "kvs-of-numbers": {"header": {"revision": "1"}, "kvs": [5]},
    "huge-revision": {"header": {"revision": "9" * 5000}, "kvs": []},
    "value-a-number": {"header": {"revision": "1"}, "kvs": [{"mod_revision": "2", "value": 7}]},
}
HUGE_NUMBER_FILES = 3  # kind-config, Tiltfile, registry: 5000 digits each

# ----------------------------------------------------------- property + soak

STATEFUL_COMMANDS = (
    "assign",
    "assign --force",
    "assign --port",
    "release",
    "update-configs",
    "release --update-configs",
)
SOAK_WORKERS = 8
SOAK_COMMANDS = 250
SOAK_STORES = ("file", "etcd")


# ---------------------------------------------------------------------- table


@dataclass(frozen=True)
class Row:
    group: str
    case_class: str
    cases: int
    outcome: str


ONE_LINE = "exit 2, one `portreg: error:` line, no traceback, no file changed"


def rows() -> list[Row]:
    """The table of docs/reliability.md, one row per case class."""
    kill_old = sum(1 for outcome in KILL_STEPS.values() if outcome == "old")
    name_cases = len(BAD_NAMES) * len(NAME_COMMANDS)
    registry_cases = len(BAD_REGISTRIES) * len(REGISTRY_COMMANDS)
    return [
        Row(
            "fault",
            f"SIGKILL at each step of `{' '.join(FAULT_COMMAND)}` ({', '.join(KILL_STEPS)})",
            len(KILL_STEPS),
            f"{kill_old} all old, {len(KILL_STEPS) - kill_old} all new once the next run "
            "(`check`) has finished the journal; whole tree compared; `check` agrees",
        ),
        Row(
            "fault",
            "injected write failure (ENOSPC) at each step",
            len(FAIL_STEPS),
            f"{ONE_LINE}; `check` agrees",
        ),
        Row(
            "fault",
            "read-only values folder / values file / kind-config (skipped as root)",
            len(READ_ONLY_CASES),
            ONE_LINE,
        ),
        Row(
            "fault",
            "read-only bind mount over values folder / values file / kind-config (as root)",
            len(READ_ONLY_MOUNT_CASES),
            ONE_LINE,
        ),
        Row("fault", "lock: stale holder, live holder", len(LOCK_CASES), "see cases; no timing"),
        Row(
            "fault",
            "permissions and symlinks",
            len(PERMISSION_CASES),
            "modes kept; inside link kept and its target edited; outside link: " + ONE_LINE,
        ),
        Row(
            "input",
            f"service names x {len(NAME_COMMANDS)} commands",
            name_cases,
            ONE_LINE,
        ),
        Row(
            "input",
            f"broken registries x {len(REGISTRY_COMMANDS)} commands",
            registry_cases,
            f"{ONE_LINE} (a port held twice is refused by writing commands only)",
        ),
        Row(
            "input", "broken Helm values files", len(BAD_VALUES), ONE_LINE + "; no tag constructed"
        ),
        Row("input", "broken kind-config.yaml", len(BAD_KIND), ONE_LINE + "; no tag constructed"),
        Row(
            "input",
            "billion-laughs alias bomb (RLIMIT_AS 512 MB, 60 s)",
            len(ALIAS_BOMB_CASES),
            ONE_LINE + "; memory stays under the limit",
        ),
        Row("input", "bad portreg.toml", len(BAD_CONFIGS), ONE_LINE),
        Row(
            "containment",
            "a symlink out of the repo at a random level of each file portreg reads "
            f"({len(PLANTABLE)} files, hypothesis), and at the last level",
            PLANT_DEPTHS + len(PLANTABLE),
            f"{ONE_LINE} inside or outside the repo (both snapshotted); the line says "
            "`leads outside the repo`",
        ),
        Row(
            "containment",
            "lock file a symlink; a journal in the git dir portreg did not write (symlink, "
            "naming a file outside, climbing with .., naming .git/config); registry named "
            "outside the repo",
            1 + len(PLANTED_JOURNALS) + 1,
            f"{ONE_LINE} inside or outside the repo, .git included; the file a link points to "
            "untouched",
        ),
        Row(
            "containment",
            "a journal shipped in the work tree (as a cloned repo could) x check, assign, list",
            3,
            "never read: portreg's lock and journal live in the git dir, which no clone carries",
        ),
        Row(
            "input",
            "a FIFO where a values file, kind-config, registry, portreg.toml, Tiltfile or the "
            "lock should be; a folder or symlink loop where a values file should be",
            len(FIFO_CASES) + 2,
            f"{ONE_LINE}; refused at once (a subprocess with a {20} s bound)",
        ),
        Row(
            "input",
            "environment variables that are not what they claim (SOURCE_DATE_EPOCH, "
            "PORTREG_ROOT/CONFIG/STORE), a config that is not UTF-8, JSON and YAML nested too "
            "deeply, lock-timeout = inf with a live holder",
            len(BAD_ENVIRONMENT) + 1 + 1 + 3 + 1,
            ONE_LINE,
        ),
        Row(
            "input",
            "ports written in digits that are not ASCII (٨٠٠٢, ８００２, 8002²)",
            len(NOT_ASCII_DIGITS),
            "`check` runs (exit 0 or 1), reads none of them as 8002, no traceback",
        ),
        Row(
            "output",
            "a password in a store URL; stdout that cannot encode emoji (ascii, latin-1)",
            2 + 2,
            "the password never shows (`***@`); `assign` exits 0 and writes the registry",
        ),
        Row(
            "fault",
            "temp files and journal a SIGKILL left beside the values, kind-config and registry",
            1,
            "`check` never reads them; the next writing command finishes the journal and "
            "removes every temp file",
        ),
        Row(
            "review",
            "a values file whose name is no DNS-1035 label (never adopted, its ports still "
            "skipped); names that could forge output lines, or are not UTF-8",
            len(NOT_SERVICE_NAMES) + len(FORGING_NAMES) + 1,
            f"{ONE_LINE} (the names); reconcile leaves the registry as it was (the labels)",
        ),
        Row(
            "review",
            "numbers of 5000 digits in kind-config, Tiltfile and registry; folder symlinks "
            "looping under a ** glob (and one to /); a config tomllib would choke on",
            HUGE_NUMBER_FILES + 1 + 2,
            "no traceback; no hang (a subprocess with a 20 s bound); exit 2 for the registry "
            "and the config",
        ),
        Row(
            "review",
            "secrets: a config symlinked to a credentials file, a config error on a table, a "
            "password-env naming another secret, passwords in URLs however written",
            2 + len(SECRET_ENV_NAMES) + len(PASSWORD_URLS),
            f"{ONE_LINE}; the secret never shows and is never sent",
        ),
        Row(
            "review",
            "lock-timeout longer than an hour; `init --git` on a .git symlink, in a parent "
            "repo, with .gitattributes leading out; docs listed in the config leading out",
            len(LONG_TIMEOUTS) + 3 + 1,
            f"{ONE_LINE}; no git config but the checkout's own is touched",
        ),
        Row(
            "review",
            "an etcd gateway that answers odd JSON (revisions that are not numbers or are "
            "5000 digits, kvs of the wrong shape) or trickles its reply a byte at a time",
            len(ODD_REPLIES) + 1,
            f"{ONE_LINE}; the whole reply must arrive within [etcd] timeout",
        ),
        Row(
            "property",
            f"hypothesis state machine: {', '.join(STATEFUL_COMMANDS)}",
            len(STATEFUL_COMMANDS),
            "invariants hold after every step; files parse and match; `check` has no errors",
        ),
        Row(
            "soak",
            f"{SOAK_WORKERS} processes x {SOAK_COMMANDS} mixed commands, file store and etcd",
            len(SOAK_STORES),
            "invariants hold after every command and at the end; no assignment lost",
        ),
    ]


def render() -> str:
    lines = [
        "# Reliability: faults and hostile inputs tried",
        "",
        "Generated from `tests/reliability/reliability_cases.py`; the test run fails when",
        "this file differs. Regenerate with:",
        "",
        "    PORTREG_WRITE_RELIABILITY=1 .venv/bin/pytest tests/reliability",
        "",
        "| group | case class | cases | outcome asserted |",
        "|---|---|---:|---|",
    ]
    for row in rows():
        lines.append(f"| {row.group} | {row.case_class} | {row.cases} | {row.outcome} |")
    total = sum(row.cases for row in rows())
    lines += ["", f"Total: {total} cases.", ""]
    return "\n".join(lines)
