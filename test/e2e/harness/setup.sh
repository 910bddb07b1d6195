#!/usr/bin/env bash
# Installs what the code-server e2e tests and the sandbox need, idempotently: the Debian packages
# of set `e2e` (scripts/packages.txt, through scripts/bootstrap.sh), Node 24 (code-server refuses
# Node 20) and code-server installed and built by Node 24. Safe to run again: every step checks
# first. Prints the paths it made as KEY=VALUE lines; a failing step names itself, its log and
# the fix.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
CACHE="$ROOT/.cache/e2e"
# Node 24 and code-server are versioned tools in the tools cache (RETINA_TOOLS_CACHE; CI points
# it at an empty folder in its clone); per-run scratch stays in the clone's .cache/e2e.
TOOLS="${RETINA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/retina-capture}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
mkdir -p "$CACHE"
STEP_TAG=e2e-setup
# shellcheck source=scripts/lib/step.sh
. "$ROOT/scripts/lib/step.sh"
# shellcheck source=scripts/lib/clean-env.sh
. "$ROOT/scripts/lib/clean-env.sh"
clean_npm_env

# --- Debian packages (chromium, Wireshark + Xvfb, code-server's native build deps) ---
bash "$ROOT/scripts/bootstrap.sh" --e2e --no-npm

# --- Node 24 (scripts/node24.sh: pinned version, shared install with the worker runtime) ---
node24_out=$(bash "$ROOT/scripts/node24.sh")
eval "$(grep -E '^NODE24_(HOME|VERSION)=' <<<"$node24_out")"
[[ -x "$NODE24_HOME/bin/node" ]] || step_fail "Node 24" "" "scripts/node24.sh printed no usable Node 24 ($NODE24_HOME)"

# --- code-server, installed and built by Node 24 ---
CS_DIR="$TOOLS/code-server-$CODE_SERVER_VERSION"
CS_BIN="$CS_DIR/node_modules/code-server/out/node/entry.js"
if [[ ! -f "$CS_DIR/.ok-$CODE_SERVER_VERSION" ]]; then
  mkdir -p "$CS_DIR"
  exec 9>"$TOOLS/.code-server-$CODE_SERVER_VERSION.lock"
  flock 9
  if [[ ! -f "$CS_DIR/.ok-$CODE_SERVER_VERSION" ]]; then
    step_say "installing code-server@$CODE_SERVER_VERSION with Node $NODE24_VERSION into $CS_DIR (a few minutes on a new machine)"
    [[ -f "$CS_DIR/package.json" ]] || echo '{"private":true}' >"$CS_DIR/package.json"
    # The Node that runs npm, its lifecycle scripts (code-server's postinstall checks `node`
    # is 24) and node-gyp (nodedir: Node 24's headers) is Node 24, named here, whatever npm or
    # Node started this script.
    npm_cli="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
    [[ -f "$npm_cli" ]] || step_fail "code-server" "" "npm's npm-cli.js not found next to $(command -v npm): install npm 10+"
    cs_npm() {
      (cd "$CS_DIR" && PATH="$NODE24_HOME/bin:$PATH" npm_config_nodedir="$NODE24_HOME" \
        "$NODE24_HOME/bin/node" "$npm_cli" "$@")
    }
    fix="read the log's last lines; a node-gyp error needs build-essential, python3 and libkrb5-dev (bash scripts/bootstrap.sh --e2e); then run the command again"
    # Scripts are gated here: install without them, approve exactly this tree, then build.
    step_run "code-server (npm install)" code-server-install "$fix" \
      cs_npm install --save-exact --ignore-scripts --no-audit --no-fund "code-server@$CODE_SERVER_VERSION"
    cs_npm install-scripts approve --all >/dev/null 2>&1 || true
    step_run "code-server (npm rebuild with Node $NODE24_VERSION)" code-server-rebuild "$fix" cs_npm rebuild
    "$NODE24_HOME/bin/node" "$CS_BIN" --version >/dev/null 2>&1 ||
      step_fail "code-server (start check)" "" "$NODE24_HOME/bin/node $CS_BIN --version fails: remove $CS_DIR and run the command again"
    touch "$CS_DIR/.ok-$CODE_SERVER_VERSION"
  fi
  exec 9>&-
fi

echo "NODE24=$NODE24_HOME/bin/node"
echo "CODE_SERVER_ENTRY=$CS_BIN"
echo "CHROMIUM=/usr/bin/chromium"
