// Search strategies behind one ask/tell interface.
//
// Asynchronous: the caller Ask()s whenever a worker is free (several trials
// may be in flight) and Tell()s outcomes in any order, failures included.
//
// Determinism and resume. A strategy's state is a function of its config and
// the ordered list of completed trials (in the order they were told), so:
//  - the same seed and the same results (told in the same order) give the same
//    proposals;
//  - Restore(first k completed trials) on a fresh strategy gives exactly the
//    strategy that had just been told those k results with nothing in flight:
//    the randomness of proposal i comes from DeriveSeed(seed, stream, i) rather
//    than from one long stream, so nothing else needs to be stored.
//  - with multi-fidelity results the list is of events: first results (Tell)
//    and higher-rung results (Update, `update` set), in the order they
//    happened; Restore(events) gives the strategy that lived through them.
//
// Never twice: a candidate whose canonical hash was completed (successfully or
// not) or is in flight in this strategy is never proposed again.
//
// Hard constraints: every candidate is costed (the injected CostFunction)
// before it is proposed; one exceeding a hard constraint is not proposed, it
// is recorded as a rejection (no trial id, no training) and the strategy draws
// again with the same proposal's randomness. Each rejection event counts, and
// the count is stored with the trial that followed it so Restore recovers it.
//
// Not thread-safe: one caller (the coordinator's scheduling thread) drives it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "costmodel/candidate.h"
#include "base/status.h"
#include "search/objectives.h"
#include "search/rng.h"

namespace unas::search {

struct Proposal {
  int64_t trial_id = 0;   // 0, 1, 2, ... in proposal order
  Candidate candidate;
  uint64_t hash = 0;      // CandidateHash(candidate)
  Costs costs;    // exact; within the hard constraints
  int rejected_before = 0;  // candidates rejected by hard constraints during this Ask
  // CanonicalJson(candidate), made once for the hash. Byte for byte
  // CandidateToJson(candidate).dump() (it writes only the keys that apply),
  // so the coordinator stores it instead of serialising the candidate again.
  // Empty in proposals restored from a store.
  std::string candidate_json;
};

struct Outcome {
  bool ok = false;
  double validation_error = 1.0;  // 1 - best validation accuracy; only if ok
  std::string message;            // why it failed; only if !ok
  // Wall seconds the evaluation took (training and measuring); 0 = unknown.
  // Cost-aware strategies learn what a trial costs from it.
  double train_seconds = 0;
  // The exact costs of the network that was measured when it is not the
  // proposed one (a trial that pruned its candidate); strategies rank the
  // result by these, not by the proposal's costs.
  std::optional<Costs> measured_costs;
  static Outcome Success(double validation_error, double train_seconds = 0) {
    return {true, validation_error, "", train_seconds, std::nullopt};
  }
  static Outcome Failure(std::string why) { return {false, 1.0, std::move(why), 0, std::nullopt}; }
};

// What a coordinator stores per finished trial; enough to Restore.
struct CompletedTrial {
  Proposal proposal;
  Outcome outcome;
  // In a Restore list: this entry is a higher-fidelity result for a trial
  // listed earlier (replayed as Update), not a new trial.
  bool update = false;
  // The measured network's costs: the pruned one's when the trial pruned.
  const Costs& costs() const { return outcome.measured_costs ? *outcome.measured_costs : proposal.costs; }
  ObjectiveVector objectives() const { return MakeObjectives(outcome.validation_error, costs()); }
};

struct StrategyConfig {
  uint64_t seed = 0;
  Limits bounds;        // soft bounds: scalarisation and the hypervolume reference
  Limits constraints;   // hard constraints on resources (error ignored)
  CostFunction costs;   // required
  int max_draws_per_ask = 5000;  // then Ask fails with kResourceExhausted
};

class Strategy {
 public:
  explicit Strategy(StrategyConfig config);
  virtual ~Strategy() = default;
  Strategy(const Strategy&) = delete;
  Strategy& operator=(const Strategy&) = delete;

  virtual const char* name() const = 0;

  // The next candidate to train. Errors: kResourceExhausted when no new
  // feasible candidate was found in max_draws_per_ask draws; the cost
  // function's error if it fails.
  Result<Proposal> Ask();

  // Reports a trial's outcome. kNotFound for an id that is not in flight.
  Status Tell(int64_t trial_id, const Outcome& outcome);

  // Multi-fidelity: a completed trial's higher-fidelity result (a promotion
  // trained it further) replaces its outcome; the strategy learns from each
  // candidate's highest-rung result. kNotFound for an id that was never
  // told; a failed `outcome` leaves the earlier result in place and returns
  // Ok (a failed promotion does not erase what was learned). The entry keeps
  // its place in completed() (told order); only its outcome changes.
  Status Update(int64_t trial_id, const Outcome& outcome);

  // Rebuilds the state from stored completed trials, in the order they were
  // told (entries with `update` replayed as Update). Only on a fresh strategy
  // (kFailedPrecondition otherwise). Of an `update` entry only
  // proposal.trial_id and outcome are read; kInvalidArgument when it names a
  // trial not restored before it, or when a non-update entry repeats an id.
  // To resume exactly, pass the event list (first results and updates as
  // they happened), not completed(): completed() holds only the latest
  // outcome, and cost-aware BO learns a trial's cost from its first result.
  Status Restore(const std::vector<CompletedTrial>& completed);

  // After Restore: re-registers a proposal that was handed out but had no
  // outcome yet when the state was saved (a coordinator restart), so it can be
  // told later and is never proposed again.
  Status ResumeInFlight(const Proposal& proposal);

  const std::vector<CompletedTrial>& completed() const { return completed_; }
  const std::map<int64_t, Proposal>& in_flight() const { return in_flight_; }
  int64_t rejected_count() const { return rejected_count_; }  // hard-constraint rejections
  int64_t next_trial_id() const { return next_trial_id_; }
  const StrategyConfig& config() const { return config_; }

 protected:
  // Draws one candidate for proposal `trial_id`. Called with the proposal's own
  // generator, again (attempt 1, 2, ...) when the previous draw was a
  // duplicate or infeasible.
  virtual Candidate Draw(Rng& rng, int64_t trial_id, int attempt) = 0;
  // Sees every completed trial once, in told order (also during Restore).
  virtual void OnCompleted(const CompletedTrial& trial) {}
  // Sees every Update (also during Restore), with the trial's new outcome.
  virtual void OnUpdated(const CompletedTrial& trial) {}

  bool IsKnown(uint64_t hash) const { return known_.count(hash) > 0; }
  // For strategies that screen candidates inside Draw (BO's acquisition
  // optimiser): counts candidates rejected by the hard constraints there.
  void NoteRejected(int count) { draw_rejections_ += count; }

 private:
  static constexpr uint64_t kProposalStream = 0x70726f706f73616cULL;  // "proposal"
  void Record(const CompletedTrial& trial);

  StrategyConfig config_;
  std::vector<CompletedTrial> completed_;         // one per told proposal, told order
  std::map<int64_t, size_t> completed_index_;     // trial id -> index in completed_
  std::map<int64_t, Proposal> in_flight_;
  std::set<uint64_t> known_;  // hashes completed or in flight
  int64_t next_trial_id_ = 0;
  int64_t rejected_count_ = 0;
  int draw_rejections_ = 0;
};

// Random search: μNAS's random candidate distribution, every draw independent.
class RandomSearch : public Strategy {
 public:
  using Strategy::Strategy;
  const char* name() const override { return "random"; }

 protected:
  Candidate Draw(Rng& rng, int64_t trial_id, int attempt) override;
};

// Aging evolution, spec section 3: the first `population_size` proposals are
// random; afterwards (or while no result has arrived yet, random) each draw
// samples `sample_size` members of the population with replacement, scores
// them with a fresh randomised scalarisation, and mutates the fittest once.
// Successful results join the population; the oldest leave beyond its size.
// Failed trials never join. An Update gives a member its new outcome in place
// (its age unchanged); a trial that already left, or never joined, stays out.
struct AgingConfig {
  int population_size = 100;
  int sample_size = 25;
};

class AgingEvolution : public Strategy {
 public:
  AgingEvolution(StrategyConfig config, AgingConfig aging = {});
  const char* name() const override { return "aging"; }

 protected:
  Candidate Draw(Rng& rng, int64_t trial_id, int attempt) override;
  void OnCompleted(const CompletedTrial& trial) override;
  void OnUpdated(const CompletedTrial& trial) override;

 private:
  AgingConfig aging_;
  std::vector<CompletedTrial> population_;  // oldest first
};

}  // namespace unas::search
