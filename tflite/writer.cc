#include "tflite/writer.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "tflite/tflite_subset_generated.h"

namespace unas {
namespace {

namespace fb = ::unas::tflite_fb;

Status Bad(const std::string& message) { return Status::Invalid("tflite writer: " + message); }

std::string TensorWhere(int index, const GraphTensor& t) {
  return "tensor " + std::to_string(index) + (t.name.empty() ? "" : " ('" + t.name + "')");
}

Status CheckTensor(int index, const GraphTensor& t, const WriteOptions& options) {
  const std::string where = TensorWhere(index, t);
  if (t.is_constant) {
    if (t.data.empty() && !options.zero_fill_empty_constants) {
      return Bad(where + ": a constant without data (set zero_fill_empty_constants for analysis-only files)");
    }
    if (!t.data.empty() && t.type != TensorType::kString &&
        static_cast<int64_t>(t.data.size()) != t.bytes()) {
      return Bad(where + ": its data are " + std::to_string(t.data.size()) + " bytes, its shape and type (" +
                 TensorTypeName(t.type) + ") need " + std::to_string(t.bytes()));
    }
  }
  const Quantization& q = t.quant;
  if (!q.zero_point.empty() && q.zero_point.size() != q.scale.size()) {
    return Bad(where + ": " + std::to_string(q.scale.size()) + " scales but " +
               std::to_string(q.zero_point.size()) + " zero points");
  }
  if (q.per_channel()) {
    if (q.axis < 0 || q.axis >= static_cast<int>(t.shape.size())) {
      return Bad(where + ": quantisation axis " + std::to_string(q.axis) + " is outside its rank " +
                 std::to_string(t.shape.size()));
    }
    if (t.shape[q.axis] >= 0 && t.shape[q.axis] != static_cast<int>(q.scale.size())) {
      return Bad(where + ": " + std::to_string(q.scale.size()) + " scales along axis " + std::to_string(q.axis) +
                 " of size " + std::to_string(t.shape[q.axis]));
    }
  }
  return Status::Ok();
}

Status CheckIds(const std::vector<int>& ids, int tensors, bool allow_omitted, const std::string& where) {
  for (const int id : ids) {
    if ((id == -1 && allow_omitted) || (id >= 0 && id < tensors)) continue;
    return Bad(where + ": tensor " + std::to_string(id) + " out of range (the graph has " +
               std::to_string(tensors) + " tensors)");
  }
  return Status::Ok();
}

fb::ActivationFunctionType Act(Activation a) { return static_cast<fb::ActivationFunctionType>(a); }
fb::Padding Pad(Padding p) { return static_cast<fb::Padding>(p); }

// The options table of `op` and its union type; NONE for operators the graph
// carries no options for.
std::pair<fb::BuiltinOptions, flatbuffers::Offset<void>> Options(flatbuffers::FlatBufferBuilder& fbb,
                                                                  const ModelGraph& graph, const GraphOp& op) {
  using fb::BuiltinOptions;
  switch (op.builtin_code) {
    case builtin::kConv2D:
      return {BuiltinOptions::Conv2DOptions,
              fb::CreateConv2DOptions(fbb, Pad(op.padding), op.stride_w, op.stride_h, Act(op.activation),
                                      op.dilation_w, op.dilation_h)
                  .Union()};
    case builtin::kDepthwiseConv2D:
      return {BuiltinOptions::DepthwiseConv2DOptions,
              fb::CreateDepthwiseConv2DOptions(fbb, Pad(op.padding), op.stride_w, op.stride_h, op.depth_multiplier,
                                               Act(op.activation), op.dilation_w, op.dilation_h)
                  .Union()};
    case builtin::kAveragePool2D:
    case builtin::kMaxPool2D:
      return {BuiltinOptions::Pool2DOptions,
              fb::CreatePool2DOptions(fbb, Pad(op.padding), op.stride_w, op.stride_h, op.filter_w, op.filter_h,
                                      Act(op.activation))
                  .Union()};
    case builtin::kFullyConnected:
      return {BuiltinOptions::FullyConnectedOptions,
              fb::CreateFullyConnectedOptions(fbb, Act(op.activation), fb::FullyConnectedOptionsWeightsFormat::DEFAULT,
                                              op.keep_num_dims)
                  .Union()};
    case builtin::kAdd:
      return {BuiltinOptions::AddOptions, fb::CreateAddOptions(fbb, Act(op.activation)).Union()};
    case builtin::kMul:
      return {BuiltinOptions::MulOptions, fb::CreateMulOptions(fbb, Act(op.activation)).Union()};
    case builtin::kConcatenation:
      return {BuiltinOptions::ConcatenationOptions,
              fb::CreateConcatenationOptions(fbb, op.axis, Act(op.activation)).Union()};
    case builtin::kReshape: {
      std::vector<int32_t> shape;
      if (!op.outputs.empty()) shape.assign(graph.tensors[op.outputs[0]].shape.begin(),
                                            graph.tensors[op.outputs[0]].shape.end());
      return {BuiltinOptions::ReshapeOptions, fb::CreateReshapeOptionsDirect(fbb, &shape).Union()};
    }
    case builtin::kSoftmax:
      return {BuiltinOptions::SoftmaxOptions, fb::CreateSoftmaxOptions(fbb, 1.0f).Union()};
    case builtin::kPad:
      return {BuiltinOptions::PadOptions, fb::CreatePadOptions(fbb).Union()};
    case builtin::kPadV2:
      return {BuiltinOptions::PadV2Options, fb::CreatePadV2Options(fbb).Union()};
    case builtin::kStridedSlice:
      return {BuiltinOptions::StridedSliceOptions, fb::CreateStridedSliceOptions(fbb).Union()};
    default:
      return {BuiltinOptions::NONE, 0};
  }
}

}  // namespace

Result<std::vector<uint8_t>> WriteTflite(const ModelGraph& graph, const WriteOptions& options) {
  const int tensor_count = static_cast<int>(graph.tensors.size());
  for (int i = 0; i < tensor_count; ++i) UNAS_RETURN_IF_ERROR(CheckTensor(i, graph.tensors[i], options));
  UNAS_RETURN_IF_ERROR(CheckIds(graph.inputs, tensor_count, false, "graph input"));
  UNAS_RETURN_IF_ERROR(CheckIds(graph.outputs, tensor_count, false, "graph output"));

  // Operator codes in order of first use.
  using CodeKey = std::tuple<int, std::string, int>;
  std::map<CodeKey, uint32_t> code_index;
  std::vector<CodeKey> codes;
  std::vector<uint32_t> op_code(graph.ops.size());
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const GraphOp& op = graph.ops[i];
    const std::string where = "operator " + std::to_string(i);
    if (op.builtin_code < 0) return Bad(where + ": builtin code " + std::to_string(op.builtin_code) + " is negative");
    if (op.builtin_code == builtin::kCustom && op.custom_code.empty()) {
      return Bad(where + ": a custom operator needs its custom_code");
    }
    UNAS_RETURN_IF_ERROR(CheckIds(op.inputs, tensor_count, true, where + " input"));
    UNAS_RETURN_IF_ERROR(CheckIds(op.outputs, tensor_count, false, where + " output"));
    const CodeKey key{op.builtin_code, op.custom_code, op.version};
    auto [it, added] = code_index.emplace(key, static_cast<uint32_t>(codes.size()));
    if (added) codes.push_back(key);
    op_code[i] = it->second;
  }

  flatbuffers::FlatBufferBuilder fbb(16384);
  // Buffers: 0 the empty sentinel, then one per constant.
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
  buffers.push_back(fb::CreateBuffer(fbb));
  std::vector<uint32_t> tensor_buffer(graph.tensors.size(), 0);
  for (int i = 0; i < tensor_count; ++i) {
    const GraphTensor& t = graph.tensors[i];
    if (!t.is_constant) continue;
    const std::vector<uint8_t> zeros = t.data.empty() ? std::vector<uint8_t>(t.bytes(), 0) : std::vector<uint8_t>();
    const std::vector<uint8_t>& data = t.data.empty() ? zeros : t.data;
    tensor_buffer[i] = static_cast<uint32_t>(buffers.size());
    buffers.push_back(fb::CreateBufferDirect(fbb, &data));
  }

  std::vector<flatbuffers::Offset<fb::Metadata>> metadata;
  for (const TfliteMetadataEntry& entry : options.metadata) {
    if (entry.name.empty()) return Bad("a metadata entry without a name");
    const auto name = fbb.CreateString(entry.name);
    metadata.push_back(fb::CreateMetadata(fbb, name, static_cast<uint32_t>(buffers.size())));
    buffers.push_back(fb::CreateBufferDirect(fbb, &entry.data));
  }

  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (int i = 0; i < tensor_count; ++i) {
    const GraphTensor& t = graph.tensors[i];
    flatbuffers::Offset<fb::QuantizationParameters> quant = 0;
    if (!t.quant.empty()) {
      std::vector<int64_t> zero_points = t.quant.zero_point;
      if (zero_points.empty()) zero_points.assign(t.quant.scale.size(), 0);
      quant = fb::CreateQuantizationParametersDirect(fbb, nullptr, nullptr, &t.quant.scale, &zero_points,
                                                     fb::QuantizationDetails::NONE, 0, t.quant.axis);
    }
    const std::vector<int32_t> shape(t.shape.begin(), t.shape.end());
    const auto shape_offset = fbb.CreateVector(shape);
    // Strings by length, not c_str(): a name may hold a zero byte.
    const auto name = t.name.empty() ? flatbuffers::Offset<flatbuffers::String>() : fbb.CreateString(t.name);
    tensors.push_back(fb::CreateTensor(fbb, shape_offset, static_cast<fb::TensorType>(t.type), tensor_buffer[i],
                                       name, quant, t.is_variable));
  }

  std::vector<flatbuffers::Offset<fb::Operator>> operators;
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const GraphOp& op = graph.ops[i];
    const auto [type, opts] = Options(fbb, graph, op);
    const std::vector<int32_t> inputs(op.inputs.begin(), op.inputs.end());
    const std::vector<int32_t> outputs(op.outputs.begin(), op.outputs.end());
    operators.push_back(fb::CreateOperatorDirect(fbb, op_code[i], &inputs, &outputs, type, opts));
  }

  std::vector<flatbuffers::Offset<fb::OperatorCode>> opcodes;
  for (const auto& [code, custom, version] : codes) {
    const auto custom_offset = custom.empty() ? flatbuffers::Offset<flatbuffers::String>() : fbb.CreateString(custom);
    opcodes.push_back(fb::CreateOperatorCode(fbb, static_cast<int8_t>(std::min(code, 127)), custom_offset, version,
                                             code));
  }

  const std::vector<int32_t> inputs(graph.inputs.begin(), graph.inputs.end());
  const std::vector<int32_t> outputs(graph.outputs.begin(), graph.outputs.end());
  std::vector<flatbuffers::Offset<fb::SubGraph>> subgraphs = {
      fb::CreateSubGraphDirect(fbb, &tensors, &inputs, &outputs, &operators, "main")};
  const auto description = graph.description.empty() ? flatbuffers::Offset<flatbuffers::String>()
                                                       : fbb.CreateString(graph.description);
  const auto metadata_offset = metadata.empty() ? flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Metadata>>>()
                                                : fbb.CreateVector(metadata);
  const auto model = fb::CreateModel(fbb, 3, fbb.CreateVector(opcodes), fbb.CreateVector(subgraphs), description,
                                     fbb.CreateVector(buffers), 0, metadata_offset);
  fb::FinishModelBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace unas
