// Structured (channel) pruning aimed by the cost model: which output channels
// of a candidate to remove so that its peak SRAM (or flash) shrinks most for
// the least importance lost, and the smaller candidate that results.
// Plain C++ (no LibTorch): importance scores come in as numbers, so the
// choice is testable on hand-worked cases; worker/torch_pruning.h measures
// them on a LibTorch network and copies the surviving weights.
//
// Channel groups. Channels are not independent: a DWConv2D, a pool or a
// tie-up Add passes its input's channels through, and a branch block's last
// layer (and its projection) is forced to the main path's channel count, so
// the channels that an Add sums must be removed together. A ChannelGroup is
// one such set of tied channels (union-find over Network::ops). It is
// prunable when it does not contain the network input or the classifier and
// at least one candidate field sets its size ("knob": the `filters` of a
// Conv2D/1x1Conv2D that is not the forced last layer of a branch, or a dense
// block's `units`). Removing a channel of a group removes it from every op
// of the group and from the input side of every op that reads the group.
//
// The choice (ChoosePruning), greedy with exact recosting:
//   1. Cost the current candidate (CostNetwork, the job's accounting).
//   2. Eligible groups: for kPeakSram those with a tensor live at a step whose
//      live bytes equal the peak in the best order (the layers that set the
//      peak); for kFlash every prunable group. A group never goes below its
//      minimum (1 filter, 10 units) nor loses more than max_group_fraction.
//   3. For each eligible group, remove its ceil(channels / 8) least important
//      remaining channels (never more than the budget left), rebuild the
//      candidate through BuildNetwork and recost it exactly. Gain = bytes
//      saved on the target (for peak SRAM, ties between several peak steps
//      are broken by the drop in the sum of the timeline).
//   4. Apply the move with the least importance lost per byte saved, where a
//      channel's importance is normalised by its group's mean (so scores of
//      layers of different sizes compare).
//   5. Stop when target_bytes is met, the channel budget (max_fraction of all
//      prunable channels) is spent, or no eligible move saves anything.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "costmodel/candidate.h"
#include "costmodel/cost_model.h"
#include "costmodel/network.h"
#include "base/status.h"
#include "worker/train_config.h"

namespace unas::worker {

// PruneTarget and PruneConfig: worker/train_config.h.

// A candidate field that sets a group's size.
struct PruneKnob {
  enum class Kind { kConvFilters, kDenseUnits };
  Kind kind = Kind::kConvFilters;
  int block = -1;  // conv block, or dense block
  int layer = -1;  // layer within the conv block (kConvFilters)
};

struct ChannelGroup {
  int channels = 0;
  int min_channels = 1;     // 1 (filters) or 10 (units) when prunable
  bool prunable = false;
  std::vector<int> ops;     // ops whose output carries these channels
  std::vector<PruneKnob> knobs;
};

struct ChannelGroups {
  std::vector<ChannelGroup> groups;
  std::vector<int> group_of_op;  // by op index
  int input_group = -1;          // the network input's channels
  int group_of_input(int producer) const {
    return producer == kNetworkInput ? input_group : group_of_op[static_cast<size_t>(producer)];
  }
};

// Fails (kInternal) if `network` was not built from `candidate`.
Result<ChannelGroups> FindChannelGroups(const Candidate& candidate, const Network& network);

// Channels to keep: per group, sorted original channel indices.
using KeepChannels = std::vector<std::vector<int>>;

// The candidate with each prunable group cut to keep[g].size() channels
// (other groups must keep all of theirs). Errors: kInvalidArgument for a keep
// list that is out of range, unsorted, below the minimum or touches an
// unprunable group.
Result<Candidate> ApplyPruning(const Candidate& candidate, const ChannelGroups& groups, const KeepChannels& keep);

struct PrunePlan {
  Candidate candidate;            // pruned; equal to the input if nothing was
  KeepChannels keep;              // by group of the ORIGINAL network
  int prunable_channels = 0;      // in the original
  int channels_removed = 0;
  CostSummary proposed_costs;     // the original candidate, exact
  CostSummary pruned_costs;       // the pruned candidate, exact
  int steps = 0;                  // greedy moves made (tie-breaking ones may be undone)
};

// importance[g][c]: how much channel c of group g matters (>= 0; higher is
// kept longer); must have groups.groups[g].channels entries for every
// prunable group (others may be empty). Errors: bad config or importance
// sizes (kInvalidArgument), cost-model failures (passed on).
Result<PrunePlan> ChoosePruning(const Candidate& candidate, const InputSpec& input,
                                const std::vector<std::vector<double>>& importance, const PruneConfig& config);

// The resource PruneTarget names, from a summary.
int64_t TargetBytes(const CostSummary& costs, PruneTarget target);

// The resource that target_bytes and target_ratio are measured on (and
// ChoosePruning lowers): flash, or the peak of the best execution order in
// config.accounting's buffer graph (without the tflm arena's persistent
// part, which pruning does not change). Errors: the cost model's.
Result<int64_t> PrunedResourceBytes(const Candidate& candidate, const InputSpec& input, const PruneConfig& config);

// The bytes pruning aims at for a candidate whose target resource is
// `proposed_bytes`: the smaller of target_bytes and floor(target_ratio *
// proposed_bytes), or none when neither is set.
std::optional<int64_t> FinalTargetBytes(const PruneConfig& config, int64_t proposed_bytes);

// Pruning during training (PruneMode::kDuringTraining): the stretch of a
// trial, in epochs (fractional: epoch + batch / batches), over which the
// target falls from the proposed candidate's bytes to the final target.
struct PruneRamp {
  double start_epoch = 0;
  double end_epoch = 0;  // >= start_epoch; equal: the final target at once
};

// From a valid TrainConfig: start = max(prune.start_epoch, 0); end =
// prune.end_epoch (-1: ceil(epochs / 2)), but no later than the trial's
// last epoch's end and, for a promotion (start_epoch > 0), no later than
// the end of the rung it continues (start_epoch): the lower rung reached
// the final target, so a promotion trains at it throughout and recomputes
// the lower rung's last masks from its weights.
PruneRamp TrainPruneRamp(const TrainConfig& config);

// The schedule's target at `epoch` (fractional): the cubic (polynomial)
// schedule of Zhu and Gupta 2017 that DPF uses, on bytes instead of
// sparsity: final + (initial - final) * (1 - p)^3 with p the fraction of
// the ramp done (0 before it, 1 after), rounded down to whole bytes. It
// falls fast while the network has redundant channels to lose and slowly
// near the target, where each channel matters more.
int64_t ScheduledTargetBytes(const PruneRamp& ramp, int64_t initial_bytes, int64_t final_bytes, double epoch);

}  // namespace unas::worker
