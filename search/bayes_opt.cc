#include "search/bayes_opt.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Cholesky>
#include <Eigen/Dense>

#include "costmodel/network.h"
#include "search/acquisition.h"
#include "search/canonical.h"
#include "search/space.h"

namespace unas::search {
namespace {

constexpr int kLayerFeatures = 12;
constexpr int kSlots = SpaceBounds::kMaxConvBlocks * SpaceBounds::kMaxLayers;

double Log10p(double x) { return std::log10(1.0 + std::max(0.0, x)); }

}  // namespace

struct BayesOpt::Evaluated {
  Candidate candidate;
  Eigen::VectorXd x;
  double error = 1;
  ObjectiveVector f{};
  int64_t order = 0;  // told order
  int64_t trial_id = 0;
  double first_seconds = 0;  // the first Tell's train_seconds (0: unknown)
};

Result<std::vector<double>> EncodeCandidate(const Candidate& c, const InputSpec& input) {
  UNAS_ASSIGN_OR_RETURN(Network network, BuildNetwork(c, input));
  std::vector<double> x(kSlots * kLayerFeatures + SpaceBounds::kMaxConvBlocks + 3 +
                            SpaceBounds::kMaxDenseBlocks + 2,
                        0.0);
  for (size_t b = 0; b < c.conv_blocks.size(); ++b) {
    const auto& layers = c.conv_blocks[b].layers;
    for (size_t l = 0; l < layers.size(); ++l) {
      const Layer& layer = layers[l];
      double* v = &x[(b * SpaceBounds::kMaxLayers + l) * kLayerFeatures];
      v[0] = 1;
      v[1 + static_cast<int>(layer.type)] = 1;
      v[4] = layer.HasKernel() ? layer.ker_size / 7.0 : 1 / 7.0;
      v[5] = layer.HasKernel() && layer.stride2;
      v[6] = layer.has_prepool;
      v[7] = layer.has_bn;
      v[8] = layer.has_relu;
    }
  }
  double total_macs = 0;
  for (const Op& op : network.ops) {
    total_macs += static_cast<double>(op.macs());
    if (op.role != OpRole::kLayer || op.block < 0 || op.layer < 0) continue;
    double* v = &x[(op.block * SpaceBounds::kMaxLayers + op.layer) * kLayerFeatures];
    v[9] = std::log2(static_cast<double>(op.out.c)) / 7.0;
    v[10] = std::log2(static_cast<double>(op.out.h) * op.out.w) / 10.0;
    v[11] = Log10p(static_cast<double>(op.macs())) / 7.0;
  }
  size_t at = kSlots * kLayerFeatures;
  for (size_t b = 0; b < c.conv_blocks.size(); ++b) x[at + b] = c.conv_blocks[b].is_branch;
  at += SpaceBounds::kMaxConvBlocks;
  if (c.pooling) {
    x[at] = 1;
    x[at + 1] = c.pooling->type == PoolType::kAvg;
    x[at + 2] = c.pooling->pool_size / 6.0;
  }
  at += 3;
  for (size_t d = 0; d < c.dense_blocks.size(); ++d) x[at + d] = std::log2(c.dense_blocks[d].units) / 8.0;
  at += SpaceBounds::kMaxDenseBlocks;
  int64_t weights = 0;
  for (const Op& op : network.ops) weights += op.weight_count() + op.bias_count();
  x[at] = Log10p(total_macs) / 7.0;
  x[at + 1] = Log10p(static_cast<double>(weights)) / 5.0;
  return x;
}

BayesOpt::BayesOpt(StrategyConfig config, BayesOptConfig bo) : Strategy(std::move(config)), bo_(bo) {}
BayesOpt::~BayesOpt() = default;

void BayesOpt::OnCompleted(const CompletedTrial& trial) {
  if (!trial.outcome.ok) return;
  auto x = EncodeCandidate(trial.proposal.candidate, bo_.input);
  if (!x.ok()) return;  // cannot happen for a candidate the cost model accepted
  auto e = std::make_unique<Evaluated>();
  e->candidate = trial.proposal.candidate;
  e->x = Eigen::Map<const Eigen::VectorXd>(x->data(), static_cast<Eigen::Index>(x->size()));
  e->error = trial.outcome.validation_error;
  e->f = trial.objectives();
  e->order = static_cast<int64_t>(evaluated_.size());
  e->trial_id = trial.proposal.trial_id;
  e->first_seconds = trial.outcome.train_seconds;
  evaluated_.push_back(std::move(e));
}

void BayesOpt::OnUpdated(const CompletedTrial& trial) {
  for (auto& e : evaluated_) {
    if (e->trial_id != trial.proposal.trial_id) continue;
    e->error = trial.outcome.validation_error;
    e->f = trial.objectives();
    return;
  }
  // A trial whose first result failed: it joins now, with no cost observation.
  CompletedTrial joined = trial;
  joined.outcome.train_seconds = 0;
  OnCompleted(joined);
}

namespace {

// A GP with an exponential kernel, fitted on standardised targets.
class Gp {
 public:
  Gp(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, double noise) : x_(x) {
    mean_ = y.mean();
    const double var = (y.array() - mean_).square().mean();
    scale_ = var > 1e-12 ? std::sqrt(var) : 1.0;
    const Eigen::Index n = x.cols();
    Eigen::MatrixXd dist(n, n);
    std::vector<double> pairs;
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index j = i; j < n; ++j) {
        dist(i, j) = dist(j, i) = (x.col(i) - x.col(j)).norm();
        if (j > i) pairs.push_back(dist(i, j));
      }
    }
    if (!pairs.empty()) {
      std::nth_element(pairs.begin(), pairs.begin() + pairs.size() / 2, pairs.end());
      length_ = std::max(pairs[pairs.size() / 2], 1e-3);
    }
    Eigen::MatrixXd k = (-dist.array() / length_).exp().matrix();
    k.diagonal().array() += noise;
    llt_.compute(k);
    alpha_ = llt_.solve(((y.array() - mean_) / scale_).matrix());
  }

  // Posterior mean and standard deviation (original units) at the columns of q.
  void Predict(const Eigen::MatrixXd& q, Eigen::VectorXd& mu, Eigen::VectorXd& sd) const {
    const Eigen::Index n = x_.cols(), m = q.cols();
    Eigen::MatrixXd ks(n, m);
    for (Eigen::Index j = 0; j < m; ++j) {
      for (Eigen::Index i = 0; i < n; ++i) ks(i, j) = std::exp(-(x_.col(i) - q.col(j)).norm() / length_);
    }
    mu = (ks.transpose() * alpha_).array() * scale_ + mean_;
    const Eigen::MatrixXd v = llt_.matrixL().solve(ks);
    sd = ((1.0 - v.colwise().squaredNorm().array()).max(1e-12)).sqrt() * scale_;
  }

 private:
  Eigen::MatrixXd x_;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  Eigen::VectorXd alpha_;
  double mean_ = 0, scale_ = 1, length_ = 1;
};

}  // namespace

// One RankedPool call, step by step: draw λ, fit the GP on the training set
// with in-flight candidates hallucinated, fit the seconds model, seed the
// pool with the best evaluated points under λ, grow it by scored mutations,
// and rank its fresh members. Draws from `rng` in that order.
class BayesOpt::Ranking {
 public:
  Ranking(BayesOpt& owner, Rng& rng)
      : owner_(owner),
        bo_(owner.bo_),
        rng_(rng),
        bounds_(owner.config().bounds),
        s_(Scalarisation::Draw(rng, bounds_)),
        dim_(owner.evaluated_.front()->x.size()) {}

  std::vector<Candidate> Run() {
    const Gp gp = FitGp();
    if (bo_.cost_aware) FitCostModel();
    SeedPool(gp);
    GrowPool(gp);
    return FreshByScore();
  }

 private:
  struct Member {
    Candidate candidate;
    double score;
    bool fresh;      // proposable (not evaluated)
    double tie = 0;  // cost-aware: the loss at the posterior mean
  };
  // Children drawn together for one GP prediction; q's first
  // children.size() columns are their encodings.
  struct Batch {
    std::vector<Candidate> children;
    std::vector<Costs> costs;
    Eigen::MatrixXd q;
  };
  static constexpr int kBatch = 25;

  // All successful trials, or the best half by error and the most recent.
  std::vector<const Evaluated*> TrainingSet() const {
    std::vector<const Evaluated*> train;
    for (const auto& e : owner_.evaluated_) train.push_back(e.get());
    const int max_points = bo_.max_training_points;
    if (static_cast<int>(train.size()) <= max_points) return train;
    std::vector<const Evaluated*> by_error = train;
    std::stable_sort(by_error.begin(), by_error.end(),
                     [](const Evaluated* a, const Evaluated* b) { return a->error < b->error; });
    std::vector<const Evaluated*> chosen(by_error.begin(), by_error.begin() + max_points / 2);
    for (auto it = train.rbegin(); it != train.rend() && static_cast<int>(chosen.size()) < max_points; ++it) {
      if (std::find(chosen.begin(), chosen.end(), *it) == chosen.end()) chosen.push_back(*it);
    }
    return chosen;
  }

  // The GP on the training set, in-flight candidates hallucinated at their
  // posterior mean (kriging believer).
  Gp FitGp() const {
    const std::vector<const Evaluated*> train = TrainingSet();
    Eigen::MatrixXd x(dim_, static_cast<Eigen::Index>(train.size()));
    Eigen::VectorXd y(static_cast<Eigen::Index>(train.size()));
    for (size_t i = 0; i < train.size(); ++i) {
      x.col(static_cast<Eigen::Index>(i)) = train[i]->x;
      y(static_cast<Eigen::Index>(i)) = train[i]->error;
    }
    if (owner_.in_flight().empty()) return Gp(x, y, bo_.noise_variance);
    const Gp first(x, y, bo_.noise_variance);
    Eigen::MatrixXd pending(dim_, static_cast<Eigen::Index>(owner_.in_flight().size()));
    Eigen::Index j = 0;
    for (const auto& [id, p] : owner_.in_flight()) {
      auto enc = EncodeCandidate(p.candidate, bo_.input);
      if (enc.ok()) {
        pending.col(j) = Eigen::Map<const Eigen::VectorXd>(enc->data(), dim_);
      } else {
        pending.col(j).setZero();
      }
      ++j;
    }
    Eigen::VectorXd mu, sd;
    first.Predict(pending, mu, sd);
    Eigen::MatrixXd x2(dim_, x.cols() + pending.cols());
    x2 << x, pending;
    Eigen::VectorXd y2(y.size() + mu.size());
    y2 << y, mu;
    return Gp(x2, y2, bo_.noise_variance);
  }

  // Cost-aware: the best loss under λ and the seconds-per-MAC fit of the
  // trials' first results.
  void FitCostModel() {
    std::vector<double> macs, secs;
    for (const auto& e : owner_.evaluated_) {
      best_loss_ = std::min(best_loss_, s_.Loss(e->f, bounds_));
      if (e->first_seconds > 0) {
        macs.push_back(e->f[static_cast<int>(Objective::kMacs)]);
        secs.push_back(e->first_seconds);
      }
    }
    seconds_ = SecondsModel::Fit(macs, secs);
  }

  // Cost-aware score: -(EI per predicted second), lower is better like the
  // Thompson-sampled loss; ties (EI 0) go to the lower mean loss.
  void Acquire(Member& m, double mu, double sd, const ObjectiveVector& f) const {
    const LossShape shape = ShapeOf(s_, bounds_, f);
    const double ei = ExpectedImprovement(shape, mu, sd, best_loss_);
    m.score = -ei / seconds_.PredictSeconds(f[static_cast<int>(Objective::kMacs)]);
    m.tie = shape.Loss(mu);
  }

  // The `parents` best evaluated points under λ, scored like children when
  // cost-aware (by their loss otherwise).
  void SeedPool(const Gp& gp) {
    std::vector<const Evaluated*> seeds;
    for (const auto& e : owner_.evaluated_) seeds.push_back(e.get());
    std::stable_sort(seeds.begin(), seeds.end(), [&](const Evaluated* a, const Evaluated* b) {
      return s_.Loss(a->f, bounds_) < s_.Loss(b->f, bounds_);
    });
    for (int i = 0; i < bo_.parents && i < static_cast<int>(seeds.size()); ++i) {
      pool_.push_back({seeds[i]->candidate, s_.Loss(seeds[i]->f, bounds_), false});
    }
    if (!bo_.cost_aware || pool_.empty()) return;
    Eigen::MatrixXd q(dim_, static_cast<Eigen::Index>(pool_.size()));
    for (size_t i = 0; i < pool_.size(); ++i) q.col(static_cast<Eigen::Index>(i)) = seeds[i]->x;
    Eigen::VectorXd mu, sd;
    gp.Predict(q, mu, sd);
    for (size_t i = 0; i < pool_.size(); ++i) {
      const auto j = static_cast<Eigen::Index>(i);
      Acquire(pool_[i], mu(j), sd(j), seeds[i]->f);
    }
  }

  // `pool_size` mutations, drawn and scored in batches; the rejected are noted.
  void GrowPool(const Gp& gp) {
    for (int made = 0; made < bo_.pool_size;) {
      Batch batch = DrawBatch(made);
      if (!batch.children.empty()) ScoreBatch(gp, batch);
    }
    owner_.NoteRejected(rejected_);
  }

  // The fittest (lowest score) of `tournament` members drawn with replacement.
  const Member& Tournament() {
    const Member* parent = nullptr;
    for (int t = 0; t < bo_.tournament; ++t) {
      const Member& m = pool_[UniformInt(rng_, 0, static_cast<int>(pool_.size()))];
      if (parent == nullptr || m.score < parent->score) parent = &m;
    }
    return *parent;
  }

  // Up to kBatch mutations (counted in `made`); those already known or in the
  // pool, without costs or an encoding, or over a constraint are dropped.
  Batch DrawBatch(int& made) {
    Batch batch{{}, {}, Eigen::MatrixXd(dim_, kBatch)};
    for (int c = 0; c < kBatch && made < bo_.pool_size; ++c, ++made) {
      Candidate child = RandomMutation(Tournament().candidate, rng_);
      const uint64_t hash = CandidateHash(child);
      if (owner_.IsKnown(hash) || !in_pool_.insert(hash).second) continue;
      auto cost = owner_.config().costs(child);
      if (!cost.ok()) continue;
      if (!MeetsConstraints(*cost, owner_.config().constraints)) {
        ++rejected_;
        continue;
      }
      auto enc = EncodeCandidate(child, bo_.input);
      if (!enc.ok()) continue;
      batch.q.col(static_cast<Eigen::Index>(batch.children.size())) =
          Eigen::Map<const Eigen::VectorXd>(enc->data(), dim_);
      batch.children.push_back(std::move(child));
      batch.costs.push_back(*cost);
    }
    return batch;
  }

  // One GP prediction for the batch; each child joins the pool scored by EI
  // per second, or by the loss of a Thompson sample.
  void ScoreBatch(const Gp& gp, Batch& batch) {
    Eigen::VectorXd mu, sd;
    gp.Predict(batch.q.leftCols(static_cast<Eigen::Index>(batch.children.size())), mu, sd);
    for (size_t i = 0; i < batch.children.size(); ++i) {
      const auto j = static_cast<Eigen::Index>(i);
      if (bo_.cost_aware) {
        Member m{std::move(batch.children[i]), 0, true};
        Acquire(m, mu(j), sd(j), MakeObjectives(mu(j), batch.costs[i]));
        pool_.push_back(std::move(m));
        continue;
      }
      const double e = mu(j) + sd(j) * StandardNormal(rng_);
      pool_.push_back({std::move(batch.children[i]), s_.Loss(MakeObjectives(e, batch.costs[i]), bounds_), true});
    }
  }

  // The fresh members, best score first (ties: lower loss at the mean).
  std::vector<Candidate> FreshByScore() const {
    std::vector<const Member*> fresh;
    for (const Member& m : pool_) {
      if (m.fresh) fresh.push_back(&m);
    }
    std::stable_sort(fresh.begin(), fresh.end(), [](const Member* a, const Member* b) {
      return a->score < b->score || (a->score == b->score && a->tie < b->tie);
    });
    std::vector<Candidate> ranked;
    for (const Member* m : fresh) ranked.push_back(m->candidate);
    return ranked;
  }

  BayesOpt& owner_;
  const BayesOptConfig& bo_;
  Rng& rng_;
  const Limits& bounds_;
  const Scalarisation s_;
  const Eigen::Index dim_;
  SecondsModel seconds_;  // cost-aware only; else the default (divisor 1)
  double best_loss_ = std::numeric_limits<double>::infinity();
  std::vector<Member> pool_;
  std::set<uint64_t> in_pool_;  // hashes of the children drawn
  int rejected_ = 0;
};

std::vector<Candidate> BayesOpt::RankedPool(Rng& rng) { return Ranking(*this, rng).Run(); }

Candidate BayesOpt::Draw(Rng& rng, int64_t trial_id, int attempt) {
  if (trial_id < bo_.initial_random || evaluated_.size() < 2) return RandomCandidate(rng);
  if (attempt == 0 || ranked_for_ != trial_id) {
    ranked_ = RankedPool(rng);
    ranked_for_ = trial_id;
  }
  if (attempt < static_cast<int>(ranked_.size())) return ranked_[attempt];
  return RandomCandidate(rng);
}

}  // namespace unas::search
