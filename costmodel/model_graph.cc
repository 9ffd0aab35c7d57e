#include "costmodel/model_graph.h"

#include <iterator>

namespace unas {

std::vector<uint8_t> Int32LeBytes(const std::vector<int32_t>& values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i) {
    const auto v = static_cast<uint32_t>(values[i]);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<uint8_t>(v >> (8 * b));
  }
  return bytes;
}

GraphTensor Int32ConstantTensor(std::string name, std::vector<int> shape, const std::vector<int32_t>& values) {
  GraphTensor t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.type = TensorType::kInt32;
  t.is_constant = true;
  t.data = Int32LeBytes(values);
  return t;
}

namespace {

// TFLite's tensor types, indexed by their numbers (TensorType's values): the
// name and the bytes per element of each, in one place.
struct TensorTypeInfo {
  const char* name;
  int element_bytes;  // 0 for string: variable size
};
constexpr TensorTypeInfo kTensorTypes[] = {{"float32", 4},   {"float16", 2}, {"int32", 4},  {"uint8", 1},
                                           {"int64", 8},     {"string", 0},  {"bool", 1},   {"int16", 2},
                                           {"complex64", 8}, {"int8", 1},    {"float64", 8}};
static_assert(std::size(kTensorTypes) == static_cast<size_t>(TensorType::kFloat64) + 1,
              "one entry per TensorType, in number order");

const TensorTypeInfo* FindTensorType(TensorType type) {
  const auto i = static_cast<size_t>(type);  // negative numbers wrap to out of range
  return i < std::size(kTensorTypes) ? &kTensorTypes[i] : nullptr;
}

}  // namespace

const char* TensorTypeName(TensorType type) {
  const TensorTypeInfo* info = FindTensorType(type);
  return info ? info->name : "unknown";
}

int ElementBytes(TensorType type) {
  const TensorTypeInfo* info = FindTensorType(type);
  return info ? info->element_bytes : 0;
}

int64_t GraphTensor::elements() const {
  int64_t n = 1;
  for (int d : shape) {
    if (d <= 0) return 0;
    n *= d;
  }
  return n;
}

int64_t GraphTensor::bytes() const { return elements() * ElementBytes(type); }

namespace {

// TFLite's BuiltinOperator names (schema.fbs), indexed by code, 0 to 126.
constexpr const char* kBuiltinNames[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
    "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU",
    "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
    "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB",
    "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
    "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
    "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE",
    "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT",
    "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT",
    "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL",
    "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
    "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU",
    "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
    "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM",
    "BATCH_MATMUL",
};
static_assert(std::size(kBuiltinNames) == 127, "codes 0 to 126 (BATCH_MATMUL)");

constexpr bool SameName(const char* a, const char* b) {
  for (; *a != 0 && *a == *b; ++a, ++b) {
  }
  return *a == *b;
}

// The named codes of model_graph.h sit at their names in the table.
static_assert(SameName(kBuiltinNames[builtin::kAdd], "ADD"));
static_assert(SameName(kBuiltinNames[builtin::kAveragePool2D], "AVERAGE_POOL_2D"));
static_assert(SameName(kBuiltinNames[builtin::kConcatenation], "CONCATENATION"));
static_assert(SameName(kBuiltinNames[builtin::kConv2D], "CONV_2D"));
static_assert(SameName(kBuiltinNames[builtin::kDepthwiseConv2D], "DEPTHWISE_CONV_2D"));
static_assert(SameName(kBuiltinNames[builtin::kDequantize], "DEQUANTIZE"));
static_assert(SameName(kBuiltinNames[builtin::kFullyConnected], "FULLY_CONNECTED"));
static_assert(SameName(kBuiltinNames[builtin::kLogistic], "LOGISTIC"));
static_assert(SameName(kBuiltinNames[builtin::kMaxPool2D], "MAX_POOL_2D"));
static_assert(SameName(kBuiltinNames[builtin::kMul], "MUL"));
static_assert(SameName(kBuiltinNames[builtin::kRelu], "RELU"));
static_assert(SameName(kBuiltinNames[builtin::kRelu6], "RELU6"));
static_assert(SameName(kBuiltinNames[builtin::kReshape], "RESHAPE"));
static_assert(SameName(kBuiltinNames[builtin::kSoftmax], "SOFTMAX"));
static_assert(SameName(kBuiltinNames[builtin::kTanh], "TANH"));
static_assert(SameName(kBuiltinNames[builtin::kCustom], "CUSTOM"));
static_assert(SameName(kBuiltinNames[builtin::kPad], "PAD"));
static_assert(SameName(kBuiltinNames[builtin::kMean], "MEAN"));
static_assert(SameName(kBuiltinNames[builtin::kStridedSlice], "STRIDED_SLICE"));
static_assert(SameName(kBuiltinNames[builtin::kPadV2], "PADV2"));
static_assert(SameName(kBuiltinNames[builtin::kQuantize], "QUANTIZE"));

}  // namespace

std::string BuiltinName(int code) {
  if (code >= 0 && static_cast<size_t>(code) < std::size(kBuiltinNames)) return kBuiltinNames[code];
  return "BUILTIN_" + std::to_string(code);
}

}  // namespace unas
