#!/usr/bin/env bash
# Stages the capture worker "image" for local runs (test cluster image map, worker tests,
# bench:worker, sandbox) with the layout of worker/Dockerfile's runtime stage:
#
#   <app>/worker.cjs, <app>/worker-chunks/            the current dist bundle (copies)
#   <app>/node_modules/cap/{package.json,lib,build/Release/cap.node}
#                                                     patched cap built for Node 24's ABI
#   run as: /bin/sh worker/rcap-init.sh <NODE24> <app>/worker.cjs   (the image's ENTRYPOINT)
#
#   scripts/worker-runtime.sh            ensure all of it; prints NODE24=…, WORKER_APP=…, WORKER_MAIN=…
#   scripts/worker-runtime.sh --refresh  only copy the current dist bundle into an app dir that
#                                        exists (webpack.config.cjs runs it after each build)
#
# Why copies of the bundle and not symlinks to dist/: Node runs the real path of its main
# script, so a symlinked worker.cjs would resolve `require('cap')` from dist/ and load the
# repo's cap, built for /usr/bin/node's ABI (20), not the Node-24 build next to it. Copies stay
# current because every way the bundle changes refreshes them: webpack's worker build (any
# `npm run build`, also with a cluster running), and this script, which test/run.ts,
# `cluster:up`, the sandbox, test/support/worker.ts and bench:worker run before they use it.
# The swap is a rename, so a worker starting during a refresh sees the old or the new bundle.
#
# Caches: Node 24 from scripts/node24.sh; the Node-24 build of cap in the machine-wide tools
# cache, keyed by Node version and a hash of cap's version, patches/cap+*.patch and the
# patched sources (so a changed patch rebuilds it); the app dir in this clone's .cache/ (dist/ is
# per clone). Needs node_modules installed (scripts/bootstrap.sh) and python3/make/g++ and
# libpcap-dev for node-gyp; node-gyp is npm's own, given the Node 24 package as --nodedir so it
# downloads no headers.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APP="${RCAP_WORKER_APP:-$ROOT/.cache/worker-runtime/app}"
TOOLS="${RETINA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/retina-capture}"
STEP_TAG=worker-runtime
# shellcheck source=scripts/lib/step.sh
. "$ROOT/scripts/lib/step.sh"
# shellcheck source=scripts/lib/clean-env.sh
. "$ROOT/scripts/lib/clean-env.sh"
clean_npm_env

# Copies dist/worker.cjs + dist/worker-chunks into $APP (no-op without a built bundle).
refresh() {
  [ -s "$ROOT/dist/worker.cjs" ] || return 0
  local tmp
  tmp=$(mktemp -d "$APP/.new.XXXXXX")
  cp -p "$ROOT/dist/worker.cjs" "$tmp/worker.cjs"
  if [ -d "$ROOT/dist/worker-chunks" ]; then cp -pR "$ROOT/dist/worker-chunks" "$tmp/worker-chunks"; fi
  # Chunks first, then the main file: an old worker.cjs loading a new chunk is no worse than a
  # stale one, and a new worker.cjs never sees old chunks.
  if [ -d "$tmp/worker-chunks" ]; then
    [ -d "$APP/worker-chunks" ] && mv "$APP/worker-chunks" "$tmp/old-chunks"
    mv "$tmp/worker-chunks" "$APP/worker-chunks"
  fi
  mv -f "$tmp/worker.cjs" "$APP/worker.cjs"
  rm -rf "$tmp"
}

if [ "${1:-}" = --refresh ]; then
  [ -d "$APP/node_modules/cap" ] || exit 0
  exec 9>"$APP.lock"
  flock 9
  refresh
  exit 0
fi

# --- Node 24 ------------------------------------------------------------------------------
node24_out=$(bash "$ROOT/scripts/node24.sh")
eval "$(grep -E '^NODE24_(HOME|VERSION)=' <<<"$node24_out")"
NODE24="$NODE24_HOME/bin/node"

# --- cap for Node 24 ----------------------------------------------------------------------
CAP_SRC="$ROOT/node_modules/cap"
[ -f "$CAP_SRC/binding.gyp" ] || { step_say "$CAP_SRC is missing: run scripts/bootstrap.sh (npm ci) first"; exit 1; }
shopt -s nullglob
key_inputs=("$ROOT"/patches/cap+*.patch "$CAP_SRC/package.json" "$CAP_SRC/binding.gyp" "$CAP_SRC"/src/* "$CAP_SRC"/lib/*)
shopt -u nullglob
cap_version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$CAP_SRC/package.json" | head -1)
key=$(cat "${key_inputs[@]}" | sha256sum | cut -c1-16)
CAP_CACHE="$TOOLS/worker-cap/cap-$cap_version-node-$NODE24_VERSION-$key"
mkdir -p "$TOOLS/worker-cap"
if [ ! -f "$CAP_CACHE/build/Release/cap.node" ]; then
  exec 8>"$TOOLS/worker-cap/.lock"
  flock 8
  if [ ! -f "$CAP_CACHE/build/Release/cap.node" ]; then
    gyp="$ROOT/node_modules/node-gyp/bin/node-gyp.js"
    [ -f "$gyp" ] || gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
    [ -f "$gyp" ] || { step_say "node-gyp not found (neither in node_modules nor in npm)"; exit 1; }
    step_say "building cap $cap_version for Node $NODE24_VERSION (key $key)"
    work=$(mktemp -d "$TOOLS/worker-cap/.build.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    cp -pR "$CAP_SRC/package.json" "$CAP_SRC/binding.gyp" "$CAP_SRC/src" "$CAP_SRC/lib" "$work/"
    # binding.gyp runs `node -e "require('nan')"` for nan's include dir: NODE_PATH finds the
    # repo's nan from the copy. --nodedir: headers from the Node 24 package, no download.
    # Node 24 runs node-gyp and is first on PATH (binding.gyp's `node -e`); the npm_config_*
    # set here are the only ones node-gyp sees (clean_npm_env dropped npm's).
    # A subshell: the cd stays inside the build.
    build_cap() (
      cd "$work" &&
        PATH="$NODE24_HOME/bin:$PATH" NODE_PATH="$ROOT/node_modules" \
          npm_config_nodedir="$NODE24_HOME" npm_config_devdir="$work/.gyp" \
          "$NODE24" "$gyp" rebuild --release --nodedir="$NODE24_HOME" --devdir="$work/.gyp" --loglevel=warn &&
        # Loads in Node 24 (right ABI, libpcap found) before it is cached.
        "$NODE24" -e "const c = require(process.argv[1]); if (typeof c.Cap !== 'function') process.exit(1)" "$work"
    )
    step_run "cap for Node $NODE24_VERSION (node-gyp)" cap-node24 \
      "needs python3, make, g++ and libpcap-dev (bash scripts/bootstrap.sh installs them); a wrong NODE_MODULE_VERSION in the log means Node 20's headers were used: report it" \
      build_cap
    mkdir -p "$work/out/build/Release"
    cp -pR "$work/package.json" "$work/lib" "$work/out/"
    cp -p "$work/build/Release/cap.node" "$work/out/build/Release/cap.node"
    rm -rf "$CAP_CACHE"
    mv "$work/out" "$CAP_CACHE"
    rm -rf "$work"
    trap - EXIT
  fi
  exec 8>&-
fi

# --- app dir --------------------------------------------------------------------------------
mkdir -p "$APP"
exec 9>"$APP.lock"
flock 9
stamp="$APP/node_modules/cap/.source"
if [ ! -f "$APP/node_modules/cap/build/Release/cap.node" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$CAP_CACHE" ]; then
  rm -rf "$APP/node_modules/cap" "$APP/node_modules/.cap.new"
  mkdir -p "$APP/node_modules"
  cp -pR "$CAP_CACHE" "$APP/node_modules/.cap.new"
  echo "$CAP_CACHE" >"$APP/node_modules/.cap.new/.source"
  mv "$APP/node_modules/.cap.new" "$APP/node_modules/cap"
fi
refresh
exec 9>&-
[ -s "$APP/worker.cjs" ] || step_say "no worker bundle yet in $APP: run \`npm run build\` (it refreshes the app dir)"

echo "NODE24=$NODE24"
echo "NODE24_VERSION=$NODE24_VERSION"
echo "WORKER_APP=$APP"
echo "WORKER_MAIN=$APP/worker.cjs"
echo "RCAP_INIT=$ROOT/worker/rcap-init.sh"
