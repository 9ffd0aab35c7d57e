#include "search/strategy.h"

#include <algorithm>

#include "search/canonical.h"
#include "search/space.h"

namespace unas::search {

Strategy::Strategy(StrategyConfig config) : config_(std::move(config)) {}

Result<Proposal> Strategy::Ask() {
  if (!config_.costs) return Status(StatusCode::kFailedPrecondition, "strategy has no cost function");
  const int64_t id = next_trial_id_;
  Rng rng(DeriveSeed(config_.seed, kProposalStream, static_cast<uint64_t>(id)));
  int rejected = 0;
  for (int attempt = 0; attempt < config_.max_draws_per_ask; ++attempt) {
    Candidate candidate = Draw(rng, id, attempt);
    rejected += draw_rejections_;
    rejected_count_ += draw_rejections_;
    draw_rejections_ = 0;
    std::string json = CanonicalJson(candidate);
    const uint64_t hash = Fnv1a64(json);
    if (IsKnown(hash)) continue;
    UNAS_ASSIGN_OR_RETURN(Costs costs, config_.costs(candidate));
    if (!MeetsConstraints(costs, config_.constraints)) {
      ++rejected;
      ++rejected_count_;
      continue;
    }
    Proposal p{id, std::move(candidate), hash, costs, rejected, {}};
    ++next_trial_id_;
    known_.insert(hash);
    in_flight_.emplace(id, p);  // without the text: only the caller needs it
    p.candidate_json = std::move(json);
    return p;
  }
  return Status(StatusCode::kResourceExhausted,
                "no new candidate within the hard constraints after " +
                    std::to_string(config_.max_draws_per_ask) + " draws");
}

Status Strategy::Tell(int64_t trial_id, const Outcome& outcome) {
  auto it = in_flight_.find(trial_id);
  if (it == in_flight_.end()) {
    return Status(StatusCode::kNotFound, "trial " + std::to_string(trial_id) + " is not in flight");
  }
  CompletedTrial trial{std::move(it->second), outcome};
  in_flight_.erase(it);
  Record(trial);
  return Status::Ok();
}

Status Strategy::Update(int64_t trial_id, const Outcome& outcome) {
  auto it = completed_index_.find(trial_id);
  if (it == completed_index_.end()) {
    return Status(StatusCode::kNotFound, "trial " + std::to_string(trial_id) + " was never told");
  }
  if (!outcome.ok) return Status::Ok();
  CompletedTrial& entry = completed_[it->second];
  entry.outcome = outcome;
  OnUpdated(entry);
  return Status::Ok();
}

void Strategy::Record(const CompletedTrial& trial) {
  completed_index_[trial.proposal.trial_id] = completed_.size();
  completed_.push_back(trial);
  completed_.back().update = false;
  OnCompleted(completed_.back());
}

Status Strategy::Restore(const std::vector<CompletedTrial>& completed) {
  if (!completed_.empty() || !in_flight_.empty() || next_trial_id_ != 0) {
    return Status(StatusCode::kFailedPrecondition, "Restore needs a fresh strategy");
  }
  for (const CompletedTrial& trial : completed) {
    const int64_t id = trial.proposal.trial_id;
    if (trial.update) {
      if (!completed_index_.count(id)) {
        return Status::Invalid("update for trial " + std::to_string(id) +
                               " comes before the trial itself in the restore list");
      }
      UNAS_RETURN_IF_ERROR(Update(id, trial.outcome));
      continue;
    }
    if (completed_index_.count(id)) {
      return Status::Invalid("trial " + std::to_string(id) + " is listed twice (not as an update)");
    }
    if (CandidateHash(trial.proposal.candidate) != trial.proposal.hash) {
      return Status::Invalid("trial " + std::to_string(trial.proposal.trial_id) +
                             ": stored hash does not match its candidate");
    }
    known_.insert(trial.proposal.hash);
    next_trial_id_ = std::max(next_trial_id_, trial.proposal.trial_id + 1);
    rejected_count_ += trial.proposal.rejected_before;
    Record(trial);
  }
  return Status::Ok();
}

Status Strategy::ResumeInFlight(const Proposal& proposal) {
  if (in_flight_.count(proposal.trial_id) || proposal.trial_id < 0) {
    return Status::Invalid("trial " + std::to_string(proposal.trial_id) + " is already in flight");
  }
  if (CandidateHash(proposal.candidate) != proposal.hash) {
    return Status::Invalid("trial " + std::to_string(proposal.trial_id) + ": stored hash does not match its candidate");
  }
  known_.insert(proposal.hash);
  next_trial_id_ = std::max(next_trial_id_, proposal.trial_id + 1);
  rejected_count_ += proposal.rejected_before;
  in_flight_.emplace(proposal.trial_id, proposal);
  return Status::Ok();
}

Candidate RandomSearch::Draw(Rng& rng, int64_t, int) { return RandomCandidate(rng); }

AgingEvolution::AgingEvolution(StrategyConfig config, AgingConfig aging)
    : Strategy(std::move(config)), aging_(aging) {}

Candidate AgingEvolution::Draw(Rng& rng, int64_t trial_id, int) {
  if (trial_id < aging_.population_size || population_.empty()) return RandomCandidate(rng);
  const Scalarisation s = Scalarisation::Draw(rng, config().bounds);
  const CompletedTrial* parent = nullptr;
  double best_loss = 0;
  for (int i = 0; i < aging_.sample_size; ++i) {
    const CompletedTrial& member =
        population_[UniformInt(rng, 0, static_cast<int>(population_.size()))];
    const double loss = s.Loss(member.objectives(), config().bounds);
    if (parent == nullptr || loss < best_loss) {
      parent = &member;
      best_loss = loss;
    }
  }
  return RandomMutation(parent->proposal.candidate, rng);
}

void AgingEvolution::OnUpdated(const CompletedTrial& trial) {
  for (CompletedTrial& member : population_) {
    if (member.proposal.trial_id == trial.proposal.trial_id) member.outcome = trial.outcome;
  }
}

void AgingEvolution::OnCompleted(const CompletedTrial& trial) {
  if (!trial.outcome.ok) return;
  population_.push_back(trial);
  while (static_cast<int>(population_.size()) > aging_.population_size) {
    population_.erase(population_.begin());
  }
}

}  // namespace unas::search
