#!/bin/sh
# The speed table of docs/firmware.md: instructions per inference of the
# generated C on QEMU's Cortex-M4 (and M7, M0+), flash, arena + stack, for
# trained models; with TFLM's figures on the same input vectors when a TFLM
# harness is given.
#
#   bench/firmware_table.sh [ARCH.json=DIR ...]
#
# Without arguments: the five benchmark models of issue #26 (the two
# examples, reference candidates 8, 15 and 16 of
# ../shared/testdata/unas_reference_costs.jsonl), trained for one epoch on
# Fashion-MNIST by `unas train --epochs 1 --out $MODELS/NAME` unless
# $MODELS/NAME/model.tflite exists. DIR/model.tflite is read back and
# compiled with this checkout's generator (DIR/c is not used).
#
# Environment:
#   BUILD         build directory (build): unas and tests/bench_firmware
#   MODELS        where the trained models live ($BUILD/bench-models)
#   IMAGES        an IDX3 file of 8-bit test images, optionally gzipped
#                 (/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz);
#                 the first three, quantised as each model's input, are the
#                 inputs of every runtime
#   TFLM_HARNESS  a directory whose run.sh runs a TFLM build on QEMU:
#                 `run.sh m4-ref|m4-cmsis MODEL.tflite INPUTS.bin` printing
#                 "instructions K: N", "output K: v ..." and
#                 "plain_arena_used_bytes N" (not part of unas: TFLM and
#                 CMSIS-NN are built beside the checkout, see docs/firmware.md)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$here/build}
MODELS=${MODELS:-$BUILD/bench-models}
IMAGES=${IMAGES:-/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz}
bench=$BUILD/tests/bench_firmware
[ -x "$bench" ] || { echo "build tests/bench_firmware first" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$MODELS" "$tmp/io"

specs=""
if [ $# -gt 0 ]; then
  specs="$*"
else
  for name in worked_example fashion_mnist_larger reference-8 reference-15 reference-16; do
    mkdir -p "$MODELS/$name"
    case $name in
      reference-*) "$bench" --arch "$name" > "$MODELS/$name/arch.json" ;;
      *) cp "$here/examples/$name.json" "$MODELS/$name/arch.json" ;;
    esac
    if [ ! -f "$MODELS/$name/model.tflite" ]; then
      echo "training $name (1 epoch) into $MODELS/$name" >&2
      "$BUILD/unas" train "$MODELS/$name/arch.json" --epochs 1 --out "$MODELS/$name" > "$MODELS/$name/train.log"
    fi
    specs="$specs $MODELS/$name/arch.json=$MODELS/$name"
  done
fi

case $IMAGES in
  *.gz) gzip -dc "$IMAGES" > "$tmp/images" ;;
  *) cp "$IMAGES" "$tmp/images" ;;
esac

# shellcheck disable=SC2086 # specs is a list of words
"$bench" --speed --images "$tmp/images" --inputs-out "$tmp/io" $specs | tee "$tmp/unas.md"

[ -n "${TFLM_HARNESS:-}" ] || exit 0
echo
echo "| model | TFLM reference (M4) | TFLM + CMSIS-NN (M4) | TFLM + CMSIS-NN arena | outputs equal |"
echo "|---|---|---|---|---|"
for spec in $specs; do
  dir=${spec#*=}
  name=$(basename "$dir")
  ours=$(od -An -v -t d1 "$tmp/io/$name.out.bin" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
  row="| $name"
  equal=yes
  for variant in m4-ref m4-cmsis; do
    "$TFLM_HARNESS/run.sh" "$variant" "$dir/model.tflite" "$tmp/io/$name.bin" > "$tmp/$variant.txt" 2>&1
    mean=$(awk '/^instructions [0-9]+:/ { s += $3; n++ } END { if (n) printf "%d", (s + n / 2) / n }' "$tmp/$variant.txt")
    theirs=$(awk -F': ' '/^output [0-9]+:/ { printf "%s ", $2 }' "$tmp/$variant.txt" | sed 's/ $//')
    [ "$theirs" = "$ours" ] || equal=no
    row="$row | $mean"
  done
  arena=$(awk '/^plain_arena_used_bytes/ { print $2 }' "$tmp/m4-cmsis.txt")
  echo "$row | $arena | $equal |"
done
