#!/bin/sh
# rcap-init: the capture container's first process; runs the worker and holds stop signals
# until the worker can take them.
#
#   rcap-init.sh node /app/worker.cjs
#
# Why: a Job deleted right after its pod started sends SIGTERM while Node is still starting.
# Node resets signal handling during its own start-up, so no worker code can catch a signal
# that early: the worker died with exit 143 and no archive or result. This wrapper traps
# TERM/INT, starts the worker in its own process group (a signal sent to the pod's process
# group reaches only this shell), and passes the signal on once the worker has created
# $RCAP_READY_FILE (worker/src/stopsignal.ts, right after its handlers are installed).
# It exits with the worker's exit code. At the end of the grace period the runtime kills the
# whole container (its cgroup), the worker's own process group included.
set -u

ready="${RCAP_READY_FILE:-${TMPDIR:-/tmp}/rcap-ready.$$}"
export RCAP_READY_FILE="$ready"
rm -f "$ready"

pending=""
child=""
trap 'pending=TERM' TERM
trap 'pending=INT' INT

# Job control gives the background worker its own process group.
set -m
"$@" &
child=$!
set +m

while :; do
  wait "$child"
  rc=$?
  if ! kill -0 "$child" 2>/dev/null; then
    break
  fi
  # wait was interrupted by a trapped signal: hand it over once the worker is listening. The
  # loop only runs while a stop is pending during the worker's start-up (~0.1 s).
  if [ -n "$pending" ]; then
    tries=0
    # At most ~5 s: a worker that cannot write the file still gets the signal, just later.
    while [ ! -e "$ready" ] && [ "$tries" -lt 500 ] && kill -0 "$child" 2>/dev/null; do
      sleep 0.01
      tries=$((tries + 1))
    done
    kill -s "$pending" "$child" 2>/dev/null
    pending=""
  fi
done

rm -f "$ready"
exit "$rc"
