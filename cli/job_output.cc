#include "cli/job_output.h"

#include <cstdarg>
#include <cstdio>
#include <sstream>

#include "base/json_limits.h"
#include "server/core/measured_costs.h"

namespace unas::cli {
namespace {

std::string Printf(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string Printf(const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  return buf;
}

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// A trial's test error; nullopt when not measured (the store's -1).
std::optional<double> TestError(const server::TrialRecord& t) {
  if (!t.metrics || t.metrics->test_error < 0) return std::nullopt;
  return t.metrics->test_error;
}
std::optional<double> ValError(const server::TrialRecord& t) {
  if (!t.metrics) return std::nullopt;
  return t.metrics->val_error;
}
// The error the front ranks by (int8 validation error when the job measures
// it), as the job line's "best error"; a trial stored before objective_error
// existed falls back to its float validation error.
std::optional<double> ObjectiveError(const server::TrialRecord& t) {
  if (t.objective_error) return t.objective_error;
  return ValError(t);
}
std::optional<double> Int8(const server::TrialRecord& t, std::optional<double> server::Metrics::*field) {
  return t.metrics ? (*t.metrics).*field : std::nullopt;
}

std::optional<double> Accuracy(const std::optional<double>& error) {
  if (!error) return std::nullopt;
  return 1.0 - *error;
}

// A percentage with 2 decimals, or "-".
std::string Percent(const std::optional<double>& fraction) {
  return fraction ? Fixed(100 * *fraction, 2) : std::string("-");
}

std::string LatencyText(const Costs& c) { return c.latency_ms ? Fixed(*c.latency_ms, 2) : std::string("-"); }

// One row of either front's table (ParetoText).
std::string FrontLine(const server::TrialRecord& t) {
  const Costs c = server::MeasuredTrialCosts(t);
  return Printf("%6lld  %-7s %9s %10s %11s %12lld %12lld %12lld %11s\n", static_cast<long long>(t.trial_id),
                RungLabel(t).c_str(), Percent(Accuracy(ObjectiveError(t))).c_str(), Percent(Accuracy(TestError(t))).c_str(),
                Percent(Accuracy(Int8(t, &server::Metrics::int8_test_error))).c_str(),
                static_cast<long long>(c.peak_sram_bytes), static_cast<long long>(c.flash_bytes),
                static_cast<long long>(c.macs), LatencyText(c).c_str());
}

std::string FrontHeader() {
  return Printf("%6s  %-7s %9s %10s %11s %12s %12s %12s %11s\n", "trial", "rung", "val acc %", "test acc %",
                "int8 test %", "peak SRAM B", "flash B", "MACs", "latency ms");
}

}  // namespace

std::string Fixed(double v, int digits) { return Printf("%.*f", digits, v); }

std::string ErrorText(double error) { return error < 0 ? std::string("-") : Fixed(error, 4); }
std::string ErrorText(const std::optional<double>& error) { return error ? Fixed(*error, 4) : std::string("-"); }

std::string JobLine(const server::JobView& j) {
  const server::JobRecord& r = j.record;
  std::ostringstream out;
  // The budget counts the search's proposals; promotions and final
  // retraining are trials too, so the two counts are shown apart.
  out << r.job_id << "  " << r.name << "  " << server::JobStatusName(r.status) << "  proposed " << j.proposed << "/"
      << j.budget << ", trials " << j.completed + j.failed << " finished (" << j.failed << " failed, " << j.running
      << " running)"
      << "  rejected by constraints " << r.infeasible_rejected << "  best error " << ErrorText(j.best_val_error)
      << "  hypervolume " << Fixed(j.hypervolume, 4);
  // The hypervolume's reference point is the job's bounds: it stays 0 until
  // a feasible trial is better than every bound, which a new user reads as
  // a broken search unless told.
  if (j.hypervolume == 0 && j.completed > 0) out << " (no feasible trial within every bound yet)";
  if (r.final_round > 0 || j.finalizing) {
    out << "  final round " << r.final_round << (j.finalizing ? " (running)" : "");
    if (r.final_epochs > 0) out << ", " << r.final_epochs << (r.final_epochs == 1 ? " epoch" : " epochs");
  }
  if (!r.error.empty()) out << "  error: " << r.error;
  out << "\n";
  return out.str();
}

std::string RungLabel(const server::TrialRecord& t) {
  return t.final_round > 0 ? "final" + std::to_string(t.final_round) : "r" + std::to_string(t.rung);
}

std::string TrialsHeader() {
  return Printf("%6s %-10s %-7s %6s %9s %10s %9s %10s %12s %12s %12s %8s %10s  %s\n", "trial", "status", "rung", "from",
                "val err", "test err", "int8 val", "int8 test", "peak SRAM", "flash", "MACs", "attempts", "C library",
                "error");
}

// The C library's measured flash (Metrics::c_library_flash_bytes); nullopt
// when not measured.
std::optional<int64_t> CLibraryFlashBytes(const server::TrialRecord& t) {
  return t.metrics ? t.metrics->c_library_flash_bytes : std::nullopt;
}

std::string TrialLine(const server::TrialRecord& t) {
  const Costs c = server::MeasuredTrialCosts(t);
  const std::string from = t.promoted_from > 0 ? std::to_string(t.promoted_from) : "-";
  const std::optional<int64_t> c_library = CLibraryFlashBytes(t);
  return Printf("%6lld %-10s %-7s %6s %9s %10s %9s %10s %12lld %12lld %12lld %8d %10s  %s\n",
                static_cast<long long>(t.trial_id), server::TrialStatusName(t.status), RungLabel(t).c_str(),
                from.c_str(), ErrorText(ValError(t)).c_str(), ErrorText(TestError(t)).c_str(),
                ErrorText(Int8(t, &server::Metrics::int8_val_error)).c_str(),
                ErrorText(Int8(t, &server::Metrics::int8_test_error)).c_str(),
                static_cast<long long>(c.peak_sram_bytes), static_cast<long long>(c.flash_bytes),
                static_cast<long long>(c.macs), t.attempts, c_library ? std::to_string(*c_library).c_str() : "-",
                t.error.c_str());
}

nlohmann::json TrialJson(const server::TrialRecord& t) {
  const Costs c = server::MeasuredTrialCosts(t);
  return {{"trial", t.trial_id},
          {"status", server::TrialStatusName(t.status)},
          {"rung", t.rung},
          {"final_round", t.final_round},
          {"promoted_from", t.promoted_from > 0 ? nlohmann::json(t.promoted_from) : nlohmann::json(nullptr)},
          {"proposal_id", t.proposal_id},
          {"val_error", OrNull(ValError(t))},
          {"test_error", OrNull(TestError(t))},
          {"int8_val_error", OrNull(Int8(t, &server::Metrics::int8_val_error))},
          {"int8_test_error", OrNull(Int8(t, &server::Metrics::int8_test_error))},
          {"epochs", t.metrics ? nlohmann::json(t.metrics->epochs) : nlohmann::json(nullptr)},
          {"train_seconds", t.metrics ? nlohmann::json(t.metrics->train_seconds) : nlohmann::json(nullptr)},
          {"peak_sram_bytes", c.peak_sram_bytes},
          {"flash_bytes", c.flash_bytes},
          {"macs", c.macs},
          {"params", c.params},
          {"latency_ms", OrNull(c.latency_ms)},
          {"pruned", t.pruned_costs.has_value()},
          {"quantized", t.has_tflite},
          {"c_library_flash_bytes", OrNull(CLibraryFlashBytes(t))},
          {"c_library_flash_note", t.metrics ? t.metrics->c_library_flash_note : std::string()},
          {"attempts", t.attempts},
          {"worker_id", t.worker_id},
          {"error", t.error}};
}

std::string ParetoText(const server::ParetoView& front, bool csv) {
  std::string out;
  if (csv) {
    out += "trial,error,val_error,test_error,peak_sram_bytes,flash_bytes,macs,latency_ms,params\n";
    for (const server::TrialRecord& t : front.trials) {
      const Costs c = server::MeasuredTrialCosts(t);
      const auto test = TestError(t);
      const auto error = ObjectiveError(t);
      std::ostringstream row;
      row << t.trial_id << "," << (error ? nlohmann::json(*error).dump() : "") << ","
          << (t.metrics ? nlohmann::json(t.metrics->val_error).dump() : "") << ","
          << (test ? nlohmann::json(*test).dump() : "") << "," << c.peak_sram_bytes << "," << c.flash_bytes << ","
          << c.macs << "," << (c.latency_ms ? nlohmann::json(*c.latency_ms).dump() : "") << "," << c.params << "\n";
      out += row.str();
    }
    return out;
  }
  if (!front.final_front.empty()) {
    out += "Final front (round " + std::to_string(front.final_round) +
           "): retrained from scratch with the final recipe; accuracies on the test set, int8 for the quantised "
           ".tflite\n";
    out += FrontHeader();
    for (const server::TrialRecord& t : front.final_front) out += FrontLine(t);
    out += "hypervolume " + Fixed(front.final_hypervolume, 4) + "\n\n";
  }
  out += "Search front: trials as trained at their rung, ranked by validation accuracy (val acc %, int8 when the job "
         "measures it); test accuracy for reference\n";
  out += FrontHeader();
  for (const server::TrialRecord& t : front.trials) out += FrontLine(t);
  out += "hypervolume " + Fixed(front.hypervolume, 4) + "\n";
  return out;
}

nlohmann::json ParetoJson(const server::ParetoView& front) {
  nlohmann::json final_front = nlohmann::json::array(), search = nlohmann::json::array();
  for (const server::TrialRecord& t : front.final_front) {
    const Costs c = server::MeasuredTrialCosts(t);
    final_front.push_back({{"trial", t.trial_id},
                           {"final_test_accuracy", OrNull(server::FinalTestAccuracy(t))},
                           {"quantized", Int8(t, &server::Metrics::int8_test_error).has_value()},
                           {"test_accuracy", OrNull(Accuracy(TestError(t)))},
                           {"int8_test_accuracy", OrNull(Accuracy(Int8(t, &server::Metrics::int8_test_error)))},
                           {"peak_sram_bytes", c.peak_sram_bytes},
                           {"flash_bytes", c.flash_bytes},
                           {"macs", c.macs},
                           {"latency_ms", OrNull(c.latency_ms)},
                           {"proposal_id", t.proposal_id},
                           {"val_error", OrNull(ValError(t))}});
  }
  for (const server::TrialRecord& t : front.trials) {
    const Costs c = server::MeasuredTrialCosts(t);
    search.push_back({{"trial", t.trial_id},
                      {"rung", t.rung},
                      {"error", OrNull(ObjectiveError(t))},
                      {"val_error", OrNull(ValError(t))},
                      {"int8_val_error", OrNull(Int8(t, &server::Metrics::int8_val_error))},
                      {"test_error", OrNull(TestError(t))},
                      {"int8_test_error", OrNull(Int8(t, &server::Metrics::int8_test_error))},
                      {"peak_sram_bytes", c.peak_sram_bytes},
                      {"flash_bytes", c.flash_bytes},
                      {"macs", c.macs},
                      {"latency_ms", OrNull(c.latency_ms)}});
  }
  return {{"objectives", front.objectives},
          {"hypervolume", front.hypervolume},
          {"final_round", front.final_round},
          {"final_hypervolume", front.final_hypervolume},
          {"final", std::move(final_front)},
          {"front", std::move(search)}};
}

}  // namespace unas::cli
