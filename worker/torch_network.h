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

#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "base/status.h"
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
  // Same, multiplying each op's output by output_masks[op] (a [C] tensor, or
  // undefined for no mask) along the channel axis: the original network with
  // pruned channels zeroed, to check a pruned copy against. With
  // `straight_through` the backward pass ignores the masks (the gradient of
  // y * m is taken as that of y): the loss is the masked network's, but
  // masked channels' weights still learn, as pruning during training
  // (DPF) needs for a channel to come back.
  torch::Tensor ForwardMasked(const torch::Tensor& x, const std::vector<torch::Tensor>& output_masks,
                              bool straight_through = false);

  // Trainable weights and biases of conv and dense layers (the cost model's
  // count), and the BN parameters, separately.
  int64_t CountParams() const;
  int64_t CountBnParams() const;

  // The layers of op `op` (null holders where the op has none), for pruning:
  // reading importance and copying surviving channels.
  const std::vector<Op>& ops() const { return ops_; }
  torch::nn::Conv2d conv_at(size_t op) const { return layers_[op].conv; }
  torch::nn::BatchNorm2d bn_at(size_t op) const { return layers_[op].bn; }
  torch::nn::Linear linear_at(size_t op) const { return layers_[op].linear; }

 private:
  struct Layer {
    torch::nn::Conv2d conv{nullptr};
    torch::nn::BatchNorm2d bn{nullptr};
    torch::nn::Linear linear{nullptr};
  };
  torch::Tensor Forward(const torch::Tensor& x, std::vector<Shape>* shapes,
                        const std::vector<torch::Tensor>* output_masks, bool straight_through = false);

  std::vector<Op> ops_;
  std::vector<Layer> layers_;  // by op index; empty for pools and adds
  std::vector<int> last_use_;  // last op that reads each op's output
  double dropout_rate_;
};

TORCH_MODULE(CandidateNet);

// Stores every convolution's weight channels-last (NHWC) in place: LibTorch
// then runs those convolutions, and the batch norms, ReLUs and pools after
// them, on channels-last activations, which oneDNN takes without converting
// its input and output to its blocked layout on every call
// (docs/worker-benchmark.md has the figures). Values, shapes, names and saved
// files do not change; only strides do. Call before an optimiser takes the
// parameters (it keeps references to them).
void UseChannelsLast(CandidateNetImpl& net);

// Loads weights that torch::save(net, path) wrote (TrainConfig::save_path)
// into `net`, checking every parameter and buffer by name, shape and type,
// and that the file holds nothing the network lacks. Errors (kNotFound for a
// missing file, kInvalidArgument otherwise) start "<path>: " and say what did
// not match; LibTorch's exceptions do not escape. On error `net` may be
// partly overwritten.
Status LoadCandidateWeights(CandidateNet& net, const std::string& path);

}  // namespace unas::worker
