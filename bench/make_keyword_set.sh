#!/usr/bin/env bash
# The benchmark keyword set: the standard ten words and ten other words
# (the _unknown_ pool), 40 espeak-ng speakers each, split 80/10/10 by
# speaker, 60 s of each noise, in the Speech Commands layout (about 800
# clips, 26 MB; a minute or two on two cores). Made by
# tests/data/audio/make_keywords.sh; see docs/keyword-spotting.md.
#
#   bench/make_keyword_set.sh OUT_DIR [SPEAKERS]
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OUT_DIR [SPEAKERS]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/../tests/data/audio/make_keywords.sh" "$1" \
  --words "yes no up down left right on off stop go" \
  --others "bed bird cat dog happy house marvin sheila tree wow" \
  --speakers "${2:-40}" --split-period 10 --noise-seconds 60 --jobs 2
