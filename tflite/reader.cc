#include "tflite/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "tflite/diagnose.h"
#include "tflite/tflite_subset_generated.h"

namespace unas {
namespace {

namespace fb = ::unas::tflite_fb;

Status Bad(const std::string& message) { return Status::Invalid("tflite: " + message); }

// The bytes the reader may copy out of the file (TfliteReadLimits).
struct CopyBudget {
  int64_t limit = 0;
  int64_t left = 0;
  int64_t copies = 0;
  Status Spend(int64_t bytes, const std::string& where) {
    left -= bytes;
    if (left >= 0) return Status::Ok();
    return Bad("the tensors and operators refer to more than " + std::to_string(limit) +
               " bytes of shapes, quantisation, names, data and tensor lists (" + std::to_string(copies) +
               " times the file's size + 1 MiB, the reader's limit): tables share vectors (at " + where + ")");
  }
};

template <typename Vector>
int64_t StoredBytes(const Vector* v) {
  return v == nullptr ? 0 : static_cast<int64_t>(v->size()) * static_cast<int64_t>(sizeof(typename Vector::return_type));
}

std::string TensorWhere(int index, const fb::Tensor* t) {
  std::string where = "tensor " + std::to_string(index);
  if (t->name() != nullptr && t->name()->size() > 0) where += " ('" + t->name()->str() + "')";
  return where;
}

constexpr int64_t kMaxElements = int64_t{1} << 48;

Status ReadTensor(const fb::Model& model, int index, const fb::Tensor* t, CopyBudget* budget, GraphTensor* out) {
  const std::string where = TensorWhere(index, t);
  int64_t bytes = (t->name() ? static_cast<int64_t>(t->name()->size()) : 0) + StoredBytes(t->shape());
  if (const fb::QuantizationParameters* q = t->quantization()) bytes += StoredBytes(q->scale()) + StoredBytes(q->zero_point());
  UNAS_RETURN_IF_ERROR(budget->Spend(bytes, "tensor " + std::to_string(index)));
  if (t->name() != nullptr) out->name = t->name()->str();
  const int type = static_cast<int>(t->type());
  if (type < 0 || type > static_cast<int>(TensorType::kFloat64)) {
    return Bad(where + ": tensor type " + std::to_string(type) +
               " is not supported (unas knows FLOAT32..FLOAT64, 0..10)");
  }
  out->type = static_cast<TensorType>(type);
  if (t->sparsity() != nullptr) return Bad(where + ": sparse tensors are not supported");
  int64_t elements = 1;
  if (t->shape() != nullptr) {
    for (const int32_t d : *t->shape()) {
      if (d < -1) return Bad(where + ": dimension " + std::to_string(d) + " is negative");
      out->shape.push_back(d);
      // Checked before multiplying: 2^48 * 2^31 overflows int64 (the fuzzer found it).
      if (d > 0 && elements > kMaxElements / d) return Bad(where + ": the shape has more than 2^48 elements");
      if (d > 0) elements *= d;
    }
  }
  out->is_variable = t->is_variable();

  if (const fb::QuantizationParameters* q = t->quantization()) {
    if (q->scale() != nullptr) out->quant.scale.assign(q->scale()->begin(), q->scale()->end());
    if (q->zero_point() != nullptr) {
      // The Verifier checks a vector's 4-byte length alignment, not that its
      // 8-byte elements are 8-aligned (the fuzzer found such a file): copy
      // the raw little-endian bytes rather than load int64s in place.
      const size_t count = q->zero_point()->size();
      out->quant.zero_point.resize(count);
      if (count > 0) {
        std::memcpy(out->quant.zero_point.data(), q->zero_point()->Data(), count * sizeof(int64_t));
      }
    }
    out->quant.axis = q->quantized_dimension();
    const size_t scales = out->quant.scale.size();
    if (!out->quant.zero_point.empty() && out->quant.zero_point.size() != scales) {
      return Bad(where + ": " + std::to_string(scales) + " scales but " +
                 std::to_string(out->quant.zero_point.size()) + " zero points");
    }
    if (scales > 1) {
      // TFLM's person detection model quantises its depthwise biases ([C])
      // per channel with quantized_dimension 3, the depthwise filter's axis;
      // TFLite's kernels read bias scales by channel and ignore the field.
      // A vector's scales can only run along its one dimension: say so.
      if (out->shape.size() == 1 && out->quant.axis != 0 && out->shape[0] >= 0 &&
          static_cast<size_t>(out->shape[0]) == scales) {
        out->quant.axis = 0;
      }
      const int axis = out->quant.axis;
      if (axis < 0 || axis >= static_cast<int>(out->shape.size())) {
        return Bad(where + ": quantized_dimension " + std::to_string(axis) + " is outside its rank " +
                   std::to_string(out->shape.size()));
      }
      if (out->shape[axis] >= 0 && static_cast<size_t>(out->shape[axis]) != scales) {
        return Bad(where + ": " + std::to_string(scales) + " scales along axis " + std::to_string(axis) +
                   " of size " + std::to_string(out->shape[axis]));
      }
    }
    if (!out->quant.scale.empty() && out->quant.zero_point.empty()) {
      out->quant.zero_point.assign(scales, 0);
    }
  }

  const uint32_t buffer_index = t->buffer();
  const uint32_t buffers = model.buffers() ? model.buffers()->size() : 0;
  if (buffer_index != 0) {
    if (buffer_index >= buffers) {
      return Bad(where + ": buffer " + std::to_string(buffer_index) + " out of range (the model has " +
                 std::to_string(buffers) + " buffers)");
    }
    const fb::Buffer* buffer = model.buffers()->Get(buffer_index);
    if (buffer->offset() > 1 || buffer->size() > 0) {
      return Bad(where + ": its data lie outside the flatbuffer (models over 2 GB are not supported)");
    }
    if (buffer->data() != nullptr && buffer->data()->size() > 0) {
      const size_t have = buffer->data()->size();
      UNAS_RETURN_IF_ERROR(budget->Spend(static_cast<int64_t>(have), where + "'s data"));
      // GraphTensor::bytes(): 0 when a dimension is 0 or unknown, so such a
      // shape cannot hold data (the fuzzer found [-1, 3] with 12 bytes).
      const int64_t want = out->bytes();
      if (out->type != TensorType::kString && static_cast<int64_t>(have) != want) {
        return Bad(where + ": its buffer holds " + std::to_string(have) + " bytes, its shape and type (" +
                   TensorTypeName(out->type) + ") need " + std::to_string(want));
      }
      out->is_constant = true;
      out->data.assign(buffer->data()->begin(), buffer->data()->end());
    }
  }
  return Status::Ok();
}

// The enum values and sizes the graph can hold; anything else is an error
// rather than a value downstream code would misread (a stride of 0 divides
// by zero in shape arithmetic).
Status CheckOptions(const GraphOp& g, int raw_padding, int raw_activation, const std::string& where) {
  if (raw_padding != 0 && raw_padding != 1) {
    return Bad(where + ": padding " + std::to_string(raw_padding) + " is neither SAME (0) nor VALID (1)");
  }
  if (raw_activation < 0 || raw_activation > static_cast<int>(Activation::kRelu6)) {
    return Bad(where + ": fused activation " + std::to_string(raw_activation) +
               " is not supported (NONE, RELU, RELU_N1_TO_1, RELU6)");
  }
  for (const int v : {g.stride_h, g.stride_w, g.filter_h, g.filter_w, g.dilation_h, g.dilation_w}) {
    if (v < 1) return Bad(where + ": strides, filter sizes and dilations must be at least 1, not " + std::to_string(v));
  }
  return Status::Ok();
}

// The window fields that Conv2D, DepthwiseConv2D and Pool2D options share
// (the casts keep the raw byte, which CheckOptions checks).
template <typename Options>
void ReadWindow(const Options& o, GraphOp* g) {
  g->padding = static_cast<Padding>(o.padding());
  g->stride_w = o.stride_w();
  g->stride_h = o.stride_h();
  g->activation = static_cast<Activation>(o.fused_activation_function());
}

// The Verifier accepts a union type whose table is absent (it verifies a
// null table as fine), so every options pointer is checked (the fuzzer found
// a CONV_2D with a type and no table).
Status ReadOptions(const fb::Operator* op, GraphOp* g, const std::string& where) {
  using fb::BuiltinOptions;
  switch (op->builtin_options_type()) {
    case BuiltinOptions::Conv2DOptions: {
      const auto* o = op->builtin_options_as_Conv2DOptions();
      if (o == nullptr) break;  // a union type without its table: defaults
      ReadWindow(*o, g);
      g->dilation_w = o->dilation_w_factor();
      g->dilation_h = o->dilation_h_factor();
      break;
    }
    case BuiltinOptions::DepthwiseConv2DOptions: {
      const auto* o = op->builtin_options_as_DepthwiseConv2DOptions();
      if (o == nullptr) break;  // a union type without its table: defaults
      ReadWindow(*o, g);
      g->depth_multiplier = o->depth_multiplier();
      g->dilation_w = o->dilation_w_factor();
      g->dilation_h = o->dilation_h_factor();
      break;
    }
    case BuiltinOptions::Pool2DOptions: {
      const auto* o = op->builtin_options_as_Pool2DOptions();
      if (o == nullptr) break;  // a union type without its table: defaults
      ReadWindow(*o, g);
      g->filter_w = o->filter_width();
      g->filter_h = o->filter_height();
      break;
    }
    case BuiltinOptions::FullyConnectedOptions: {
      const auto* o = op->builtin_options_as_FullyConnectedOptions();
      if (o == nullptr) break;  // a union type without its table: defaults
      g->activation = static_cast<Activation>(o->fused_activation_function());
      g->keep_num_dims = o->keep_num_dims();
      break;
    }
    case BuiltinOptions::AddOptions:
      if (const auto* o = op->builtin_options_as_AddOptions()) {
        g->activation = static_cast<Activation>(o->fused_activation_function());
      }
      break;
    case BuiltinOptions::MulOptions:
      if (const auto* o = op->builtin_options_as_MulOptions()) {
        g->activation = static_cast<Activation>(o->fused_activation_function());
      }
      break;
    case BuiltinOptions::ConcatenationOptions: {
      const auto* o = op->builtin_options_as_ConcatenationOptions();
      if (o == nullptr) break;  // a union type without its table: defaults
      g->axis = o->axis();
      g->activation = static_cast<Activation>(o->fused_activation_function());
      break;
    }
    default:
      break;  // other operators: no options the graph models
  }
  // The casts above keep the raw byte (the enums are int8): check it now.
  return CheckOptions(*g, static_cast<int>(g->padding), static_cast<int>(g->activation), where);
}

Status CheckIds(const flatbuffers::Vector<int32_t>* ids, int tensors, bool allow_omitted,
                const std::string& where, std::vector<int>* out) {
  if (ids == nullptr) return Status::Ok();
  for (const int32_t id : *ids) {
    if ((id == -1 && allow_omitted) || (id >= 0 && id < tensors)) {
      out->push_back(id);
      continue;
    }
    return Bad(where + ": tensor " + std::to_string(id) + " out of range (the subgraph has " +
               std::to_string(tensors) + " tensors)");
  }
  return Status::Ok();
}

Status ReadOperator(const fb::Model& model, int index, const fb::Operator* op, int tensors, CopyBudget* budget,
                    GraphOp* g) {
  const std::string where = "operator " + std::to_string(index);
  UNAS_RETURN_IF_ERROR(budget->Spend(StoredBytes(op->inputs()) + StoredBytes(op->outputs()), where));
  const uint32_t codes = model.operator_codes() ? model.operator_codes()->size() : 0;
  if (op->opcode_index() >= codes) {
    return Bad(where + ": opcode_index " + std::to_string(op->opcode_index()) +
               " out of range (the model has " + std::to_string(codes) + " operator codes)");
  }
  const fb::OperatorCode* code = model.operator_codes()->Get(op->opcode_index());
  g->builtin_code = std::max<int>(code->builtin_code(), code->deprecated_builtin_code());
  if (g->builtin_code < 0) {
    return Bad(where + ": builtin code " + std::to_string(g->builtin_code) + " is negative");
  }
  if (code->custom_code() != nullptr) g->custom_code = code->custom_code()->str();
  if (g->builtin_code == builtin::kCustom && g->custom_code.empty()) {
    return Bad(where + ": a CUSTOM operator without a custom_code");
  }
  g->version = code->version();
  UNAS_RETURN_IF_ERROR(CheckIds(op->inputs(), tensors, /*allow_omitted=*/true, where + " input", &g->inputs));
  UNAS_RETURN_IF_ERROR(CheckIds(op->outputs(), tensors, /*allow_omitted=*/false, where + " output", &g->outputs));
  return ReadOptions(op, g, where);
}

Result<ModelGraph> ReadVerified(const fb::Model& model, size_t size, const TfliteReadLimits& limits) {
  ModelGraph graph;
  if (model.subgraphs() == nullptr || model.subgraphs()->size() == 0) return Bad("the model has no subgraphs");
  const fb::SubGraph* sg = model.subgraphs()->Get(0);
  const int tensors = sg->tensors() ? static_cast<int>(sg->tensors()->size()) : 0;
  const int ops = sg->operators() ? static_cast<int>(sg->operators()->size()) : 0;
  if (ops > limits.max_operators) {
    return Bad("the first subgraph has " + std::to_string(ops) + " operators, more than the limit of " +
               std::to_string(limits.max_operators));
  }
  if (tensors > limits.max_tensors) {
    return Bad("the first subgraph has " + std::to_string(tensors) + " tensors, more than the limit of " +
               std::to_string(limits.max_tensors));
  }
  CopyBudget budget;
  budget.copies = limits.max_copies_of_file;
  budget.limit = budget.left = limits.max_copies_of_file * static_cast<int64_t>(size) + (int64_t{1} << 20);
  if (model.description() != nullptr) {
    UNAS_RETURN_IF_ERROR(budget.Spend(model.description()->size(), "the description"));
    graph.description = model.description()->str();
  }
  graph.subgraphs = static_cast<int>(model.subgraphs()->size());
  UNAS_RETURN_IF_ERROR(budget.Spend(StoredBytes(sg->inputs()) + StoredBytes(sg->outputs()), "the subgraph"));
  graph.tensors.resize(tensors);
  for (int i = 0; i < tensors; ++i) {
    UNAS_RETURN_IF_ERROR(ReadTensor(model, i, sg->tensors()->Get(i), &budget, &graph.tensors[i]));
  }
  UNAS_RETURN_IF_ERROR(CheckIds(sg->inputs(), tensors, false, "subgraph input", &graph.inputs));
  UNAS_RETURN_IF_ERROR(CheckIds(sg->outputs(), tensors, false, "subgraph output", &graph.outputs));
  graph.ops.resize(ops);
  for (int i = 0; i < ops; ++i) {
    UNAS_RETURN_IF_ERROR(ReadOperator(model, i, sg->operators()->Get(i), tensors, &budget, &graph.ops[i]));
  }
  return graph;
}

}  // namespace

Result<ModelGraph> ReadTflite(const uint8_t* data, size_t size, const TfliteReadLimits& limits) {
  if (data == nullptr && size > 0) return Bad("no data");
  if (size > kMaxTfliteBytes) {
    return Bad("the file is " + std::to_string(size) + " bytes, more than the limit of " +
               std::to_string(kMaxTfliteBytes));
  }
  if (size < 8) {
    return Bad("the file is " + std::to_string(size) + " bytes, too short for a TFLite model (at least 8)");
  }
  if (std::memcmp(data + 4, fb::ModelIdentifier(), 4) != 0) {
    std::string seen;
    for (int i = 4; i < 8; ++i) {
      const char c = static_cast<char>(data[i]);
      seen += (c >= 32 && c < 127) ? std::string(1, c) : "\\x" + std::to_string(static_cast<int>(data[i]));
    }
    return Bad("not a TFLite model: the file identifier at bytes 4..7 is '" + seen + "', not 'TFL3'");
  }
  // The accessors read scalars in place: give them an 8-byte aligned copy
  // when the caller's bytes are not (offsets inside the file are relative).
  std::vector<uint64_t> aligned;
  const uint8_t* bytes = data;
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    aligned.resize((size + 7) / 8);
    std::memcpy(aligned.data(), data, size);
    bytes = reinterpret_cast<const uint8_t*>(aligned.data());
  }
  flatbuffers::Verifier verifier(bytes, size, kMaxTfliteDepth, kMaxTfliteTables);
  if (!fb::VerifyModelBuffer(verifier)) {
    const std::string why = tflite_internal::DiagnoseFlatbuffer(bytes, size);
    return Bad("the flatbuffer is corrupt or truncated (" +
               (why.empty() ? std::string("rejected by the flatbuffers verifier: misaligned data, nesting "
                                          "deeper than ") +
                                  std::to_string(kMaxTfliteDepth) + ", more than " +
                                  std::to_string(kMaxTfliteTables) + " tables, or a bad union or offset"
                            : why) +
               ")");
  }
  return ReadVerified(*fb::GetModel(bytes), size, limits);
}

Result<std::vector<uint8_t>> ReadTfliteFileBytes(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(StatusCode::kNotFound, "tflite: cannot open '" + path + "'");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  auto over = [&](const std::string& size) {
    return Bad("'" + path + "' " + size + ", more than the limit of " + std::to_string(max_bytes));
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Bad("cannot read '" + path + "': " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return Bad("'" + path + "' is a directory, not a model file");
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    return Bad("'" + path + "' is a device, not a model file (a regular file or a pipe)");
  }
  std::vector<uint8_t> bytes;
  if (S_ISREG(st.st_mode)) {
    if (static_cast<uint64_t>(st.st_size) > max_bytes) return over("is " + std::to_string(st.st_size) + " bytes");
    bytes.reserve(static_cast<size_t>(st.st_size));
  }
  // Bounded whatever the file claims: a pipe has no size, and a regular
  // file may grow while it is read.
  std::vector<uint8_t> piece(size_t{64} << 10);
  for (;;) {
    const ssize_t got = ::read(fd, piece.data(), piece.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Bad("cannot read '" + path + "': " + std::strerror(errno));
    if (got == 0) break;
    if (bytes.size() + static_cast<size_t>(got) > max_bytes) return over("goes on past " + std::to_string(max_bytes) + " bytes");
    bytes.insert(bytes.end(), piece.begin(), piece.begin() + got);
  }
  return bytes;
}

Result<ModelGraph> ReadTfliteFile(const std::string& path, const TfliteReadLimits& limits) {
  UNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadTfliteFileBytes(path));
  Result<ModelGraph> graph = ReadTflite(bytes.data(), bytes.size(), limits);
  if (!graph.ok()) return Status(graph.status().code(), graph.status().message() + " in '" + path + "'");
  return graph;
}

}  // namespace unas
