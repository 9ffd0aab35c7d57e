// Trial records made by hand for the tests of what the edges print and
// convert (tests/cli/job_output_test.cc, tests/server/convert_test.cc) and
// store (tests/server/store_test.cc).
#pragma once

#include <cstdint>
#include <optional>

#include "server/store/records.h"

namespace unas::server::test_records {

inline Costs MakeCosts(int64_t sram, int64_t flash, int64_t macs) {
  Costs c;
  c.peak_sram_bytes = sram;
  c.flash_bytes = flash;
  c.macs = macs;
  return c;
}

// A completed trial of job "j" at `rung` (promoted from `promoted_from`, 0 =
// proposed) or of final round `final_round`.
inline TrialRecord MakeTrial(int64_t trial_id, int64_t proposal_id, int rung, int64_t promoted_from,
                             int final_round) {
  TrialRecord t;
  t.job_id = "j";
  t.trial_id = trial_id;
  t.status = TrialStatus::kCompleted;
  t.proposal_id = proposal_id;
  t.rung = rung;
  t.promoted_from = promoted_from;
  t.final_round = final_round;
  return t;
}

inline Metrics MakeMetrics(double val_error, double test_error, std::optional<double> int8_val_error,
                           std::optional<double> int8_test_error) {
  Metrics m;
  m.val_error = val_error;
  m.test_error = test_error;
  m.int8_val_error = int8_val_error;
  m.int8_test_error = int8_test_error;
  return m;
}

}  // namespace unas::server::test_records
