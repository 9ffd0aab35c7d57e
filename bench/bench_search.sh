#!/usr/bin/env bash
# Strategy benchmark: 3 strategies x 5 seeds x 500 trials of `unas simulate`
# (synthetic evaluator), reporting per strategy the median final normalised
# hypervolume and the median number of trials needed to reach 90% of it.
# Usage: bench/bench_search.sh [path/to/unas]   (results: docs/search-benchmark.md)
set -euo pipefail
UNAS=${1:-build/unas}
TRIALS=${TRIALS:-500}
SEEDS=${SEEDS:-"1 2 3 4 5"}
ARGS=(--trials "$TRIALS" --in-flight 4 --report-every 10
      --constraints peak_sram=64000,flash=64000,macs=30000000)
OUT=$(mktemp -d)
for strategy in random aging bo; do
  for seed in $SEEDS; do
    start=$(date +%s.%N)
    "$UNAS" simulate --strategy "$strategy" --seed "$seed" "${ARGS[@]}" > "$OUT/$strategy.$seed.txt"
    end=$(date +%s.%N)
    echo "$end - $start" | bc > "$OUT/$strategy.$seed.time"
  done
done
python3 - "$OUT" "$SEEDS" <<'PY'
import statistics, sys, pathlib
out, seeds = pathlib.Path(sys.argv[1]), sys.argv[2].split()
def load(strategy, seed):
    rows = []
    for line in (out / f"{strategy}.{seed}.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0].isdigit():
            rows.append((int(parts[0]), float(parts[1]), int(parts[3])))
    return rows
runs = {s: [load(s, seed) for seed in seeds] for s in ("random", "aging", "bo")}
def reach(rows, target):
    return next((t for t, hv, _ in rows if hv >= target), None)
best = max(statistics.median(r[-1][1] for r in rs) for rs in runs.values())
print("| strategy | median final HV | HV per seed | median trials to 90%% of own final | median trials to 90%% of best median final (%.4f) | median rejected | median wall s |" % best)
print("|---|---|---|---|---|---|---|")
for s, rs in runs.items():
    finals = [r[-1][1] for r in rs]
    own = [reach(r, 0.9 * r[-1][1]) for r in rs]
    common = [reach(r, 0.9 * best) for r in rs]
    common_txt = statistics.median([c if c is not None else 10**9 for c in common])
    common_txt = "not reached" if common_txt >= 10**9 else str(int(common_txt))
    times = [float((out / f"{s}.{seed}.time").read_text()) for seed in seeds]
    print(f"| {s} | {statistics.median(finals):.4f} | {' '.join(f'{f:.4f}' for f in finals)} | "
          f"{int(statistics.median(own))} | {common_txt} | {int(statistics.median(r[-1][2] for r in rs))} | "
          f"{statistics.median(times):.2f} |")
PY
rm -rf "$OUT"
