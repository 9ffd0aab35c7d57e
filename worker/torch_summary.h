// What the LibTorch network built for a candidate looks like, in plain C++
// types: used to prove that the trained network is the costed network (same
// parameter count, same shape after every operator).
#pragma once

#include <cstdint>
#include <vector>

#include "costmodel/network.h"
#include "costmodel/status.h"

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

}  // namespace unas::worker
