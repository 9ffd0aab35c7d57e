// A synthetic evaluator: a stand-in for training, for tests, `unas simulate`
// and load runs. It is a TEST TOOL, never a default for real jobs.
//
// validation error = 0.04 + 0.9 * exp(-3.5 * q) + noise, clamped to [0, 1],
// where the quality q in [0, 1] is
//   q = 0.35 * compute + 0.30 * capacity + 0.20 * depth + 0.15 * resolution
//   compute    = clamp(log10(MACs) / 7, 0, 1)      (10M MACs saturate)
//   capacity   = clamp(log10(params) / 5, 0, 1)    (100k params saturate)
//   depth      = min(conv layers, 8) / 8
//   resolution = share of the candidate's conv layers whose output is at
//                least 4x4 (networks that collapse the image early lose)
// on the given input, with μNAS (unas) accounting for params and MACs.
// noise ~ Normal(0, noise_sd), drawn from DeriveSeed(seed, "synthetic",
// candidate hash): the same candidate and seed always give the same error, so
// runs are reproducible and a repeated candidate would not be a free retry.
// Larger networks are better but cost more: the resource objectives pull the
// other way, which gives the Pareto fronts the benchmark measures.
#pragma once

#include <cstdint>

#include "costmodel/candidate.h"
#include "base/status.h"

namespace unas::search {

struct SyntheticConfig {
  uint64_t seed = 0;
  double noise_sd = 0.01;
  InputSpec input;
};

class SyntheticEvaluator {
 public:
  explicit SyntheticEvaluator(SyntheticConfig config) : config_(config) {}
  // The noise-free part of the error (documented above).
  Result<double> ExpectedError(const Candidate& candidate) const;
  Result<double> ValidationError(const Candidate& candidate) const;

 private:
  SyntheticConfig config_;
};

}  // namespace unas::search
