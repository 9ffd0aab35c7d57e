#include "worker/pruning.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <string>

#include "costmodel/memory_planner.h"

namespace unas::worker {
namespace {

int Find(std::vector<int>& parent, int x) {
  while (parent[static_cast<size_t>(x)] != x) {
    parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
    x = parent[static_cast<size_t>(x)];
  }
  return x;
}

void Union(std::vector<int>& parent, int a, int b) {
  a = Find(parent, a);
  b = Find(parent, b);
  if (a != b) parent[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
}

// What the greedy minimises: the target's bytes, then (peak SRAM only) the
// sum of the best-order timeline, which separates moves when several steps
// share the peak and no single move can lower it yet.
struct Objective {
  int64_t primary = 0;
  int64_t secondary = 0;
};

Result<Objective> Evaluate(const Candidate& candidate, const InputSpec& input, const PruneConfig& config) {
  UNAS_ASSIGN_OR_RETURN(Network network, BuildNetwork(candidate, input));
  if (config.target == PruneTarget::kFlash) {
    UNAS_ASSIGN_OR_RETURN(CostSummary costs, SummariseCosts(network, config.accounting));
    return Objective{costs.flash_bytes, 0};
  }
  UNAS_ASSIGN_OR_RETURN(OrderPeak best, BestOrder(MakeBufferGraph(network, config.accounting)));
  return Objective{best.peak_bytes, std::accumulate(best.live_bytes.begin(), best.live_bytes.end(), int64_t{0})};
}

// Groups with a tensor live at any step whose live bytes equal the peak.
std::set<int> GroupsAtPeak(const CostReport& report, const ChannelGroups& groups, const BufferGraph& graph) {
  std::set<int> result;
  // The timeline's own maximum: in the tflm accounting peak_sram_bytes is the
  // whole arena (planned + persistent), which no single step reaches.
  if (report.timeline_best.empty()) return result;
  const int64_t peak = *std::max_element(report.timeline_best.begin(), report.timeline_best.end());
  for (size_t s = 0; s < report.timeline_best.size(); ++s) {
    if (report.timeline_best[s] != peak) continue;
    for (size_t op = 0; op < groups.group_of_op.size(); ++op) {
      const size_t tensor = op + 1;
      if (graph.tensor_bytes[tensor] == 0) continue;
      if (report.layout.first_step[tensor] <= static_cast<int>(s) &&
          static_cast<int>(s) <= report.layout.last_step[tensor]) {
        result.insert(groups.group_of_op[op]);
      }
    }
  }
  return result;
}

KeepChannels KeepFromRemoved(const ChannelGroups& groups, const std::vector<std::vector<int>>& removal_order,
                             const std::vector<int>& removed) {
  KeepChannels keep(groups.groups.size());
  for (size_t g = 0; g < groups.groups.size(); ++g) {
    std::vector<bool> gone(static_cast<size_t>(groups.groups[g].channels), false);
    for (int i = 0; i < removed[g]; ++i) gone[static_cast<size_t>(removal_order[g][static_cast<size_t>(i)])] = true;
    for (int c = 0; c < groups.groups[g].channels; ++c) {
      if (!gone[static_cast<size_t>(c)]) keep[g].push_back(c);
    }
  }
  return keep;
}

}  // namespace

int64_t TargetBytes(const CostSummary& costs, PruneTarget target) {
  return target == PruneTarget::kFlash ? costs.flash_bytes : costs.peak_sram_bytes;
}

std::optional<int64_t> FinalTargetBytes(const PruneConfig& config, int64_t proposed_bytes) {
  std::optional<int64_t> target = config.target_bytes;
  if (config.target_ratio) {
    const auto by_ratio = static_cast<int64_t>(std::floor(*config.target_ratio * static_cast<double>(proposed_bytes)));
    target = target ? std::min(*target, by_ratio) : by_ratio;
  }
  return target;
}

Result<int64_t> PrunedResourceBytes(const Candidate& candidate, const InputSpec& input, const PruneConfig& config) {
  UNAS_ASSIGN_OR_RETURN(const Objective objective, Evaluate(candidate, input, config));
  return objective.primary;
}

PruneRamp TrainPruneRamp(const TrainConfig& config) {
  const PruneConfig& p = config.prune;
  PruneRamp ramp;
  ramp.start_epoch = std::max(p.start_epoch, 0);
  int end = p.end_epoch >= 0 ? p.end_epoch : (config.epochs + 1) / 2;
  end = std::min(end, config.start_epoch > 0 ? config.start_epoch : config.epochs);
  ramp.end_epoch = std::max(ramp.start_epoch, static_cast<double>(end));
  return ramp;
}

int64_t ScheduledTargetBytes(const PruneRamp& ramp, int64_t initial_bytes, int64_t final_bytes, double epoch) {
  double done = 1;
  if (ramp.end_epoch > ramp.start_epoch) {
    done = std::clamp((epoch - ramp.start_epoch) / (ramp.end_epoch - ramp.start_epoch), 0.0, 1.0);
  } else if (epoch < ramp.start_epoch) {
    done = 0;
  }
  const double left = (1 - done) * (1 - done) * (1 - done);
  return final_bytes + static_cast<int64_t>(std::floor(static_cast<double>(initial_bytes - final_bytes) * left));
}

namespace {

// Union-find over the tensors (node 0 the network input, node i + 1 the
// output of op i), joining those that must keep the same channels: a
// channel-local op's output and its input, an ADD's output and its inputs.
// Convolutions and dense layers make new channels.
std::vector<int> ChannelSharing(const Network& network) {
  const size_t n = network.ops.size();
  std::vector<int> parent(n + 1);
  std::iota(parent.begin(), parent.end(), 0);
  auto node = [](int producer) { return producer == kNetworkInput ? 0 : producer + 1; };
  for (size_t i = 0; i < n; ++i) {
    const Op& op = network.ops[i];
    const int self = static_cast<int>(i) + 1;
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kDense: break;  // new channels
      case OpKind::kDWConv2D:
      case OpKind::kMaxPool:
      case OpKind::kAvgPool: Union(parent, self, node(op.inputs[0])); break;
      case OpKind::kAdd:
        for (int input : op.inputs) Union(parent, self, node(input));
        break;
    }
  }
  return parent;
}

// Numbers the sets of `parent` as groups in order of first appearance (the
// input's first, then by op), checking that each group's tensors agree on
// their channels; fills input_group, group_of_op and each group's ops.
Status NumberGroups(const Network& network, std::vector<int> parent, ChannelGroups* result) {
  const size_t n = network.ops.size();
  std::vector<int> group_of_root(n + 1, -1);
  auto group_of_node = [&](int x) {
    const int root = Find(parent, x);
    if (group_of_root[static_cast<size_t>(root)] < 0) {
      group_of_root[static_cast<size_t>(root)] = static_cast<int>(result->groups.size());
      result->groups.emplace_back();
      result->groups.back().channels = -1;
    }
    return group_of_root[static_cast<size_t>(root)];
  };
  auto claim = [&](int group, int channels, const std::string& what) -> Status {
    ChannelGroup& g = result->groups[static_cast<size_t>(group)];
    if (g.channels >= 0 && g.channels != channels) {
      return Status::Internal("channel group " + std::to_string(group) + ": " + what + " has " +
                              std::to_string(channels) + " channels, the group " + std::to_string(g.channels));
    }
    g.channels = channels;
    return Status::Ok();
  };
  result->input_group = group_of_node(0);
  UNAS_RETURN_IF_ERROR(claim(result->input_group, network.input.channels, "the input"));
  result->group_of_op.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const int g = group_of_node(static_cast<int>(i) + 1);
    result->group_of_op[i] = g;
    UNAS_RETURN_IF_ERROR(claim(g, network.ops[i].out.c, "op " + std::to_string(i)));
    result->groups[static_cast<size_t>(g)].ops.push_back(static_cast<int>(i));
  }
  return Status::Ok();
}

// The candidate's knob that sets op i's output channels, added to its group
// with the floor it imposes: a dense block's units, or a conv layer's filters
// (not a branch block's last layer, whose filters follow the block's input).
// Errors (kInternal): an op that does not match the candidate.
Status AddKnob(const Candidate& candidate, const Op& op, size_t i, ChannelGroup& g) {
  if (op.role == OpRole::kDenseBlock) {
    if (op.block < 0 || op.block >= static_cast<int>(candidate.dense_blocks.size()) ||
        candidate.dense_blocks[static_cast<size_t>(op.block)].units != op.out.c) {
      return Status::Internal("op " + std::to_string(i) + " does not match the candidate's dense blocks");
    }
    g.knobs.push_back({PruneKnob::Kind::kDenseUnits, op.block, -1});
    g.min_channels = SpaceBounds::kMinUnits;
  }
  if (op.role != OpRole::kLayer || op.kind != OpKind::kConv2D) return Status::Ok();
  if (op.block < 0 || op.block >= static_cast<int>(candidate.conv_blocks.size())) {
    return Status::Internal("op " + std::to_string(i) + " names a conv block the candidate lacks");
  }
  const ConvBlock& block = candidate.conv_blocks[static_cast<size_t>(op.block)];
  const bool forced = block.is_branch && op.layer == static_cast<int>(block.layers.size()) - 1;
  if (op.layer < 0 || op.layer >= static_cast<int>(block.layers.size())) {
    return Status::Internal("op " + std::to_string(i) + " names a layer the candidate lacks");
  }
  if (forced) return Status::Ok();
  if (block.layers[static_cast<size_t>(op.layer)].filters != op.out.c) {
    return Status::Internal("op " + std::to_string(i) + " does not match the candidate's filters");
  }
  g.knobs.push_back({PruneKnob::Kind::kConvFilters, op.block, op.layer});
  g.min_channels = std::max(g.min_channels, SpaceBounds::kMinFilters);
  return Status::Ok();
}

}  // namespace

// A group is prunable when a knob sets its channels and it holds neither
// the input nor the classifier's output.
Result<ChannelGroups> FindChannelGroups(const Candidate& candidate, const Network& network) {
  ChannelGroups result;
  UNAS_RETURN_IF_ERROR(NumberGroups(network, ChannelSharing(network), &result));
  std::vector<bool> fixed(result.groups.size(), false);  // holds the input or the classifier
  fixed[static_cast<size_t>(result.input_group)] = true;
  for (size_t i = 0; i < network.ops.size(); ++i) {
    const Op& op = network.ops[i];
    const int g = result.group_of_op[i];
    if (op.role == OpRole::kClassifier) fixed[static_cast<size_t>(g)] = true;
    UNAS_RETURN_IF_ERROR(AddKnob(candidate, op, i, result.groups[static_cast<size_t>(g)]));
  }
  for (size_t g = 0; g < result.groups.size(); ++g) {
    result.groups[g].prunable = !fixed[g] && !result.groups[g].knobs.empty();
  }
  return result;
}

Result<Candidate> ApplyPruning(const Candidate& candidate, const ChannelGroups& groups, const KeepChannels& keep) {
  if (keep.size() != groups.groups.size()) return Status::Invalid("keep: one list per channel group expected");
  Candidate pruned = candidate;
  for (size_t g = 0; g < keep.size(); ++g) {
    const ChannelGroup& group = groups.groups[g];
    const std::vector<int>& k = keep[g];
    const std::string where = "keep[" + std::to_string(g) + "]";
    for (size_t i = 0; i < k.size(); ++i) {
      if (k[i] < 0 || k[i] >= group.channels) return Status::Invalid(where + ": channel out of range");
      if (i > 0 && k[i] <= k[i - 1]) return Status::Invalid(where + ": must be sorted and distinct");
    }
    const int count = static_cast<int>(k.size());
    if (count == group.channels) continue;
    if (!group.prunable) return Status::Invalid(where + ": group cannot be pruned");
    if (count < group.min_channels) {
      return Status::Invalid(where + ": keeps " + std::to_string(count) + " channels, at least " +
                             std::to_string(group.min_channels) + " needed");
    }
    for (const PruneKnob& knob : group.knobs) {
      if (knob.kind == PruneKnob::Kind::kDenseUnits) {
        pruned.dense_blocks[static_cast<size_t>(knob.block)].units = count;
      } else {
        pruned.conv_blocks[static_cast<size_t>(knob.block)].layers[static_cast<size_t>(knob.layer)].filters = count;
      }
    }
  }
  UNAS_RETURN_IF_ERROR(ValidateCandidate(pruned));
  return pruned;
}

namespace {

// Per group: channels in the order they would go (least important first),
// and importance normalised by the group's mean; empty for groups that
// cannot be pruned.
struct RemovalOrder {
  std::vector<std::vector<int>> order;
  std::vector<std::vector<double>> normalised;
  int prunable_channels = 0;  // in the prunable groups
};

Result<RemovalOrder> OrderRemovals(const ChannelGroups& groups, const std::vector<std::vector<double>>& importance) {
  const size_t group_count = groups.groups.size();
  RemovalOrder r;
  r.order.resize(group_count);
  r.normalised.resize(group_count);
  for (size_t g = 0; g < group_count; ++g) {
    const ChannelGroup& group = groups.groups[g];
    if (!group.prunable) continue;
    const std::vector<double>& scores = importance[g];
    if (scores.size() != static_cast<size_t>(group.channels)) {
      return Status::Invalid("importance[" + std::to_string(g) + "]: " + std::to_string(group.channels) +
                             " scores expected");
    }
    double sum = 0;
    for (double s : scores) {
      if (!(s >= 0) || !std::isfinite(s)) {
        return Status::Invalid("importance[" + std::to_string(g) + "]: scores must be finite and >= 0");
      }
      sum += s;
    }
    const double mean = sum / static_cast<double>(scores.size());
    for (double s : scores) r.normalised[g].push_back(mean > 0 ? s / mean : 1.0);
    r.order[g].resize(scores.size());
    std::iota(r.order[g].begin(), r.order[g].end(), 0);
    std::stable_sort(r.order[g].begin(), r.order[g].end(),
                     [&](int a, int b) { return scores[static_cast<size_t>(a)] < scores[static_cast<size_t>(b)]; });
    r.prunable_channels += group.channels;
  }
  return r;
}

// Removing `count` more channels from `group`, and what each target byte
// saved costs in normalised importance.
struct Move {
  int group = -1;
  int count = 0;
  double cost_per_byte = std::numeric_limits<double>::infinity();
};

// The greedy descent: from the current removal counts, the move with the
// least importance lost per byte saved among the eligible groups, until the
// budget or the target is reached or no move saves a byte.
class Descent {
 public:
  Descent(const Candidate& candidate, const InputSpec& input, const PruneConfig& config, const ChannelGroups& groups,
          const RemovalOrder& removals)
      : candidate_(candidate), input_(input), config_(config), groups_(groups), removals_(removals) {}

  // Runs the descent from nothing removed; returns the removal counts of the
  // lowest target reached (nothing removed if none beats `start_bytes`) and
  // counts moves and channels removed in `plan`.
  Result<std::vector<int>> Run(int budget, int64_t start_bytes, PrunePlan* plan) const {
    std::vector<int> removed(groups_.groups.size(), 0);
    // Moves that only break a tie between peak steps do not lower the target
    // by themselves; if the budget runs out before the tie is broken they are
    // undone, so a plan that removes anything lowers the target strictly.
    std::vector<int> best_removed = removed;
    int64_t best_primary_bytes = start_bytes;
    // Each move removes at least one channel, so the loop is bounded by the budget.
    for (;;) {
      UNAS_ASSIGN_OR_RETURN(Candidate current, Pruned(removed));
      UNAS_ASSIGN_OR_RETURN(Objective now, Evaluate(current, input_, config_));
      if (now.primary < best_primary_bytes) {
        best_primary_bytes = now.primary;
        best_removed = removed;
      }
      if (plan->channels_removed >= budget) break;
      if (config_.target_bytes && now.primary <= *config_.target_bytes) break;
      UNAS_ASSIGN_OR_RETURN(std::set<int> eligible, EligibleGroups(current));
      UNAS_ASSIGN_OR_RETURN(Move move, BestMove(removed, now, eligible, budget - plan->channels_removed));
      if (move.group < 0) break;  // nothing eligible saves a byte
      removed[static_cast<size_t>(move.group)] += move.count;
      plan->channels_removed += move.count;
      ++plan->steps;
    }
    if (removed != best_removed) plan->channels_removed = std::accumulate(best_removed.begin(), best_removed.end(), 0);
    return best_removed;
  }

  Result<Candidate> Pruned(const std::vector<int>& removed) const {
    return ApplyPruning(candidate_, groups_, KeepFromRemoved(groups_, removals_.order, removed));
  }

 private:
  // Peak SRAM: the groups with a tensor live at a peak step; flash: all.
  Result<std::set<int>> EligibleGroups(const Candidate& current) const {
    UNAS_ASSIGN_OR_RETURN(Network current_network, BuildNetwork(current, input_));
    UNAS_ASSIGN_OR_RETURN(CostReport report, CostNetwork(current_network, config_.accounting));
    if (config_.target == PruneTarget::kPeakSram) {
      // The pruned network has the same ops in the same order, so the
      // original's group numbering applies to it.
      return GroupsAtPeak(report, groups_, MakeBufferGraph(current_network, config_.accounting));
    }
    std::set<int> eligible;
    for (size_t g = 0; g < groups_.groups.size(); ++g) eligible.insert(static_cast<int>(g));
    return eligible;
  }

  // The cheapest move per primary byte saved, else per secondary byte (a
  // tie-breaking move), else none (group -1). A move takes an eighth of the
  // group's remaining channels (at least one), within its floor and `left`.
  Result<Move> BestMove(const std::vector<int>& removed, const Objective& now, const std::set<int>& eligible,
                        int left) const {
    Move best_primary, best_secondary;
    for (int g : eligible) {
      const ChannelGroup& group = groups_.groups[static_cast<size_t>(g)];
      if (!group.prunable) continue;
      const int remaining = group.channels - removed[static_cast<size_t>(g)];
      const int floor_channels = std::max(
          group.min_channels,
          static_cast<int>(std::ceil(group.channels * (1 - config_.max_group_fraction) - 1e-9)));
      const int count = std::min({(remaining + 7) / 8, remaining - floor_channels, left});
      if (count <= 0) continue;
      std::vector<int> trial = removed;
      trial[static_cast<size_t>(g)] += count;
      UNAS_ASSIGN_OR_RETURN(Candidate smaller, Pruned(trial));
      UNAS_ASSIGN_OR_RETURN(Objective after, Evaluate(smaller, input_, config_));
      // A tiny floor so that zero-importance channels still rank by bytes.
      const double lost = ImportanceLost(g, removed[static_cast<size_t>(g)], trial[static_cast<size_t>(g)]) +
                          1e-9 * count;
      const int64_t primary_gain = now.primary - after.primary;
      const int64_t secondary_gain = now.secondary - after.secondary;
      if (primary_gain > 0) {
        const double c = lost / static_cast<double>(primary_gain);
        if (c < best_primary.cost_per_byte) best_primary = {g, count, c};
      } else if (primary_gain == 0 && secondary_gain > 0) {
        const double c = lost / static_cast<double>(secondary_gain);
        if (c < best_secondary.cost_per_byte) best_secondary = {g, count, c};
      }
    }
    return best_primary.group >= 0 ? best_primary : best_secondary;
  }

  // Normalised importance of group g's channels [from, to) in removal order.
  double ImportanceLost(int g, int from, int to) const {
    const auto& order = removals_.order[static_cast<size_t>(g)];
    const auto& normalised = removals_.normalised[static_cast<size_t>(g)];
    double lost = 0;
    for (int i = from; i < to; ++i) lost += normalised[static_cast<size_t>(order[static_cast<size_t>(i)])];
    return lost;
  }

  const Candidate& candidate_;
  const InputSpec& input_;
  const PruneConfig& config_;
  const ChannelGroups& groups_;
  const RemovalOrder& removals_;
};

}  // namespace

Result<PrunePlan> ChoosePruning(const Candidate& candidate, const InputSpec& input,
                                const std::vector<std::vector<double>>& importance, const PruneConfig& config) {
  UNAS_ASSIGN_OR_RETURN(Network network, BuildNetwork(candidate, input));
  UNAS_ASSIGN_OR_RETURN(ChannelGroups groups, FindChannelGroups(candidate, network));
  if (importance.size() != groups.groups.size()) {
    return Status::Invalid("importance: one list per channel group expected");
  }
  PrunePlan plan;
  plan.candidate = candidate;
  UNAS_ASSIGN_OR_RETURN(plan.proposed_costs, SummariseCosts(network, config.accounting));
  plan.pruned_costs = plan.proposed_costs;
  UNAS_ASSIGN_OR_RETURN(const Objective start, Evaluate(candidate, input, config));
  PruneConfig aimed = config;  // target_ratio resolved into target_bytes
  aimed.target_bytes = FinalTargetBytes(config, start.primary);
  UNAS_ASSIGN_OR_RETURN(RemovalOrder removals, OrderRemovals(groups, importance));
  plan.prunable_channels = removals.prunable_channels;
  const int budget = static_cast<int>(std::floor(config.max_fraction * plan.prunable_channels));

  const Descent descent(candidate, input, aimed, groups, removals);
  UNAS_ASSIGN_OR_RETURN(std::vector<int> removed,
                        descent.Run(budget, start.primary, &plan));
  plan.keep = KeepFromRemoved(groups, removals.order, removed);
  UNAS_ASSIGN_OR_RETURN(plan.candidate, ApplyPruning(candidate, groups, plan.keep));
  UNAS_ASSIGN_OR_RETURN(Network pruned_network, BuildNetwork(plan.candidate, input));
  UNAS_ASSIGN_OR_RETURN(plan.pruned_costs, SummariseCosts(pruned_network, config.accounting));
  return plan;
}

}  // namespace unas::worker
