#!/bin/sh
# The generated C against TFLM, bit for bit, on 20,000 input vectors per
# model (docs/firmware.md, "Bit for bit against TFLM").
#
#   TFLM_HARNESS=DIR bench/firmware_tflm_exact.sh ARCH.json=MODELDIR ...
#
# MODELDIR/model.tflite: a trained model (`unas train ARCH.json --out
# MODELDIR`); its C library is generated again by this checkout
# (`bench_firmware --emit`, whole execution). Inputs, the same bytes for
# every runtime: the first 10,000 images of IMAGES as a device gets them
# (raw 8-bit pixels, x = p / 255 quantised with the model's input scale and
# zero point, by `bench_run_int8`) and 10,000 uniform random int8 vectors
# (every code, not only those pixels reach). Runtimes compared:
#   - the generated C built for the host twice (gcc -O2, the arena exactly
#     UNAS_MODEL_ARENA_BYTES, tests/firmware/host_main.c): the portable
#     kernels and the Cortex-M DSP path with its instructions emulated in C
#     (-DUNAS_DSP_EMULATE, as tests/firmware/host_test.cc checks it under
#     AddressSanitizer and UBSan, which would make 20,000 runs take hours);
#   - TFLM with its reference kernels: `$TFLM_HARNESS/run.sh host-ref MODEL
#     INPUTS OUTPUTS` (TFLM built from its repository beside the checkout,
#     never committed; docs/firmware.md).
#   - quant::RunInt8 (`bench_run_int8`), unas's int8 reference.
# Prints one line per model and input set: vectors, output bytes, and
# whether each runtime's outputs equal TFLM's byte for byte.
#
# Environment: BUILD (build) with tests/bench_firmware and
# bench/bench_run_int8; IMAGES (Debian's Fashion-MNIST test images).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$here/build}
IMAGES=${IMAGES:-/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz}
: "${TFLM_HARNESS:?set TFLM_HARNESS to a directory whose run.sh runs TFLM (see the header)}"
[ $# -gt 0 ] || { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
for tool in "$BUILD/tests/bench_firmware" "$BUILD/bench/bench_run_int8"; do
  [ -x "$tool" ] || { echo "build $tool first" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/unas-tflm-exact.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
case $IMAGES in
  *.gz) gzip -dc "$IMAGES" > "$tmp/images" ;;
  *) cp "$IMAGES" "$tmp/images" ;;
esac

same() { if cmp -s "$1" "$2"; then echo yes; else echo NO; fi; }

echo "| model | inputs | vectors | output bytes | unas C portable = TFLM | unas C DSP path = TFLM | RunInt8 = TFLM |"
echo "|---|---|---|---|---|---|---|"
for spec in "$@"; do
  dir=${spec#*=}
  name=$(basename "$dir")
  lib=$tmp/$name
  mkdir -p "$lib"
  "$BUILD/tests/bench_firmware" --emit "$spec" "$lib" >/dev/null
  for variant in portable dsp; do
    defines=""
    [ $variant = dsp ] && defines=-DUNAS_DSP_EMULATE
    # shellcheck disable=SC2086 # defines is empty or one flag
    gcc -std=c99 -O2 $defines -I"$lib/c" \
      "$lib/c/model.c" "$lib/c/unas_kernels.c" "$here/tests/firmware/host_main.c" -o "$lib/host-$variant"
  done
  for set in images random; do
    if [ $set = images ]; then
      "$BUILD/bench/bench_run_int8" "$dir/model.tflite" "$tmp/images" 10000 "$lib/in.bin" "$lib/int8.bin" >/dev/null
    else
      "$BUILD/bench/bench_run_int8" "$dir/model.tflite" --random 7 10000 "$lib/in.bin" "$lib/int8.bin" >/dev/null
    fi
    for variant in portable dsp; do
      "$lib/host-$variant" "$lib/in.bin" "$lib/$variant.bin" >/dev/null
    done
    "$TFLM_HARNESS/run.sh" host-ref "$dir/model.tflite" "$lib/in.bin" "$lib/tflm.bin" >/dev/null
    vectors=$(( $(wc -c < "$lib/in.bin") / $(grep -o '#define UNAS_MODEL_INPUT_BYTES [0-9]*' "$lib/c/model.h" | awk '{print $3}') ))
    echo "| $name | $set | $vectors | $(wc -c < "$lib/tflm.bin") | $(same "$lib/portable.bin" "$lib/tflm.bin") |" \
      "$(same "$lib/dsp.bin" "$lib/tflm.bin") | $(same "$lib/int8.bin" "$lib/tflm.bin") |"
  done
done
