// libFuzzer target for the parsers that read JSON from outside: candidates
// (ParseCandidate), job specs (ParseJobSpecText) and `unas cost --jsonl`
// lines (CostBatchLine). Besides "no crash, no sanitizer report", it checks
// what must hold for every input the parsers accept:
//   - a candidate serialises and parses back to the same JSON, and builds
//     and costs on a 28x28x1 input without crashing;
//   - a job spec's normalised JSON parses back to the same normalised JSON.
// Built only with -DUNAS_FUZZ=ON and clang (see bench/fuzz.sh, docs/fuzzing.md).
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "costmodel/candidate.h"
#include "costmodel/cost_model.h"
#include "costmodel/network.h"
#include "costmodel/report.h"
#include "server/core/job_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  auto candidate = unas::ParseCandidate(text);
  if (candidate.ok()) {
    const nlohmann::json once = unas::CandidateToJson(*candidate);
    auto again = unas::ParseCandidate(once.dump());
    if (!again.ok() || unas::CandidateToJson(*again) != once) __builtin_trap();
    auto network = unas::BuildNetwork(*candidate, unas::InputSpec{28, 28, 1, 10});
    if (network.ok()) (void)unas::SummariseCosts(*network, unas::Accounting::kTflm);
  }

  auto spec = unas::server::ParseJobSpecText(text);
  if (spec.ok()) {
    const nlohmann::json once = unas::server::JobSpecToJson(*spec);
    auto again = unas::server::ParseJobSpecText(once.dump());
    if (!again.ok() || unas::server::JobSpecToJson(*again) != once) __builtin_trap();
  }

  (void)unas::CostBatchLine(text, unas::Accounting::kUnas);
  return 0;
}
