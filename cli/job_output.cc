#include "cli/job_output.h"

#include <cstdarg>
#include <cstdio>
#include <sstream>

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

nlohmann::json OrNull(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

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

std::string ParetoText(const server::ParetoView& front, bool csv) {
  std::string out;
  if (csv) {
    out += "trial,error,val_error,test_error,peak_sram_bytes,flash_bytes,macs,latency_ms,params\n";
  } else if (!front.final_front.empty()) {
    out += "Final front (round " + std::to_string(front.final_round) + ", retrained from scratch):\n";
    out += Printf("%6s %12s %12s %12s %12s  %s\n", "trial", "test acc %", "peak SRAM", "flash", "MACs", "");
    for (const server::TrialRecord& t : front.final_front) {
      const Costs c = server::MeasuredTrialCosts(t);
      const auto accuracy = server::FinalTestAccuracy(t);
      const bool int8 = t.metrics && t.metrics->int8_test_error.has_value();
      out += Printf("%6lld %12s %12lld %12lld %12lld  %s\n", static_cast<long long>(t.trial_id),
                    accuracy ? Fixed(100 * *accuracy, 2).c_str() : "-", static_cast<long long>(c.peak_sram_bytes),
                    static_cast<long long>(c.flash_bytes), static_cast<long long>(c.macs), int8 ? "int8" : "float");
    }
    out += "\nSearch front:\n";
  }
  if (!csv) {
    // "error": the objective's validation error, the one the front ranks by
    // (int8 when the job measures it), as the job line's "best error".
    out += Printf("%6s %9s %10s %12s %12s %12s %11s %9s\n", "trial", "error", "test err", "peak SRAM", "flash",
                  "MACs", "latency ms", "params");
  }
  for (const server::TrialRecord& t : front.trials) {
    const Costs& c = t.costs;
    const server::Metrics m = t.metrics.value_or(server::Metrics());
    const double latency_ms = c.latency_ms.value_or(0);
    const double error = t.objective_error.value_or(m.val_error);
    if (csv) {
      std::ostringstream row;
      row << t.trial_id << "," << error << "," << m.val_error << "," << m.test_error << "," << c.peak_sram_bytes << ","
          << c.flash_bytes << "," << c.macs << "," << latency_ms << "," << c.params << "\n";
      out += row.str();
    } else {
      out += Printf("%6lld %9.4f %10.4f %12lld %12lld %12lld %11.2f %9lld\n", static_cast<long long>(t.trial_id),
                    error, m.test_error, static_cast<long long>(c.peak_sram_bytes),
                    static_cast<long long>(c.flash_bytes), static_cast<long long>(c.macs), latency_ms,
                    static_cast<long long>(c.params));
    }
  }
  if (!csv) out += "hypervolume " + Fixed(front.hypervolume, 4) + "\n";
  return out;
}

nlohmann::json ParetoJson(const server::ParetoView& front) {
  nlohmann::json final_front = nlohmann::json::array(), search = nlohmann::json::array();
  for (const server::TrialRecord& t : front.final_front) {
    const Costs c = server::MeasuredTrialCosts(t);
    final_front.push_back({{"trial", t.trial_id},
                           {"final_test_accuracy", OrNull(server::FinalTestAccuracy(t))},
                           {"quantized", t.metrics && t.metrics->int8_test_error.has_value()},
                           {"peak_sram_bytes", c.peak_sram_bytes},
                           {"flash_bytes", c.flash_bytes},
                           {"macs", c.macs},
                           {"proposal_id", t.proposal_id},
                           {"val_error", t.metrics ? nlohmann::json(t.metrics->val_error) : nlohmann::json(nullptr)}});
  }
  for (const server::TrialRecord& t : front.trials) {
    const Costs c = server::MeasuredTrialCosts(t);
    search.push_back({{"trial", t.trial_id},
                      {"rung", t.rung},
                      {"error", OrNull(t.objective_error)},
                      {"val_error", t.metrics ? nlohmann::json(t.metrics->val_error) : nlohmann::json(nullptr)},
                      {"int8_val_error", t.metrics ? OrNull(t.metrics->int8_val_error) : nlohmann::json(nullptr)},
                      {"peak_sram_bytes", c.peak_sram_bytes},
                      {"flash_bytes", c.flash_bytes},
                      {"macs", c.macs}});
  }
  return {{"objectives", front.objectives},
          {"hypervolume", front.hypervolume},
          {"final_round", front.final_round},
          {"final_hypervolume", front.final_hypervolume},
          {"final", std::move(final_front)},
          {"front", std::move(search)}};
}

}  // namespace unas::cli
