#!/usr/bin/env bash
# Fuzzes the candidate, job-spec and --jsonl parsers (tests/fuzz/fuzz_parsers.cc)
# with libFuzzer for a bounded time. Not part of CI: it needs clang and time.
# Usage: bench/fuzz.sh [SECONDS=120] [JOBS=1]
# Builds build-fuzz/ (clang, ASan + UBSan), starts from tests/fuzz/corpus,
# keeps what it learns in build-fuzz/corpus (not in the repo), and leaves any
# crashing input as build-fuzz/crash-*. Results: docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-120}" jobs="${2:-1}"
cmake -S . -B build-fuzz -DUNAS_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"${UNAS_JOBS:-2}" --target fuzz_parsers
mkdir -p build-fuzz/corpus
cp -n tests/fuzz/corpus/* build-fuzz/corpus/
cd build-fuzz
status=0
tests/fuzz/fuzz_parsers corpus -dict=../tests/fuzz/parsers.dict -max_total_time="$seconds" -max_len=65536 \
  -jobs="$jobs" -workers="$jobs" -print_final_stats=1 2>&1 | tail -n 40 | tee fuzz.log || status=$?
echo "corpus: $(ls corpus | wc -l) inputs, $(du -sk corpus | cut -f1) KiB"
ls crash-* leak-* timeout-* oom-* 2>/dev/null && status=1
exit "$status"
