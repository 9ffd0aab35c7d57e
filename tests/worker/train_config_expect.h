// Expectations on a training recipe (worker/train_config.h) shared by the
// tests that check what recipe a job hands its trials (job spec, coordinator).
//
// Thread safety: call from the test's thread (GoogleTest assertions).
#pragma once

#include <cstddef>
#include <vector>

#include <gtest/gtest.h>

#include "worker/train_config.h"

namespace unas::testing {

// `schedule` is exactly `want`: as many steps, each with the same epoch and
// the same learning rate, compared exactly (a rate parsed from JSON or scaled
// by the coordinator must be the double the test names).
inline void ExpectLrSchedule(const std::vector<worker::LrStep>& schedule, const std::vector<worker::LrStep>& want) {
  ASSERT_EQ(schedule.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(schedule[i].epoch, want[i].epoch) << "step " << i;
    EXPECT_EQ(schedule[i].learning_rate, want[i].learning_rate) << "step " << i;
  }
}

}  // namespace unas::testing
