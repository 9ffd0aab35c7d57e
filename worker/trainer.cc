#include "worker/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <new>
#include <optional>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/serialize.h>
#include <torch/utils.h>

#include "base/spelling.h"
#include "costmodel/network.h"
#include "worker/dataset_tensors.h"
#include "worker/torch_export.h"
#include "worker/torch_network.h"
#include "worker/torch_pruning.h"

namespace unas::worker {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double LearningRateAt(const TrainConfig& config, int epoch) {
  double lr = config.learning_rate;
  for (const LrStep& step : config.lr_schedule) {
    if (step.epoch <= epoch) lr = step.learning_rate;
  }
  return lr;
}

// A permutation of 0..n-1 from `rng`, identical on every standard library
// (mt19937_64 is fully specified; std::shuffle is not).
std::vector<int64_t> Permutation(int64_t n, std::mt19937_64& rng) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  for (int64_t i = n; i > 1; --i) std::swap(p[static_cast<size_t>(i - 1)], p[rng() % static_cast<uint64_t>(i)]);
  return p;
}

torch::Tensor IndexTensor(const int64_t* begin, int64_t count) {
  return torch::from_blob(const_cast<int64_t*>(begin), {count}, torch::kInt64);
}

// Loss for [N, K] logits; a binary problem has one logit (cost-model.md).
torch::Tensor Loss(const torch::Tensor& logits, const torch::Tensor& y) {
  if (logits.size(1) == 1) {
    return torch::binary_cross_entropy_with_logits(logits.squeeze(1), y.to(torch::kFloat32));
  }
  return torch::nn::functional::cross_entropy(logits, y);
}

torch::Tensor Predictions(const torch::Tensor& logits) {
  if (logits.size(1) == 1) return (logits.squeeze(1) > 0).to(torch::kInt64);
  return logits.argmax(1);
}

// Random shift by up to +-2 px (zero fill, which is the mean after
// normalisation) and horizontal flip, per image.
// AugmentConfig on a batch (N, C, H, W). The draws per image are dy, dx (if
// shifting), then the flip bit (if flipping): with shift 2 and flip, the
// same sequence the old boolean augmentation drew.
torch::Tensor Augment(const torch::Tensor& x, const AugmentConfig& a, std::mt19937_64& rng) {
  const int64_t h = x.size(2), w = x.size(3);
  const int64_t sh = a.shift_px, sw = w > 1 ? a.shift_px : 0;
  torch::Tensor out = x;
  if (sh > 0 || a.flip) {
    const torch::Tensor padded = torch::constant_pad_nd(x, {sw, sw, sh, sh});
    out = torch::empty_like(x);
    for (int64_t i = 0; i < x.size(0); ++i) {
      int64_t dy = sh, dx = sw;
      if (sh > 0) {
        dy = static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * sh + 1));
        dx = static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * sw + 1));
      }
      torch::Tensor image = padded[i].narrow(1, dy, h).narrow(2, dx, w);
      if (a.flip && (rng() & 1)) image = image.flip({2});
      out[i].copy_(image);
    }
  }
  // torch's generator, seeded with the recipe's seed when training starts.
  if (a.noise_sd > 0) out = out + torch::randn_like(out) * a.noise_sd;
  return out;
}

// Error rate of the model on (x, y), in eval mode, in batches; with `masks`
// (pruning during training) of the masked network.
double ErrorRate(CandidateNet& net, const torch::Tensor& x, const torch::Tensor& y,
                 const std::vector<torch::Tensor>* masks = nullptr) {
  torch::NoGradGuard no_grad;
  net->eval();
  constexpr int64_t kBatch = 1024;
  int64_t correct = 0;
  const int64_t n = x.size(0);
  for (int64_t start = 0; start < n; start += kBatch) {
    const int64_t count = std::min(kBatch, n - start);
    const torch::Tensor batch = x.narrow(0, start, count);
    const torch::Tensor logits = masks != nullptr ? net->ForwardMasked(batch, *masks) : net->forward(batch);
    correct += Predictions(logits).eq(y.narrow(0, start, count)).sum().item<int64_t>();
  }
  net->train();
  return n == 0 ? 1.0 : 1.0 - static_cast<double>(correct) / static_cast<double>(n);
}

// Pruning during training multiplies masked channels by 0 in the backward
// pass too: their producers stop learning, and a channel comes back when
// the kept ones' importance falls below its own. The straight-through
// variant (masked channels' producers get the gradient as if they were
// visible, DPF's feedback) was measured and diverged: a masked channel is
// pushed the same way at every step, since its output never shows the
// change, until it returns with outsized weights (docs/pruning.md).
constexpr bool kStraightThroughMasks = false;

// One Train() call, as its steps: Setup, then per epoch PruneNow (at the
// pruning epoch) and TrainEpoch (its batches, then the validation error),
// then Deliver (test error, kept model, saved weights). Pruning during
// training instead updates masks_ every update_steps batches (UpdateMasks)
// and turns the last masks into the pruned network (PruneFromMasks) before
// Deliver.
class Trial {
 public:
  Trial(const Candidate& candidate, const Network& network, const Dataset& dataset, const TrainConfig& config,
        const TrainHooks& hooks, TrainResult* result)
      : candidate_(candidate), network_(network), input_(dataset.info().input), data_(dataset.tensors()),
        config_(config), hooks_(hooks), result_(*result), profile_(result->profile) {}

  // Fills result_ for completed, failed (NaN) and cancelled trials; an error
  // only for initial weights that do not fit. LibTorch exceptions propagate
  // to Train(), which reports them.
  Status Run() {
    UNAS_RETURN_IF_ERROR(Setup());
    for (int epoch = config_.start_epoch; epoch < config_.epochs; ++epoch) {
      if (epoch == prune_epoch_ && !PruneNow(epoch)) return Status::Ok();
      if (!TrainEpoch(epoch)) return Status::Ok();
    }
    if (dpf_ && !PruneFromMasks()) return Status::Ok();
    Finish(train_time_, samples_trained_);
    Deliver();
    return Status::Ok();
  }

 private:
  // The running sums of one epoch's batches.
  struct Epoch {
    int index = 0;
    double lr = 0;
    Clock::time_point start;
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
  };

  // The network (with initial weights), the fidelity subset, the optimiser.
  Status Setup() {
    StepClock clock;
    if (config_.threads > 0) torch::set_num_threads(config_.threads);
    torch::manual_seed(config_.seed);
    net_ = CandidateNet(network_, config_.dropout);
    if (!config_.init_weights_path.empty()) {
      UNAS_RETURN_IF_ERROR(LoadCandidateWeights(net_, config_.init_weights_path));
    }
    UseChannelsLast(*net_);
    net_->train();
    result_.params = net_->CountParams();

    // Fidelity: a fixed (seed 0) subset, the same for every trial.
    train_x_ = data_.train_x;
    train_y_ = data_.train_y;
    const int64_t total = train_x_.size(0);
    used_ = std::max<int64_t>(2, std::llround(config_.subset * static_cast<double>(total)));
    if (used_ < total) {
      std::mt19937_64 subset_rng(0);
      std::vector<int64_t> order = Permutation(total, subset_rng);
      order.resize(static_cast<size_t>(used_));
      const torch::Tensor index = IndexTensor(order.data(), used_);
      train_x_ = train_x_.index_select(0, index);
      train_y_ = train_y_.index_select(0, index);
    }
    result_.train_samples_per_epoch = used_;
    batch_x_ = torch::empty({0}, train_x_.options());
    batch_y_ = torch::empty({0}, train_y_.options());
    optimiser_ = MakeOptimiser(net_);
    params_ = net_->parameters();
    dpf_ = config_.prune.enabled && config_.prune.mode == PruneMode::kDuringTraining;
    prune_epoch_ = config_.prune.enabled && !dpf_ ? PruneEpoch(config_) : -1;
    if (dpf_) UNAS_RETURN_IF_ERROR(SetUpMasks());
    rng_.seed(config_.seed);
    // A last batch of one image would break batch norm's statistics: drop it.
    batches_ = used_ / config_.batch_size + (used_ % config_.batch_size >= 2 ? 1 : 0);
    clock.Lap(&profile_.setup);
    return Status::Ok();
  }

  // Prunes at the start of `epoch`; false (the trial failed) when pruning could not.
  bool PruneNow(int epoch) {
    Result<CandidateNet> pruned = Prune(net_, epoch);
    if (!pruned.ok()) {
      result_.outcome = TrialOutcome::kFailed;
      result_.message = "pruning: " + pruned.status().message();
      Finish(train_time_, samples_trained_);
      return false;
    }
    net_ = std::move(*pruned);
    UseChannelsLast(*net_);
    // A fresh optimiser: the old one's momentum has the old shapes.
    optimiser_ = MakeOptimiser(net_);
    params_ = net_->parameters();
    return true;
  }

  // One epoch's batches, then its validation error; false when the trial
  // ended in it (cancelled or diverged).
  bool TrainEpoch(int epoch) {
    Epoch e;
    e.index = epoch;
    e.lr = LearningRateAt(config_, epoch);
    for (auto& group : optimiser_->param_groups()) group.options().set_lr(e.lr);
    order_ = Permutation(used_, rng_);
    e.start = Clock::now();
    StepClock clock;
    for (int64_t b = 0; b < batches_; ++b) {
      if (!TrainBatch(b, &e, &clock)) return false;
    }
    const Clock::duration epoch_time = Clock::now() - e.start;
    train_time_ += epoch_time;
    samples_trained_ += e.seen;
    // The delivered masks are those of the final weights, so a promotion,
    // which recomputes them from these weights at the same (final) target,
    // continues with the same masks.
    if (dpf_ && epoch == config_.epochs - 1 && !UpdateMasksOrFail(epoch + 1.0)) return false;

    const double validation_error =
        ErrorRate(net_, data_.validation_x, data_.validation_y, dpf_ ? &masks_ : nullptr);
    clock.Lap(&profile_.validation);
    result_.validation_error_per_epoch.push_back(validation_error);
    result_.best_validation_error = std::min(result_.best_validation_error, validation_error);
    result_.epochs_completed = epoch + 1 - config_.start_epoch;
    if (hooks_.on_progress) {
      TrainProgress p = Progress(epoch, batches_, batches_, e.seen, e.lr, e.loss_sum, e.correct, epoch_time);
      p.event = TrainProgress::Event::kEpochEnd;
      p.validation_error = validation_error;
      hooks_.on_progress(p);
    }
    return true;
  }

  // Batch `b` of epoch `e`: gather, forward, loss, backward, step. False
  // when the trial ends here (cancelled before it, or its loss diverged).
  bool TrainBatch(int64_t b, Epoch* e, StepClock* clock) {
    if (hooks_.cancel != nullptr && hooks_.cancel->load(std::memory_order_relaxed)) {
      result_.outcome = TrialOutcome::kCancelled;
      result_.message = "cancelled at epoch " + std::to_string(e->index + 1) + ", batch " + std::to_string(b + 1);
      Finish(train_time_ + (Clock::now() - e->start), samples_trained_ + e->seen);
      return false;
    }
    const int64_t batch = config_.batch_size;
    const int64_t start = b * batch, count = std::min(batch, used_ - start);
    const torch::Tensor index = IndexTensor(order_.data() + start, count);
    // Into the same buffers every batch: the gather allocates nothing once
    // the first batch has sized them.
    torch::index_select_out(batch_x_, train_x_, 0, index);
    torch::index_select_out(batch_y_, train_y_, 0, index);
    const torch::Tensor x = config_.augment.enabled() ? Augment(batch_x_, config_.augment, rng_) : batch_x_;
    clock->Lap(&profile_.gather);

    if (dpf_ && steps_run_ % config_.prune.update_steps == 0) {
      if (!UpdateMasksOrFail(e->index + static_cast<double>(b) / static_cast<double>(batches_))) return false;
      clock->Lap(&profile_.prune);
    }
    ++steps_run_;
    const torch::Tensor logits =
        dpf_ ? net_->ForwardMasked(x, masks_, kStraightThroughMasks) : net_->forward(x);
    const torch::Tensor loss = Loss(logits, batch_y_);
    const double loss_value = loss.item<double>();
    clock->Lap(&profile_.forward);
    if (!std::isfinite(loss_value)) {
      std::ostringstream os;
      os << "training diverged: loss is " << loss_value << " at epoch " << e->index + 1 << ", batch " << b + 1
         << " (learning rate " << e->lr << ")";
      result_.outcome = TrialOutcome::kFailed;
      result_.message = os.str();
      Finish(train_time_ + (Clock::now() - e->start), samples_trained_ + e->seen);
      return false;
    }
    optimiser_->zero_grad();
    loss.backward();
    clock->Lap(&profile_.backward);
    if (config_.optimizer == Optimizer::kSgdw && config_.weight_decay > 0) {
      // Decoupled weight decay, applied to the weights the gradient was
      // taken at, separately from the gradient (and its momentum).
      torch::NoGradGuard no_grad;
      for (const torch::Tensor& p : params_) p.mul_(1.0 - e->lr * config_.weight_decay);
    }
    optimiser_->step();
    clock->Lap(&profile_.optimiser);

    e->loss_sum += loss_value * static_cast<double>(count);
    e->correct += Predictions(logits.detach()).eq(batch_y_).sum().item<int64_t>();
    e->seen += count;
    if (hooks_.on_progress) {
      hooks_.on_progress(
          Progress(e->index, b + 1, batches_, e->seen, e->lr, e->loss_sum, e->correct, Clock::now() - e->start));
    }
    clock->Lap(&profile_.bookkeeping);
    return true;
  }

  // The trained network's figures and copies: validation error (of the
  // loaded network when there was nothing to train), test error, the kept
  // model and the saved weights.
  void Deliver() {
    StepClock clock;
    // Pruning during training delivers the pruned network and saves the
    // dense one (what a promotion continues from).
    CandidateNet& delivered = dpf_ ? pruned_net_ : net_;
    if (config_.start_epoch == config_.epochs) {
      // Nothing left to train (start_epoch == epochs): measure the loaded network.
      result_.best_validation_error = ErrorRate(delivered, data_.validation_x, data_.validation_y);
      clock.Lap(&profile_.validation);
    }
    result_.validation_error = result_.validation_error_per_epoch.empty() ? result_.best_validation_error
                                                                          : result_.validation_error_per_epoch.back();
    result_.test_error = ErrorRate(delivered, data_.test_x, data_.test_y);
    clock.Lap(&profile_.test);
    if (config_.keep_model) {
      delivered->eval();
      result_.model = TrainedModel{result_.pruning ? pruned_network_ : network_, ExtractFoldedWeights(*delivered)};
      delivered->train();
      clock.Lap(&profile_.keep_model);
    }
    if (!config_.save_path.empty()) {
      try {
        torch::save(net_, config_.save_path);
      } catch (const std::exception& e) {
        result_.outcome = TrialOutcome::kFailed;
        result_.message = "cannot save weights to " + config_.save_path + ": " + e.what();
      }
      clock.Lap(&profile_.save);
    }
  }

  std::unique_ptr<torch::optim::Optimizer> MakeOptimiser(CandidateNet& net) const {
    if (config_.optimizer == Optimizer::kSgdw) {
      return std::make_unique<torch::optim::SGD>(
          net->parameters(), torch::optim::SGDOptions(config_.learning_rate).momentum(config_.momentum));
    }
    return std::make_unique<torch::optim::AdamW>(
        net->parameters(), torch::optim::AdamWOptions(config_.learning_rate).weight_decay(config_.weight_decay));
  }

  // Pruning during training: the channel groups, the schedule's ends and
  // no masks yet (the first batch computes them).
  Status SetUpMasks() {
    UNAS_ASSIGN_OR_RETURN(groups_, FindChannelGroups(candidate_, network_));
    UNAS_ASSIGN_OR_RETURN(initial_bytes_, PrunedResourceBytes(candidate_, input_, config_.prune));
    final_bytes_ = FinalTargetBytes(config_.prune, initial_bytes_).value_or(initial_bytes_);
    ramp_ = TrainPruneRamp(config_);
    masks_.assign(network_.ops.size(), torch::Tensor());
    PruningResult r;
    r.mode = PruneMode::kDuringTraining;
    r.target = config_.prune.target;
    r.accounting = config_.prune.accounting;
    r.epoch = static_cast<int>(std::ceil(ramp_.end_epoch));
    r.proposed_params = result_.params;
    r.initial_target_bytes = initial_bytes_;
    r.final_target_bytes = final_bytes_;
    dpf_result_ = std::move(r);
    return Status::Ok();
  }

  // Recomputes the masks at `epoch` (fractional) from the dense weights:
  // importance now, the schedule's target now, the cost model's exact
  // choice of channels (ChoosePruning from all channels, so a channel whose
  // importance grew comes back). False (the trial failed) on an error.
  bool UpdateMasksOrFail(double epoch) {
    const int64_t target = ScheduledTargetBytes(ramp_, initial_bytes_, final_bytes_, epoch);
    PruneConfig aimed = config_.prune;
    aimed.target_ratio.reset();
    aimed.target_bytes = target;
    Result<PrunePlan> plan = ChoosePruning(candidate_, input_, ChannelImportance(*net_, groups_), aimed);
    if (!plan.ok()) {
      result_.outcome = TrialOutcome::kFailed;
      result_.message = "pruning: " + plan.status().message();
      Finish(train_time_, samples_trained_);
      return false;
    }
    PruningResult& r = *dpf_result_;
    if (r.mask_updates > 0) {
      for (size_t g = 0; g < plan->keep.size(); ++g) {
        for (int c : plan->keep[g]) {
          if (!std::binary_search(plan_.keep[g].begin(), plan_.keep[g].end(), c)) ++r.channels_restored;
        }
      }
    }
    ++r.mask_updates;
    plan_ = std::move(*plan);
    masks_ = OutputMasks(groups_, plan_.keep);
    return true;
  }

  // After the last epoch of pruning during training: the pruned candidate
  // of the last masks, holding the dense network's surviving weights, which
  // computes what the masked network did. False (the trial failed) when it
  // cannot be built.
  bool PruneFromMasks() {
    StepClock clock;
    // Nothing trained here (start_epoch == epochs): the masks of the loaded weights.
    if (dpf_result_->mask_updates == 0 && !UpdateMasksOrFail(config_.epochs)) return false;
    Result<Network> pruned_network = BuildNetwork(plan_.candidate, input_);
    if (!pruned_network.ok()) {
      result_.outcome = TrialOutcome::kFailed;
      result_.message = "pruning: " + pruned_network.status().message();
      return false;
    }
    pruned_network_ = std::move(*pruned_network);
    pruned_net_ = CandidateNet(pruned_network_, config_.dropout);
    CopySurvivingWeights(*net_, *pruned_net_, groups_, plan_.keep);
    UseChannelsLast(*pruned_net_);
    pruned_net_->train();
    clock.Lap(&profile_.prune);
    PruningResult r = std::move(*dpf_result_);
    r.candidate = plan_.candidate;
    r.proposed_costs = plan_.proposed_costs;
    r.pruned_costs = plan_.pruned_costs;
    r.prunable_channels = plan_.prunable_channels;
    r.channels_removed = plan_.channels_removed;
    Result<int64_t> pruned_bytes = PrunedResourceBytes(plan_.candidate, input_, config_.prune);
    if (!pruned_bytes.ok()) {
      result_.outcome = TrialOutcome::kFailed;
      result_.message = "pruning: " + pruned_bytes.status().message();
      return false;
    }
    r.pruned_target_bytes = *pruned_bytes;
    r.validation_error_before = ErrorRate(net_, data_.validation_x, data_.validation_y);
    r.validation_error_pruned = ErrorRate(pruned_net_, data_.validation_x, data_.validation_y);
    clock.Lap(&profile_.validation);
    result_.pruning = std::move(r);
    result_.params = pruned_net_->CountParams();
    return true;
  }

  // Chooses channels from the trained weights and the cost model, and returns
  // a network for the pruned candidate holding the surviving weights.
  Result<CandidateNet> Prune(CandidateNet& net, int epoch) {
    StepClock clock;
    UNAS_ASSIGN_OR_RETURN(ChannelGroups groups, FindChannelGroups(candidate_, network_));
    UNAS_ASSIGN_OR_RETURN(PrunePlan plan, ChoosePruning(candidate_, input_, ChannelImportance(*net, groups),
                                                        config_.prune));
    UNAS_ASSIGN_OR_RETURN(pruned_network_, BuildNetwork(plan.candidate, input_));
    CandidateNet pruned(pruned_network_, config_.dropout);
    pruned->train();
    CopySurvivingWeights(*net, *pruned, groups, plan.keep);
    clock.Lap(&profile_.prune);

    PruningResult r;
    r.target = config_.prune.target;
    r.accounting = config_.prune.accounting;
    r.epoch = epoch;
    r.candidate = plan.candidate;
    r.proposed_costs = plan.proposed_costs;
    r.pruned_costs = plan.pruned_costs;
    r.prunable_channels = plan.prunable_channels;
    r.channels_removed = plan.channels_removed;
    UNAS_ASSIGN_OR_RETURN(r.initial_target_bytes, PrunedResourceBytes(candidate_, input_, config_.prune));
    UNAS_ASSIGN_OR_RETURN(r.pruned_target_bytes, PrunedResourceBytes(plan.candidate, input_, config_.prune));
    r.final_target_bytes = FinalTargetBytes(config_.prune, r.initial_target_bytes).value_or(0);
    r.proposed_params = result_.params;
    r.validation_error_before =
        result_.validation_error_per_epoch.empty() ? 1.0 : result_.validation_error_per_epoch.back();
    r.validation_error_pruned = ErrorRate(pruned, data_.validation_x, data_.validation_y);
    clock.Lap(&profile_.validation);
    result_.pruning = std::move(r);
    result_.params = pruned->CountParams();
    return pruned;
  }

  TrainProgress Progress(int epoch, int64_t batch, int64_t batches, int64_t seen, double lr, double loss_sum,
                         int64_t correct, Clock::duration elapsed) const {
    TrainProgress p;
    p.epoch = epoch;
    p.epochs = config_.epochs;
    p.batch = batch;
    p.batches_per_epoch = batches;
    p.epoch_samples = seen;
    p.learning_rate = lr;
    p.train_loss = seen > 0 ? loss_sum / static_cast<double>(seen) : 0;
    p.train_accuracy = seen > 0 ? static_cast<double>(correct) / static_cast<double>(seen) : 0;
    const double s = Seconds(elapsed);
    p.samples_per_second = s > 0 ? static_cast<double>(seen) / s : 0;
    return p;
  }

  void Finish(Clock::duration train_time, int64_t samples) {
    result_.train_seconds = Seconds(train_time);
    result_.samples_per_second = result_.train_seconds > 0 ? static_cast<double>(samples) / result_.train_seconds : 0;
  }

  const Candidate& candidate_;
  const Network& network_;
  Network pruned_network_;  // what the pruned CandidateNet was built from
  InputSpec input_;
  const Dataset::Tensors& data_;
  const TrainConfig& config_;
  const TrainHooks& hooks_;
  TrainResult& result_;
  TrainProfile& profile_;

  // Set by Setup() (net_ and the optimiser replaced by pruning).
  CandidateNet net_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimiser_;
  std::vector<torch::Tensor> params_;
  torch::Tensor train_x_, train_y_;  // the fidelity subset
  int64_t used_ = 0;                 // its size
  int64_t batches_ = 0;              // per epoch
  int prune_epoch_ = -1;
  // Pruning during training (prune.mode kDuringTraining): net_ stays dense.
  bool dpf_ = false;
  ChannelGroups groups_;                // of the proposed candidate
  std::vector<torch::Tensor> masks_;    // by op (OutputMasks)
  PrunePlan plan_;                      // the masks' choice
  PruneRamp ramp_;
  int64_t initial_bytes_ = 0, final_bytes_ = 0;  // the schedule's ends
  std::optional<PruningResult> dpf_result_;      // filled as the masks change
  int64_t steps_run_ = 0;               // optimiser steps in this call
  CandidateNet pruned_net_{nullptr};    // the delivered network, after the last epoch
  std::mt19937_64 rng_;              // shuffling and augmentation
  std::vector<int64_t> order_;       // this epoch's shuffle
  torch::Tensor batch_x_, batch_y_;  // the gathered batch, reused
  Clock::duration train_time_{};
  int64_t samples_trained_ = 0;
};

bool LooksLikeOutOfMemory(const std::string& what) {
  return what.find("out of memory") != std::string::npos || what.find("DefaultCPUAllocator") != std::string::npos ||
         what.find("can't allocate") != std::string::npos;
}

}  // namespace

const char* TrialOutcomeName(TrialOutcome outcome) {
  static constexpr Spelling<TrialOutcome> kOutcomes[] = {{TrialOutcome::kCompleted, "completed"},
                                                         {TrialOutcome::kFailed, "failed"},
                                                         {TrialOutcome::kCancelled, "cancelled"}};
  return NameIn(kOutcomes, outcome);
}

TrainConfig FashionMnistConfig(int epochs) {
  TrainConfig c;
  c.optimizer = Optimizer::kSgdw;
  c.learning_rate = 0.01;
  c.lr_schedule = {{25, 0.005}, {35, 0.001}};
  c.momentum = 0.9;
  c.weight_decay = 1e-5;
  c.dropout = 0.15;
  c.epochs = epochs;
  c.batch_size = 128;
  return c;
}

nlohmann::json TrainProfileToJson(const TrainProfile& p) {
  const std::pair<const char*, const StepTime*> steps[] = {
      {"setup", &p.setup},       {"gather", &p.gather},         {"forward", &p.forward},
      {"backward", &p.backward}, {"optimiser", &p.optimiser},   {"bookkeeping", &p.bookkeeping},
      {"validation", &p.validation}, {"test", &p.test},         {"keep_model", &p.keep_model},
      {"save", &p.save},         {"prune", &p.prune}};
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, step] : steps) {
    j[name] = {{"wall_seconds", step->wall_seconds}, {"cpu_seconds", step->cpu_seconds}};
  }
  return j;
}

nlohmann::json TrainResultToJson(const TrainResult& r) {
  nlohmann::json j;
  j["outcome"] = TrialOutcomeName(r.outcome);
  if (!r.message.empty()) j["message"] = r.message;
  j["params"] = r.params;
  j["epochs_completed"] = r.epochs_completed;
  j["validation_error_per_epoch"] = r.validation_error_per_epoch;
  j["validation_error"] = r.validation_error;
  j["best_validation_error"] = r.best_validation_error;
  if (r.outcome == TrialOutcome::kCompleted) j["test_error"] = r.test_error;
  j["train_seconds"] = r.train_seconds;
  j["samples_per_second"] = r.samples_per_second;
  j["train_samples_per_epoch"] = r.train_samples_per_epoch;
  j["profile"] = TrainProfileToJson(r.profile);
  if (r.pruning) {
    const PruningResult& p = *r.pruning;
    auto costs = [](const CostSummary& c) {
      return nlohmann::json{{"params", c.params},
                            {"flash_bytes", c.flash_bytes},
                            {"macs", c.macs},
                            {"peak_sram_bytes", c.peak_sram_bytes},
                            {"build_order_peak_bytes", c.build_order_peak_bytes}};
    };
    j["pruning"] = {{"mode", PruneModeName(p.mode)},
                    {"target", PruneTargetName(p.target)},
                    {"accounting", AccountingName(p.accounting)},
                    {"epoch", p.epoch},
                    {"prunable_channels", p.prunable_channels},
                    {"channels_removed", p.channels_removed},
                    {"proposed_params", p.proposed_params},
                    {"validation_error_before", p.validation_error_before},
                    {"validation_error_pruned", p.validation_error_pruned},
                    {"proposed_costs", costs(p.proposed_costs)},
                    {"pruned_costs", costs(p.pruned_costs)},
                    {"pruned_candidate", CandidateToJson(p.candidate)}};
    j["pruning"]["initial_target_bytes"] = p.initial_target_bytes;
    j["pruning"]["pruned_target_bytes"] = p.pruned_target_bytes;
    j["pruning"]["final_target_bytes"] = p.final_target_bytes;
    if (p.mode == PruneMode::kDuringTraining) {
      j["pruning"]["mask_updates"] = p.mask_updates;
      j["pruning"]["channels_restored"] = p.channels_restored;
    }
  }
  return j;
}

Result<TrainResult> Train(const Candidate& candidate, const Dataset& dataset, const TrainConfig& config,
                          const TrainHooks& hooks) {
  UNAS_RETURN_IF_ERROR(ValidateTrainConfig(config));
  UNAS_ASSIGN_OR_RETURN(Network network, BuildNetwork(candidate, dataset.info().input));
  TrainResult result;
  // LibTorch reports errors by throwing; this is the module edge where they
  // become a failed trial.
  auto fail = [&](const std::string& message) {
    result.outcome = TrialOutcome::kFailed;
    result.message = message;
  };
  try {
    UNAS_RETURN_IF_ERROR(Trial(candidate, network, dataset, config, hooks, &result).Run());
  } catch (const std::bad_alloc&) {
    fail("out of memory");
  } catch (const std::exception& e) {  // c10::Error and friends
    const std::string what = e.what();
    fail(LooksLikeOutOfMemory(what) ? "out of memory: " + what.substr(0, what.find('\n'))
                                    : "LibTorch error: " + what.substr(0, what.find('\n')));
  }
  return result;
}

}  // namespace unas::worker
