#include "worker/torch_network.h"

#include <sys/stat.h>

#include <exception>
#include <set>
#include <sstream>

#include <torch/nn/functional/dropout.h>
#include <torch/serialize/input-archive.h>
#include <torch/utils.h>

#include "worker/torch_pruning.h"
#include "worker/torch_summary.h"

namespace unas::worker {

CandidateNetImpl::CandidateNetImpl(const Network& network, double dropout_rate)
    : ops_(network.ops), layers_(network.ops.size()), last_use_(network.ops.size(), -1),
      dropout_rate_(dropout_rate) {
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    for (int input : op.inputs) {
      if (input != kNetworkInput) last_use_[static_cast<size_t>(input)] = static_cast<int>(i);
    }
    Layer& layer = layers_[i];
    const std::string name = std::to_string(i);
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kDWConv2D: {
        const bool depthwise = op.kind == OpKind::kDWConv2D;
        auto options = torch::nn::Conv2dOptions(op.in.c, op.out.c, op.kernel)
                           .stride(op.stride)
                           .padding(0)
                           .bias(true)
                           .groups(depthwise ? op.in.c : 1);
        layer.conv = register_module("conv" + name, torch::nn::Conv2d(options));
        if (op.has_bn) {
          // Keras's defaults (μNAS trains with Keras): eps 1e-3, and its
          // momentum 0.99 is LibTorch's 0.01.
          layer.bn = register_module(
              "bn" + name, torch::nn::BatchNorm2d(torch::nn::BatchNormOptions(op.out.c).eps(1e-3).momentum(0.01)));
        }
        break;
      }
      case OpKind::kDense:
        layer.linear = register_module("dense" + name, torch::nn::Linear(op.in.elements(), op.out.c));
        break;
      case OpKind::kMaxPool:
      case OpKind::kAvgPool:
      case OpKind::kAdd:
        break;
    }
  }
  // The output of the last op is the result: never freed early.
  if (!last_use_.empty()) last_use_.back() = static_cast<int>(ops_.size());
}

namespace {

// x W^T + b of a Linear layer, computed as a 1x1 convolution over a 1x1
// image with x's features as channels. Why: LibTorch 1.13 sends float
// convolutions of 16 or more images to oneDNN (its JIT kernels, forward and
// backward), but Linear to the system BLAS, which on Debian is the
// reference BLAS unless an optimised one is installed; profiled on the
// fashion_mnist_larger example, its sgemm_ took a quarter of a trial's CPU
// for the 6 % of the MACs in the dense layers (docs/worker-benchmark.md).
// Same parameters, same shapes: saved weights and the int8 export still
// see a Linear; only the float rounding order differs.
torch::Tensor Dense(const torch::nn::Linear& linear, const torch::Tensor& x) {
  const int64_t n = x.size(0), in = x.size(1), out = linear->weight.size(0);
  return torch::conv2d(x.reshape({n, in, 1, 1}), linear->weight.view({out, in, 1, 1}), linear->bias).view({n, out});
}

}  // namespace

torch::Tensor CandidateNetImpl::forward(const torch::Tensor& x) { return Forward(x, nullptr, nullptr); }

torch::Tensor CandidateNetImpl::ForwardRecordingShapes(const torch::Tensor& x, std::vector<Shape>* shapes) {
  return Forward(x, shapes, nullptr);
}

torch::Tensor CandidateNetImpl::ForwardMasked(const torch::Tensor& x, const std::vector<torch::Tensor>& output_masks,
                                              bool straight_through) {
  return Forward(x, nullptr, &output_masks, straight_through);
}

torch::Tensor CandidateNetImpl::Forward(const torch::Tensor& x, std::vector<Shape>* shapes,
                                        const std::vector<torch::Tensor>* output_masks, bool straight_through) {
  std::vector<torch::Tensor> outputs(ops_.size());
  auto input_of = [&](int index) -> const torch::Tensor& {
    return index == kNetworkInput ? x : outputs[static_cast<size_t>(index)];
  };
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    Layer& layer = layers_[i];
    torch::Tensor y;
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kDWConv2D:
        y = layer.conv->forward(input_of(op.inputs[0]));
        if (layer.bn) y = layer.bn->forward(y);
        if (op.has_relu) y = torch::relu(y);
        break;
      case OpKind::kMaxPool:
        y = torch::max_pool2d(input_of(op.inputs[0]), {op.pool_h, op.pool_w}, {op.pool_h, op.pool_w},
                              /*padding=*/0, /*dilation=*/1, /*ceil_mode=*/true);
        break;
      case OpKind::kAvgPool:
        y = torch::avg_pool2d(input_of(op.inputs[0]), {op.pool_h, op.pool_w}, {op.pool_h, op.pool_w},
                              /*padding=*/0, /*ceil_mode=*/true);
        break;
      case OpKind::kAdd:
        for (int input : op.inputs) {
          torch::Tensor term = input_of(input);
          const int64_t dc = op.out.c - term.size(1), dh = op.out.h - term.size(2), dw = op.out.w - term.size(3);
          if (dc != 0 || dh != 0 || dw != 0) term = torch::constant_pad_nd(term, {0, dw, 0, dh, 0, dc});
          y = y.defined() ? y + term : term;
        }
        break;
      case OpKind::kDense: {
        y = input_of(op.inputs[0]).flatten(1);
        if (op.role == OpRole::kDenseBlock && dropout_rate_ > 0) y = torch::dropout(y, dropout_rate_, is_training());
        y = Dense(layer.linear, y);
        if (op.has_relu) y = torch::relu(y);
        break;
      }
    }
    if (output_masks != nullptr && (*output_masks)[i].defined()) {
      const torch::Tensor& mask = (*output_masks)[i];
      const torch::Tensor m = y.dim() == 4 ? mask.view({1, -1, 1, 1}) : mask.view({1, -1});
      // Straight through: y - (y * (1 - m)) with the subtrahend detached is
      // y * m forward and the identity backward.
      y = straight_through ? y - (y * (1 - m)).detach() : y * m;
    }
    if (shapes != nullptr) {
      shapes->push_back(y.dim() == 4 ? Shape{static_cast<int>(y.size(2)), static_cast<int>(y.size(3)),
                                             static_cast<int>(y.size(1))}
                                     : Shape{1, 1, static_cast<int>(y.size(1))});
    }
    outputs[i] = std::move(y);
    // Free inputs whose last reader this was, to keep peak memory low.
    for (int input : op.inputs) {
      if (input != kNetworkInput && last_use_[static_cast<size_t>(input)] == static_cast<int>(i)) {
        outputs[static_cast<size_t>(input)] = torch::Tensor();
      }
    }
  }
  return outputs.back();
}

void UseChannelsLast(CandidateNetImpl& net) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < net.ops().size(); ++i) {
    if (torch::nn::Conv2d conv = net.conv_at(i)) {
      conv->weight.set_data(conv->weight.contiguous(torch::MemoryFormat::ChannelsLast));
    }
  }
}

int64_t CandidateNetImpl::CountParams() const {
  int64_t n = 0;
  for (const Layer& layer : layers_) {
    if (layer.conv) n += layer.conv->weight.numel() + layer.conv->bias.numel();
    if (layer.linear) n += layer.linear->weight.numel() + layer.linear->bias.numel();
  }
  return n;
}

int64_t CandidateNetImpl::CountBnParams() const {
  int64_t n = 0;
  for (const Layer& layer : layers_) {
    if (layer.bn) {
      for (const auto& p : layer.bn->parameters()) n += p.numel();
    }
  }
  return n;
}

Result<TorchNetworkSummary> SummariseTorchNetwork(const Network& network) {
  try {
    torch::NoGradGuard no_grad;
    CandidateNet net(network, 0.0);
    net->eval();
    TorchNetworkSummary summary;
    summary.params = net->CountParams();
    summary.bn_params = net->CountBnParams();
    const Shape in = network.input_shape();
    net->ForwardRecordingShapes(torch::zeros({1, in.c, in.h, in.w}), &summary.op_shapes);
    return summary;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("LibTorch: ") + e.what());
  }
}

Result<PrunedTorchSummary> SummarisePrunedTorchNetwork(const Candidate& candidate, const InputSpec& input,
                                                        const PruneConfig& config, uint64_t seed) {
  UNAS_ASSIGN_OR_RETURN(Network network, BuildNetwork(candidate, input));
  UNAS_ASSIGN_OR_RETURN(ChannelGroups groups, FindChannelGroups(candidate, network));
  try {
    torch::NoGradGuard no_grad;
    torch::manual_seed(seed);
    CandidateNet original(network, 0.0);
    original->eval();
    // Fresh batch-norm statistics are 0 and 1; make them channel-specific so
    // that a wrongly copied statistic shows in the logits.
    for (size_t i = 0; i < network.ops.size(); ++i) {
      if (auto bn = original->bn_at(i)) {
        bn->running_mean.uniform_(-0.5, 0.5);
        bn->running_var.uniform_(0.5, 1.5);
        bn->weight.uniform_(0.1, 1.0);
      }
    }
    PrunedTorchSummary result;
    UNAS_ASSIGN_OR_RETURN(result.plan,
                          ChoosePruning(candidate, input, ChannelImportance(*original, groups), config));
    UNAS_ASSIGN_OR_RETURN(Network pruned_network, BuildNetwork(result.plan.candidate, input));
    CandidateNet pruned(pruned_network, 0.0);
    pruned->eval();
    CopySurvivingWeights(*original, *pruned, groups, result.plan.keep);
    result.pruned.params = pruned->CountParams();
    result.pruned.bn_params = pruned->CountBnParams();
    const Shape in = network.input_shape();
    const torch::Tensor image = torch::randn({1, in.c, in.h, in.w});
    const torch::Tensor logits = pruned->ForwardRecordingShapes(image, &result.pruned.op_shapes);
    const torch::Tensor reference = original->ForwardMasked(image, OutputMasks(groups, result.plan.keep));
    result.max_logit_difference = (logits - reference).abs().max().item<double>();
    return result;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("LibTorch: ") + e.what());
  }
}

namespace {

std::string ShapeText(at::IntArrayRef sizes) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < sizes.size(); ++i) os << (i > 0 ? ", " : "") << sizes[i];
  os << "]";
  return os.str();
}

// Copies the archive's tensors into `module`'s parameters and buffers, then
// its children's; returns what did not match ("" when everything did).
// Module::save writes one archive per module: its own tensors by name, a
// nested archive per child.
std::string CopyFromArchive(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                            const std::string& prefix) {
  std::set<std::string> expected;
  auto copy = [&](const std::string& name, torch::Tensor target, bool is_buffer) -> std::string {
    expected.insert(name);
    torch::Tensor stored;
    if (!archive.try_read(name, stored, is_buffer)) return "no tensor '" + prefix + name + "' in the file";
    if (stored.sizes() != target.sizes()) {
      return "'" + prefix + name + "' is " + ShapeText(stored.sizes()) + " in the file, " +
             ShapeText(target.sizes()) + " in the network";
    }
    if (stored.scalar_type() != target.scalar_type()) {
      return "'" + prefix + name + "' is " + c10::toString(stored.scalar_type()) + " in the file, " +
             c10::toString(target.scalar_type()) + " in the network";
    }
    torch::NoGradGuard no_grad;
    target.copy_(stored);
    return "";
  };
  for (const auto& item : module.named_parameters(/*recurse=*/false)) {
    std::string error = copy(item.key(), item.value(), false);
    if (!error.empty()) return error;
  }
  for (const auto& item : module.named_buffers(/*recurse=*/false)) {
    std::string error = copy(item.key(), item.value(), true);
    if (!error.empty()) return error;
  }
  for (const auto& child : module.named_children()) {
    expected.insert(child.key());
    torch::serialize::InputArchive child_archive;
    if (!archive.try_read(child.key(), child_archive)) return "no module '" + prefix + child.key() + "' in the file";
    std::string error = CopyFromArchive(*child.value(), child_archive, prefix + child.key() + ".");
    if (!error.empty()) return error;
  }
  for (const std::string& key : archive.keys()) {
    if (expected.count(key) == 0) return "'" + prefix + key + "' in the file is not in the network";
  }
  return "";
}

}  // namespace

Status LoadCandidateWeights(CandidateNet& net, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound(path + ": no such file");
  try {
    torch::serialize::InputArchive archive;
    try {
      archive.load_from(path);
    } catch (const std::exception& e) {
      const std::string what = e.what();
      return Status::Invalid(path + ": not a torch::save archive (" + what.substr(0, what.find('\n')) + ")");
    }
    const std::string mismatch = CopyFromArchive(*net, archive, "");
    if (!mismatch.empty()) return Status::Invalid(path + ": weights of another network: " + mismatch);
    return Status::Ok();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    return Status::Invalid(path + ": cannot load the weights: " + what.substr(0, what.find('\n')));
  }
}

}  // namespace unas::worker
