#!/usr/bin/env bash
# Installs everything the tests need (Python packages; etcd and chromium from
# Debian's packages when missing) and runs lint, types and the whole test suite.
PORTREG_EXTRAS=test source "$(dirname "$0")/venv.sh"

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/pytest -n 2 -p no:cacheprovider "$@"
