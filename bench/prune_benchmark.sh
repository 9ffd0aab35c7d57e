#!/usr/bin/env bash
# One-shot pruning against pruning during training (DPF) at equal epochs and
# an equal peak-SRAM target, on the full Fashion-MNIST training set; with the
# unpruned network as the reference. Results: docs/pruning.md.
#
#   bench/prune_benchmark.sh ARCH.json [EPOCHS] [RATIO] [JOBS] [SUBSET]
#       (defaults: 10 epochs, target 0.5 x the unpruned peak, 3 runs at once,
#       the whole training set)
#
# Each run: seed 0, one LibTorch thread, μNAS's recipe, tflm accounting.
# One-shot prunes at the start of epoch EPOCHS/2 and fine-tunes for the rest;
# during training the schedule ramps from epoch 0 to EPOCHS/2 (the default)
# and the masks keep being recomputed until the end. Prints one line per run:
# whole-tensor peak, params, validation and test error, and the process's
# CPU seconds (user + sys), which is the figure to compare on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=$1
epochs=${2:-10}
ratio=${3:-0.5}
jobs=${4:-3}
subset=${5:-1}
half=$(( (epochs + 1) / 2 ))
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

common=(--dataset fashion-mnist --epochs "$epochs" --subset "$subset" --threads 1 --seed 0)
prune=(--prune peak_sram --prune-target-ratio "$ratio")
run() {  # NAME FLAGS...
  local name=$1; shift
  /usr/bin/time -f '%U %S' -o "$out/$name.time" ./build/unas train "$arch" "${common[@]}" "$@" \
      >"$out/$name.json" 2>/dev/null || true
}
run unpruned &
[ "$jobs" -ge 2 ] || wait
run one_shot "${prune[@]}" --prune-epoch "$half" &
[ "$jobs" -ge 3 ] || wait
run during_training "${prune[@]}" --prune-mode during_training &
wait

for name in unpruned one_shot during_training; do
  python3 - "$out/$name.json" "$out/$name.time" "$name" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
d = json.loads(text[text.index("\n{") + 1:] if not text.startswith("{") else text)
user, system = map(float, open(sys.argv[2]).read().split()[-2:])
p = d.get("pruning")
peak = p["pruned_costs"]["peak_sram_bytes"] if p else None
line = "%-16s val %.4f test %.4f params %d cpu %.0f s (val per epoch %s)" % (
    sys.argv[3], d["validation_error"], d["test_error"], d["params"], user + system,
    " ".join("%.3f" % e for e in d["validation_error_per_epoch"]))
if p:
    line += " | best-order peak %d -> %d (target %d), arena %d -> %d, removed %d/%d" % (
        p["initial_target_bytes"], p["pruned_target_bytes"], p["final_target_bytes"],
        p["proposed_costs"]["peak_sram_bytes"], peak, p["channels_removed"], p["prunable_channels"])
    if "mask_updates" in p:
        line += " updates %d restored %d" % (p["mask_updates"], p["channels_restored"])
print(line)
EOF
done
