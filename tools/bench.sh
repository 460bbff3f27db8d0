#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints a table of ratios).
PORTREG_EXTRAS=test source "$(dirname "$0")/venv.sh"
for script in bench/bench_*.py; do
  echo "== $script"
  .venv/bin/python "$script"
done
