#!/bin/bash
# The exported C library fed as a device feeds it: the test set's RAW 8-bit
# pixels through unas_model_quantize_pixels, then unas_model_invoke (host
# build, exact arena, AddressSanitizer), scored against the labels and
# printed beside the int8 test accuracy `unas train --out` reported.
#
#   bench/raw_pixels.sh DIR [IMAGES.idx.gz LABELS.idx.gz]
#
# DIR: an `unas train ... --out DIR` (or `unas export`) directory with c/
# and metrics.json. The IDX files default to Debian's Fashion-MNIST test set.
# Needs gcc, gzip, od and awk. docs/firmware.md has the figures.
set -euo pipefail
if [ $# -ne 1 ] && [ $# -ne 3 ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
dir=$1
images=${2:-/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz}
labels=${3:-/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/unas-raw-pixels.XXXXXX")
trap 'rm -rf "$work"' EXIT

# IDX: 16-byte header before the images, 8 before the labels.
gzip -dc "$images" | tail -c +17 > "$work/pixels.bin"
gzip -dc "$labels" | tail -c +9 > "$work/labels.bin"
gcc -std=c99 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -I"$dir/c" "$dir/c/model.c" \
  "$dir/c/unas_kernels.c" "$src/tests/firmware/pixels_main.c" -o "$work/host"
ASAN_OPTIONS=detect_leaks=0 "$work/host" "$work/pixels.bin" "$work/inputs.bin" "$work/logits.bin"
classes=$(grep -o '#define UNAS_MODEL_OUTPUT_BYTES [0-9]*' "$dir/c/model.h" | awk '{print $3}')
paste -d' ' <(od -An -v -td1 -w"$classes" "$work/logits.bin") <(od -An -v -tu1 -w1 "$work/labels.bin") |
  awk -v k="$classes" '{ best = 1; for (i = 2; i <= k; ++i) if ($i > $best) best = i;
                          n++; if (best - 1 == $(k + 1)) ok++ }
                        END { printf "generated C from raw pixels: %d of %d correct (%.2f %%)\n", ok, n, 100 * ok / n }'
grep -o '"int8_test_accuracy": [0-9.]*' "$dir/metrics.json" |
  awk '{ printf "int8 test accuracy reported by unas train: %.2f %%\n", 100 * $2 }' || true
