"""`portreg assign` against a local etcd vs the file store, whole process, as ratios.

Target (issue 5): assign on etcd <= 2x the same assign on the file store. Both run
on a copy of examples/rerp (the file store with its registry file, etcd with the
same registry pushed to a key of a single etcd member started here, data on
/dev/shm). Every round assigns a new service, so each run writes.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import BASELINE, PORTREG, machine, measure, run_once, table

from etcd_util import EtcdCluster, find_etcd

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "rerp"
KEY = "/portreg/bench"


def copy_repo(target: Path) -> Path:
    shutil.copytree(EXAMPLE, target)
    (target / ".git").mkdir(exist_ok=True)
    return target


def main() -> int:
    if find_etcd() is None:
        print("bench_etcd: no etcd binary (apt-get install -y etcd-server); skipped")
        return 0
    os.environ.pop("PORTREG_STORE", None)
    with tempfile.TemporaryDirectory() as folder, EtcdCluster(1) as etcd:
        file_repo = copy_repo(Path(folder) / "file")
        etcd_repo = copy_repo(Path(folder) / "etcd")
        url = etcd.url(KEY)
        run_once([PORTREG, "--root", str(etcd_repo), "--store", url, "store", "push"])
        cases = {
            "python -c pass": lambda i: BASELINE,
            "assign (file store)": lambda i: [
                PORTREG,
                "--root",
                str(file_repo),
                "assign",
                f"f-{i}",
            ],
            "assign (etcd, local)": lambda i: [
                PORTREG,
                "--root",
                str(etcd_repo),
                "--store",
                url,
                "assign",
                f"e-{i}",
            ],
        }
        medians = measure(cases, rounds=30)
    print(machine())
    print(table("vs python -c pass", medians, "python -c pass", {}))
    print()
    print(table("vs the file store", medians, "assign (file store)", {"assign (etcd, local)": 2.0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
