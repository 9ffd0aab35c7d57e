// libFuzzer target for the TFLite reader (and, on what reads, the writer and
// the identity reorder): aborts when a property of fuzz_checks.h breaks, and
// AddressSanitizer/UBSan abort on any memory or undefined-behaviour error.
// Built only with -DUNAS_FUZZ=ON and clang; see docs/tflite-format.md for the
// command, the corpus (tests/tflite/fuzz/corpus) and the figures of a run.
#include <cstdio>
#include <cstdlib>

#include "tests/tflite/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string problem = unas::fuzz::CheckReaderOn(data, size);
  if (!problem.empty()) {
    std::fprintf(stderr, "tflite reader property broken: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}
