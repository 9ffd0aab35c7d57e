// TFLM's per-kernel rules: the persistent allocations of every operator
// and the scratch buffers kernels request (tflm_arena.h documents each rule
// and its origin in tflite-micro 90b983c2 / CMSIS-NN 4ab83cc3).
#include <algorithm>
#include <string>

#include "costmodel/tflm_arena.h"

namespace unas {
namespace {

constexpr int kSvdf = 27;
constexpr int kMaximum = 55, kMinimum = 57, kTranspose = 39, kTransposeConv = 67, kBatchMatmul = 126,
              kUnidirectionalSequenceLstm = 44;

// Per builtin code: its builtin options struct (size, alignment; 0 = none)
// and its kernel's OpData from Init, reference and CMSIS-NN (0 = no Init
// allocation). Sizes of a 32-bit build.
struct KernelRule {
  int code;
  int64_t options_bytes, options_alignment;
  int64_t reference_op_data, cmsis_nn_op_data;
};
constexpr KernelRule kRules[] = {
    {builtin::kConv2D, 28, 4, 56, 60},           // TfLiteConvParams; OpDataConv / cmsis_nn/conv.cc OpData
    {builtin::kDepthwiseConv2D, 28, 4, 56, 60},  // TfLiteDepthwiseConvParams; OpDataConv / cmsis OpData
    {builtin::kFullyConnected, 5, 1, 48, 72},    // TfLiteFullyConnectedParams; OpDataFullyConnected / cmsis OpData
    {builtin::kAveragePool2D, 40, 4, 32, 36},    // TfLitePoolParams; OpDataPooling / cmsis OpData
    {builtin::kMaxPool2D, 40, 4, 32, 36},
    {builtin::kAdd, 2, 1, 60, 60},               // TfLiteAddParams; OpDataAdd / cmsis OpData
    {builtin::kMul, 1, 1, 36, 36},               // TfLiteMulParams; OpDataMul (cmsis mul uses MulInit)
    {builtin::kPad, 0, 0, 56, 56},               // pad_common.cc OpData (cmsis pad uses PadInit)
    {builtin::kPadV2, 0, 0, 56, 56},
    {builtin::kConcatenation, 8, 4, 24, 24},     // TfLiteConcatenationParams; concatenation.cc OpData
    {builtin::kStridedSlice, 24, 4, 84, 84},     // TfLiteStridedSliceParams; StridedSliceParams
    {builtin::kSoftmax, 4, 4, 56, 64},           // TfLiteSoftmaxParams; SoftmaxParams / CMSISNNSoftmaxParams
    {builtin::kMean, 1, 1, 44, 44},              // TfLiteReducerParams; OpDataReduce
    {kSvdf, 8, 4, 36, 36},                       // TfLiteSVDFParams; OpDataSvdf (CMSIS-NN: not modelled)
    {builtin::kQuantize, 0, 0, 32, 32},          // OpDataQuantizeReference
    {builtin::kDequantize, 0, 0, 32, 32},        // DequantizeOpData
    {builtin::kLogistic, 0, 0, 16, 16},          // OpDataLogistic
    {builtin::kTanh, 0, 0, 16, 16},              // tanh.cc OpData
    {builtin::kRelu, 0, 0, 28, 28},              // ReluOpData
    {builtin::kRelu6, 0, 0, 8, 8},               // Relu6OpData
    {builtin::kReshape, 36, 4, 0, 0},            // TfLiteReshapeParams; no Init
};

const KernelRule* RuleFor(int code) {
  for (const KernelRule& r : kRules) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

// CMSIS-NN twins whose buffers this model does not describe.
bool UnmodelledCmsisTwin(int code) {
  return code == kSvdf || code == kMaximum || code == kMinimum || code == kTranspose || code == kTransposeConv ||
         code == kBatchMatmul || code == kUnidirectionalSequenceLstm;
}

bool Valid(const ModelGraph& g, int t) { return t >= 0 && t < static_cast<int>(g.tensors.size()); }

const GraphTensor* Input(const ModelGraph& g, const GraphOp& op, size_t k) {
  return k < op.inputs.size() && Valid(g, op.inputs[k]) ? &g.tensors[op.inputs[k]] : nullptr;
}
const GraphTensor* Output(const ModelGraph& g, const GraphOp& op) {
  return !op.outputs.empty() && Valid(g, op.outputs[0]) ? &g.tensors[op.outputs[0]] : nullptr;
}

int Dim(const GraphTensor* t, size_t d) { return t && d < t->shape.size() ? std::max(0, t->shape[d]) : 0; }

int64_t Round4(int64_t n) { return (n + 3) / 4 * 4; }

// TFLM's padding (kernels/padding.h ComputePaddingHeightWidth): SAME pads
// max((out - 1) * stride + effective_filter - in, 0) / 2 before; VALID 0.
int Padding1D(Padding padding, int stride, int dilation, int in, int filter, int out) {
  if (padding != Padding::kSame) return 0;
  const int effective = (filter - 1) * dilation + 1;
  return std::max((out - 1) * stride + effective - in, 0) / 2;
}

// The per-channel multiplier and shift arrays' length of a CONV_2D,
// DEPTHWISE_CONV_2D or per-channel FULLY_CONNECTED (0 when none).
int64_t PerChannelCount(const ModelGraph& g, const GraphOp& op) {
  const GraphTensor* filter = Input(g, op, 1);
  if (!filter) return 0;
  if (op.builtin_code == builtin::kConv2D) return Dim(filter, 0);            // kConvQuantizedDimension
  if (op.builtin_code == builtin::kDepthwiseConv2D) return Dim(filter, 3);   // kDepthwiseConvQuantizedDimension
  if (op.builtin_code == builtin::kFullyConnected && filter->quant.scale.size() > 1) {
    return static_cast<int64_t>(filter->quant.scale.size());
  }
  return 0;
}

void ReferenceScratch(const ModelGraph& g, int index, std::vector<TflmScratch>* out) {
  const GraphOp& op = g.ops[index];
  const GraphTensor* in = Input(g, op, 0);
  const GraphTensor* output = Output(g, op);
  if (!in || !output) return;
  if (op.builtin_code == kSvdf) {
    const GraphTensor* weights_feature = Input(g, op, 1);
    const int64_t batch = Dim(in, 0), filters = Dim(weights_feature, 0);
    out->push_back({index, 4 * batch * filters});
    if (in->type == TensorType::kInt8) out->push_back({index, 4 * output->elements()});
  } else if (op.builtin_code == builtin::kMean) {
    if (in->type == TensorType::kInt8 || in->type == TensorType::kInt16) {
      out->push_back({index, 4 * output->elements()});
    }
    const GraphTensor* axis = Input(g, op, 1);
    out->push_back({index, 4 * static_cast<int64_t>(in->shape.size())});
    out->push_back({index, 4 * (axis ? axis->elements() : 0)});
  }
}

void CmsisNnScratch(const ModelGraph& g, int index, std::vector<TflmScratch>* out) {
  const GraphOp& op = g.ops[index];
  const GraphTensor* in = Input(g, op, 0);
  const GraphTensor* output = Output(g, op);
  if (in && output && in->type == TensorType::kInt16 && op.builtin_code == builtin::kConv2D) {
    // arm_convolve_wrapper_s16_get_buffer_size (non-MVE): 2 * in_c * kh * kw int16s.
    const GraphTensor* filter = Input(g, op, 1);
    const int64_t bytes = int64_t{4} * Dim(in, 3) * Dim(filter, 1) * Dim(filter, 2);
    if (bytes > 0) out->push_back({index, bytes});
    return;
  }
  if (!in || !output || in->type != TensorType::kInt8) {
    ReferenceScratch(g, index, out);
    return;
  }
  switch (op.builtin_code) {
    case builtin::kConv2D: {
      const GraphTensor* filter = Input(g, op, 1);
      const int kh = Dim(filter, 1), kw = Dim(filter, 2), filter_c = Dim(filter, 3), in_c = Dim(in, 3);
      const int pad_h = Padding1D(op.padding, op.stride_h, op.dilation_h, Dim(in, 1), kh, Dim(output, 1));
      const int pad_w = Padding1D(op.padding, op.stride_w, op.dilation_w, Dim(in, 2), kw, Dim(output, 2));
      const bool one_by_one = pad_h == 0 && pad_w == 0 && kh == 1 && kw == 1 && op.dilation_h == 1 &&
                              op.dilation_w == 1 && in_c == filter_c;
      const int64_t bytes = one_by_one ? 0 : 4 * Round4(int64_t{kh} * kw * in_c);
      if (bytes > 0) out->push_back({index, bytes});
      return;
    }
    case builtin::kDepthwiseConv2D: {
      const GraphTensor* filter = Input(g, op, 1);
      const int kh = Dim(filter, 1), kw = Dim(filter, 2), in_c = Dim(in, 3), out_c = Dim(output, 3);
      const int pad_h = Padding1D(op.padding, op.stride_h, op.dilation_h, Dim(in, 1), kh, Dim(output, 1));
      const int pad_w = Padding1D(op.padding, op.stride_w, op.dilation_w, Dim(in, 2), kw, Dim(output, 2));
      if (in_c != out_c || Dim(in, 0) != 1 || op.dilation_h != 1 || op.dilation_w != 1) return;
      if (kh == 3 && kw == 3 && pad_h <= 1 && pad_w <= 1) return;  // arm_depthwise_conv_3x3_s8
      out->push_back({index, int64_t{2} * in_c * kh * kw});
      return;
    }
    case builtin::kAveragePool2D:
      out->push_back({index, 4 * int64_t{Dim(output, 3)}});
      return;
    case builtin::kFullyConnected: {
      const GraphTensor* filter = Input(g, op, 1);
      const int64_t depth = filter && !filter->shape.empty() ? std::max(0, filter->shape.back()) : 0;
      const bool per_channel = filter && filter->quant.scale.size() > 1;
      if (output->shape.size() > 2 && depth % 4 == 0 && !per_channel) {
        out->push_back({index, 8 * int64_t{std::max(0, output->shape.back())}});
      }
      return;
    }
    default:
      ReferenceScratch(g, index, out);
  }
}

// One graph input or output TfLiteTensor's allocations, to `sink`.
template <typename Sink>
void GraphIoTensor(const GraphTensor& t, const char* kind, size_t i, Sink& sink) {
  auto what = [kind, i](const char* part) { return std::string(kind) + " " + std::to_string(i) + " " + part; };
  sink([&] { return what("TfLiteTensor"); }, 32, 4);
  if (!t.quant.scale.empty() && !t.quant.zero_point.empty()) {
    sink([&] { return what("TfLiteAffineQuantization"); }, 12, 4);
    sink([&] { return what("zero points"); }, 4 + 4 * static_cast<int64_t>(t.quant.scale.size()), 4);
  }
}

// The persistent allocations in TFLM's order, each to `sink(what, bytes,
// alignment)`, where `what()` builds its name: TflmPersistentAllocations
// lists them, TflmPersistentBytes (a costing's hot path, several orders per
// candidate) only adds them up and never builds a name.
template <typename Sink>
void VisitPersistentAllocations(const ModelGraph& g, const std::vector<int>& order, TflmKernels kernels,
                                int scratch_buffers, std::vector<std::string>* notes, Sink&& sink) {
  auto note = [&](const std::string& n) {
    if (notes && std::find(notes->begin(), notes->end(), n) == notes->end()) notes->push_back(n);
  };
  auto named = [](const char* what) { return [what] { return std::string(what); }; };
  auto counted = [](const char* what, size_t n) { return [what, n] { return std::string(what) + " x " + std::to_string(n); }; };
  sink(named("SingleArenaBufferAllocator"), 36, 4);
  sink(named("GreedyMemoryPlanner"), 44, 4);
  sink(named("MicroAllocator"), 36, 4);
  sink(named("MicroBuiltinDataAllocator"), 8, 4);
  sink(named("SubgraphAllocations"), 8 * std::max(1, g.subgraphs), 4);
  sink(counted("TfLiteEvalTensor", g.tensors.size()), 12 * static_cast<int64_t>(g.tensors.size()), 4);
  sink(counted("NodeAndRegistration", g.ops.size()), 32 * static_cast<int64_t>(g.ops.size()), 4);
  auto of_op = [&](int x, const char* part) {
    return [&g, x, part] { return "op " + std::to_string(x) + " " + BuiltinName(g.ops[x].builtin_code) + " " + part; };
  };
  for (int x : order) {
    const KernelRule* r = RuleFor(g.ops[x].builtin_code);
    if (r && r->options_bytes > 0) sink(of_op(x, "options"), r->options_bytes, r->options_alignment);
  }
  for (int x : order) {
    const int code = g.ops[x].builtin_code;
    const KernelRule* r = RuleFor(code);
    if (!r) {
      if (notes) note("operator " + BuiltinName(code) + ": its kernel's persistent data are not modelled");
      continue;
    }
    if (notes && kernels == TflmKernels::kCmsisNn && UnmodelledCmsisTwin(code)) {
      note("operator " + BuiltinName(code) + ": CMSIS-NN kernel's buffers are not modelled (reference rules used)");
    }
    const int64_t op_data = kernels == TflmKernels::kCmsisNn ? r->cmsis_nn_op_data : r->reference_op_data;
    if (op_data > 0) sink(of_op(x, "OpData"), op_data, kTflmBufferAlignment);
  }
  for (int x : order) {
    const int64_t channels = PerChannelCount(g, g.ops[x]);
    if (channels > 0) {
      sink(of_op(x, "per-channel multipliers"), 4 * channels, kTflmBufferAlignment);
      sink(of_op(x, "per-channel shifts"), 4 * channels, kTflmBufferAlignment);
    }
  }
  if (scratch_buffers > 0) {
    sink(counted("ScratchBufferHandle", static_cast<size_t>(scratch_buffers)), 4 * int64_t{scratch_buffers}, 4);
  }
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (g.tensors[t].is_variable) {
      sink([t] { return "variable tensor " + std::to_string(t); }, g.tensors[t].bytes(), kTflmBufferAlignment);
    }
  }
  sink(counted("input TfLiteTensor*", g.inputs.size()), 4 * static_cast<int64_t>(g.inputs.size()),
       kTflmBufferAlignment);
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    if (Valid(g, g.inputs[i])) GraphIoTensor(g.tensors[g.inputs[i]], "input", i, sink);
  }
  sink(counted("output TfLiteTensor*", g.outputs.size()), 4 * static_cast<int64_t>(g.outputs.size()),
       kTflmBufferAlignment);
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    if (Valid(g, g.outputs[i])) GraphIoTensor(g.tensors[g.outputs[i]], "output", i, sink);
  }
}

// The tail after one more allocation (TflmTailBytes's step).
int64_t TailAfter(int64_t used, int64_t bytes, int64_t alignment) {
  const int64_t align = std::max<int64_t>(1, alignment);
  return (used + bytes + align - 1) / align * align;
}

}  // namespace

const char* TflmKernelsName(TflmKernels kernels) {
  return kernels == TflmKernels::kCmsisNn ? "cmsis_nn" : "reference";
}

std::vector<TflmScratch> TflmScratchRequests(const ModelGraph& graph, TflmKernels kernels) {
  std::vector<TflmScratch> out;
  for (int i = 0; i < static_cast<int>(graph.ops.size()); ++i) {
    if (kernels == TflmKernels::kCmsisNn) {
      CmsisNnScratch(graph, i, &out);
    } else {
      ReferenceScratch(graph, i, &out);
    }
  }
  return out;
}

std::vector<TflmAllocation> TflmPersistentAllocations(const ModelGraph& g, const std::vector<int>& order,
                                                      TflmKernels kernels, int scratch_buffers,
                                                      std::vector<std::string>* notes) {
  std::vector<TflmAllocation> out;
  VisitPersistentAllocations(g, order, kernels, scratch_buffers, notes, [&](auto what, int64_t bytes, int64_t align) {
    out.push_back({what(), bytes, align});
  });
  return out;
}

int64_t TflmPersistentBytes(const ModelGraph& g, const std::vector<int>& order, TflmKernels kernels,
                            int scratch_buffers) {
  int64_t used = 0;
  VisitPersistentAllocations(g, order, kernels, scratch_buffers, nullptr,
                             [&](auto, int64_t bytes, int64_t align) { used = TailAfter(used, bytes, align); });
  return used;
}

int64_t TflmTailBytes(const std::vector<TflmAllocation>& allocations) {
  int64_t used = 0;
  for (const TflmAllocation& a : allocations) used = TailAfter(used, a.bytes, a.alignment);
  return used;
}

}  // namespace unas
