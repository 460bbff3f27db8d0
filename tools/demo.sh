#!/usr/bin/env bash
# The main job on the demo repo: assign a port to a new service and bring every
# config file in line, show what changed, then `check` the repo and `fix` the
# drift it finds (a NodePort copied from another formula, a stale OpenAPI URL).
source "$(dirname "$0")/venv.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R examples/rerp "$work/rerp"
cd "$work/rerp"
git init -q && git add -A && git -c user.name=demo -c user.email=demo@example.com commit -qm demo
portreg=("$OLDPWD/.venv/bin/portreg")
set -x
"${portreg[@]}" list
"${portreg[@]}" assign accounts-receivable --update-configs
"${portreg[@]}" query accounts-receivable
git --no-pager diff --stat
git --no-pager diff
"${portreg[@]}" check || true
"${portreg[@]}" fix
"${portreg[@]}" check
