#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints a table of ratios).
PORTREG_EXTRAS=test source "$(dirname "$0")/venv.sh"
# an installed package is byte-compiled; an editable one under PYTHONDONTWRITEBYTECODE is not
.venv/bin/python -m compileall -q src >/dev/null
for script in bench/bench_*.py; do
  echo "== $script"
  .venv/bin/python "$script"
done
