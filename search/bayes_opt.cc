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

std::vector<Candidate> BayesOpt::RankedPool(Rng& rng) {
  const Limits& bounds = config().bounds;
  const Scalarisation s = Scalarisation::Draw(rng, bounds);

  // Training set: all successful trials, or the best and the most recent half.
  std::vector<const Evaluated*> train;
  for (const auto& e : evaluated_) train.push_back(e.get());
  if (static_cast<int>(train.size()) > bo_.max_training_points) {
    std::vector<const Evaluated*> by_error = train;
    std::stable_sort(by_error.begin(), by_error.end(),
                     [](const Evaluated* a, const Evaluated* b) { return a->error < b->error; });
    std::vector<const Evaluated*> chosen(by_error.begin(), by_error.begin() + bo_.max_training_points / 2);
    for (auto it = train.rbegin(); it != train.rend() && static_cast<int>(chosen.size()) < bo_.max_training_points; ++it) {
      if (std::find(chosen.begin(), chosen.end(), *it) == chosen.end()) chosen.push_back(*it);
    }
    train = std::move(chosen);
  }
  const Eigen::Index dim = evaluated_.front()->x.size();
  Eigen::MatrixXd x(dim, static_cast<Eigen::Index>(train.size()));
  Eigen::VectorXd y(static_cast<Eigen::Index>(train.size()));
  for (size_t i = 0; i < train.size(); ++i) {
    x.col(static_cast<Eigen::Index>(i)) = train[i]->x;
    y(static_cast<Eigen::Index>(i)) = train[i]->error;
  }

  // Hallucinate in-flight candidates at their posterior mean.
  if (!in_flight().empty()) {
    Gp first(x, y, bo_.noise_variance);
    Eigen::MatrixXd pending(dim, static_cast<Eigen::Index>(in_flight().size()));
    Eigen::Index j = 0;
    for (const auto& [id, p] : in_flight()) {
      auto enc = EncodeCandidate(p.candidate, bo_.input);
      if (enc.ok()) {
        pending.col(j) = Eigen::Map<const Eigen::VectorXd>(enc->data(), dim);
      } else {
        pending.col(j).setZero();
      }
      ++j;
    }
    Eigen::VectorXd mu, sd;
    first.Predict(pending, mu, sd);
    Eigen::MatrixXd x2(dim, x.cols() + pending.cols());
    x2 << x, pending;
    Eigen::VectorXd y2(y.size() + mu.size());
    y2 << y, mu;
    x = std::move(x2);
    y = std::move(y2);
  }
  const Gp gp(x, y, bo_.noise_variance);

  // Cost-aware acquisition: -(EI per predicted second), lower is better
  // like the Thompson-sampled loss; ties (EI 0) go to the lower mean loss.
  SecondsModel seconds;
  double best_loss = std::numeric_limits<double>::infinity();
  if (bo_.cost_aware) {
    std::vector<double> macs, secs;
    for (const auto& e : evaluated_) {
      best_loss = std::min(best_loss, s.Loss(e->f, bounds));
      if (e->first_seconds > 0) {
        macs.push_back(e->f[static_cast<int>(Objective::kMacs)]);
        secs.push_back(e->first_seconds);
      }
    }
    seconds = SecondsModel::Fit(macs, secs);
  }
  struct Member {
    Candidate candidate;
    double score;
    bool fresh;      // proposable (not evaluated)
    double tie = 0;  // cost-aware: the loss at the posterior mean
  };
  auto acquire = [&](Member& m, double mu, double sd, const ObjectiveVector& f) {
    const LossShape shape = ShapeOf(s, bounds, f);
    const double ei = ExpectedImprovement(shape, mu, sd, best_loss);
    m.score = -ei / seconds.PredictSeconds(f[static_cast<int>(Objective::kMacs)]);
    m.tie = shape.Loss(mu);
  };

  // The pool: seeded by the best evaluated points under this λ.
  std::vector<const Evaluated*> seeds;
  for (const auto& e : evaluated_) seeds.push_back(e.get());
  std::stable_sort(seeds.begin(), seeds.end(), [&](const Evaluated* a, const Evaluated* b) {
    return s.Loss(a->f, bounds) < s.Loss(b->f, bounds);
  });
  std::vector<Member> pool;
  for (int i = 0; i < bo_.parents && i < static_cast<int>(seeds.size()); ++i) {
    pool.push_back({seeds[i]->candidate, s.Loss(seeds[i]->f, bounds), false});
  }
  if (bo_.cost_aware && !pool.empty()) {
    Eigen::MatrixXd q(dim, static_cast<Eigen::Index>(pool.size()));
    for (size_t i = 0; i < pool.size(); ++i) q.col(static_cast<Eigen::Index>(i)) = seeds[i]->x;
    Eigen::VectorXd mu, sd;
    gp.Predict(q, mu, sd);
    for (size_t i = 0; i < pool.size(); ++i) {
      const auto j = static_cast<Eigen::Index>(i);
      acquire(pool[i], mu(j), sd(j), seeds[i]->f);
    }
  }
  std::set<uint64_t> in_pool;
  int rejected = 0;
  const int batch = 25;  // children scored together (one GP prediction)
  for (int made = 0; made < bo_.pool_size;) {
    std::vector<Candidate> children;
    std::vector<Costs> costs;
    Eigen::MatrixXd q(dim, batch);
    for (int c = 0; c < batch && made < bo_.pool_size; ++c, ++made) {
      const Member* parent = nullptr;
      for (int t = 0; t < bo_.tournament; ++t) {
        const Member& m = pool[UniformInt(rng, 0, static_cast<int>(pool.size()))];
        if (parent == nullptr || m.score < parent->score) parent = &m;
      }
      Candidate child = RandomMutation(parent->candidate, rng);
      const uint64_t hash = CandidateHash(child);
      if (IsKnown(hash) || !in_pool.insert(hash).second) continue;
      auto cost = config().costs(child);
      if (!cost.ok()) continue;
      if (!MeetsConstraints(*cost, config().constraints)) {
        ++rejected;
        continue;
      }
      auto enc = EncodeCandidate(child, bo_.input);
      if (!enc.ok()) continue;
      q.col(static_cast<Eigen::Index>(children.size())) = Eigen::Map<const Eigen::VectorXd>(enc->data(), dim);
      children.push_back(std::move(child));
      costs.push_back(*cost);
    }
    if (children.empty()) continue;
    Eigen::VectorXd mu, sd;
    gp.Predict(q.leftCols(static_cast<Eigen::Index>(children.size())), mu, sd);
    for (size_t i = 0; i < children.size(); ++i) {
      const auto j = static_cast<Eigen::Index>(i);
      if (bo_.cost_aware) {
        Member m{std::move(children[i]), 0, true};
        acquire(m, mu(j), sd(j), MakeObjectives(mu(j), costs[i]));
        pool.push_back(std::move(m));
        continue;
      }
      const double e = mu(j) + sd(j) * StandardNormal(rng);
      pool.push_back({std::move(children[i]), s.Loss(MakeObjectives(e, costs[i]), bounds), true});
    }
  }
  NoteRejected(rejected);
  std::vector<const Member*> fresh;
  for (const Member& m : pool) {
    if (m.fresh) fresh.push_back(&m);
  }
  std::stable_sort(fresh.begin(), fresh.end(), [](const Member* a, const Member* b) {
    return a->score < b->score || (a->score == b->score && a->tie < b->tie);
  });
  std::vector<Candidate> ranked;
  for (const Member* m : fresh) ranked.push_back(m->candidate);
  return ranked;
}

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
