#!/usr/bin/env bash
# Multi-host test of the service without Docker: three network namespaces act
# as three machines on a private test-only subnet (10.231.7.0/24, which exists
# only inside them):
#
#   coordinator  10.231.7.1  (bridge br0)   unas serve --workers 0
#   worker w1    10.231.7.11 (veth eth0) -- vw1 on br0
#   worker w2    10.231.7.12 (veth eth0) -- vw2 on br0
#
# 1. A synthetic job completes, with trials done on both hosts.
# 2. A job with 1.5 s trials starts; w2's link is cut (ip link set eth0 down)
#    in the middle of a trial. Its lease expires (3 s), the trial is re-run on
#    w1. The link comes back while w1 re-runs it: w2 learns that its lease is
#    gone (or its late report is refused), and the job finishes with every
#    trial completed exactly once.
# 3. A registered data set (unas data add; its source then deleted): w1, with
#    an empty cache, fetches it from the coordinator and trains a job on it
#    (real training, 60 sensor windows); a second job reuses the copy; a file
#    of the copy corrupted while w1 is stopped is detected at its restart and
#    fetched again.
#
# Needs root and working `ip netns`; otherwise prints SKIP and exits 77 (CTest's
# SKIP_RETURN_CODE). Every wait is bounded; every process runs under `timeout`
# and the EXIT trap removes the namespaces (and so every process in them) on
# every exit path. No traffic leaves the namespaces.
#
# Usage: tests/deploy/netns_test.sh PATH/TO/unas
set -uo pipefail

readonly SKIP_CODE=77
source "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"  # unas_binary, fail, check, wait_for
unas_binary "$0" "${1:-}"

skip() {
  echo "SKIP: $* (this test needs root and network namespaces to emulate separate hosts)"
  exit "$SKIP_CODE"
}
[ "$(id -u)" -eq 0 ] || skip "not running as root"
command -v ip >/dev/null 2>&1 || skip "the 'ip' command (iproute2) is not installed"
command -v timeout >/dev/null 2>&1 || skip "the 'timeout' command (coreutils) is not installed"

# gRPC honours proxy variables; this traffic must stay inside the namespaces.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY grpc_proxy all_proxy ALL_PROXY no_proxy NO_PROXY

readonly PREFIX="unas-nt"
readonly NS_C="$PREFIX-$$-c" NS_W1="$PREFIX-$$-w1" NS_W2="$PREFIX-$$-w2"
readonly SUBNET="10.231.7" PORT=7070
readonly COORD="$SUBNET.1:$PORT"
readonly TOKEN="netns-test-token-$$-$RANDOM$RANDOM"
readonly PROCESS_LIMIT_S=540  # every unas process stops by itself after this
WORK=$(mktemp -d "${TMPDIR:-/tmp}/unas-netns.XXXXXX")
created=()
failed=0

delete_namespace() {
  local ns=$1 pids
  pids=$(ip netns pids "$ns" 2>/dev/null)
  if [ -n "$pids" ]; then
    kill -TERM $pids 2>/dev/null
    for _ in $(seq 1 100); do  # up to 10 s: the coordinator finishes its long-polls
      [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
      sleep 0.1
    done
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
  fi
  ip netns delete "$ns" 2>/dev/null
}

cleanup() {
  local rc=$?
  if [ "$failed" -ne 0 ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne "$SKIP_CODE" ]; }; then
    for log in "$WORK"/*.log; do
      [ -f "$log" ] || continue
      echo "---- last lines of $(basename "$log")"
      tail -n 25 "$log"
    done
  fi
  # Workers first, then the coordinator.
  for ((i = ${#created[@]} - 1; i >= 0; i--)); do delete_namespace "${created[i]}"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Namespaces left by an earlier run that was killed before its trap ran (its
# pid, in the name, is gone).
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-" || true); do
  owner=${ns#"$PREFIX-"}
  owner=${owner%%-*}
  kill -0 "$owner" 2>/dev/null || delete_namespace "$ns"
done

# fail, check, wait_for.

# --- the hosts ---------------------------------------------------------------
if ! err=$(ip netns add "$NS_C" 2>&1); then skip "cannot create a network namespace: $err"; fi
created+=("$NS_C")
ip netns add "$NS_W1" && created+=("$NS_W1") || fail "ip netns add $NS_W1"
ip netns add "$NS_W2" && created+=("$NS_W2") || fail "ip netns add $NS_W2"
for ns in "$NS_C" "$NS_W1" "$NS_W2"; do ip -n "$ns" link set lo up || fail "lo up in $ns"; done
ip -n "$NS_C" link add br0 type bridge || skip "cannot create a bridge in a namespace"
ip -n "$NS_C" addr add "$SUBNET.1/24" dev br0 || fail "address on br0"
ip -n "$NS_C" link set br0 up || fail "br0 up"
for i in 1 2; do
  ns_var="NS_W$i"
  ns=${!ns_var}
  # Created inside the coordinator's namespace with the peer moved straight
  # into the worker's: nothing appears in the host's namespace.
  ip -n "$NS_C" link add "vw$i" type veth peer name eth0 netns "$ns" || fail "veth pair for w$i"
  ip -n "$NS_C" link set "vw$i" master br0 up || fail "vw$i on br0"
  ip -n "$ns" addr add "$SUBNET.1$i/24" dev eth0 || fail "address of w$i"
  ip -n "$ns" link set eth0 up || fail "eth0 up in w$i"
done
echo "hosts: coordinator $SUBNET.1 in $NS_C, workers $SUBNET.11 in $NS_W1 and $SUBNET.12 in $NS_W2"

# --- processes -----------------------------------------------------------------
in_ns() {  # in_ns NS SECONDS unas-args...: a bounded unas command on a host
  local ns=$1 limit=$2
  shift 2
  timeout "$limit" ip netns exec "$ns" "$UNAS" "$@"
}
client() { in_ns "$NS_C" 20 "$@" --coordinator "$COORD" --token "$TOKEN"; }

timeout "$PROCESS_LIMIT_S" ip netns exec "$NS_C" "$UNAS" serve --data-dir "$WORK/data" --listen "$COORD" \
  --workers 0 --token "$TOKEN" --lease-timeout-ms 3000 --heartbeat-ms 500 >"$WORK/serve.log" 2>&1 &
wait_for 30 "the coordinator listens on $COORD" grep -q "listening on port" "$WORK/serve.log"
for i in 1 2; do
  ns_var="NS_W$i"
  timeout "$PROCESS_LIMIT_S" ip netns exec "${!ns_var}" "$UNAS" worker --coordinator "$COORD" --token "$TOKEN" \
    --name "w$i" --cache-dir "$WORK/cache-w$i" >"$WORK/w$i.log" 2>&1 &
done
wait_for 30 "both workers register" bash -c "grep -qs 'registered as' '$WORK/w1.log' && grep -qs 'registered as' '$WORK/w2.log'"

quiet() { "$@" >>"$WORK/health.log" 2>&1; }
fails() { ! "$@"; }
check "unas health passes on the coordinator's host (gRPC with the token, database writable)" \
  quiet client health --data-dir "$WORK/data"
check "unas health passes from a worker's host over the network" \
  quiet in_ns "$NS_W1" 20 health --coordinator "$COORD" --token "$TOKEN"
check "unas health fails with a wrong token" \
  fails quiet in_ns "$NS_W1" 20 health --coordinator "$COORD" --token "wrong-token-0123456789"
sed 's/^/  health: /' "$WORK/health.log"

job_spec() {  # job_spec TRIALS DELAY_MS SEED
  echo '{"name":"netns","dataset":"synthetic","evaluator":"synthetic","strategy":"random","seed":'"$3"',
  "synthetic_delay_ms":'"$2"',"budget":{"trials":'"$1"'},
  "bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
  "constraints":{"peak_sram_bytes":64000,"flash_bytes":64000}}'
}
submit() {  # prints the job id
  job_spec "$@" >"$WORK/job.json"
  client submit "$WORK/job.json" | awk '/^submitted /{print $2}'
}
job_field() {  # job_field JOB FIELD: one field of `unas status --json`
  client status "$1" --json 2>/dev/null | sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p"
}
job_final() {
  local s
  s=$(job_field "$1" status)
  [ "$s" = succeeded ] || [ "$s" = failed ] || [ "$s" = cancelled ]
}
# Exactly once: N rows, N distinct trial ids, every one completed.
expect_exactly_completed() {  # JOB N
  client trials "$1" >"$WORK/trials_$1.txt" || fail "unas trials $1"
  local rows completed distinct
  rows=$(awk 'NR > 1' "$WORK/trials_$1.txt" | wc -l)
  completed=$(awk 'NR > 1 && $2 == "completed"' "$WORK/trials_$1.txt" | wc -l)
  distinct=$(awk 'NR > 1 {print $1}' "$WORK/trials_$1.txt" | sort -u | wc -l)
  [ "$(job_field "$1" status)" = succeeded ] || fail "job $1 did not succeed: $(client status "$1")"
  [ "$(job_field "$1" trials_completed)" = "$2" ] || fail "job $1: trials_completed is not $2"
  [ "$(job_field "$1" trials_failed)" = 0 ] || fail "job $1: some trials failed"
  [ "$rows" -eq "$2" ] && [ "$completed" -eq "$2" ] && [ "$distinct" -eq "$2" ] \
    || fail "job $1: $rows trials listed, $completed completed, $distinct distinct ids; expected $2 of each"
  echo "ok: job $1 has exactly $2 trials, each completed once"
}

# --- 1. a job across the three hosts -----------------------------------------
JOB1=$(submit 20 50 1)
[ -n "$JOB1" ] || fail "submit the first job"
wait_for 90 "job $JOB1 finishes" job_final "$JOB1"
expect_exactly_completed "$JOB1" 20
check "both worker hosts trained trials of $JOB1" \
  bash -c "grep -q 'trial $JOB1/' '$WORK/w1.log' && grep -q 'trial $JOB1/' '$WORK/w2.log'"

# --- 2. cut w2's link in the middle of a trial -------------------------------
JOB2=$(submit 8 1500 2)
[ -n "$JOB2" ] || fail "submit the second job"
wait_for 30 "w2 starts a trial of $JOB2" grep -q "trial $JOB2/[0-9]* attempt 1" "$WORK/w2.log"
CUT_TRIAL=$(grep -o "trial $JOB2/[0-9]* attempt 1" "$WORK/w2.log" | tail -n 1 | sed 's/.*\/\([0-9]*\) .*/\1/')
sleep 0.5  # a third of the way into its 1.5 s trial
ip -n "$NS_W2" link set eth0 down || fail "cut w2's link"
echo "cut w2's link during trial $CUT_TRIAL of $JOB2"
wait_for 30 "trial $CUT_TRIAL is leased again, to w1, once w2's lease expires" \
  grep -q "trial $JOB2/$CUT_TRIAL attempt [2-9]" "$WORK/w1.log"
echo "ok: w1 re-runs trial $CUT_TRIAL"

# --- 3. the link comes back while w1 re-runs it: w2's late result is refused ---
ip -n "$NS_W2" link set eth0 up || fail "restore w2's link"
echo "restored w2's link while w1 re-runs trial $CUT_TRIAL"
wait_for 120 "job $JOB2 finishes" job_final "$JOB2"
expect_exactly_completed "$JOB2" 8
# `unas trials` columns: trial status rung from val-err test-err int8-val
# int8-test peak-SRAM flash MACs attempts error.
attempts=$(awk -v t="$CUT_TRIAL" 'NR > 1 && $1 == t {print $12}' "$WORK/trials_$JOB2.txt")
[ "${attempts:-0}" -ge 2 ] || fail "trial $CUT_TRIAL was leased ${attempts:-?} time(s); expected a second lease"
echo "ok: trial $CUT_TRIAL was leased $attempts times and completed once"
client export "$JOB2" "$CUT_TRIAL" "$WORK/export" >/dev/null || fail "unas export $JOB2 $CUT_TRIAL"
W1_ID=$(sed -n 's/.*msg="registered as \([^"]*\)".*/\1/p' "$WORK/w1.log" | head -n 1)
check "the recorded result of trial $CUT_TRIAL is w1's ($W1_ID), not the cut worker's" \
  grep -q "\"worker_id\": \"$W1_ID\"" "$WORK/export/trial.json"

# w2 reports before it asks for work again, so once it trains a trial of a new
# job, its late report has been answered (or given up after its 8 tries).
JOB3=$(submit 10 100 3)
[ -n "$JOB3" ] || fail "submit the third job"
wait_for 90 "w2 works again after its link came back" grep -q "trial $JOB3/" "$WORK/w2.log"
wait_for 60 "job $JOB3 finishes" job_final "$JOB3"
expect_exactly_completed "$JOB3" 10
W2_PID=$(ip netns pids "$NS_W2" | head -n 1)
[ -n "$W2_PID" ] && kill -TERM "$W2_PID"
wait_for 15 "w2 stops on SIGTERM" grep -q 'msg="worker stopped"' "$WORK/w2.log"
W2_STATS=$(grep 'msg="worker stopped"' "$WORK/w2.log" | sed 's/.*msg="worker stopped" //')
echo "w2 at exit: $W2_STATS"
# Either answer keeps the result out: a heartbeat that gets through tells w2
# its lease is gone (it drops the result), or its report is refused (ignored).
if grep -q "trial $JOB2/$CUT_TRIAL stopped by the coordinator" "$WORK/w2.log"; then
  echo "ok: w2 was told its lease on trial $CUT_TRIAL had expired and dropped its result"
elif grep -q 'msg="worker stopped".* ignored=[1-9]' "$WORK/w2.log"; then
  echo "ok: the coordinator refused w2's late result for trial $CUT_TRIAL"
else
  fail "w2 neither learned that its lease expired nor had its late result refused"
fi
expect_exactly_completed "$JOB2" 8

# --- 4. a registered data set, fetched by a worker that has no copy -----------
mkdir -p "$WORK/windows"
awk 'BEGIN {  # 60 windows of 16 steps x 2 channels, two classes (as tests/service)
  printf "label"; for (t = 0; t < 16; t++) printf ",x%d,y%d", t, t; printf "\n"
  for (i = 0; i < 60; i++) {
    shake = i % 2; printf "%s", shake ? "shake" : "still"
    for (t = 0; t < 16; t++) printf ",%.2f,%.2f", (shake ? ((t + i) % 4 < 2 ? 2 : -2) : 0) + 0.01 * (i % 7), 9.8 - 0.02 * (i % 5)
    printf "\n"
  } }' >"$WORK/windows/windows.csv"
client data add "$WORK/windows/windows.csv" --name windows >"$WORK/data_add.txt" 2>&1 \
  || fail "unas data add: $(cat "$WORK/data_add.txt")"
sed 's/^/  /' "$WORK/data_add.txt"
rm -rf "$WORK/windows"  # from now on only the coordinator has the data
SHA=$(client data list --json | sed -n 's/^ *"sha256": "\([0-9a-f]\{64\}\)",*$/\1/p')
[ ${#SHA} -eq 64 ] || fail "unas data list --json shows no sha256"
registered_spec() {  # registered_spec TRIALS SEED: real training, one short epoch
  echo '{"name":"registered","dataset":"data:windows","input_shape":[16,1,2],"strategy":"random","seed":'"$2"',
  "budget":{"trials":'"$1"'},"training":{"epochs":1,"batch_size":16,"learning_rate":0.05},
  "bounds":{"val_error":0.9,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
  "constraints":{"peak_sram_bytes":20000,"flash_bytes":20000}}'
}
submit_registered() {
  registered_spec "$@" >"$WORK/job.json"
  client submit "$WORK/job.json" | awk '/^submitted /{print $2}'
}
JOB4=$(submit_registered 3 4)
[ -n "$JOB4" ] || fail "submit a job on data:windows"
wait_for 180 "job $JOB4 finishes" job_final "$JOB4"
expect_exactly_completed "$JOB4" 3
client status "$JOB4" --json >"$WORK/status4.json" 2>&1
check "job $JOB4 records the data set's hash" grep -q "\"dataset_sha256\": \"$SHA\"" "$WORK/status4.json"
check "w1 fetched the data set from the coordinator" grep -q "data set ${SHA:0:12} fetched from the coordinator" "$WORK/w1.log"
check "w1's copy is in its cache" test -f "$WORK/cache-w1/$SHA/windows.csv"
JOB5=$(submit_registered 2 5)
[ -n "$JOB5" ] || fail "submit a second job on data:windows"
wait_for 180 "job $JOB5 finishes" job_final "$JOB5"
expect_exactly_completed "$JOB5" 2
check "the second job reused w1's copy" grep -q "data set ${SHA:0:12} reused for job $JOB5" "$WORK/w1.log"
fetches=$(grep -c "data set ${SHA:0:12} fetched" "$WORK/w1.log")
[ "$fetches" -eq 1 ] || fail "w1 fetched the data set $fetches times; expected once"
echo "ok: w1 fetched data:windows once (${SHA:0:12}) and reused it for a second job"

# A corrupted copy: w1 stopped, one byte of its copy changed, w1 started again.
W1_PID=$(ip netns pids "$NS_W1" | head -n 1)
[ -n "$W1_PID" ] && kill -TERM "$W1_PID"
wait_for 15 "w1 stops on SIGTERM" grep -q 'msg="worker stopped"' "$WORK/w1.log"
printf '#' | dd of="$WORK/cache-w1/$SHA/windows.csv" bs=1 seek=10 conv=notrunc status=none || fail "corrupt w1's copy"
timeout "$PROCESS_LIMIT_S" ip netns exec "$NS_W1" "$UNAS" worker --coordinator "$COORD" --token "$TOKEN" \
  --name w1 --cache-dir "$WORK/cache-w1" >"$WORK/w1-restarted.log" 2>&1 &
JOB6=$(submit_registered 2 6)
[ -n "$JOB6" ] || fail "submit a third job on data:windows"
wait_for 180 "job $JOB6 finishes" job_final "$JOB6"
expect_exactly_completed "$JOB6" 2
check "the restarted w1 found its copy corrupted" grep -q "data set ${SHA:0:12} in the cache does not match its hash" \
  "$WORK/w1-restarted.log"
check "and fetched it again" grep -q "data set ${SHA:0:12} fetched from the coordinator" "$WORK/w1-restarted.log"
check "unas data remove succeeds once no job uses it" quiet client data remove windows

echo "PASS: coordinator and two workers on separate network namespaces; a cut link's trial ran again elsewhere, exactly once; a registered data set was fetched once, reused, and fetched again when corrupted"
