# Sourced by the project's install scripts: run a step with its output in a log file, and on
# failure say which step failed, where its log is and what to do, then exit 1.
#   step_run "<step>" <log-name> "<fix>" cmd args...
#   step_fail "<step>" "<log or empty>" "<fix>"
#   step_say "<message>"
STEP_LOG_DIR="${STEP_LOG_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.cache/logs}"
STEP_TAG="${STEP_TAG:-$(basename "$0" .sh)}"

step_say() { printf '[%s] %s\n' "$STEP_TAG" "$*" >&2; }

step_fail() {
  {
    printf '\n[%s] FAILED: %s\n' "$STEP_TAG" "$1"
    [ -n "$2" ] && printf '[%s]   log: %s\n' "$STEP_TAG" "$2"
    printf '[%s]   fix: %s\n' "$STEP_TAG" "$3"
  } >&2
  exit 1
}

step_run() {
  local step="$1" name="$2" fix="$3" log start rc
  shift 3
  mkdir -p "$STEP_LOG_DIR"
  log="$STEP_LOG_DIR/$STEP_TAG-$name.log"
  start=$(date +%s)
  rc=0
  "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then
    tail -n 15 "$log" | sed "s/^/[$STEP_TAG]   | /" >&2
    step_fail "$step (exit $rc)" "$log" "$fix"
  fi
  step_say "$step: done in $(($(date +%s) - start)) s (log: $log)"
}
