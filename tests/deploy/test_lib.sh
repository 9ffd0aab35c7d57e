# Sourced by the deploy tests (netns_test.sh, container_test.sh,
# slurm_test.sh): how they take the unas binary they test, report a check and
# wait, bounded, for a condition. The sourcing script owns
# `failed` (its EXIT trap reads it) and may set WAIT_POLL_SECONDS (default 0.2).

# unas_binary SCRIPT ARG: sets UNAS to ARG as an absolute path, or says how
# SCRIPT is used and exits 1 when ARG is not an executable.
unas_binary() {
  if [ -z "$2" ] || [ ! -x "$2" ]; then
    echo "FAIL: usage: $1 PATH/TO/unas (an executable; got '$2')"
    exit 1
  fi
  UNAS=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
}

# fail MESSAGE...: records the failure and exits (the EXIT trap cleans up).
fail() {
  echo "FAIL: $*"
  failed=1
  exit 1
}
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else fail "$what"; fi
}
# wait_for SECONDS DESCRIPTION COMMAND...: runs COMMAND (its output discarded)
# every WAIT_POLL_SECONDS until it succeeds; fails after SECONDS.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  while [ "$SECONDS" -lt "$deadline" ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep "${WAIT_POLL_SECONDS:-0.2}"
  done
  "$@" >/dev/null 2>&1 && return 0
  fail "timed out after ${seconds}s waiting for: $what"
}
