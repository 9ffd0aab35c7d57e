// Strategy::Update (multi-fidelity results) and cost-aware BO's use of trial
// seconds: semantics, determinism and resume.
#include <memory>

#include <gtest/gtest.h>

#include "search/bayes_opt.h"
#include "search/canonical.h"
#include "search/space.h"
#include "search/strategy.h"
#include "search/synthetic.h"

namespace unas::search {
namespace {

StrategyConfig Config(uint64_t seed, const std::string& bounds = "error=0.3,peak_sram=64000,flash=64000,macs=30000000") {
  StrategyConfig config;
  config.seed = seed;
  config.bounds = *ParseLimits(bounds);
  config.costs = MakeCostFunction(InputSpec{});
  return config;
}

std::unique_ptr<Strategy> Make(const std::string& name, uint64_t seed) {
  if (name == "random") return std::make_unique<RandomSearch>(Config(seed));
  if (name == "aging") return std::make_unique<AgingEvolution>(Config(seed), AgingConfig{10, 5});
  BayesOptConfig bo;
  bo.initial_random = 5;
  bo.pool_size = 60;
  bo.cost_aware = name == "bo_cost";
  return std::make_unique<BayesOpt>(Config(seed), bo);
}

// What the stored trial a coordinator keeps per result says: seconds grow
// with MACs, so cost-aware BO has a cost model to fit.
Outcome TimedResult(const SyntheticEvaluator& eval, const Proposal& p) {
  return Outcome::Success(*eval.ValidationError(p.candidate), 1.0 + 1e-5 * static_cast<double>(p.costs.macs));
}

// A live run with two trials in flight, results told out of order, and
// higher-fidelity results for earlier trials between them (some failed).
// Returns the event list a coordinator would store, in order.
std::vector<CompletedTrial> Drive(Strategy& s, int rounds, bool updates, std::vector<uint64_t>* hashes) {
  SyntheticEvaluator eval(SyntheticConfig{});
  std::vector<CompletedTrial> events;
  std::vector<Proposal> flying;
  for (int i = 0; i < rounds; ++i) {
    while (flying.size() < 2) {
      auto p = s.Ask();
      EXPECT_TRUE(p.ok()) << p.status().message();
      if (!p.ok()) return events;
      if (hashes) hashes->push_back(p->hash);
      flying.push_back(*p);
    }
    const Proposal p = flying[i % 2];
    flying.erase(flying.begin() + i % 2);
    const Outcome o = p.trial_id % 9 == 4 ? Outcome::Failure("worker lost") : TimedResult(eval, p);
    EXPECT_TRUE(s.Tell(p.trial_id, o).ok());
    events.push_back({p, o});
    if (!updates || i < 2 || i % 2 != 0) continue;
    const CompletedTrial& earlier = s.completed()[s.completed().size() - 2];
    Outcome better = earlier.outcome.ok ? Outcome::Success(earlier.outcome.validation_error * 0.6, 50 + i)
                                        : Outcome::Success(0.05, 50 + i);  // a failure that now trained
    if (i % 6 == 0) better = Outcome::Failure("promotion lost");
    CompletedTrial update;
    update.proposal.trial_id = earlier.proposal.trial_id;  // all an update entry needs
    update.outcome = better;
    update.update = true;
    EXPECT_TRUE(s.Update(update.proposal.trial_id, better).ok());
    events.push_back(update);
  }
  for (const Proposal& p : flying) {
    const Outcome o = TimedResult(eval, p);
    EXPECT_TRUE(s.Tell(p.trial_id, o).ok());
    events.push_back({p, o});
  }
  return events;
}

class EveryStrategyUpdate : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryStrategyUpdate, RestoreOfTheEventListProposesWhatTheLiveStrategyWould) {
  for (int rounds : {6, 20, 33}) {
    auto live = Make(GetParam(), 21);
    std::vector<uint64_t> seen;
    const std::vector<CompletedTrial> events = Drive(*live, rounds, true, &seen);
    auto restored = Make(GetParam(), 21);
    ASSERT_TRUE(restored->Restore(events).ok());
    ASSERT_EQ(restored->completed().size(), live->completed().size());
    for (size_t i = 0; i < live->completed().size(); ++i) {
      EXPECT_EQ(restored->completed()[i].proposal.trial_id, live->completed()[i].proposal.trial_id);
      EXPECT_EQ(restored->completed()[i].outcome.validation_error, live->completed()[i].outcome.validation_error);
      EXPECT_FALSE(restored->completed()[i].update);
    }
    std::vector<uint64_t> next_live, next_restored;
    Drive(*live, 8, true, &next_live);
    Drive(*restored, 8, true, &next_restored);
    EXPECT_EQ(next_restored, next_live) << "rounds = " << rounds;
  }
}

// The updates must matter to the strategies that learn from results, or the
// test above would pass with an Update that did nothing.
TEST_P(EveryStrategyUpdate, UpdatesChangeWhatALearningStrategyProposes) {
  auto with = Make(GetParam(), 21), without = Make(GetParam(), 21);
  std::vector<uint64_t> a, b;
  Drive(*with, 40, true, &a);
  Drive(*without, 40, false, &b);
  if (GetParam() == "random") {
    EXPECT_EQ(a, b);
  } else {
    EXPECT_NE(a, b);
  }
}

INSTANTIATE_TEST_SUITE_P(Strategies, EveryStrategyUpdate, ::testing::Values("random", "aging", "bo", "bo_cost"));

TEST(StrategyUpdate, ReplacesTheOutcomeInPlaceAndKeepsItOnAFailedPromotion) {
  auto s = Make("random", 3);
  auto p0 = s->Ask(), p1 = s->Ask();
  ASSERT_TRUE(p0.ok() && p1.ok());
  ASSERT_TRUE(s->Tell(p1->trial_id, Outcome::Success(0.4, 10)).ok());
  ASSERT_TRUE(s->Tell(p0->trial_id, Outcome::Success(0.5, 12)).ok());
  ASSERT_TRUE(s->Update(p1->trial_id, Outcome::Success(0.3, 40)).ok());
  ASSERT_EQ(s->completed().size(), 2u);
  EXPECT_EQ(s->completed()[0].proposal.trial_id, p1->trial_id);  // told order kept
  EXPECT_EQ(s->completed()[0].outcome.validation_error, 0.3);
  EXPECT_EQ(s->completed()[0].outcome.train_seconds, 40);
  EXPECT_TRUE(s->Update(p1->trial_id, Outcome::Failure("lost")).ok());
  EXPECT_TRUE(s->completed()[0].outcome.ok);
  EXPECT_EQ(s->completed()[0].outcome.validation_error, 0.3);
  EXPECT_EQ(s->completed()[1].outcome.validation_error, 0.5);
}

TEST(StrategyUpdate, AnIdNeverToldIsNotFound) {
  auto s = Make("aging", 3);
  auto p = s->Ask();
  ASSERT_TRUE(p.ok());
  const Status in_flight = s->Update(p->trial_id, Outcome::Success(0.1));
  EXPECT_EQ(in_flight.code(), StatusCode::kNotFound);
  EXPECT_NE(in_flight.message().find("trial 0"), std::string::npos) << in_flight.message();
  const Status unknown = s->Update(77, Outcome::Success(0.1));
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.message().find("trial 77"), std::string::npos) << unknown.message();
  EXPECT_EQ(s->Update(77, Outcome::Failure("lost")).code(), StatusCode::kNotFound);
}

TEST(StrategyUpdate, RestoreRefusesAnUpdateBeforeItsTrialAndARepeatedTrial) {
  auto live = Make("random", 3);
  std::vector<CompletedTrial> events = Drive(*live, 3, false, nullptr);
  CompletedTrial early;
  early.proposal.trial_id = events.back().proposal.trial_id;
  early.outcome = Outcome::Success(0.01);
  early.update = true;
  std::vector<CompletedTrial> bad = events;
  bad.insert(bad.begin(), early);
  const Status st = Make("random", 3)->Restore(bad);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("trial " + std::to_string(early.proposal.trial_id)), std::string::npos) << st.message();
  std::vector<CompletedTrial> twice = events;
  twice.push_back(events.front());
  EXPECT_EQ(Make("random", 3)->Restore(twice).code(), StatusCode::kInvalidArgument);
  events.push_back(early);  // after its trial: fine
  auto restored = Make("random", 3);
  ASSERT_TRUE(restored->Restore(events).ok());
  EXPECT_EQ(restored->completed().back().outcome.validation_error, 0.01);
}

// Two groups of five trained candidates with one error (so one predicted
// error everywhere), MACs about 10x apart, and seconds proportional to MACs:
// EI per second proposes from the cheap side. The same trials without
// timings (plain EI, cost term 1) propose something dearer on every seed, so
// the cost term is what decides.
std::vector<CompletedTrial> TwoCostGroups(bool timed, double* threshold_macs) {
  const CostFunction costs = MakeCostFunction(InputSpec{});
  std::vector<Proposal> cheap, dear;
  Rng rng(5);
  while (cheap.size() < 5 || dear.size() < 5) {
    Proposal p;
    p.candidate = RandomCandidate(rng);
    auto c = costs(p.candidate);
    if (!c.ok()) continue;
    p.costs = *c;
    p.hash = CandidateHash(p.candidate);
    if (c->macs >= 200000 && c->macs < 400000 && cheap.size() < 5) cheap.push_back(p);
    if (c->macs >= 2000000 && c->macs < 4000000 && dear.size() < 5) dear.push_back(p);
  }
  *threshold_macs = 1000000;
  std::vector<CompletedTrial> trials;
  for (int i = 0; i < 10; ++i) {
    Proposal p = i % 2 ? dear[i / 2] : cheap[i / 2];
    p.trial_id = i;
    trials.push_back({p, Outcome::Success(0.2, timed ? 1e-5 * static_cast<double>(p.costs.macs) : 0)});
  }
  return trials;
}

TEST(CostAwareBayesOpt, ProposesFromTheCheapGroupWhenErrorsAreEqual) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    int64_t macs[2] = {0, 0};  // timed, untimed
    for (bool timed : {true, false}) {
      BayesOptConfig bo;
      bo.initial_random = 5;
      bo.cost_aware = true;
      BayesOpt s(Config(seed, "error=0.3"), bo);  // error only: resources do not steer the loss
      double threshold = 0;
      ASSERT_TRUE(s.Restore(TwoCostGroups(timed, &threshold)).ok());
      auto p = s.Ask();
      ASSERT_TRUE(p.ok()) << p.status().message();
      macs[timed ? 0 : 1] = p->costs.macs;
      if (timed) EXPECT_LT(static_cast<double>(p->costs.macs), threshold) << "seed " << seed;
    }
    EXPECT_LT(macs[0], macs[1]) << "seed " << seed;
  }
}

}  // namespace
}  // namespace unas::search
