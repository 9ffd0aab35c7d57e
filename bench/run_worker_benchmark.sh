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

cxx_rate() {  # ARCH BATCH -> samples/s
  ./build/unas train "$1" --dataset fashion-mnist --epochs 1 --subset "$subset" --batch-size "$2" \
      --threads "$threads" --lr-schedule "" 2>/dev/null |
    "$py" -c 'import sys,json; t=sys.stdin.read(); print("%.0f" % json.loads(t[t.index("\n{")+1:])["samples_per_second"])'
}
py_rate() {
  "$py" bench/train_pytorch.py "$1" --epochs 1 --subset "$subset" --batch-size "$2" --threads "$threads" 2>/dev/null |
    "$py" -c 'import sys,json; print("%.0f" % json.loads(sys.stdin.read())["samples_per_second"])'
}

echo "threads=$threads subset=$subset (of 54000 images), 1 epoch, SGDW, $(nproc) cores, torch $("$py" -c 'import torch; print(torch.__version__)')"
printf '%-40s %6s %12s %12s %7s\n' candidate batch "C++ samp/s" "Py samp/s" ratio
for arch_batch in examples/worked_example.json:32 examples/worked_example.json:128 \
                  examples/fashion_mnist_larger.json:128; do
  arch=${arch_batch%%:*}; batch=${arch_batch##*:}
  # Alternate the two sides twice and keep each side's best, so a burst of
  # load from another process does not decide the comparison.
  c1=$(cxx_rate "$arch" "$batch"); p1=$(py_rate "$arch" "$batch")
  c2=$(cxx_rate "$arch" "$batch"); p2=$(py_rate "$arch" "$batch")
  c=$(( c1 > c2 ? c1 : c2 )); p=$(( p1 > p2 ? p1 : p2 ))
  printf '%-40s %6s %12s %12s %7s\n' "$arch" "$batch" "$c" "$p" "$("$py" -c "print('%.2fx' % ($c / $p))")"
done
