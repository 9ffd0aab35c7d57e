#!/usr/bin/env bash
# Training throughput of the C++ worker (`unas train`) against PyTorch in
# Python (bench/train_pytorch.py) on the same candidates, batch sizes and
# thread counts, in one run, on Fashion-MNIST. Results: docs/worker-benchmark.md.
#
#   bench/run_worker_benchmark.sh [THREADS] [SUBSET]   (defaults: 1, 0.25)
#
# Needs a built build/unas. Installs Debian's python3-torch (the same LibTorch
# 1.13 as libtorch-dev) when missing: only this benchmark uses it, so it is
# not in deploy/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-1}
subset=${2:-0.25}
py=/usr/bin/python3  # Debian's python, where python3-torch installs

if ! "$py" -c 'import torch' 2>/dev/null; then
  sudo=""; if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-torch
fi

# Each side prints "WALL CPU": training samples per second of wall time and
# of the process's CPU time (the training loop only, both sides). On a
# machine shared with other work the CPU figure is the one to compare: wall
# time includes waiting for a core.
cxx_rate() {  # ARCH BATCH
  ./build/unas train "$1" --dataset fashion-mnist --epochs 1 --subset "$subset" --batch-size "$2" \
      --threads "$threads" --lr-schedule "" 2>/dev/null |
    "$py" -c 'import sys,json; t=sys.stdin.read(); d=json.loads(t[t.index("\n{")+1:]); p=d["profile"]
cpu=sum(p[k]["cpu_seconds"] for k in ("gather","forward","backward","optimiser","bookkeeping"))
print("%.0f %.0f" % (d["samples_per_second"], d["train_samples_per_epoch"] / cpu))'
}
py_rate() {
  "$py" bench/train_pytorch.py "$1" --epochs 1 --subset "$subset" --batch-size "$2" --threads "$threads" 2>/dev/null |
    "$py" -c 'import sys,json; d=json.loads(sys.stdin.read()); print("%.0f %.0f" % (d["samples_per_second"], d["samples_per_cpu_second"]))'
}
best() { printf '%s\n' "$@" | sort -n | tail -1; }
ratio() { "$py" -c "print('%.2fx' % ($1 / $2))"; }

echo "threads=$threads subset=$subset (of 54000 images), 1 epoch, SGDW, $(nproc) cores, torch $("$py" -c 'import torch; print(torch.__version__)'), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-36s %5s | %9s %9s %6s | %9s %9s %6s\n' candidate batch "C++ /s" "Py /s" ratio "C++ /CPUs" "Py /CPUs" ratio
for arch_batch in examples/worked_example.json:32 examples/worked_example.json:128 \
                  examples/fashion_mnist_larger.json:128; do
  arch=${arch_batch%%:*}; batch=${arch_batch##*:}
  # Alternate the two sides twice and keep each side's best, so a burst of
  # load from another process does not decide the comparison.
  read -r cw1 cc1 <<<"$(cxx_rate "$arch" "$batch")"; read -r pw1 pc1 <<<"$(py_rate "$arch" "$batch")"
  read -r cw2 cc2 <<<"$(cxx_rate "$arch" "$batch")"; read -r pw2 pc2 <<<"$(py_rate "$arch" "$batch")"
  cw=$(best "$cw1" "$cw2"); pw=$(best "$pw1" "$pw2"); cc=$(best "$cc1" "$cc2"); pc=$(best "$pc1" "$pc2")
  printf '%-36s %5s | %9s %9s %6s | %9s %9s %6s\n' "$arch" "$batch" "$cw" "$pw" "$(ratio "$cw" "$pw")" \
    "$cc" "$pc" "$(ratio "$cc" "$pc")"
done
