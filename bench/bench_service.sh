#!/usr/bin/env bash
# Coordinator throughput: how many workers can one coordinator serve?
#
# Starts `unas serve --workers 0` and WORKERS `unas worker` processes on
# 127.0.0.1, submits a synthetic job of TRIALS trials (the synthetic evaluator
# answers at once, so nothing but dispatching and recording is measured), and
# prints completed trials per second and the coordinator's CPU seconds per
# trial (utime + stime from /proc/PID/stat, from submission to the end of the
# job). Every process is stopped on exit; every wait is bounded.
#
# Usage: bench/bench_service.sh [path/to/unas]   (WORKERS=8 TRIALS=3000 by default)
# Results: docs/deploy.md ("How many workers").
set -euo pipefail
UNAS=${1:-build/unas}
WORKERS=${WORKERS:-8}
TRIALS=${TRIALS:-3000}
MAX_SECONDS=${MAX_SECONDS:-600}
[ -x "$UNAS" ] || { echo "bench_service: $UNAS is not executable (build it first)" >&2; exit 2; }
# shellcheck source=bench/serve_env.sh
. "$(dirname "$0")/serve_env.sh"
bench_serve_loopback service

# /proc/PID/stat fields 14 and 15 (utime, stime) in clock ticks; the command
# name (field 2) may hold spaces, so count from the closing parenthesis.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
TICKS=$(getconf CLK_TCK)

"$UNAS" serve --data-dir "$OUT/data" --listen "$ADDR" --workers 0 --token "$TOKEN" \
  --exit-when-idle 60 >"$OUT/serve.log" 2>&1 &
SERVE=$!
pids+=("$SERVE")
for _ in $(seq 1 150); do grep -q "listening on port" "$OUT/serve.log" && break; sleep 0.2; done
grep -q "listening on port" "$OUT/serve.log" || { cat "$OUT/serve.log"; echo "bench_service: serve did not start" >&2; exit 1; }
for i in $(seq 1 "$WORKERS"); do
  "$UNAS" worker --coordinator "$ADDR" --token "$TOKEN" --name "bench$i" >"$OUT/worker$i.log" 2>&1 &
  pids+=("$!")
done
for _ in $(seq 1 150); do
  [ "$(grep -l 'registered as' "$OUT"/worker*.log 2>/dev/null | wc -l)" -eq "$WORKERS" ] && break
  sleep 0.2
done

cat >"$OUT/job.json" <<EOF
{"name":"bench-service","dataset":"synthetic","evaluator":"synthetic","strategy":"random","seed":1,
 "budget":{"trials":$TRIALS},
 "bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000}}
EOF
cpu0=$(cpu_ticks "$SERVE")
t0=$(date +%s.%N)
JOB=$("$UNAS" submit "$OUT/job.json" --coordinator "$ADDR" --token "$TOKEN" | awk '/^submitted /{print $2}')
status=""
deadline=$((SECONDS + MAX_SECONDS))
while [ "$SECONDS" -lt "$deadline" ]; do
  status=$("$UNAS" status "$JOB" --json --coordinator "$ADDR" --token "$TOKEN" | sed -n 's/^  "status": "\(.*\)",$/\1/p')
  case "$status" in succeeded|failed|cancelled) break ;; esac
  sleep 0.5
done
t1=$(date +%s.%N)
cpu1=$(cpu_ticks "$SERVE")
"$UNAS" status "$JOB" --json --coordinator "$ADDR" --token "$TOKEN" >"$OUT/status.json"
completed=$(sed -n 's/^  "trials_completed": \([0-9]*\),$/\1/p' "$OUT/status.json")
failed=$(sed -n 's/^  "trials_failed": \([0-9]*\),$/\1/p' "$OUT/status.json")
rejected=$(sed -n 's/^  "infeasible_rejected": \([0-9]*\),$/\1/p' "$OUT/status.json")
[ "$status" = succeeded ] || { echo "bench_service: job ended '$status'" >&2; exit 1; }

awk -v c="$completed" -v f="$failed" -v r="$rejected" -v w="$WORKERS" -v t0="$t0" -v t1="$t1" \
    -v cpu0="$cpu0" -v cpu1="$cpu1" -v hz="$TICKS" -v cores="$(nproc)" 'BEGIN {
  wall = t1 - t0; cpu = (cpu1 - cpu0) / hz
  printf "machine: %d cores shared by the coordinator, %d workers and this script\n", cores, w
  printf "trials completed: %d (failed %d, rejected by constraints before dispatch %d)\n", c, f, r
  printf "wall time: %.2f s (0.5 s status polling resolution)\n", wall
  printf "throughput: %.0f completed trials/s\n", c / wall
  printf "coordinator CPU: %.2f s in total, %.3f ms per completed trial\n", cpu, 1000 * cpu / c
  printf "one coordinator core could serve: %.0f trials/s\n", c / cpu
}'
