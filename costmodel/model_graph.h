// A deployable model at TensorFlow Lite's level: tensors (shape, type,
// quantisation, constant data) and builtin operators that read and write
// them. One description shared by everything that deals with a model as a
// device sees it:
//   - the lowering of a Network to TFLite operators (what unas exports),
//   - the TFLite flatbuffer reader and writer (tflite/),
//   - the int8 quantiser and reference executor (quant/),
//   - TFLM's arena model and `unas analyze` (memory of any .tflite),
//   - the C code generator (firmware/).
// Plain C++ types only: no flatbuffers, no Torch.
//
// Conventions follow TFLite's schema: activations NHWC with batch 1;
// CONV_2D filters [out_channels, kh, kw, in_channels] quantised per output
// channel (axis 0); DEPTHWISE_CONV_2D filters [1, kh, kw, channels] per
// channel (axis 3); FULLY_CONNECTED weights [units, inputs] per tensor; biases
// int32 with scale input_scale * weight_scale and zero point 0. Constant data
// is stored little-endian, exactly as in a TFLite buffer.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace unas {

// TFLite's TensorType numbers.
enum class TensorType : int8_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kInt32 = 2,
  kUInt8 = 3,
  kInt64 = 4,
  kString = 5,
  kBool = 6,
  kInt16 = 7,
  kComplex64 = 8,
  kInt8 = 9,
  kFloat64 = 10,
};
const char* TensorTypeName(TensorType type);  // "int8", "float32", ...
// Bytes per element; 0 for kString (variable size) and unknown values.
int ElementBytes(TensorType type);

// Affine quantisation: real = scale * (q - zero_point). Empty `scale` means
// not quantised. One entry per tensor, or one per slice along `axis`.
struct Quantization {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int axis = 0;  // TFLite's quantized_dimension; meaningful when per channel
  bool empty() const { return scale.empty(); }
  bool per_channel() const { return scale.size() > 1; }
};

struct GraphTensor {
  std::string name;
  std::vector<int> shape;  // TFLite order; a dimension < 0 is unknown
  TensorType type = TensorType::kInt8;
  Quantization quant;
  // A constant (weights, biases, shapes, pad amounts): its values come from
  // the model file, never from the arena. `data` may be empty in graphs made
  // for analysis only (lowered without weights, or read for memory figures).
  bool is_constant = false;
  bool is_variable = false;  // TFLite variable tensor (persistent state)
  std::vector<uint8_t> data;

  int64_t elements() const;  // product of shape; 1 for a scalar; 0 if any dim <= 0
  int64_t bytes() const;     // elements() * ElementBytes(type)
};

// `values` as GraphTensor::data of an int32 tensor: 4 little-endian bytes each
// (TFLite's byte order, whatever the host's).
std::vector<uint8_t> Int32LeBytes(const std::vector<int32_t>& values);

// A constant int32 tensor holding `values` (pad amounts, slice bounds, shapes),
// not quantised. `values` must have the shape's element count.
GraphTensor Int32ConstantTensor(std::string name, std::vector<int> shape, const std::vector<int32_t>& values);

// TFLite's BuiltinOperator numbers for the operators unas lowers to, executes
// or slices. The reader keeps every other code as it is (see GraphOp).
namespace builtin {
constexpr int kAdd = 0;
constexpr int kAveragePool2D = 1;
constexpr int kConcatenation = 2;
constexpr int kConv2D = 3;
constexpr int kDepthwiseConv2D = 4;
constexpr int kDequantize = 6;
constexpr int kFullyConnected = 9;
constexpr int kLogistic = 14;
constexpr int kMaxPool2D = 17;
constexpr int kMul = 18;
constexpr int kRelu = 19;
constexpr int kRelu6 = 21;
constexpr int kReshape = 22;
constexpr int kSoftmax = 25;
constexpr int kTanh = 28;
constexpr int kCustom = 32;
constexpr int kPad = 34;
constexpr int kMean = 40;
constexpr int kStridedSlice = 45;
constexpr int kPadV2 = 60;
constexpr int kQuantize = 114;
}  // namespace builtin

// TFLite's name for a builtin code ("CONV_2D"), or "BUILTIN_<n>" for codes
// this table does not know.
std::string BuiltinName(int builtin_code);

enum class Padding : int8_t { kSame = 0, kValid = 1 };  // TFLite's numbers
enum class Activation : int8_t { kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3 };

struct GraphOp {
  int builtin_code = builtin::kAdd;
  std::string custom_code;  // for builtin::kCustom
  int version = 1;          // the operator code's version
  std::vector<int> inputs;  // tensor ids; -1 = an omitted optional input
  std::vector<int> outputs; // tensor ids; usually one
  // Options of the operators unas writes and executes; defaults elsewhere.
  Padding padding = Padding::kValid;   // conv, depthwise, pools
  int stride_h = 1, stride_w = 1;      // conv, depthwise, pools, strided slice uses its inputs
  int filter_h = 1, filter_w = 1;      // pools
  int dilation_h = 1, dilation_w = 1;  // conv, depthwise
  int depth_multiplier = 1;            // depthwise
  Activation activation = Activation::kNone;  // fused: conv, depthwise, fc, pools, add, concat
  int axis = 0;                        // concatenation
  bool keep_num_dims = false;          // fully connected
  // Graphs lowered from a Network: the Network op this operator implements
  // (several operators may share one, e.g. a PAD before an ADD); -1 otherwise.
  int source_op = -1;
};

struct ModelGraph {
  std::vector<GraphTensor> tensors;
  std::vector<GraphOp> ops;    // in the order they are stored (TFLM runs them in this order)
  std::vector<int> inputs;     // graph input tensor ids
  std::vector<int> outputs;    // graph output tensor ids
  std::string description;     // the model's description string
  int subgraphs = 1;           // subgraphs in the file; only the first is described here
};

}  // namespace unas
