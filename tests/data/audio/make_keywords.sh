#!/usr/bin/env bash
# Makes a keyword-spotting data set in the Speech Commands v0.02 layout from
# synthetic speech: every word spoken by Debian's espeak-ng in several
# "speakers" (voice x variant x speed x pitch), resampled by sox to 16 kHz
# mono 16-bit PCM and placed in one second (a lead-in that varies by
# speaker, zero padded),
# plus validation_list.txt / testing_list.txt (by speaker, as the real set
# splits by speaker hash) and a _background_noise_ folder of generated noise.
#
#   make_keywords.sh OUT_DIR [--words "yes no"] [--others "cat dog"]
#                    [--speakers N] [--split-period P] [--noise-seconds S]
#                    [--jobs J]
#
#   --words         wanted words (default: the standard ten)
#   --others        further words, the source of _unknown_ (default: five)
#   --speakers      speakers per word (default 10)
#   --split-period  speaker i goes to validation when i % P == P - 2, to
#                   testing when i % P == P - 1, else training (default 10,
#                   i.e. 80/10/10 as Speech Commands)
#   --noise-seconds length of each of the three noise files (default 5)
#   --jobs          parallel espeak-ng/sox processes (default 2)
#
# Deterministic: the same arguments give the same files (sox without
# dither, noise with sox -R). Needs espeak-ng and sox (deploy/install-deps.sh
# installs them with the test packages). Used by tests/data/audio (a small
# set in a temporary directory) and bench/make_keyword_set.sh.
set -euo pipefail

usage() { sed -n '2,26p' "$0" >&2; exit 2; }
[ $# -ge 1 ] || usage
out=$1
shift
words="yes no up down left right on off stop go"
others="bed bird cat dog house"
speakers=10
period=10
noise_seconds=5
jobs=2
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case "$1" in
    --words) words=$2 ;;
    --others) others=$2 ;;
    --speakers) speakers=$2 ;;
    --split-period) period=$2 ;;
    --noise-seconds) noise_seconds=$2 ;;
    --jobs) jobs=$2 ;;
    *) usage ;;
  esac
  shift 2
done
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "make_keywords: $tool is not installed (deploy/install-deps.sh)" >&2; exit 3; }
done
case "$speakers$period$noise_seconds$jobs" in *[!0-9]*) usage ;; esac
[ "$period" -ge 3 ] || { echo "make_keywords: --split-period must be at least 3" >&2; exit 2; }

mkdir -p "$out/_background_noise_"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/make_keywords_XXXXXX")
trap 'rm -rf "$tmp"' EXIT

bases=(en-us en-gb en-gb-scotland en-gb-x-rp en-gb-x-gbclan en-029 en-us-nyc en-gb-x-gbcwmd)
variants=(m1 f1 m3 f2 m5 f3 m7 f4 croak klatt2 f5 m2 klatt m4 m6)

# One line per clip: word speaker-index voice speed pitch lead-in-ms file.
plan=$tmp/plan
: >"$plan"
for word in $words $others; do
  for ((i = 0; i < speakers; ++i)); do
    voice="${bases[i % ${#bases[@]}]}+${variants[(i / ${#bases[@]} + i) % ${#variants[@]}]}"
    speed=$((120 + (i * 37) % 81))    # words per minute, 120..200
    pitch=$((20 + (i * 53) % 61))     # espeak-ng pitch, 20..80
    lead=$(((i * 71 + ${#word} * 13) % 200))  # ms of silence before the word
    speaker=$(printf '%08x' $(((i + 1) * 2654435761 % 4294967296)))
    echo "$word $i $voice $speed $pitch $lead $speaker"
  done
done >"$plan"

make_clip() {
  local word=$1 i=$2 voice=$3 speed=$4 pitch=$5 lead=$6 speaker=$7
  mkdir -p "$out/$word"
  local raw="$tmp/${word}_$i.wav"
  espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$raw" "$word"
  # 16 kHz mono 16-bit, lead-in, then exactly one second; every seventh
  # speaker's clips are left shorter, as some real ones are.
  local tail=1
  if [ $((i % 7)) -eq 6 ]; then tail=0; fi
  sox -V1 -D "$raw" -r 16000 -c 1 -b 16 -e signed-integer "$out/$word/${speaker}_nohash_0.wav" \
    pad "0.$(printf '%03d' "$lead")" "$tail" trim 0 1
  rm -f "$raw"
}
export -f make_clip
export out tmp
xargs -P "$jobs" -L 1 bash -c 'make_clip "$@"' _ <"$plan"

# Splits by speaker, as Speech Commands splits by speaker hash.
: >"$out/validation_list.txt"
: >"$out/testing_list.txt"
while read -r word i _ _ _ _ speaker; do
  if [ $((i % period)) -eq $((period - 2)) ]; then
    echo "$word/${speaker}_nohash_0.wav" >>"$out/validation_list.txt"
  elif [ $((i % period)) -eq $((period - 1)) ]; then
    echo "$word/${speaker}_nohash_0.wav" >>"$out/testing_list.txt"
  fi
done <"$plan"
sort -o "$out/validation_list.txt" "$out/validation_list.txt"
sort -o "$out/testing_list.txt" "$out/testing_list.txt"

# Background noise: white, pink and brown.
sox -R -D -n -r 16000 -c 1 -b 16 -e signed-integer "$out/_background_noise_/white_noise.wav" \
  synth "$noise_seconds" whitenoise vol 0.3
sox -R -D -n -r 16000 -c 1 -b 16 -e signed-integer "$out/_background_noise_/pink_noise.wav" \
  synth "$noise_seconds" pinknoise vol 0.3
sox -R -D -n -r 16000 -c 1 -b 16 -e signed-integer "$out/_background_noise_/brown_noise.wav" \
  synth "$noise_seconds" brownnoise vol 0.3
cat >"$out/README.txt" <<EOF
Synthetic keyword set made by tests/data/audio/make_keywords.sh (espeak-ng, sox):
words: $words
others: $others
speakers per word: $speakers, split period: $period
EOF
