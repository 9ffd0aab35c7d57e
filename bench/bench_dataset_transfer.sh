#!/usr/bin/env bash
# Registered data set transfer over loopback: `unas data add` (pack, SHA-256,
# gRPC upload, the coordinator's check, unpack and description) and a remote
# worker's first fetch (gRPC stream in 1 MiB chunks, each hashed, written to
# the partial pack, then unpacked with the whole pack's hash checked), then a
# second worker process's reuse (the copy's hash checked again).
#
# The data set is an image folder of SIZE_MB megabytes (random grey images),
# generated here. Prints wall seconds and MB/s for each step (MB = 10^6 bytes)
# and the client's CPU for the upload. Every process stops on exit.
#
# Usage: bench/bench_dataset_transfer.sh [path/to/unas]   (SIZE_MB=64 by default)
# Results: docs/deploy.md ("Registered data sets", transfer speed).
set -euo pipefail
UNAS=${1:-build/unas}
SIZE_MB=${SIZE_MB:-64}
[ -x "$UNAS" ] || { echo "bench_dataset_transfer: $UNAS is not executable (build it first)" >&2; exit 2; }
# shellcheck source=bench/serve_env.sh
. "$(dirname "$0")/serve_env.sh"
bench_serve_loopback transfer
wait_grep() {  # wait_grep SECONDS PATTERN FILE
  for _ in $(seq 1 $(($1 * 10))); do grep -q "$2" "$3" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench_dataset_transfer: timed out waiting for '$2' in $3" >&2
  tail -n 20 "$3" >&2
  exit 1
}

# An image folder: two classes of 256x256 grey PGM images (64 KiB of random
# pixels each) until SIZE_MB. Its description reads one image header, so the
# figures are the transfer's, not a CSV parse's.
mkdir -p "$OUT/bench/up" "$OUT/bench/down"
images=$(((SIZE_MB * 1000000 + 65535) / 65536))
for i in $(seq 1 "$images"); do
  class=$([ $((i % 2)) -eq 0 ] && echo up || echo down)
  { printf 'P5\n256 256\n255\n'; head -c 65536 /dev/urandom; } >"$OUT/bench/$class/$i.pgm"
done
BYTES=$(du -sb "$OUT/bench" | cut -f1)

"$UNAS" serve --data-dir "$OUT/data" --listen "$ADDR" --workers 0 --token "$TOKEN" >"$OUT/serve.log" 2>&1 &
pids+=($!)
wait_grep 30 "listening on port" "$OUT/serve.log"

start=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$OUT/add.time" "$UNAS" data add "$OUT/bench" --name bench \
  --coordinator "$ADDR" --token "$TOKEN" >"$OUT/add.txt"
end=$(date +%s.%N)
read -r add_user add_sys <"$OUT/add.time"
awk -v b="$BYTES" -v s="$start" -v e="$end" -v u="$add_user" -v y="$add_sys" 'BEGIN {
  printf "unas data add: %d bytes in %.2f s wall (%.1f MB/s); client CPU %.2f s user + %.2f s sys\n", b, e - s, b / (e - s) / 1e6, u, y }'

echo '{"name":"fetch","dataset":"data:bench","input_shape":[8,8,1],"evaluator":"synthetic","strategy":"random","seed":1,"budget":{"trials":2},
  "bounds":{"val_error":0.5,"peak_sram_bytes":64000,"flash_bytes":64000,"macs":30000000},
  "constraints":{"peak_sram_bytes":64000,"flash_bytes":64000}}' >"$OUT/job.json"
"$UNAS" submit "$OUT/job.json" --coordinator "$ADDR" --token "$TOKEN" >/dev/null
for run in first second; do
  "$UNAS" worker --coordinator "$ADDR" --token "$TOKEN" --cache-dir "$OUT/cache" --max-trials 1 \
    >"$OUT/worker-$run.log" 2>&1 &
  pids+=($!)
  wait_grep 300 'msg="worker stopped"' "$OUT/worker-$run.log"
  grep -o 'data set [0-9a-f]* \(fetched\|reused\)[^"]*' "$OUT/worker-$run.log" | sed "s/^/$run worker: /"
done
