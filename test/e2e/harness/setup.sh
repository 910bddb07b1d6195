#!/usr/bin/env bash
# Installs what the code-server e2e tests need, idempotently, into the git-ignored .cache/e2e:
# Node 24 (code-server refuses Node 20), code-server built with that Node, Debian chromium for
# playwright-core, and Wireshark + Xvfb for the "Open in Wireshark" screenshot.
# Safe to run again: every step checks first. Prints the paths it made as KEY=VALUE lines.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
CACHE="$ROOT/.cache/e2e"
# Node 24 and code-server are versioned tools, shared by every clone on the machine (a fresh
# clone, as CI makes, does not reinstall them); per-run scratch stays in the clone's .cache/e2e.
TOOLS="${RETINA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/retina-capture}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
mkdir -p "$CACHE"

log() { echo "[e2e-setup] $*" >&2; }

# --- Debian packages (code-server's native deps, the browser, Wireshark under Xvfb) ---
APT_PKGS=(libkrb5-dev build-essential python3 chromium wireshark-qt tshark xvfb x11-apps imagemagick)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  # wireshark-common asks whether non-root users may capture: answer no, without a prompt.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# --- Node 24 (scripts/node24.sh: pinned version, shared install with the worker runtime) ---
node24_out=$(bash "$ROOT/scripts/node24.sh")
eval "$(grep -E '^NODE24_(HOME|VERSION)=' <<<"$node24_out")"
[[ -x "$NODE24_HOME/bin/node" ]] || { log "node 24 missing at $NODE24_HOME"; exit 1; }

# --- code-server, installed and built with Node 24 ---
CS_DIR="$TOOLS/code-server-$CODE_SERVER_VERSION"
CS_BIN="$CS_DIR/node_modules/code-server/out/node/entry.js"
if [[ ! -f "$CS_DIR/.ok-$CODE_SERVER_VERSION" ]]; then
  log "installing code-server@$CODE_SERVER_VERSION with Node $("$NODE24_HOME/bin/node" --version)"
  mkdir -p "$CS_DIR"
  [[ -f "$CS_DIR/package.json" ]] || echo '{"private":true}' >"$CS_DIR/package.json"
  export PATH="$NODE24_HOME/bin:$PATH"
  export npm_config_nodedir="$NODE24_HOME"
  (
    cd "$CS_DIR"
    # Scripts are gated here: install without them, approve exactly this tree, then build.
    npm install --save-exact --ignore-scripts "code-server@$CODE_SERVER_VERSION" >&2
    npm install-scripts approve --all >&2 || true
    npm rebuild >&2
  )
  touch "$CS_DIR/.ok-$CODE_SERVER_VERSION"
fi

echo "NODE24=$NODE24_HOME/bin/node"
echo "CODE_SERVER_ENTRY=$CS_BIN"
echo "CHROMIUM=/usr/bin/chromium"
