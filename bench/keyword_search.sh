#!/usr/bin/env bash
# Keyword-spotting search benchmark (docs/keyword-spotting.md): a keyword job
# with μNAS's KWS bounds (examples/jobs/keywords.json's objectives and
# limits) through `unas serve` with embedded workers, on a generated keyword
# set (bench/make_keyword_set.sh: the ten words and ten others, espeak-ng
# speakers), to a final front; then `unas submit --wait` prints the front.
# Every process is stopped on exit; every wait is bounded.
#
# Usage: bench/keyword_search.sh KEYWORD_DIR [path/to/unas]
#   KEYWORD_DIR is made with bench/make_keyword_set.sh when it does not exist.
#   TRIALS=24 WORKERS=2 SEARCH_EPOCHS=3 FINAL_EPOCHS=15 MAX_SECONDS=5400
#   MCU=unas-c-cortex-m4-80mhz by default. Flash, peak SRAM and latency
#   include the audio front end (docs/cost-model.md, "The audio front end").
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 KEYWORD_DIR [path/to/unas]" >&2; exit 2; }
DATA=$(realpath -m "$1")
UNAS=${2:-build/unas}
TRIALS=${TRIALS:-24}
WORKERS=${WORKERS:-2}
SEARCH_EPOCHS=${SEARCH_EPOCHS:-3}
FINAL_EPOCHS=${FINAL_EPOCHS:-15}
MAX_SECONDS=${MAX_SECONDS:-5400}
MCU=${MCU:-unas-c-cortex-m4-80mhz}
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$UNAS" ] || { echo "keyword_search: $UNAS is not executable (build it first)" >&2; exit 2; }
[ -d "$DATA" ] || bash "$here/make_keyword_set.sh" "$DATA"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY grpc_proxy all_proxy ALL_PROXY

OUT=$(mktemp -d "${TMPDIR:-/tmp}/unas-bench-kws.XXXXXX")
PORT=$((20000 + RANDOM % 20000))
ADDR=127.0.0.1:$PORT
TOKEN="bench-token-$$-$RANDOM$RANDOM"
SERVE=
cleanup() {
  if [ -n "$SERVE" ]; then
    kill -TERM "$SERVE" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVE" 2>/dev/null || true
  fi
  rm -rf "$OUT"
}
trap cleanup EXIT

"$UNAS" serve --data-dir "$OUT/data" --listen "$ADDR" --workers "$WORKERS" --token "$TOKEN" \
  --lease-timeout-ms 600000 >"$OUT/serve.log" 2>&1 &
SERVE=$!
for _ in $(seq 1 150); do grep -q "listening on port" "$OUT/serve.log" && break; sleep 0.2; done
grep -q "listening on port" "$OUT/serve.log" || { cat "$OUT/serve.log"; echo "keyword_search: serve did not start" >&2; exit 1; }

cat >"$OUT/job.json" <<JOB
{"name":"bench-keywords","dataset":"speech_commands:$DATA","seed":1,"accounting":"firmware","mcu":"$MCU",
 "audio":{"augment_copies":2},
 "strategy":{"type":"aging","population":8,"sample_size":3},
 "training":{"epochs":$SEARCH_EPOCHS,"batch_size":50,"optimizer":"adamw","learning_rate":0.005,
             "weight_decay":0.0001,"dropout":0.1,"threads":1},
 "final":{"enabled":true,"networks":2,"neighbours":0,
          "training":{"epochs":$FINAL_EPOCHS,"batch_size":50,"optimizer":"adamw","learning_rate":0.005,
                      "weight_decay":0.0001,"dropout":0.1,"threads":1}},
 "bounds":{"val_error":0.085,"peak_sram_bytes":60000,"flash_bytes":40000,"macs":20000000},
 "constraints":{"peak_sram_bytes":60000,"flash_bytes":40000,"macs":20000000},
 "objectives":["error","peak_sram","flash","macs"],
 "budget":{"trials":$TRIALS,"wall_seconds":$MAX_SECONDS}}
JOB
start=$(date +%s)
"$UNAS" submit "$OUT/job.json" --wait --coordinator "$ADDR" --token "$TOKEN"
end=$(date +%s)
JOB_ID=$("$UNAS" jobs --coordinator "$ADDR" --token "$TOKEN" | awk 'NR==1{print $1}')
echo "wall seconds: $((end - start))"
"$UNAS" trials "$JOB_ID" --coordinator "$ADDR" --token "$TOKEN"
