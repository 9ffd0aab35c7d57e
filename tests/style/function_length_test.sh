#!/usr/bin/env bash
# style.function_length's measure on a made-up tree, with line counts worked
# out by hand: a function is counted from the line naming it (its signature's
# first line; a template header above it is not counted) to its closing
# brace, 80 lines pass and 81 fail, and every listed folder is measured.
#
#   tests/style/function_length_test.sh FUNCTION_LENGTH_SH
#
# Exit 77 (skipped) without universal-ctags.
set -euo pipefail
script=${1:?usage: function_length_test.sh FUNCTION_LENGTH_SH}
if ! command -v ctags-universal >/dev/null && ! command -v universal-ctags >/dev/null; then
  echo "universal-ctags is not installed: skipped"
  exit 77
fi
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree"/{server,cli,search,costmodel,quant,worker}
body() { for ((i = 0; i < $1; ++i)); do echo "  x += $i;"; done; }
{
  echo "int Fits(int x,"        # line 1: 2 signature lines + 77 + the brace = 80 lines
  echo "         int y) {"
  body 77
  echo "}"                      # line 80
  echo                          # line 81
  echo "template <typename T>"  # line 82
  echo "T TooLong(T x,"         # line 83: 2 + 78 + 1 = 81 lines
  echo "          T y) {"
  body 78
  echo "}"                      # line 163
} >"$tree/server/steps.cc"
{ echo "void Loop(int x) {"; body 79; echo "}"; } >"$tree/worker/loop.cc"    # 81 lines, held
{ echo "namespace q {"; echo "void Quantize(int x) {"; body 78; echo "}"; echo "}"; } >"$tree/quant/q.cc"  # 80 lines

status=0
out=$(bash "$script" "$tree") || status=$?
expected="functions over 80 lines in server cli search costmodel quant worker (lines, where, name):
81 worker/loop.cc:1 ::Loop
81 server/steps.cc:83 ::TooLong"
if [ "$status" -ne 1 ] || [ "$out" != "$expected" ]; then
  printf 'expected exit 1 and\n%s\ngot exit %s and\n%s\n' "$expected" "$status" "$out"
  exit 1
fi
# Within the limit: 81 lines pass with a limit of 81 and the count says how
# many functions were measured (Fits, TooLong, Loop, Quantize).
out=$(bash "$script" "$tree" 81)
if [ "$out" != "4 functions in server cli search costmodel quant worker, none over 81 lines" ]; then
  echo "with limit 81: $out"
  exit 1
fi
echo "measured as issue #24 measures"
