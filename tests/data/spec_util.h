// Data set specs for the readers' tests.
//
// Thread safety: pure function.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "data/dataset_spec.h"

namespace unas::testing {

// The spec `text` names (ParseDatasetSpec's syntax, e.g. "csv:DIR"), with
// input shape `shape`. A text it refuses fails the test.
inline data::DatasetSpec SpecWithShape(const std::string& text, data::InputShape shape = {}) {
  auto spec = data::ParseDatasetSpec(text);
  EXPECT_TRUE(spec.ok()) << text << ": " << spec.status().message();
  data::DatasetSpec out = spec.ok() ? *spec : data::DatasetSpec{};
  out.input_shape = shape;
  return out;
}

}  // namespace unas::testing
