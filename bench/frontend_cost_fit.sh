#!/usr/bin/env bash
# Measures the audio front end's Cortex-M4 instructions per clip (prepare +
# int8 features, what unas_model_features runs) at many parameter sets on
# QEMU (mps2-an386, -icount shift=0), and its flash (frontend.o text + data),
# for the formula in costmodel/frontend_cost.cc (docs/cost-model.md,
# "The audio front end"). Prints one line per set:
#   window stride clip mel coeffs output lower upper frames fft inband prepare features
# (output 0 = MFCC, 1 = log-mel; inband = the filterbank's FFT bins). Needs
# Debian's gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm.
#
#   bench/frontend_cost_fit.sh [SETS_FILE]   (default: the sets below)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$here/..
work=$(mktemp -d "${TMPDIR:-/tmp}/unas-frontend-cost.XXXXXX")
trap 'rm -rf "$work"' EXIT
sets=${1:-}
if [ -z "$sets" ]; then
  sets=$work/sets
  # window stride clip mel coeffs output lower upper
  cat >"$sets" <<'SETS'
480 320 16000 40 40 0 20 4000
640 320 16000 40 10 0 20 4000
480 160 16000 40 40 0 20 4000
256 128 16000 40 13 0 20 4000
1024 512 16000 64 20 0 20 8000
400 160 16000 40 40 1 20 4000
480 320 16000 20 10 0 20 4000
800 400 16000 80 40 0 20 8000
512 256 16000 32 32 1 0 8000
320 320 16000 40 40 0 20 4000
480 320 8000 40 40 0 20 4000
1000 320 16000 128 64 0 20 8000
128 64 16000 16 16 0 20 4000
480 320 16000 40 40 1 20 4000
256 256 16000 64 64 0 20 8000
720 360 16000 48 24 0 100 6000
160 80 16000 20 20 1 20 4000
900 300 32000 96 96 0 20 8000
SETS
fi
cp "$src/data/audio/frontend.c" "$src/data/audio/frontend.h" "$work/"
arm=$src/firmware/arm
cc="arm-none-eabi-gcc -std=c99 -Wall -Werror -mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections -I$work"
# The driver shares the test drivers' SysTick counter (tests/firmware/test_main.h).
main_cc="$cc -I$src/tests/firmware"
$cc -c "$work/frontend.c" -o "$work/frontend.o"
$cc -c "$arm/startup.c" -o "$work/startup.o"
flash=$(arm-none-eabi-size -A "$work/frontend.o" | awk '$1 ~ /^\.(text|data|rodata)/ {s += $2} END {print s}')
echo "# frontend.o text + rodata + data: $flash bytes"
while read -r window stride clip mel coeffs output lower upper; do
  [ -n "$window" ] || continue
  case $window in \#*) continue ;; esac
  fft=1; while [ "$fft" -lt "$window" ]; do fft=$((fft * 2)); done
  frames=$((1 + (clip - window) / stride))
  if [ "$output" = 0 ]; then features=$coeffs; else features=$mel; fi
  # The filterbank's bins (TensorFlow's MfccMelFilterbank): floor(1.5 + lower
  # / (rate / fft)) to floor(upper / (rate / fft)), 16 kHz.
  inband=$(awk -v l="$lower" -v u="$upper" -v n="$fft" 'BEGIN {
    hz = 16000 / n; a = int(1.5 + l / hz); b = int(u / hz); print b - a + 1 }')
  defs="-DCFG_WINDOW=$window -DCFG_STRIDE=$stride -DCFG_CLIP=$clip -DCFG_MEL=$mel -DCFG_COEFFS=$coeffs
        -DCFG_OUTPUT=$output -DCFG_LOWER=$lower -DCFG_UPPER=$upper -DCFG_FFT=$fft -DCFG_FRAMES=$frames
        -DCFG_FEATURES=$features"
  # shellcheck disable=SC2086
  $main_cc $defs -c "$here/frontend_cost_main.c" -o "$work/main.o"
  arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb --specs=rdimon.specs -nostartfiles -T "$arm/mps2.ld" \
    -Wl,--gc-sections -o "$work/prog.elf" "$work/frontend.o" "$work/main.o" "$work/startup.o"
  out=$(timeout 120 qemu-system-arm -M mps2-an386 -nographic -semihosting -icount shift=0 -kernel "$work/prog.elf" </dev/null)
  cal=$(echo "$out" | awk '/^calibration_ticks/ {print $2}')
  prep=$(echo "$out" | awk '/^prepare_ticks/ {print $2}')
  feat=$(echo "$out" | awk '/^features_ticks/ {print $2}')
  [ -n "$cal" ] && [ -n "$prep" ] && [ -n "$feat" ] || { echo "$out" >&2; exit 1; }
  echo "$window $stride $clip $mel $coeffs $output $lower $upper $frames $fft $inband" \
    "$(awk -v t="$prep" -v c="$cal" 'BEGIN {printf "%.0f", t * 2000000 / c}')" \
    "$(awk -v t="$feat" -v c="$cal" 'BEGIN {printf "%.0f", t * 2000000 / c}')"
done <"$sets"
