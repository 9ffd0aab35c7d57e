#!/usr/bin/env bash
# The test suite's temporary directory, as a CTest fixture: every test runs
# with TMPDIR pointing here (gtest's TempDir(), std::filesystem, mktemp and
# node all honour it). "setup" empties it before the suite; "check" runs after
# the last test and fails, listing them, if any test left files behind.
# Usage: temp_files.sh setup|check DIR
set -euo pipefail
mode="$1" dir="$2"
case "$mode" in
  setup)
    rm -rf "$dir"
    mkdir -p "$dir"
    ;;
  check)
    left=$(find "$dir" -mindepth 1 -maxdepth 2 2>/dev/null | sort || true)
    if [ -n "$left" ]; then
      echo "the tests left $(find "$dir" -mindepth 1 | wc -l) files in $dir:"
      echo "$left" | head -50
      exit 1
    fi
    echo "no temporary files left in $dir"
    ;;
  *) echo "usage: $0 setup|check DIR" >&2; exit 2 ;;
esac
