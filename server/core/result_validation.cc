#include "server/core/result_validation.h"

#include <cmath>

#include "base/json_limits.h"
#include "costmodel/network.h"
#include "costmodel/proposal_costs.h"

namespace unas::server {
namespace {

std::string Show(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Status CheckFraction(const char* field, double v) {
  if (!std::isfinite(v) || v < 0 || v > 1) {
    return Status::Invalid(std::string(field) + ": " + Show(v) + " is not a fraction in [0, 1]");
  }
  return Status::Ok();
}

Status CheckNonNegative(const char* field, double v) {
  if (!std::isfinite(v) || v < 0) {
    return Status::Invalid(std::string(field) + ": " + Show(v) + " must be finite and non-negative");
  }
  return Status::Ok();
}

Status CheckPruned(const TrialResult& r, const ResultCheckContext& context) {
  if (r.pruned_candidate_json.empty()) {
    if (r.pruned_costs) return Status::Invalid("pruned_costs: sent without pruned_candidate_json");
    return Status::Ok();
  }
  if (!context.job_prunes) return Status::Invalid("pruned_candidate_json: the job does not prune");
  auto candidate = ParseCandidate(r.pruned_candidate_json);
  if (!candidate.ok()) return candidate.status().WithContext("pruned_candidate_json");
  if (!r.pruned_costs) return Status::Invalid("pruned_costs: missing for the pruned network");
  const Costs& c = *r.pruned_costs;
  const struct {
    const char* name;
    int64_t sent;
  } sent[] = {{"params", c.params},
              {"flash_bytes", c.flash_bytes},
              {"macs", c.macs},
              {"peak_sram_bytes", c.peak_sram_bytes},
              {"build_order_peak_sram_bytes", c.build_order_peak_bytes}};
  for (const auto& s : sent) {
    if (s.sent < 0) {
      return Status::Invalid(std::string("pruned_costs.") + s.name + ": " + std::to_string(s.sent) +
                             " is negative");
    }
  }
  auto network = BuildNetwork(*candidate, context.input);
  if (!network.ok()) return network.status().WithContext("pruned_candidate_json");
  auto own = SummariseProposalCosts(*network, context.accounting);  // the five figures compared below
  if (!own.ok()) return own.status().WithContext("pruned_candidate_json");
  const int64_t expected[] = {own->params, own->flash_bytes, own->macs, own->peak_sram_bytes,
                              own->build_order_peak_bytes};
  for (size_t i = 0; i < std::size(expected); ++i) {
    if (sent[i].sent != expected[i]) {
      return Status::Invalid(std::string("pruned_costs.") + sent[i].name + ": " + std::to_string(sent[i].sent) +
                             " does not match the pruned network (" + std::to_string(expected[i]) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<TrialResult> ValidateTrialResult(const TrialResult& result, const ResultCheckContext& context) {
  TrialResult r = result;
  if (!r.succeeded) {
    r.error = QuotePrefix(r.error, kMaxWorkerErrorChars);
    return r;
  }
  const Metrics& m = r.metrics;
  UNAS_RETURN_IF_ERROR(CheckFraction("metrics.val_error", m.val_error));
  if (m.test_error != -1) UNAS_RETURN_IF_ERROR(CheckFraction("metrics.test_error", m.test_error));
  if (m.int8_val_error) UNAS_RETURN_IF_ERROR(CheckFraction("metrics.int8_val_error", *m.int8_val_error));
  if (m.int8_test_error) UNAS_RETURN_IF_ERROR(CheckFraction("metrics.int8_test_error", *m.int8_test_error));
  UNAS_RETURN_IF_ERROR(CheckNonNegative("metrics.train_seconds", m.train_seconds));
  // A C library is the model's weights plus code: 64 times the largest model
  // is far beyond any real one, and keeps a worker's nonsense out.
  const int64_t max_flash = static_cast<int64_t>(kMaxResultModelBytes) * 64;
  if (m.c_library_flash_bytes && (*m.c_library_flash_bytes <= 0 || *m.c_library_flash_bytes > max_flash)) {
    return Status::Invalid("metrics.c_library_flash_bytes: " + std::to_string(*m.c_library_flash_bytes) +
                           " is outside 1.." + std::to_string(max_flash));
  }
  UNAS_RETURN_IF_ERROR(CheckNonNegative("metrics.samples_per_second", m.samples_per_second));
  if (m.epochs < 0) return Status::Invalid("metrics.epochs: " + std::to_string(m.epochs) + " is negative");
  if (r.weights.size() > kMaxResultWeightsBytes) {
    return Status::Invalid("weights: " + std::to_string(r.weights.size()) + " bytes, over the " +
                           std::to_string(kMaxResultWeightsBytes) + "-byte limit");
  }
  if (r.model_tflite.size() > kMaxResultModelBytes) {
    return Status::Invalid("model_tflite: " + std::to_string(r.model_tflite.size()) + " bytes, over the " +
                           std::to_string(kMaxResultModelBytes) + "-byte limit");
  }
  UNAS_RETURN_IF_ERROR(CheckPruned(r, context));
  r.metrics.c_library_flash_note = QuotePrefix(r.metrics.c_library_flash_note, kMaxWorkerErrorChars);
  r.error.clear();
  return r;
}

Status ValidateWorkerName(const std::string& name) {
  if (name.empty() || name.size() > kMaxWorkerNameBytes) {
    return Status::Invalid("name: must be 1 to " + std::to_string(kMaxWorkerNameBytes) + " bytes, got " +
                           std::to_string(name.size()));
  }
  for (char ch : name) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      return Status::Invalid("name: '" + QuotePrefix(name) + "' contains a control character");
    }
  }
  return Status::Ok();
}

}  // namespace unas::server
