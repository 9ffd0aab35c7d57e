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

Result<ChannelGroups> FindChannelGroups(const Candidate& candidate, const Network& network) {
  const size_t n = network.ops.size();
  // Node 0 is the network input, node i + 1 the output of op i.
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
  ChannelGroups result;
  std::vector<int> group_of_root(n + 1, -1);
  auto group_of_node = [&](int x) {
    const int root = Find(parent, x);
    if (group_of_root[static_cast<size_t>(root)] < 0) {
      group_of_root[static_cast<size_t>(root)] = static_cast<int>(result.groups.size());
      result.groups.emplace_back();
      result.groups.back().channels = -1;
    }
    return group_of_root[static_cast<size_t>(root)];
  };
  std::vector<bool> fixed;  // holds the input or the classifier
  auto claim = [&](int group, int channels, const std::string& what) -> Status {
    ChannelGroup& g = result.groups[static_cast<size_t>(group)];
    if (g.channels >= 0 && g.channels != channels) {
      return Status::Internal("channel group " + std::to_string(group) + ": " + what + " has " +
                              std::to_string(channels) + " channels, the group " + std::to_string(g.channels));
    }
    g.channels = channels;
    return Status::Ok();
  };
  result.input_group = group_of_node(0);
  UNAS_RETURN_IF_ERROR(claim(result.input_group, network.input.channels, "the input"));
  result.group_of_op.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const int g = group_of_node(static_cast<int>(i) + 1);
    result.group_of_op[i] = g;
    UNAS_RETURN_IF_ERROR(claim(g, network.ops[i].out.c, "op " + std::to_string(i)));
    result.groups[static_cast<size_t>(g)].ops.push_back(static_cast<int>(i));
  }
  fixed.assign(result.groups.size(), false);
  fixed[static_cast<size_t>(result.input_group)] = true;
  for (size_t i = 0; i < n; ++i) {
    const Op& op = network.ops[i];
    ChannelGroup& g = result.groups[static_cast<size_t>(result.group_of_op[i])];
    if (op.role == OpRole::kClassifier) fixed[static_cast<size_t>(result.group_of_op[i])] = true;
    if (op.role == OpRole::kDenseBlock) {
      if (op.block < 0 || op.block >= static_cast<int>(candidate.dense_blocks.size()) ||
          candidate.dense_blocks[static_cast<size_t>(op.block)].units != op.out.c) {
        return Status::Internal("op " + std::to_string(i) + " does not match the candidate's dense blocks");
      }
      g.knobs.push_back({PruneKnob::Kind::kDenseUnits, op.block, -1});
      g.min_channels = SpaceBounds::kMinUnits;
    }
    if (op.role == OpRole::kLayer && op.kind == OpKind::kConv2D) {
      if (op.block < 0 || op.block >= static_cast<int>(candidate.conv_blocks.size())) {
        return Status::Internal("op " + std::to_string(i) + " names a conv block the candidate lacks");
      }
      const ConvBlock& block = candidate.conv_blocks[static_cast<size_t>(op.block)];
      const bool forced = block.is_branch && op.layer == static_cast<int>(block.layers.size()) - 1;
      if (op.layer < 0 || op.layer >= static_cast<int>(block.layers.size())) {
        return Status::Internal("op " + std::to_string(i) + " names a layer the candidate lacks");
      }
      if (!forced) {
        if (block.layers[static_cast<size_t>(op.layer)].filters != op.out.c) {
          return Status::Internal("op " + std::to_string(i) + " does not match the candidate's filters");
        }
        g.knobs.push_back({PruneKnob::Kind::kConvFilters, op.block, op.layer});
        g.min_channels = std::max(g.min_channels, SpaceBounds::kMinFilters);
      }
    }
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

Result<PrunePlan> ChoosePruning(const Candidate& candidate, const InputSpec& input,
                                const std::vector<std::vector<double>>& importance, const PruneConfig& config) {
  UNAS_ASSIGN_OR_RETURN(Network network, BuildNetwork(candidate, input));
  UNAS_ASSIGN_OR_RETURN(ChannelGroups groups, FindChannelGroups(candidate, network));
  const size_t group_count = groups.groups.size();
  if (importance.size() != group_count) return Status::Invalid("importance: one list per channel group expected");

  PrunePlan plan;
  plan.candidate = candidate;
  UNAS_ASSIGN_OR_RETURN(plan.proposed_costs, SummariseCosts(network, config.accounting));
  plan.pruned_costs = plan.proposed_costs;

  // Per group: channels in the order they would go (least important first),
  // and importance normalised by the group's mean.
  std::vector<std::vector<int>> removal_order(group_count);
  std::vector<std::vector<double>> normalised(group_count);
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
    for (double s : scores) normalised[g].push_back(mean > 0 ? s / mean : 1.0);
    removal_order[g].resize(scores.size());
    std::iota(removal_order[g].begin(), removal_order[g].end(), 0);
    std::stable_sort(removal_order[g].begin(), removal_order[g].end(),
                     [&](int a, int b) { return scores[static_cast<size_t>(a)] < scores[static_cast<size_t>(b)]; });
    plan.prunable_channels += group.channels;
  }
  const int budget = static_cast<int>(std::floor(config.max_fraction * plan.prunable_channels));
  std::vector<int> removed(group_count, 0);
  // Moves that only break a tie between peak steps do not lower the target
  // by themselves; if the budget runs out before the tie is broken they are
  // undone, so a plan that removes anything lowers the target strictly.
  std::vector<int> best_removed = removed;
  int64_t best_primary_bytes = TargetBytes(plan.proposed_costs, config.target);

  // Each move removes at least one channel, so the loop is bounded by the budget.
  for (;;) {
    UNAS_ASSIGN_OR_RETURN(Candidate current, ApplyPruning(candidate, groups, KeepFromRemoved(groups, removal_order,
                                                                                              removed)));
    UNAS_ASSIGN_OR_RETURN(Objective now, Evaluate(current, input, config));
    if (now.primary < best_primary_bytes) {
      best_primary_bytes = now.primary;
      best_removed = removed;
    }
    if (plan.channels_removed >= budget) break;
    if (config.target_bytes && now.primary <= *config.target_bytes) break;
    UNAS_ASSIGN_OR_RETURN(Network current_network, BuildNetwork(current, input));
    UNAS_ASSIGN_OR_RETURN(CostReport report, CostNetwork(current_network, config.accounting));

    std::set<int> eligible;
    if (config.target == PruneTarget::kPeakSram) {
      // The pruned network has the same ops in the same order, so the
      // original's group numbering applies to it.
      eligible = GroupsAtPeak(report, groups, MakeBufferGraph(current_network, config.accounting));
    } else {
      for (size_t g = 0; g < group_count; ++g) eligible.insert(static_cast<int>(g));
    }
    const int left = budget - plan.channels_removed;
    struct Move {
      int group = -1;
      int count = 0;
      double cost_per_byte = std::numeric_limits<double>::infinity();
    };
    Move best_primary, best_secondary;
    for (int g : eligible) {
      const ChannelGroup& group = groups.groups[static_cast<size_t>(g)];
      if (!group.prunable) continue;
      const int remaining = group.channels - removed[static_cast<size_t>(g)];
      const int floor_channels = std::max(
          group.min_channels,
          static_cast<int>(std::ceil(group.channels * (1 - config.max_group_fraction) - 1e-9)));
      const int count = std::min({(remaining + 7) / 8, remaining - floor_channels, left});
      if (count <= 0) continue;
      std::vector<int> trial = removed;
      trial[static_cast<size_t>(g)] += count;
      UNAS_ASSIGN_OR_RETURN(Candidate smaller,
                            ApplyPruning(candidate, groups, KeepFromRemoved(groups, removal_order, trial)));
      UNAS_ASSIGN_OR_RETURN(Objective after, Evaluate(smaller, input, config));
      double lost = 0;
      for (int i = removed[static_cast<size_t>(g)]; i < trial[static_cast<size_t>(g)]; ++i) {
        lost += normalised[static_cast<size_t>(g)][static_cast<size_t>(removal_order[static_cast<size_t>(g)][static_cast<size_t>(i)])];
      }
      // A tiny floor so that zero-importance channels still rank by bytes.
      lost += 1e-9 * count;
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
    const Move& move = best_primary.group >= 0 ? best_primary : best_secondary;
    if (move.group < 0) break;  // nothing eligible saves a byte
    removed[static_cast<size_t>(move.group)] += move.count;
    plan.channels_removed += move.count;
    ++plan.steps;
  }
  if (removed != best_removed) {
    removed = best_removed;
    plan.channels_removed = std::accumulate(removed.begin(), removed.end(), 0);
  }
  plan.keep = KeepFromRemoved(groups, removal_order, removed);
  UNAS_ASSIGN_OR_RETURN(plan.candidate, ApplyPruning(candidate, groups, plan.keep));
  UNAS_ASSIGN_OR_RETURN(Network pruned_network, BuildNetwork(plan.candidate, input));
  UNAS_ASSIGN_OR_RETURN(plan.pruned_costs, SummariseCosts(pruned_network, config.accounting));
  return plan;
}

}  // namespace unas::worker
