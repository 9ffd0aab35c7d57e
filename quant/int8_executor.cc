#include "quant/int8_executor.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "quant/kernels/arithmetic.h"
#include "quant/kernels/kernel.h"
#include "quant/kernels/kernel_util.h"

namespace unas::quant {

using kernels::EvalContext;
using kernels::OpKernel;
using kernels::OpParams;

struct Int8Executor::Prepared {
  std::vector<OpParams> ops;
  std::vector<const OpKernel*> kernels;  // ops[i]'s
  std::vector<int64_t> tensor_elements;  // per image; 0 for constants
  int input = -1, output = -1;
  Int8Kernels choice = Int8Kernels::kOptimized;
  bool avx2 = false;
};

namespace {

// Images per pass through the network in RunBatch: enough for the fully
// connected layers to reuse their weights, few enough that a pass's
// activations stay in the L2 cache for the networks unas searches.
constexpr int kImagesPerPass = 16;

// Runs every operator on `images` images; values[t] holds tensor t for all
// of them (resized here; buffers are reused across calls).
void Execute(const Int8Executor::Prepared& pr, const int8_t* input, int images,
             std::vector<std::vector<int8_t>>* values, kernels::Scratch* scratch) {
  std::vector<int8_t>& in = (*values)[pr.input];
  in.resize(static_cast<size_t>(images * pr.tensor_elements[pr.input]));
  std::memcpy(in.data(), input, in.size());
  std::vector<const int8_t*> inputs;
  for (size_t i = 0; i < pr.ops.size(); ++i) {
    const OpParams& p = pr.ops[i];
    inputs.clear();
    for (int t : p.inputs) inputs.push_back((*values)[t].data());
    std::vector<int8_t>& out = (*values)[p.output];
    out.resize(static_cast<size_t>(images * pr.tensor_elements[p.output]));
    EvalContext context;
    context.inputs = inputs.data();
    context.output = out.data();
    context.images = images;
    context.avx2 = pr.avx2;
    context.scratch = scratch;
    const OpKernel& k = *pr.kernels[i];
    (pr.choice == Int8Kernels::kReference ? k.reference : k.optimized)(p, context);
  }
}

}  // namespace

Int8Executor::Int8Executor() = default;
Int8Executor::Int8Executor(Int8Executor&&) noexcept = default;
Int8Executor& Int8Executor::operator=(Int8Executor&&) noexcept = default;
Int8Executor::~Int8Executor() = default;

Result<Int8Executor> Int8Executor::Create(const ModelGraph& graph, Int8Kernels kernels) {
  if (graph.inputs.size() != 1 || graph.outputs.size() != 1) {
    return Status::Invalid("the int8 executor needs exactly one graph input and one graph output");
  }
  auto prepared = std::make_unique<Prepared>();
  prepared->input = graph.inputs[0];
  prepared->output = graph.outputs[0];
  prepared->choice = kernels;
  prepared->avx2 = kernels == Int8Kernels::kOptimized && kernels::CpuHasAvx2();
  const int count = static_cast<int>(graph.tensors.size());
  for (int id : {prepared->input, prepared->output}) {
    if (id < 0 || id >= count) return Status::Invalid("graph input or output id out of range");
    if (graph.tensors[id].type != TensorType::kInt8) return Status::Invalid("graph input and output must be int8");
  }
  std::vector<bool> written(count, false);
  written[prepared->input] = true;
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const OpKernel* kernel = kernels::FindKernel(graph.ops[i].builtin_code);
    if (kernel == nullptr) return kernels::OpError(i, graph.ops[i], "operator not supported by the int8 executor");
    UNAS_ASSIGN_OR_RETURN(OpParams p, kernel->prepare(graph, i));
    for (int t : p.inputs) {
      if (t == p.output) return kernels::OpError(i, graph.ops[i], "writes tensor " + std::to_string(t) + ", which it reads");
      if (!written[t]) {
        return kernels::OpError(i, graph.ops[i], "reads tensor " + std::to_string(t) + " before it is written");
      }
    }
    written[p.output] = true;
    prepared->ops.push_back(std::move(p));
    prepared->kernels.push_back(kernel);
  }
  if (!written[prepared->output]) return Status::Invalid("no operator writes the graph output");
  for (const GraphTensor& t : graph.tensors) prepared->tensor_elements.push_back(t.is_constant ? 0 : t.elements());
  Int8Executor e;
  e.prepared_ = std::move(prepared);
  return e;
}

int64_t Int8Executor::input_elements() const { return prepared_->tensor_elements[prepared_->input]; }
int64_t Int8Executor::output_elements() const { return prepared_->tensor_elements[prepared_->output]; }
Int8Kernels Int8Executor::kernels() const { return prepared_->choice; }
bool Int8Executor::uses_avx2() const { return prepared_->avx2; }

Result<std::vector<std::vector<int8_t>>> Int8Executor::RunAll(const std::vector<int8_t>& input) const {
  const Prepared& pr = *prepared_;
  if (static_cast<int64_t>(input.size()) != input_elements()) {
    return Status::Invalid("input has " + std::to_string(input.size()) + " values, the graph input needs " +
                           std::to_string(input_elements()));
  }
  std::vector<std::vector<int8_t>> values(pr.tensor_elements.size());
  kernels::Scratch scratch;
  Execute(pr, input.data(), 1, &values, &scratch);
  return values;
}

Result<std::vector<int8_t>> Int8Executor::Run(const std::vector<int8_t>& input) const {
  UNAS_ASSIGN_OR_RETURN(std::vector<std::vector<int8_t>> values, RunAll(input));
  return std::move(values[prepared_->output]);
}

Result<std::vector<int8_t>> Int8Executor::RunBatch(const std::vector<int8_t>& inputs, int images) const {
  const Prepared& pr = *prepared_;
  if (images < 0 || static_cast<int64_t>(inputs.size()) != images * input_elements()) {
    return Status::Invalid("RunBatch: " + std::to_string(inputs.size()) + " input values are not " +
                           std::to_string(images) + " images of " + std::to_string(input_elements()));
  }
  const int64_t out_elements = output_elements();
  std::vector<int8_t> outputs(static_cast<size_t>(images * out_elements));
  std::vector<std::vector<int8_t>> values(pr.tensor_elements.size());
  kernels::Scratch scratch;
  for (int first = 0; first < images; first += kImagesPerPass) {
    const int n = std::min(kImagesPerPass, images - first);
    Execute(pr, inputs.data() + first * input_elements(), n, &values, &scratch);
    std::memcpy(outputs.data() + first * out_elements, values[pr.output].data(), static_cast<size_t>(n * out_elements));
  }
  return outputs;
}

Result<std::vector<int8_t>> RunInt8(const ModelGraph& graph, const std::vector<int8_t>& input) {
  UNAS_ASSIGN_OR_RETURN(Int8Executor executor, Int8Executor::Create(graph));
  return executor.Run(input);
}

}  // namespace unas::quant
