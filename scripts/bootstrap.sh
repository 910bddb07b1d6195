#!/usr/bin/env bash
# Installs what this repo needs on a fresh Debian machine, idempotently and quickly when all is
# present: the Debian packages of scripts/packages.txt and the npm dependencies (with the
# patched `cap`), and checks Go and Node.
#   scripts/bootstrap.sh            set `base`: build tools, libpcap, iproute2, tcpdump, tshark, iptables…
#   scripts/bootstrap.sh --e2e      also set `e2e`: what the VS Code end-to-end tests and the sandbox need
#   scripts/bootstrap.sh --no-npm   Debian packages and toolchain checks only
# A failing step prints the step, its log file and what to do; logs are in .cache/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/step.sh
. scripts/lib/step.sh

want_e2e=0
want_npm=1
for a in "$@"; do
  case "$a" in
    --e2e) want_e2e=1 ;;
    --no-npm) want_npm=0 ;;
    *) echo "bootstrap: unknown option $a" >&2; exit 2 ;;
  esac
done

# --- Debian packages ---------------------------------------------------------------------
sets='^base$'
[ "$want_e2e" = 1 ] && sets='^(base|e2e)$'
mapfile -t pkgs < <(awk -v sets="$sets" '!/^#/ && NF >= 2 && $2 ~ sets { print $1 }' scripts/packages.txt)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    step_fail "Debian packages" "" "missing: ${missing[*]}; run as root, or: sudo apt-get install ${missing[*]}"
  fi
  step_say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # wireshark-common asks whether non-root users may capture: answer no, without a prompt.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  step_run "Debian packages (apt-get update)" apt-update \
    "check that the machine reaches Debian's package mirrors (/etc/apt/sources.list*), then run the command again" \
    apt-get update -q
  step_run "Debian packages (apt-get install)" apt-install \
    "read the log's last lines: a held or broken package must be fixed by hand (apt-get -f install), then run the command again" \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- toolchains --------------------------------------------------------------------------
command -v go >/dev/null || [ -x /usr/local/go/bin/go ] ||
  step_fail "Go toolchain" "" "Go 1.26+ builds the test cluster's control plane: install it (go.dev/doc/install) and put go on PATH"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || step_fail "Node.js" "" "Node $(node --version) is too old: install Node 20.19 or newer"

# --- npm ---------------------------------------------------------------------------------
[ "$want_npm" = 1 ] || exit 0
# Re-install only when the lockfile or the patches changed since the last install.
shopt -s nullglob
stamp_inputs=(package-lock.json patches/*.patch)
shopt -u nullglob
stamp_src=$(cat "${stamp_inputs[@]}" | sha256sum | cut -c1-16)
stamp_file=node_modules/.bootstrap-stamp
if [ ! -f "$stamp_file" ] || [ "$(cat "$stamp_file")" != "$stamp_src" ]; then
  step_say "installing npm dependencies (npm ci)"
  step_run "npm dependencies (npm ci)" npm-ci \
    "read the log: a failed 'npm rebuild cap' needs libpcap-dev and build-essential (this script installs them); a network error: check the npm registry is reachable, then run the command again" \
    npm ci --no-audit --no-fund --loglevel=error
  echo "$stamp_src" > "$stamp_file"
fi
