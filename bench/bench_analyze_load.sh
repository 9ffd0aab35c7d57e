#!/usr/bin/env bash
# /healthz while adversarial analyses run, and SIGTERM with them running.
#
# Starts `unas serve --workers 0` on 127.0.0.1, posts each MODEL given to
# POST /api/v1/analyze at once (one curl each, in the background), waits until
# the first upload has been sent, then probes GET /healthz every 50 ms for
# PROBE_SECONDS and prints the latency of each probe's answer (curl's
# time_total): count, median, 99th percentile, maximum, and the probes that
# got no 200. Then it sends SIGTERM while the uploads are still being
# analysed and prints how long the coordinator took to exit, and what each
# upload was answered. Every process is stopped on exit; every wait is bounded.
#
# Usage: bench/bench_analyze_load.sh path/to/unas MODEL.tflite...
#        (PROBE_SECONDS=10 by default)
# Results: docs/service.md ("Measurements").
set -euo pipefail
UNAS=${1:?usage: bench_analyze_load.sh path/to/unas MODEL.tflite...}
shift
[ "$#" -ge 1 ] || { echo "bench_analyze_load: give at least one model" >&2; exit 2; }
[ -x "$UNAS" ] || { echo "bench_analyze_load: $UNAS is not executable (build it first)" >&2; exit 2; }
PROBE_SECONDS=${PROBE_SECONDS:-10}
# shellcheck source=bench/serve_env.sh
. "$(dirname "$0")/serve_env.sh"
bench_serve_env analyze
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$OUT"
}
trap cleanup EXIT

"$UNAS" serve --data-dir "$OUT/data" --listen "127.0.0.1:$GRPC" --http "127.0.0.1:$HTTP" --workers 0 \
  --token "$TOKEN" >"$OUT/serve.log" 2>&1 &
SERVE=$!
pids+=("$SERVE")
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$HTTP/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$HTTP/healthz" >/dev/null || { cat "$OUT/serve.log"; echo "serve did not start" >&2; exit 1; }

i=0
for model in "$@"; do
  i=$((i + 1))
  curl -s -o "$OUT/answer$i" -w "%{http_code} %{time_total}\n" -H "Authorization: Bearer $TOKEN" \
    -H "Content-Type: application/octet-stream" --data-binary "@$model" \
    "http://127.0.0.1:$HTTP/api/v1/analyze" >"$OUT/status$i" 2>/dev/null &
  pids+=("$!")
done
sleep 0.5  # the uploads are sent (each is at most 1 MiB over loopback)

: >"$OUT/probes"
end=$((SECONDS + PROBE_SECONDS))
while [ "$SECONDS" -lt "$end" ]; do
  curl -s -o /dev/null -w "%{http_code} %{time_total}\n" --max-time 10 "http://127.0.0.1:$HTTP/healthz" >>"$OUT/probes" || true
  sleep 0.05
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
awk '$1 == 200 { print $2 * 1000 }' "$OUT/probes" | sort -n | awk '
  { v[NR] = $1 }
  END {
    if (NR == 0) { print "healthz: no probe answered 200"; exit }
    p99 = v[int(NR * 0.99 + 0.999)]; if (p99 == "") p99 = v[NR]
    printf "healthz: %d probes answered 200: median %.1f ms, p99 %.1f ms, max %.1f ms\n", NR, v[int((NR + 1) / 2)], p99, v[NR]
  }'
echo "healthz probes not answered 200: $(awk '$1 != 200' "$OUT/probes" | wc -l)"

start=$(date +%s.%N)
kill -TERM "$SERVE"
for _ in $(seq 1 600); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$SERVE" 2>/dev/null; then
  echo "SIGTERM: still running after 30 s"
else
  echo "SIGTERM: exited after $(echo "$(date +%s.%N) - $start" | bc -l | xargs printf '%.2f') s"
fi
sleep 0.5
i=0
for model in "$@"; do
  i=$((i + 1))
  echo "upload $(basename "$model"): $(cat "$OUT/status$i" 2>/dev/null || echo '(no answer)') $(head -c 160 "$OUT/answer$i" 2>/dev/null)"
done
