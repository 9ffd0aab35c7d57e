#!/usr/bin/env bash
# Peak SRAM of a finished job's Pareto front: build order, best order and
# partial execution (Pex), as ratios. Exports each front trial and costs its
# architecture with `unas cost --json` in the job's accounting.
#
# Usage: bench/bench_pex_front.sh JOB [unas-binary] [client flags...]
#   e.g. bench/bench_pex_front.sh job-1234 build/unas --coordinator 127.0.0.1:7070 --data-dir unas-data
set -euo pipefail
JOB=$1
UNAS=${2:-build/unas}
shift 2 || true
OUT=$(mktemp -d "${TMPDIR:-/tmp}/unas-pex-front.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
accounting=$("$UNAS" status "$JOB" --json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["accounting"])')
"$UNAS" pareto "$JOB" --csv "$@" | tail -n +2 | cut -d, -f1 | while read -r trial; do
  "$UNAS" export "$JOB" "$trial" "$OUT/$trial" "$@" >/dev/null 2>&1
  "$UNAS" cost "$OUT/$trial/architecture.json" --accounting "$accounting" --json >"$OUT/$trial/cost.json"
done
python3 - "$OUT" "$accounting" <<'PY'
import json, os, statistics, sys
out, accounting = sys.argv[1], sys.argv[2]
rows = []
for trial in sorted(os.listdir(out), key=int):
    c = json.load(open(os.path.join(out, trial, "cost.json")))
    t = json.load(open(os.path.join(out, trial, "trial.json")))
    rows.append((int(trial), t.get("test_error"), c["build_order_peak_sram_bytes"], c["peak_sram_bytes"],
                 c["pex_peak_sram_bytes"]))
print(f"{len(rows)} Pareto-front networks, {accounting} accounting")
print("trial  test_err  build_order  best_order    pex  best/pex")
for trial, err, build, best, pex in rows:
    print(f"{trial:5d}  {err:8.4f}  {build:11d}  {best:10d}  {pex:5d}  {best / pex:7.2f}x")
build_pex = [b / p for _, _, b, _, p in rows]
best_pex = [b / p for _, _, _, b, p in rows]
print(f"build/pex: median {statistics.median(build_pex):.2f}x, best {max(build_pex):.2f}x")
print(f"best/pex:  median {statistics.median(best_pex):.2f}x, best {max(best_pex):.2f}x, "
      f"Pex lowers the peak on {sum(r > 1.0 for r in best_pex)}/{len(rows)}")
PY
