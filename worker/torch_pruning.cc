#include "worker/torch_pruning.h"

#include <stdexcept>
#include <string>

#include <torch/utils.h>

namespace unas::worker {
namespace {

torch::Tensor Index(const std::vector<int>& channels) {
  std::vector<int64_t> v(channels.begin(), channels.end());
  return torch::tensor(v, torch::kInt64);
}

void CopyInto(const torch::Tensor& dst, const torch::Tensor& src, size_t op, const char* what) {
  if (dst.sizes() != src.sizes()) {
    throw std::logic_error("pruning: op " + std::to_string(op) + " " + what + " has the wrong shape");
  }
  dst.copy_(src);
}

}  // namespace

std::vector<std::vector<double>> ChannelImportance(const CandidateNetImpl& net, const ChannelGroups& groups) {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<double>> importance(groups.groups.size());
  for (size_t g = 0; g < groups.groups.size(); ++g) {
    const ChannelGroup& group = groups.groups[g];
    if (!group.prunable) continue;
    torch::Tensor sum = torch::zeros({group.channels}, torch::kFloat64);
    for (int op_index : group.ops) {
      const auto op = static_cast<size_t>(op_index);
      const OpKind kind = net.ops()[op].kind;
      if (kind == OpKind::kConv2D) {
        if (auto bn = net.bn_at(op)) {
          sum += bn->weight.abs().to(torch::kFloat64);
        } else {
          sum += net.conv_at(op)->weight.abs().flatten(1).mean(1).to(torch::kFloat64);
        }
      } else if (kind == OpKind::kDense) {
        sum += net.linear_at(op)->weight.abs().mean(1).to(torch::kFloat64);
      }
    }
    const torch::Tensor s = sum.contiguous();
    importance[g].assign(s.data_ptr<double>(), s.data_ptr<double>() + group.channels);
  }
  return importance;
}

std::vector<torch::Tensor> OutputMasks(const ChannelGroups& groups, const KeepChannels& keep) {
  std::vector<torch::Tensor> masks(groups.group_of_op.size());
  for (size_t i = 0; i < masks.size(); ++i) {
    const auto g = static_cast<size_t>(groups.group_of_op[i]);
    if (static_cast<int>(keep[g].size()) == groups.groups[g].channels) continue;
    masks[i] = torch::zeros({groups.groups[g].channels});
    masks[i].index_fill_(0, Index(keep[g]), 1.0);
  }
  return masks;
}

void CopySurvivingWeights(const CandidateNetImpl& from, CandidateNetImpl& to, const ChannelGroups& groups,
                          const KeepChannels& keep) {
  torch::NoGradGuard no_grad;
  const std::vector<Op>& ops = from.ops();
  if (to.ops().size() != ops.size()) throw std::logic_error("pruning: networks have different ops");
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (op.kind != OpKind::kConv2D && op.kind != OpKind::kDWConv2D && op.kind != OpKind::kDense) continue;
    const torch::Tensor out = Index(keep[static_cast<size_t>(groups.group_of_op[i])]);
    const torch::Tensor in = Index(keep[static_cast<size_t>(groups.group_of_input(op.inputs[0]))]);
    if (op.kind == OpKind::kDense) {
      // Flattened inputs are (C, H, W): channel c owns [c*H*W, (c+1)*H*W).
      const int64_t spatial = int64_t{op.in.h} * op.in.w;
      const torch::Tensor flat =
          (in.unsqueeze(1) * spatial + torch::arange(spatial, torch::kInt64).unsqueeze(0)).flatten();
      const auto src = from.linear_at(i), dst = to.linear_at(i);
      CopyInto(dst->weight, src->weight.index_select(0, out).index_select(1, flat), i, "weight");
      CopyInto(dst->bias, src->bias.index_select(0, out), i, "bias");
      continue;
    }
    const auto src = from.conv_at(i), dst = to.conv_at(i);
    torch::Tensor weight = src->weight.index_select(0, out);
    if (op.kind == OpKind::kConv2D) weight = weight.index_select(1, in);  // depthwise: [C, 1, k, k]
    CopyInto(dst->weight, weight, i, "weight");
    CopyInto(dst->bias, src->bias.index_select(0, out), i, "bias");
    if (auto bn = from.bn_at(i)) {
      auto to_bn = to.bn_at(i);
      CopyInto(to_bn->weight, bn->weight.index_select(0, out), i, "bn weight");
      CopyInto(to_bn->bias, bn->bias.index_select(0, out), i, "bn bias");
      CopyInto(to_bn->running_mean, bn->running_mean.index_select(0, out), i, "bn mean");
      CopyInto(to_bn->running_var, bn->running_var.index_select(0, out), i, "bn variance");
      to_bn->num_batches_tracked.copy_(bn->num_batches_tracked);
    }
  }
}

}  // namespace unas::worker
