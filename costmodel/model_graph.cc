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

std::string BuiltinName(int code) {
  switch (code) {
    case builtin::kAdd: return "ADD";
    case builtin::kAveragePool2D: return "AVERAGE_POOL_2D";
    case builtin::kConcatenation: return "CONCATENATION";
    case builtin::kConv2D: return "CONV_2D";
    case builtin::kDepthwiseConv2D: return "DEPTHWISE_CONV_2D";
    case 5: return "DEPTH_TO_SPACE";
    case builtin::kDequantize: return "DEQUANTIZE";
    case 7: return "EMBEDDING_LOOKUP";
    case 8: return "FLOOR";
    case builtin::kFullyConnected: return "FULLY_CONNECTED";
    case 10: return "HASHTABLE_LOOKUP";
    case 11: return "L2_NORMALIZATION";
    case 12: return "L2_POOL_2D";
    case 13: return "LOCAL_RESPONSE_NORMALIZATION";
    case builtin::kLogistic: return "LOGISTIC";
    case 15: return "LSH_PROJECTION";
    case 16: return "LSTM";
    case builtin::kMaxPool2D: return "MAX_POOL_2D";
    case builtin::kMul: return "MUL";
    case builtin::kRelu: return "RELU";
    case 20: return "RELU_N1_TO_1";
    case builtin::kRelu6: return "RELU6";
    case builtin::kReshape: return "RESHAPE";
    case 23: return "RESIZE_BILINEAR";
    case 24: return "RNN";
    case builtin::kSoftmax: return "SOFTMAX";
    case 26: return "SPACE_TO_DEPTH";
    case 27: return "SVDF";
    case builtin::kTanh: return "TANH";
    case 29: return "CONCAT_EMBEDDINGS";
    case 30: return "SKIP_GRAM";
    case 31: return "CALL";
    case builtin::kCustom: return "CUSTOM";
    case 33: return "EMBEDDING_LOOKUP_SPARSE";
    case builtin::kPad: return "PAD";
    case 35: return "UNIDIRECTIONAL_SEQUENCE_RNN";
    case 36: return "GATHER";
    case 37: return "BATCH_TO_SPACE_ND";
    case 38: return "SPACE_TO_BATCH_ND";
    case 39: return "TRANSPOSE";
    case builtin::kMean: return "MEAN";
    case 41: return "SUB";
    case 42: return "DIV";
    case 43: return "SQUEEZE";
    case 44: return "UNIDIRECTIONAL_SEQUENCE_LSTM";
    case builtin::kStridedSlice: return "STRIDED_SLICE";
    case 46: return "BIDIRECTIONAL_SEQUENCE_RNN";
    case 47: return "EXP";
    case 48: return "TOPK_V2";
    case 49: return "SPLIT";
    case 50: return "LOG_SOFTMAX";
    case 51: return "DELEGATE";
    case 52: return "BIDIRECTIONAL_SEQUENCE_LSTM";
    case 53: return "CAST";
    case 54: return "PRELU";
    case 55: return "MAXIMUM";
    case 56: return "ARG_MAX";
    case 57: return "MINIMUM";
    case 58: return "LESS";
    case 59: return "NEG";
    case builtin::kPadV2: return "PADV2";
    case 61: return "GREATER";
    case 62: return "GREATER_EQUAL";
    case 63: return "LESS_EQUAL";
    case 64: return "SELECT";
    case 65: return "SLICE";
    case 66: return "SIN";
    case 67: return "TRANSPOSE_CONV";
    case 68: return "SPARSE_TO_DENSE";
    case 69: return "TILE";
    case 70: return "EXPAND_DIMS";
    case 71: return "EQUAL";
    case 72: return "NOT_EQUAL";
    case 73: return "LOG";
    case 74: return "SUM";
    case 75: return "SQRT";
    case 76: return "RSQRT";
    case 77: return "SHAPE";
    case 78: return "POW";
    case 79: return "ARG_MIN";
    case 80: return "FAKE_QUANT";
    case 81: return "REDUCE_PROD";
    case 82: return "REDUCE_MAX";
    case 83: return "PACK";
    case 84: return "LOGICAL_OR";
    case 85: return "ONE_HOT";
    case 86: return "LOGICAL_AND";
    case 87: return "LOGICAL_NOT";
    case 88: return "UNPACK";
    case 89: return "REDUCE_MIN";
    case 90: return "FLOOR_DIV";
    case 91: return "REDUCE_ANY";
    case 92: return "SQUARE";
    case 93: return "ZEROS_LIKE";
    case 94: return "FILL";
    case 95: return "FLOOR_MOD";
    case 96: return "RANGE";
    case 97: return "RESIZE_NEAREST_NEIGHBOR";
    case 98: return "LEAKY_RELU";
    case 99: return "SQUARED_DIFFERENCE";
    case 100: return "MIRROR_PAD";
    case 101: return "ABS";
    case 102: return "SPLIT_V";
    case 103: return "UNIQUE";
    case 104: return "CEIL";
    case 105: return "REVERSE_V2";
    case 106: return "ADD_N";
    case 107: return "GATHER_ND";
    case 108: return "COS";
    case 109: return "WHERE";
    case 110: return "RANK";
    case 111: return "ELU";
    case 112: return "REVERSE_SEQUENCE";
    case 113: return "MATRIX_DIAG";
    case builtin::kQuantize: return "QUANTIZE";
    case 115: return "MATRIX_SET_DIAG";
    case 116: return "ROUND";
    case 117: return "HARD_SWISH";
    case 118: return "IF";
    case 119: return "WHILE";
    case 120: return "NON_MAX_SUPPRESSION_V4";
    case 121: return "NON_MAX_SUPPRESSION_V5";
    case 122: return "SCATTER_ND";
    case 123: return "SELECT_V2";
    case 124: return "DENSIFY";
    case 125: return "SEGMENT_SUM";
    case 126: return "BATCH_MATMUL";
  }
  return "BUILTIN_" + std::to_string(code);
}

}  // namespace unas
