#!/usr/bin/env bash
# No function over LIMIT (80) lines in server/, cli/, search/, costmodel/,
# quant/ and worker/ (issue #24, item 6). Lists the offenders, longest first,
# and fails.
#
# The measure is issue #24's: universal-ctags' start line (the line naming the
# function, where its signature starts) to its end line (the closing brace),
# both counted (ctags kind f in C++ and C files).
#
#   tests/style/function_length.sh SOURCE_DIR [LIMIT]
#
# Exit 77 (skipped) without universal-ctags (deploy/install-deps.sh's test
# packages install it).
set -euo pipefail
src=${1:?usage: function_length.sh SOURCE_DIR [LIMIT]}
limit=${2:-80}
paths=(server cli search costmodel quant worker)

ctags=$(command -v ctags-universal || command -v universal-ctags || true)
if [ -z "$ctags" ]; then
  echo "universal-ctags is not installed: skipped"
  exit 77
fi
cd "$src"
listing=$("$ctags" -R -x --_xformat='%{line} %{end} %F %{scope}::%N' --fields=+ne --kinds-C++=f --kinds-C=f \
          --languages=C++,C "${paths[@]}")
if [ -z "$listing" ]; then
  echo "ctags found no functions in ${paths[*]}"  # a broken measurement must not pass
  exit 1
fi
long=$(awk -v limit="$limit" '$2 ~ /^[0-9]+$/ { n = $2 - $1 + 1; if (n > limit) print n, $3 ":" $1, $4 }' \
         <<<"$listing" | sed 's/__anon[0-9a-f]*/(anonymous)/g' | sort -rn)
count=$(wc -l <<<"$listing")
if [ -n "$long" ]; then
  echo "functions over $limit lines in ${paths[*]} (lines, where, name):"
  echo "$long"
  exit 1
fi
echo "$count functions in ${paths[*]}, none over $limit lines"
