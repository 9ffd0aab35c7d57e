// The LibTorch half of channel pruning (worker/pruning.h has the choice):
// how important each channel of a trained CandidateNet is, and moving the
// surviving channels' weights into a network built for the pruned candidate.
//
// Internal to worker/ (includes LibTorch). Functions throw LibTorch's
// exceptions; callers (Train, SummarisePrunedTorchNetwork) turn them into
// their own errors.
#pragma once

#include <vector>

#include "worker/pruning.h"
#include "worker/torch_network.h"

namespace unas::worker {

// importance[g][c] for every prunable group g (others empty): the sum, over
// the group's producers (Conv2D and dense ops writing those channels), of
// |gamma_c| when batch norm follows (BN rescales each channel, so the conv
// weights' size says nothing), else the mean |w| of output channel c.
std::vector<std::vector<double>> ChannelImportance(const CandidateNetImpl& net, const ChannelGroups& groups);

// Per op of the network `groups` describes: a [C] float mask, 1 for the
// channels `keep` keeps and 0 for the others, on the op's output; undefined
// where the op's group keeps all its channels. CandidateNetImpl::
// ForwardMasked with these masks computes what the pruned candidate does.
std::vector<torch::Tensor> OutputMasks(const ChannelGroups& groups, const KeepChannels& keep);

// Copies into `to` (built for the pruned candidate: same ops, fewer
// channels) the weights, biases and batch-norm parameters and statistics of
// the channels `keep` names, from `from` (built for the original network
// that `groups` describes). Convolutions lose output channels of their own
// group and input channels of their input's group; a dense layer after a
// convolution loses the flattened (C, H, W) inputs of the removed channels.
void CopySurvivingWeights(const CandidateNetImpl& from, CandidateNetImpl& to, const ChannelGroups& groups,
                          const KeepChannels& keep);

}  // namespace unas::worker
