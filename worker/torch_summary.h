// What the LibTorch network built for a candidate looks like, in plain C++
// types: used to prove that the trained network is the costed network (same
// parameter count, same shape after every operator).
#pragma once

#include <cstdint>
#include <vector>

#include "costmodel/network.h"
#include "base/status.h"
#include "worker/pruning.h"

namespace unas::worker {

struct TorchNetworkSummary {
  int64_t params = 0;     // trainable conv/dense weights + biases (BN excluded)
  int64_t bn_params = 0;  // batch-norm gamma + beta
  std::vector<Shape> op_shapes;  // output of each of Network::ops, by index,
                                 // from a forward pass on one zero image
};

// Builds the LibTorch module for `network` and runs one image through it.
// Errors (kInternal) carry LibTorch's message. Not for use while another
// thread changes torch's global settings.
Result<TorchNetworkSummary> SummariseTorchNetwork(const Network& network);

struct PrunedTorchSummary {
  PrunePlan plan;
  TorchNetworkSummary pruned;  // the network built for plan.candidate, after the copy
  // Largest |difference| between the pruned network's logits and those of
  // the original with the removed channels zeroed after every op, on one
  // random image (eval mode): 0 up to float rounding when the copy is right.
  double max_logit_difference = 0;
};

// Prunes a LibTorch network for `candidate`, initialised with `seed`, the
// way Train does (importance from its weights, ChoosePruning, surviving
// weights copied into a network built for the pruned candidate), and
// summarises the result. Errors: the pruning's, or kInternal with LibTorch's
// message.
Result<PrunedTorchSummary> SummarisePrunedTorchNetwork(const Candidate& candidate, const InputSpec& input,
                                                        const PruneConfig& config, uint64_t seed);

}  // namespace unas::worker
