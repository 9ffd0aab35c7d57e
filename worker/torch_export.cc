#include "worker/torch_export.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <random>
#include <string>
#include <thread>

#include <torch/torch.h>

#include "data/audio/feature_extractor.h"
#include "quant/int8_executor.h"
#include "quant/quantize.h"
#include "tflite/metadata.h"
#include "tflite/writer.h"
#include "worker/dataset_tensors.h"
#include "worker/int8_export.h"

namespace unas::worker {
namespace {

std::vector<float> ToVector(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Images [N, C, H, W] -> one NHWC vector per image.
std::vector<std::vector<float>> NhwcImages(const torch::Tensor& x) {
  const torch::Tensor nhwc = x.permute({0, 2, 3, 1}).contiguous();
  std::vector<std::vector<float>> images(static_cast<size_t>(x.size(0)));
  const int64_t per = x.numel() / std::max<int64_t>(1, x.size(0));
  const float* data = nhwc.data_ptr<float>();
  for (size_t i = 0; i < images.size(); ++i) images[i].assign(data + i * per, data + (i + 1) * per);
  return images;
}

// A permutation of 0..n-1, identical on every standard library (as the trainer's).
std::vector<int64_t> Permutation(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  for (int64_t i = n; i > 1; --i) std::swap(p[static_cast<size_t>(i - 1)], p[rng() % static_cast<uint64_t>(i)]);
  return p;
}

// The class the int8 logits predict: arg-max, or for one logit a positive one.
int Predicted(int32_t output_zero_point, const int8_t* logits, int64_t count) {
  if (count == 1) return logits[0] > output_zero_point ? 1 : 0;
  return quant::ArgMax(logits, count);
}

// The int8 inputs of images [first, last) of a chunk, back to back, into
// `out`: float images (NHWC) through QuantizeInputs, or, for keyword data
// (`features` defined: [count, frames * features] int16), the front end's
// features through its integer quantiser, which is what unas_model_features
// does on the device (so the evaluated input is the device's bit for bit).
Status Int8Inputs(const ModelGraph& g, const float* images, const torch::Tensor& features,
                  const data::audio::InputQuantizer* quantizer, int64_t first, int64_t last, int64_t in_elements,
                  std::vector<int8_t>* out) {
  out->resize(static_cast<size_t>((last - first) * in_elements));
  if (!features.defined()) {
    quant::QuantizeInputs(g, images + first * in_elements, static_cast<int64_t>(out->size()), out->data());
    return Status::Ok();
  }
  const int16_t* data = features.data_ptr<int16_t>();
  for (int64_t i = first; i < last; ++i) {
    UNAS_ASSIGN_OR_RETURN(std::vector<int8_t> input,
                          data::audio::QuantizeFeatures(*quantizer, std::vector<int16_t>(data + i * in_elements,
                                                                                         data + (i + 1) * in_elements)));
    std::copy(input.begin(), input.end(), out->begin() + (i - first) * in_elements);
  }
  return Status::Ok();
}

// The error over (x, y) (keyword data: over `features`, x's unscaled
// source); with `predictions`, also each example's predicted class.
Result<double> Int8Error(const quant::Int8Executor& executor, const ModelGraph& g, const torch::Tensor& x,
                         const torch::Tensor& y, int threads, const torch::Tensor& features = {},
                         std::vector<int>* predictions = nullptr) {
  const int64_t n = x.size(0);
  if (predictions != nullptr) predictions->assign(static_cast<size_t>(n), -1);
  if (n == 0) return 1.0;
  const torch::Tensor labels = y.to(torch::kInt64).contiguous();
  const int64_t* label = labels.data_ptr<int64_t>();
  const int64_t in_elements = executor.input_elements(), out_elements = executor.output_elements();
  const auto zero_point = static_cast<int32_t>(g.tensors[g.outputs[0]].quant.zero_point[0]);
  int64_t correct = 0;
  std::optional<data::audio::InputQuantizer> quantizer;
  if (features.defined()) {
    if (features.size(0) != n || features.numel() != n * in_elements) {
      return Status::Invalid("int8: the data set's features are not the graph input's size");
    }
    const Quantization& q = g.tensors[g.inputs[0]].quant;
    UNAS_ASSIGN_OR_RETURN(quantizer, data::audio::MakeInputQuantizer(q.scale[0], q.zero_point[0]));
  }
  constexpr int64_t kChunk = 2048;  // converts to NHWC a chunk at a time
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t count = std::min(kChunk, n - start);
    // Images [count, C, H, W] -> NHWC, back to back (keyword data: its features instead).
    torch::Tensor nhwc, chunk_features;
    const float* images = nullptr;
    if (features.defined()) {
      chunk_features = features.narrow(0, start, count).contiguous();
    } else {
      nhwc = x.narrow(0, start, count).permute({0, 2, 3, 1}).contiguous().to(torch::kFloat32);
      images = nhwc.data_ptr<float>();
      if (nhwc.numel() != count * in_elements) {
        return Status::Invalid("int8: the data set's images are not the graph input's size");
      }
    }
    // Thread t quantises and runs a contiguous slice of the chunk as one
    // batch; RunBatch is const and thread-safe.
    const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, count)));
    std::vector<int64_t> hits(workers, 0);
    std::vector<Status> errors(workers);
    auto work = [&](int t) {
      const int64_t first = count * t / workers, last = count * (t + 1) / workers;
      std::vector<int8_t> batch;
      errors[t] = Int8Inputs(g, images, chunk_features, quantizer ? &*quantizer : nullptr, first, last, in_elements,
                             &batch);
      if (!errors[t].ok()) return;
      auto logits = executor.RunBatch(batch, static_cast<int>(last - first));
      if (!logits.ok()) {
        errors[t] = logits.status();
        return;
      }
      for (int64_t i = first; i < last; ++i) {
        const int predicted = Predicted(zero_point, logits->data() + (i - first) * out_elements, out_elements);
        if (predictions != nullptr) (*predictions)[static_cast<size_t>(start + i)] = predicted;
        hits[t] += predicted == label[start + i];
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < workers; ++t) pool.emplace_back(work, t);
    work(0);
    for (std::thread& th : pool) th.join();
    for (int t = 0; t < workers; ++t) {
      UNAS_RETURN_IF_ERROR(errors[t]);
      correct += hits[t];
    }
  }
  return 1.0 - static_cast<double>(correct) / static_cast<double>(n);
}

Status Reorder(const std::vector<int>& order, ModelGraph* g) {
  if (order.empty()) return Status::Ok();
  if (order.size() != g->ops.size()) return Status::Invalid("op_order: expected " + std::to_string(g->ops.size()) + " operators");
  std::vector<bool> used(order.size(), false);
  std::vector<GraphOp> ops;
  for (int i : order) {
    if (i < 0 || i >= static_cast<int>(order.size()) || used[i]) return Status::Invalid("op_order: not a permutation");
    used[i] = true;
    ops.push_back(g->ops[i]);
  }
  g->ops = std::move(ops);
  return Status::Ok();
}

// The data set's normalisation and classes with the quantised input's scale.
Result<data::InputContract> ContractOf(const DatasetInfo& info, const ModelGraph& g) {
  data::InputContract c;
  c.height = info.input.height;
  c.width = info.input.width;
  c.channels = info.input.channels;
  c.value_kind = info.value_kind;
  c.audio_frontend = info.audio_frontend;
  c.mean = info.channel_mean;
  c.std = info.channel_std;
  c.class_names = info.class_names;
  const Quantization& q = g.tensors[g.inputs[0]].quant;
  if (q.scale.size() != 1 || q.zero_point.size() != 1) return Status::Internal("int8: the input is not quantised per tensor");
  c.input_scale = q.scale[0];
  c.input_zero_point = static_cast<int32_t>(q.zero_point[0]);
  const int64_t outputs = g.tensors[g.outputs[0]].elements();
  // A single logit is a binary problem: its classes are still the data set's two.
  if (outputs != static_cast<int64_t>(c.class_names.size()) && !(outputs == 1 && c.class_names.size() == 2)) {
    return Status::Invalid("int8: the model has " + std::to_string(outputs) + " outputs for " +
                           std::to_string(c.class_names.size()) + " classes");
  }
  UNAS_RETURN_IF_ERROR(data::ValidateInputContract(c));
  return c;
}

}  // namespace

ReferenceWeights ExtractFoldedWeights(CandidateNetImpl& net) {
  torch::NoGradGuard no_grad;
  const std::vector<Op>& ops = net.ops();
  ReferenceWeights rw;
  rw.weights.resize(ops.size());
  rw.biases.resize(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (op.kind == OpKind::kConv2D || op.kind == OpKind::kDWConv2D) {
      torch::nn::Conv2d conv = net.conv_at(i);
      torch::Tensor w = conv->weight.detach().to(torch::kFloat64);  // [co][ci or 1][kh][kw]
      torch::Tensor b = conv->bias.detach().to(torch::kFloat64);
      if (torch::nn::BatchNorm2d bn = net.bn_at(i)) {
        const torch::Tensor factor =
            bn->weight.detach().to(torch::kFloat64) /
            torch::sqrt(bn->running_var.detach().to(torch::kFloat64) + bn->options.eps());
        w = w * factor.view({-1, 1, 1, 1});
        b = (b - bn->running_mean.detach().to(torch::kFloat64)) * factor + bn->bias.detach().to(torch::kFloat64);
      }
      // conv: [co][ci][ky][kx] -> [ky][kx][ci][co]; depthwise: [c][1][ky][kx] -> [ky][kx][c].
      rw.weights[i] = op.kind == OpKind::kConv2D ? ToVector(w.permute({2, 3, 1, 0})) : ToVector(w.squeeze(1).permute({1, 2, 0}));
      rw.biases[i] = ToVector(b);
    } else if (op.kind == OpKind::kDense) {
      torch::nn::Linear linear = net.linear_at(i);
      // [o][c*h*w] (NCHW flatten) -> [h*w*c][o].
      const torch::Tensor w = linear->weight.detach().view({op.out.c, op.in.c, op.in.h, op.in.w});
      rw.weights[i] = ToVector(w.permute({2, 3, 1, 0}));
      rw.biases[i] = ToVector(linear->bias);
    }
  }
  return rw;
}

Result<Int8Outcome> QuantizeTrained(const TrainedModel& model, const Dataset& dataset, const Int8Options& options) {
  const InputSpec& in = dataset.info().input;
  const Shape shape = model.network.input_shape();
  if (shape.h != in.height || shape.w != in.width || shape.c != in.channels) {
    return Status::Invalid("int8: the data set's images are not the network's input shape");
  }
  if (options.calibration_images < 1) return Status::Invalid("int8: calibration_images must be at least 1");
  if (options.threads < 1) return Status::Invalid("int8: threads must be at least 1");
  try {
    torch::NoGradGuard no_grad;
    const Dataset::Tensors& data = dataset.tensors();
    const int64_t train = data.train_x.size(0);
    std::vector<int64_t> order = Permutation(train, options.calibration_seed);
    order.resize(static_cast<size_t>(std::min<int64_t>(train, options.calibration_images)));
    const torch::Tensor index = torch::tensor(order, torch::kInt64);
    const std::vector<std::vector<float>> calibration = NhwcImages(data.train_x.index_select(0, index));

    Int8Outcome outcome;
    outcome.calibration_images = static_cast<int>(calibration.size());
    UNAS_ASSIGN_OR_RETURN(outcome.graph, quant::QuantizeWithImages(model.network, model.folded_weights, calibration));
    UNAS_RETURN_IF_ERROR(Reorder(options.op_order, &outcome.graph));
    UNAS_ASSIGN_OR_RETURN(quant::Int8Executor executor, quant::Int8Executor::Create(outcome.graph, options.kernels));
    UNAS_ASSIGN_OR_RETURN(outcome.int8_val_error,
                          Int8Error(executor, outcome.graph, data.validation_x, data.validation_y, options.threads,
                                    data.validation_features));
    UNAS_ASSIGN_OR_RETURN(outcome.int8_test_error,
                          Int8Error(executor, outcome.graph, data.test_x, data.test_y, options.threads,
                                    data.test_features, &outcome.int8_test_predictions));
    const int classes = dataset.info().input.num_classes;
    outcome.int8_test_confusion.assign(static_cast<size_t>(classes), std::vector<int64_t>(static_cast<size_t>(classes), 0));
    const torch::Tensor labels = data.test_y.to(torch::kInt64).contiguous();
    for (size_t i = 0; i < outcome.int8_test_predictions.size(); ++i) {
      const int64_t truth = labels.data_ptr<int64_t>()[i];
      const int predicted = outcome.int8_test_predictions[i];
      if (truth >= 0 && truth < classes && predicted >= 0 && predicted < classes) {
        ++outcome.int8_test_confusion[static_cast<size_t>(truth)][static_cast<size_t>(predicted)];
      }
    }
    UNAS_ASSIGN_OR_RETURN(outcome.contract, ContractOf(dataset.info(), outcome.graph));
    WriteOptions write;
    UNAS_ASSIGN_OR_RETURN(write.metadata, InputContractMetadata(outcome.contract));
    UNAS_ASSIGN_OR_RETURN(outcome.tflite, WriteTflite(outcome.graph, write));
    return outcome;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("LibTorch: ") + e.what());
  }
}

Result<double> CheckWeightExtraction(const Network& network, uint64_t seed, int images) {
  try {
    torch::NoGradGuard no_grad;
    torch::manual_seed(seed);
    CandidateNet net(network, 0.0);
    for (size_t i = 0; i < network.ops.size(); ++i) {
      if (auto bn = net->bn_at(i)) {
        bn->running_mean.uniform_(-0.5, 0.5);
        bn->running_var.uniform_(0.5, 1.5);
        bn->weight.uniform_(0.5, 1.5);
        bn->bias.uniform_(-0.2, 0.2);
      }
    }
    net->eval();
    const ReferenceWeights rw = ExtractFoldedWeights(*net);
    const Shape in = network.input_shape();
    const torch::Tensor x = torch::randn({images, in.c, in.h, in.w});
    const torch::Tensor logits = net->forward(x);
    const std::vector<std::vector<float>> nhwc = NhwcImages(x);
    double worst = 0;
    for (int k = 0; k < images; ++k) {
      UNAS_ASSIGN_OR_RETURN(ExecutionResult ref, RunWhole(network, rw, nhwc[static_cast<size_t>(k)]));
      const std::vector<float> torch_out = ToVector(logits[k]);
      if (torch_out.size() != ref.output.size()) return Status::Internal("extraction: output sizes differ");
      for (size_t j = 0; j < ref.output.size(); ++j) {
        worst = std::max(worst, static_cast<double>(std::fabs(torch_out[j] - ref.output[j])));
      }
    }
    return worst;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("LibTorch: ") + e.what());
  }
}

}  // namespace unas::worker
