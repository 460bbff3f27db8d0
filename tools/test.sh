#!/usr/bin/env bash
# Installs everything the tests need (Python packages; etcd, chromium, zsh, fish
# and docker-compose from Debian's packages when missing) and runs lint, types and the whole
# test suite.
PORTREG_EXTRAS=test source "$(dirname "$0")/venv.sh"

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v zsh >/dev/null 2>&1 || need+=(zsh)    # the completion scripts run in each shell
command -v fish >/dev/null 2>&1 || need+=(fish)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)  # the compose oracle (v1)
if [ ${#need[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
# The soak tests load both cores on their own: run them after the rest, not beside it.
.venv/bin/pytest -n 2 -p no:cacheprovider -m "not slow" "$@"
status=0
.venv/bin/pytest -p no:cacheprovider -m slow "$@" || status=$?
# exit 5 = nothing collected: fine only when the caller picked tests without soak tests
if [ "$status" -ne 0 ] && ! { [ "$status" -eq 5 ] && [ $# -gt 0 ]; }; then
  exit "$status"
fi
