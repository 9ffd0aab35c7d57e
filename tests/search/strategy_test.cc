#include "search/strategy.h"

#include <algorithm>
#include <memory>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "search/bayes_opt.h"
#include "search/canonical.h"
#include "search/space.h"
#include "search/synthetic.h"

namespace unas::search {
namespace {

StrategyConfig Config(uint64_t seed, const std::string& constraints = "") {
  StrategyConfig config;
  config.seed = seed;
  config.bounds = *ParseLimits("error=0.3,peak_sram=64000,flash=64000,macs=30000000");
  config.constraints = *ParseLimits(constraints);
  config.costs = MakeCostFunction(InputSpec{});
  return config;
}

std::unique_ptr<Strategy> Make(const std::string& name, uint64_t seed, const std::string& constraints = "") {
  if (name == "random") return std::make_unique<RandomSearch>(Config(seed, constraints));
  if (name == "aging") {
    return std::make_unique<AgingEvolution>(Config(seed, constraints), AgingConfig{10, 5});
  }
  BayesOptConfig bo;
  bo.initial_random = 5;
  bo.pool_size = 60;
  bo.cost_aware = name == "bo_cost";  // "bo": Thompson sampling, as before cost-aware BO
  return std::make_unique<BayesOpt>(Config(seed, constraints), bo);
}

SyntheticConfig Synth(uint64_t seed) {
  SyntheticConfig c;
  c.seed = seed;
  return c;
}

// Runs `trials` sequential ask/tell rounds against the synthetic evaluator;
// every 7th trial fails.
std::vector<uint64_t> RunTrials(Strategy& s, int trials) {
  SyntheticEvaluator eval(Synth(42));
  std::vector<uint64_t> hashes;
  for (int i = 0; i < trials; ++i) {
    auto p = s.Ask();
    EXPECT_TRUE(p.ok()) << p.status().message();
    if (!p.ok()) break;
    hashes.push_back(p->hash);
    const Outcome o = p->trial_id % 7 == 3 ? Outcome::Failure("worker lost")
                                            : Outcome::Success(*eval.ValidationError(p->candidate));
    EXPECT_TRUE(s.Tell(p->trial_id, o).ok());
  }
  return hashes;
}

class EveryStrategy : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryStrategy, SameSeedSameResultsSameProposals) {
  auto a = Make(GetParam(), 5), b = Make(GetParam(), 5), c = Make(GetParam(), 6);
  const auto ha = RunTrials(*a, 40), hb = RunTrials(*b, 40), hc = RunTrials(*c, 40);
  EXPECT_EQ(ha, hb);
  EXPECT_NE(ha, hc);
}

// The coordinator stores a proposal's candidate_json as the trial's candidate
// instead of serialising the candidate again: it must be exactly that text,
// and the strategy's own copies must not keep it (memory per completed trial).
TEST_P(EveryStrategy, ProposalsCarryTheirCandidateJsonOnce) {
  auto s = Make(GetParam(), 3, "peak_sram=20000");
  for (int i = 0; i < 30; ++i) {
    auto p = s->Ask();
    ASSERT_TRUE(p.ok()) << p.status().message();
    EXPECT_EQ(p->candidate_json, CandidateToJson(p->candidate).dump());
    EXPECT_EQ(Fnv1a64(p->candidate_json), p->hash);
    ASSERT_TRUE(s->Tell(p->trial_id, Outcome::Success(0.5)).ok());
  }
  ASSERT_EQ(s->completed().size(), 30u);
  for (const CompletedTrial& t : s->completed()) EXPECT_EQ(t.proposal.candidate_json, "");
}

TEST_P(EveryStrategy, RestoredFromFirstKResultsProposesWhatTheUninterruptedWould) {
  auto full = Make(GetParam(), 9, "peak_sram=20000");
  const auto all = RunTrials(*full, 40);
  for (int k : {3, 12, 25}) {
    auto uninterrupted = Make(GetParam(), 9, "peak_sram=20000");
    RunTrials(*uninterrupted, k);
    auto restored = Make(GetParam(), 9, "peak_sram=20000");
    ASSERT_TRUE(restored->Restore(uninterrupted->completed()).ok());
    EXPECT_EQ(restored->rejected_count(), uninterrupted->rejected_count());
    const auto rest = RunTrials(*restored, 40 - k);
    EXPECT_EQ(rest, std::vector<uint64_t>(all.begin() + k, all.end())) << "k = " << k;
  }
}

// A coordinator restart: k results told, two proposals still out. Restore
// plus ResumeInFlight must continue exactly like the strategy that never
// stopped once the two outcomes arrive.
TEST_P(EveryStrategy, ResumedInFlightProposalsContinueLikeTheUninterrupted) {
  SyntheticEvaluator eval(Synth(42));
  for (int k : {4, 15}) {
    auto uninterrupted = Make(GetParam(), 11);
    RunTrials(*uninterrupted, k);
    auto p1 = uninterrupted->Ask(), p2 = uninterrupted->Ask();
    ASSERT_TRUE(p1.ok() && p2.ok());
    auto restored = Make(GetParam(), 11);
    ASSERT_TRUE(restored->Restore(uninterrupted->completed()).ok());
    ASSERT_TRUE(restored->ResumeInFlight(*p1).ok());
    ASSERT_TRUE(restored->ResumeInFlight(*p2).ok());
    EXPECT_FALSE(restored->ResumeInFlight(*p2).ok());  // twice is refused
    EXPECT_EQ(restored->next_trial_id(), uninterrupted->next_trial_id());
    EXPECT_EQ(restored->rejected_count(), uninterrupted->rejected_count());
    for (Strategy* s : {uninterrupted.get(), restored.get()}) {
      ASSERT_TRUE(s->Tell(p2->trial_id, Outcome::Success(*eval.ValidationError(p2->candidate))).ok());
      ASSERT_TRUE(s->Tell(p1->trial_id, Outcome::Failure("worker lost")).ok());
    }
    EXPECT_EQ(RunTrials(*restored, 12), RunTrials(*uninterrupted, 12)) << "k = " << k;
  }
}

TEST_P(EveryStrategy, HardConstraintsNeverLetAnInfeasibleCandidateThrough) {
  auto s = Make(GetParam(), 3, "peak_sram=8000,flash=20000,macs=2000000");
  const CostFunction costs = MakeCostFunction(InputSpec{});
  SyntheticEvaluator eval(Synth(1));
  for (int i = 0; i < 40; ++i) {
    auto p = s->Ask();
    ASSERT_TRUE(p.ok()) << p.status().message();
    auto exact = costs(p->candidate);
    ASSERT_TRUE(exact.ok());
    EXPECT_LE(exact->peak_sram_bytes, 8000);
    EXPECT_LE(exact->flash_bytes, 20000);
    EXPECT_LE(exact->macs, 2000000);
    EXPECT_EQ(exact->peak_sram_bytes, p->costs.peak_sram_bytes);
    ASSERT_TRUE(s->Tell(p->trial_id, Outcome::Success(*eval.ValidationError(p->candidate))).ok());
  }
  EXPECT_GT(s->rejected_count(), 0);
}

// A keyword job's cost function (the coordinator passes the job's front end):
// every candidate's flash, peak SRAM and latency include the front end, so the
// hard limits and the objectives count it (costmodel/frontend_cost.h).
TEST(KeywordCosts, TheCostFunctionAddsTheAudioFrontEndToEveryCandidate) {
  auto candidate = ParseCandidate(R"({"conv_blocks":[{"is_branch":false,"layers":[{"type":"Conv2D","ker_size":3,
    "filters":8,"2x_stride":true,"has_bn":false,"has_relu":true,"has_prepool":false}]}],
    "pooling":{"type":"avg","pool_size":2},"dense_blocks":[{"units":16,"activation":"relu"}]})");
  ASSERT_TRUE(candidate.ok()) << candidate.status().message();
  auto mcu = FindMcu("unas-c-cortex-m4-80mhz");
  ASSERT_TRUE(mcu.ok());
  const InputSpec input{49, 40, 1, 12};
  const FrontendCost frontend{4924686, 5797, 6256};
  auto alone = MakeCostFunction(input, Accounting::kFirmware, *mcu)(*candidate);
  auto with = MakeCostFunction(input, Accounting::kFirmware, *mcu, MemoryModel::kWholeTensor, frontend)(*candidate);
  ASSERT_TRUE(alone.ok() && with.ok());
  EXPECT_EQ(with->flash_bytes, alone->flash_bytes + 5797);
  EXPECT_EQ(with->peak_sram_bytes, std::max<int64_t>(alone->peak_sram_bytes, 6256));
  EXPECT_EQ(with->macs, alone->macs);
  EXPECT_NEAR(*with->latency_ms - *alone->latency_ms, 4924686 / 80e6 * 1e3, 1e-9);  // 61.56 ms at 80 MHz
  // Partial execution's peak gets the same max.
  auto pex = MakeCostFunction(input, Accounting::kFirmware, nullptr, MemoryModel::kPartialExecution, frontend)(*candidate);
  ASSERT_TRUE(pex.ok());
  EXPECT_GE(pex->peak_sram_bytes, 6256);
}

TEST_P(EveryStrategy, AsynchronousTellsInAnyOrderNeverRepeatACandidate) {
  auto s = Make(GetParam(), 4);
  SyntheticEvaluator eval(Synth(2));
  std::set<uint64_t> seen;
  std::vector<Proposal> flying;
  Rng order(17);
  for (int i = 0; i < 60; ++i) {
    while (flying.size() < 4) {
      auto p = s->Ask();
      ASSERT_TRUE(p.ok()) << p.status().message();
      EXPECT_TRUE(seen.insert(p->hash).second) << "proposed twice";
      flying.push_back(*p);
    }
    const int pick = UniformInt(order, 0, static_cast<int>(flying.size()));
    const Proposal p = flying[pick];
    flying.erase(flying.begin() + pick);
    ASSERT_TRUE(s->Tell(p.trial_id, Outcome::Success(*eval.ValidationError(p.candidate))).ok());
  }
  EXPECT_EQ(s->in_flight().size(), 3u);  // refilled before each tell
  EXPECT_EQ(s->Tell(12345, Outcome::Success(0.1)).code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Strategies, EveryStrategy, ::testing::Values("random", "aging", "bo", "bo_cost"));

TEST(Scalarisation, MatchesTheSpecFormula) {
  Limits bounds = *ParseLimits("error=0.1,peak_sram=1000");
  Scalarisation s;
  s.lambda[0] = 0.5;
  s.lambda[1] = 0.25;
  ObjectiveVector f{0.05, 500, 1e9, 1e9, 0};
  // max(min(0.5, 10) / 0.5, min(0.5, 10) / 0.25) = 2; unbounded objectives dropped.
  EXPECT_DOUBLE_EQ(s.Loss(f, bounds), 2.0);
  f[1] = 1e6;  // 1000x over the bound: capped at 10
  EXPECT_DOUBLE_EQ(s.Loss(f, bounds), 40.0);
}

TEST(SyntheticEvaluator, IsDeterministicPerSeedAndCandidate) {
  Rng rng(1);
  const Candidate c = RandomCandidate(rng);
  SyntheticEvaluator a(Synth(1)), b(Synth(1)), other(Synth(2));
  EXPECT_EQ(*a.ValidationError(c), *b.ValidationError(c));
  EXPECT_NE(*a.ValidationError(c), *other.ValidationError(c));
  const double expected = *a.ExpectedError(c);
  EXPECT_GE(expected, 0.04);
  EXPECT_LE(expected, 0.94);
}

}  // namespace
}  // namespace unas::search
