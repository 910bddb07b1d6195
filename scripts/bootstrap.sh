#!/usr/bin/env bash
# Installs what this repo needs on a fresh Debian machine, idempotently and quickly when all is
# present: apt packages, npm dependencies (with the patched `cap`), and checks Go.
#   scripts/bootstrap.sh          base: build tools, libpcap, iproute2, tcpdump, tshark
#   scripts/bootstrap.sh --e2e    also what the VS Code end-to-end tests and the sandbox need
set -euo pipefail
cd "$(dirname "$0")/.."

want_e2e=0
for a in "$@"; do
  case "$a" in
    --e2e) want_e2e=1 ;;
    *) echo "bootstrap: unknown option $a" >&2; exit 2 ;;
  esac
done

say() { printf 'bootstrap: %s\n' "$*"; }

# --- apt ---------------------------------------------------------------------------------
pkgs=(build-essential python3 libpcap-dev iproute2 tcpdump tshark openssl ca-certificates)
if [ "$want_e2e" = 1 ]; then
  pkgs+=(chromium xvfb wireshark-qt x11-apps imagemagick libkrb5-dev)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bootstrap: missing Debian packages: ${missing[*]}; run as root or install them with apt-get" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- toolchains --------------------------------------------------------------------------
command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || {
  echo "bootstrap: Go is needed to build the test cluster's control plane (go 1.25+); install it and retry" >&2
  exit 1
}
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "bootstrap: Node $(node --version) is too old; Node 20.19+ is needed" >&2
  exit 1
fi

# --- npm ---------------------------------------------------------------------------------
# Re-install only when the lockfile or the patches changed since the last install.
shopt -s nullglob
stamp_inputs=(package-lock.json patches/*.patch)
shopt -u nullglob
stamp_src=$(cat "${stamp_inputs[@]}" | sha256sum | cut -c1-16)
stamp_file=node_modules/.bootstrap-stamp
if [ ! -f "$stamp_file" ] || [ "$(cat "$stamp_file")" != "$stamp_src" ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$stamp_src" > "$stamp_file"
fi
