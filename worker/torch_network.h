// The LibTorch module of a candidate, built by walking Network::ops: the one
// description of the network that the cost model also costs. No shape rule
// is re-derived here; every size comes from the Op.
//
// Internal to worker/ (and its tests): includes LibTorch.
//
// Per op: Conv2D/DWConv2D = convolution with valid padding and bias, then
// BatchNorm2d if has_bn, then ReLU if has_relu. Pools: kernel = stride =
// (pool_h, pool_w), ceil mode. Add: inputs zero-padded at bottom/right to the
// op's output shape, then summed. Dense: flatten (C, H, W order), dropout
// before dense blocks in training, Linear, ReLU if has_relu; the classifier
// has no activation.
#pragma once

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "costmodel/network.h"

namespace unas::worker {

class CandidateNetImpl : public torch::nn::Module {
 public:
  // `dropout_rate` is applied before each dense block (role kDenseBlock)
  // while training.
  CandidateNetImpl(const Network& network, double dropout_rate);

  // x: [N, C, H, W] float. Returns logits [N, classes].
  torch::Tensor forward(const torch::Tensor& x);
  // Same, also recording every op's output shape as {h, w, c}.
  torch::Tensor ForwardRecordingShapes(const torch::Tensor& x, std::vector<Shape>* shapes);

  // Trainable weights and biases of conv and dense layers (the cost model's
  // count), and the BN parameters, separately.
  int64_t CountParams() const;
  int64_t CountBnParams() const;

 private:
  struct Layer {
    torch::nn::Conv2d conv{nullptr};
    torch::nn::BatchNorm2d bn{nullptr};
    torch::nn::Linear linear{nullptr};
  };
  std::vector<Op> ops_;
  std::vector<Layer> layers_;  // by op index; empty for pools and adds
  std::vector<int> last_use_;  // last op that reads each op's output
  double dropout_rate_;
};

TORCH_MODULE(CandidateNet);

}  // namespace unas::worker
