#!/usr/bin/env bash
# Search quality on real data (docs/search-quality.md): one 30-minute
# Fashion-MNIST run of a search variant, with final retraining, under μNAS's
# resource bounds (64,000 B SRAM in the tflm accounting, 64,000 B flash,
# 30 M MACs), on this machine's cores.
#
# The job is the README's main job (examples/jobs/fashion-mnist.json) with a
# longer search and a longer final recipe:
#   uniform  every trial at the low fidelity (1 epoch on 40 %), no rungs
#   rungs    aging evolution with the main job's rungs (1 epoch on 40 %, then 4 on all)
#   bo       cost-aware Bayesian optimisation with the same rungs
#   random   random search with the same rungs
# then a final round of 4 networks (the front's best 2 by validation error and
# 2 spread over the rest; 4 + 1 when the front is smaller) trained from scratch
# for 15 epochs of AdamW (lr 0.01, 0.002 from 60 % of the epochs, 0.0004 from
# 80 %) and quantised. Search and final round together take about 30 minutes
# on 2 cores when the final networks are near 1 M MACs.
#
# Prints the figures docs/search-quality.md records: the best final test
# accuracy within the bounds (int8), the smallest peak SRAM and flash at which
# the final front reaches 90 %, the final front's hypervolume, trials per rung
# and the time to each, and the final front itself.
#
# Usage: bench/search_quality.sh VARIANT [path/to/unas]
#   SEARCH_SECONDS=1140 (the search's budget; the final round follows),
#   FINAL_EPOCHS=15 (a quick check of the script: SEARCH_SECONDS=30 FINAL_EPOCHS=1),
#   WORKERS=$(nproc), SEED=0, KEEP=DIR (keep the data directory there).
set -euo pipefail
VARIANT=${1:?usage: bench/search_quality.sh uniform|rungs|bo|random [path/to/unas]}
UNAS=${2:-build/unas}
SEARCH_SECONDS=${SEARCH_SECONDS:-1140}
WORKERS=${WORKERS:-$(nproc)}
SEED=${SEED:-0}
FINAL_EPOCHS=${FINAL_EPOCHS:-15}
[ -x "$UNAS" ] || { echo "search_quality: $UNAS is not executable (build it first)" >&2; exit 2; }
case "$VARIANT" in uniform|rungs|bo|random) ;; *) echo "search_quality: unknown variant '$VARIANT'" >&2; exit 2 ;; esac
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY grpc_proxy all_proxy ALL_PROXY

DATA=${KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/unas-search-quality.XXXXXX")}
mkdir -p "$DATA"
PORT=$((20000 + RANDOM % 20000))
ADDR=127.0.0.1:$PORT
serve_pid=
cleanup() {
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$serve_pid" 2>/dev/null || true
  fi
  [ -n "${KEEP:-}" ] || rm -rf "$DATA"
}
trap cleanup EXIT

python3 - "$VARIANT" "$SEARCH_SECONDS" "$SEED" "$FINAL_EPOCHS" examples/jobs/fashion-mnist.json >"$DATA/job.json" <<'EOF'
import json, sys
variant, seconds, seed, epochs, base = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
job = json.load(open(base))
job["name"] = "search-quality-" + variant
job["seed"] = seed
job["budget"] = {"trials": 1000000, "wall_seconds": seconds}
if variant == "uniform":
    del job["rungs"]
elif variant == "bo":
    job["strategy"] = {"type": "bo"}
elif variant == "random":
    job["strategy"] = {"type": "random"}
job["final"] = {"enabled": True, "networks": 4, "neighbours": 1,
                "training": {"epochs": epochs, "optimizer": "adamw", "learning_rate": 0.01,
                             "lr_schedule": [[round(0.6 * epochs), 0.002], [round(0.8 * epochs), 0.0004]]
                             if epochs >= 5 else [],
                             "weight_decay": 1e-4, "dropout": 0.15, "subset": 1.0, "threads": 1}}
print(json.dumps(job, indent=1))
EOF

"$UNAS" serve --data-dir "$DATA" --listen "$ADDR" --workers "$WORKERS" --worker-threads 1 >"$DATA/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do grep -q "listening on port" "$DATA/serve.log" 2>/dev/null && break; sleep 0.2; done
grep -q "listening on port" "$DATA/serve.log" || { echo "search_quality: unas serve did not start" >&2; cat "$DATA/serve.log" >&2; exit 1; }

start=$(date +%s)
job=$("$UNAS" submit "$DATA/job.json" --coordinator "$ADDR" --data-dir "$DATA" | awk '/^submitted/ {print $2}')
for _ in $(seq 1 $(( (SEARCH_SECONDS + 3600) / 5 ))); do
  state=$("$UNAS" status "$job" --coordinator "$ADDR" --data-dir "$DATA" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  case "$state" in succeeded|failed|cancelled) break ;; esac
  sleep 5
done
end=$(date +%s)
echo "variant $VARIANT: job $job $state after $((end - start)) s ($WORKERS workers, 1 thread each, seed $SEED)"
"$UNAS" pareto "$job" --coordinator "$ADDR" --data-dir "$DATA" --json >"$DATA/pareto.json"

python3 - "$DATA/unas.db" "$job" "$DATA/pareto.json" <<'EOF'
import json, sqlite3, sys
db, job, pareto = sqlite3.connect(sys.argv[1]), sys.argv[2], json.load(open(sys.argv[3]))
created = db.execute("select created_unix_ms from jobs where job_id = ?", (job,)).fetchone()[0]
rows = db.execute("""select rung, final_round, status, started_unix_ms, finished_unix_ms from trials
                     where job_id = ? order by trial_id""", (job,)).fetchall()
stages = {}
for rung, final_round, status, started, finished in rows:
    key = "final round %d" % final_round if final_round else "rung %d" % rung
    s = stages.setdefault(key, {"completed": 0, "failed": 0, "cancelled": 0, "seconds": 0.0, "last": 0})
    s[{3: "completed", 4: "failed", 5: "cancelled"}.get(status, "failed")] += 1
    if started and finished:
        s["seconds"] += (finished - started) / 1000
        s["last"] = max(s["last"], finished)
print("stage            trials  failed  cancelled  trial-seconds  done at (s from submission)")
for key in sorted(stages, key=lambda k: (k.startswith("final"), k)):
    s = stages[key]
    print("%-16s %6d  %6d  %9d  %13.0f  %d" % (key, s["completed"], s["failed"], s["cancelled"], s["seconds"],
                                                (s["last"] - created) / 1000 if s["last"] else 0))
final = pareto.get("final", [])
acc = [f["final_test_accuracy"] for f in final if f.get("final_test_accuracy") is not None]
print("final front: %d networks, hypervolume %s" % (len(final), pareto.get("final_hypervolume")))
print("best final test accuracy (int8 where quantised): %s" % ("%.2f %%" % (100 * max(acc)) if acc else "none"))
at90 = [f for f in final if (f.get("final_test_accuracy") or 0) >= 0.90]
print("smallest peak SRAM at >= 90 %%: %s B; smallest flash at >= 90 %%: %s B" % (
    min((f["peak_sram_bytes"] for f in at90), default="none"), min((f["flash_bytes"] for f in at90), default="none")))
print("trial  accuracy  int8  peak SRAM B  flash B       MACs  val error")
for f in final:
    print("%5d  %7.2f%%  %4s  %11d  %7d  %9d  %.4f" % (f["trial"], 100 * (f["final_test_accuracy"] or 0),
          "yes" if f.get("quantized") else "no", f["peak_sram_bytes"], f["flash_bytes"], f["macs"], f["val_error"]))
EOF
