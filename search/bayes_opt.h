// Bayesian optimisation (spec section 4): a Gaussian process on validation
// error only; resources are exact and enter the acquisition through the same
// randomised scalarisation as aging evolution.
//
// Encoding. A candidate becomes a fixed-length vector: for each of the 10 x 3
// (block, layer) slots, presence, type (one-hot), kernel, stride, pre-pool,
// BN, ReLU, log output channels, log output resolution and log MACs of that
// layer (from the shared network graph on the job's input); per block
// is_branch; pooling presence/type/size; dense units per slot; and the
// network's log MACs, flash and peak SRAM. Slot alignment makes a one-step
// mutation move few coordinates, and the shape/cost terms put networks that
// compute alike close even when their layer lists differ (a stride moved by
// one layer, a kernel traded for a 1x1 conv).
//
// Kernel. k(x, y) = exp(-|x - y|_2 / l) (exponential, Matérn 1/2), with l the
// median pairwise distance of the training set. Architecture -> error is not
// smooth in these discrete coordinates, which the exponential kernel (unlike
// the RBF) tolerates; it is also the form of NASBOT's OTMANN kernel
// exp(-distance) that μNAS used. Observation noise 0.05 (of the standardised
// error's variance) absorbs training noise.
//
// Acquisition (cost_aware, the default): expected improvement per second
// (Snoek et al. 2012). Under the posterior e ~ N(mu, sigma^2) and the
// scalarised loss with this proposal's fresh λ, a candidate's EI is
// E[max(0, L* - loss)], L* the best loss among evaluated trials under λ; the
// resources are exact, so loss = max(r, min(a e, c)) and EI has a closed
// form (search/acquisition.h). It is divided by the candidate's predicted
// training seconds, a log-log least-squares fit of train_seconds on MACs over
// the trials' first results (promotions cost more than a new proposal will);
// with fewer than 3 timed trials, or MACs that do not vary, the divisor is 1
// (plain EI). Ties (EI 0) go to the lower loss at the posterior mean.
// With cost_aware = false: Thompson sampling from the posterior marginals
// (independent per candidate), scored by the scalarised loss with the sample
// and the exact resources.
//
// The pool, either way: the 10 best completed trials under this λ seed a pool
// that grows by `pool_size` mutations, each of the fittest (by the
// acquisition score) of 5 pool members drawn with replacement (a small
// aging-evolution run, as μNAS); the fresh members are proposed best score
// first. Candidates already trained or in flight are skipped; in-flight ones
// are also hallucinated at their posterior mean (kriging believer), which
// shrinks the variance near them so that the next proposals look elsewhere.
// Pool members exceeding a hard constraint are rejected (and counted) before
// they are scored.
//
// Multi-fidelity: an Update replaces the trial's observed error (its
// highest-rung result); its cost observation stays the first result's.
//
// Cost. The GP is refitted per proposal on at most `max_training_points`
// trials (the best half by error plus the most recent half), so each
// proposal costs O(m^3) with m <= max_training_points, not O(trials^3).
// Cost-aware scoring adds one GP prediction for the pool's seeds and a
// closed-form EI per member (docs/search-benchmark.md has an Ask's time).
//
// The first `initial_random` proposals are random candidates.
#pragma once

#include <memory>
#include <vector>

#include "search/strategy.h"

namespace unas::search {

struct BayesOptConfig {
  InputSpec input;  // for the per-layer shapes in the encoding
  int initial_random = 15;
  int pool_size = 300;
  int parents = 10;
  int tournament = 5;
  int max_training_points = 256;
  double noise_variance = 0.05;
  bool cost_aware = true;  // EI per predicted second; false: Thompson sampling
};

// Fixed-length encoding (documented above); exposed for tests.
Result<std::vector<double>> EncodeCandidate(const Candidate& candidate, const InputSpec& input);

class BayesOpt : public Strategy {
 public:
  BayesOpt(StrategyConfig config, BayesOptConfig bo);
  ~BayesOpt() override;
  const char* name() const override { return "bo"; }

 protected:
  Candidate Draw(Rng& rng, int64_t trial_id, int attempt) override;
  void OnCompleted(const CompletedTrial& trial) override;
  void OnUpdated(const CompletedTrial& trial) override;

 private:
  struct Evaluated;
  class Ranking;  // RankedPool's steps (bayes_opt.cc)
  std::vector<Candidate> RankedPool(Rng& rng);

  BayesOptConfig bo_;
  std::vector<std::unique_ptr<Evaluated>> evaluated_;  // successful trials, told order
  int64_t ranked_for_ = -1;                            // trial id of ranked_
  std::vector<Candidate> ranked_;
};

}  // namespace unas::search
