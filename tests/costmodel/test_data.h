// Shared fixtures of the cost-model tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "costmodel/candidate.h"

namespace unas::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string WorkedExampleText() { return ReadFile(std::string(UNAS_SOURCE_DIR) + "/examples/worked_example.json"); }

inline Candidate WorkedExample() { return ParseCandidate(WorkedExampleText()).value(); }

inline InputSpec FashionMnist() { return InputSpec{28, 28, 1, 10}; }

}  // namespace unas::testing
