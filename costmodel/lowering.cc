#include "costmodel/lowering.h"

#include <algorithm>
#include <string>

namespace unas {
namespace {

std::vector<int> Nhwc(const Shape& s) { return {1, s.h, s.w, s.c}; }

class Lowerer {
 public:
  explicit Lowerer(const Network& network) : net_(network) {}

  Result<ModelGraph> Run() && {
    g_.description = "unas";
    g_.inputs = {ActivationTensor("input", net_.input_shape())};
    op_tensor_.assign(net_.ops.size(), -1);
    for (size_t i = 0; i < net_.ops.size(); ++i) {
      current_ = static_cast<int>(i);
      UNAS_RETURN_IF_ERROR(LowerOp(net_.ops[i]));
    }
    if (net_.ops.empty()) return Status::Invalid("network: no operators to lower");
    g_.outputs = {op_tensor_.back()};
    return std::move(g_);
  }

 private:
  std::string Prefix() const { return "op" + std::to_string(current_) + "/"; }

  int NewTensor(GraphTensor t) {
    g_.tensors.push_back(std::move(t));
    return static_cast<int>(g_.tensors.size()) - 1;
  }

  int ActivationTensor(const std::string& name, const Shape& shape) {
    GraphTensor t;
    t.name = name;
    t.shape = Nhwc(shape);
    return NewTensor(std::move(t));
  }

  int FlatActivation(const std::string& name, int units) {
    GraphTensor t;
    t.name = name;
    t.shape = {1, units};
    return NewTensor(std::move(t));
  }

  // Weights and biases: constant, data filled in by the quantiser.
  int Parameter(const std::string& name, std::vector<int> shape, TensorType type) {
    GraphTensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.type = type;
    t.is_constant = true;
    return NewTensor(std::move(t));
  }

  // Structural int32 constants (pad amounts, slice bounds), with their data.
  int Int32Constant(const std::string& name, std::vector<int> shape, const std::vector<int32_t>& values) {
    return NewTensor(Int32ConstantTensor(name, std::move(shape), values));
  }

  GraphOp& Emit(int code, std::vector<int> inputs, int output) {
    GraphOp op;
    op.builtin_code = code;
    op.inputs = std::move(inputs);
    op.outputs = {output};
    op.source_op = current_;
    g_.ops.push_back(std::move(op));
    return g_.ops.back();
  }

  int InputTensor(int network_input) const {
    return network_input == kNetworkInput ? 0 : op_tensor_[network_input];
  }

  Shape ShapeOf(int network_input) const {
    return network_input == kNetworkInput ? net_.input_shape() : net_.ops[network_input].out;
  }

  Status LowerOp(const Op& op) {
    const std::string p = Prefix();
    const int x = InputTensor(op.inputs.at(0));
    const Activation act = op.has_relu ? Activation::kRelu : Activation::kNone;
    switch (op.kind) {
      case OpKind::kConv2D: {
        const int w = Parameter(p + "filter", {op.out.c, op.kernel, op.kernel, op.in.c}, TensorType::kInt8);
        const int b = Parameter(p + "bias", {op.out.c}, TensorType::kInt32);
        const int y = ActivationTensor(p + "conv", op.out);
        GraphOp& o = Emit(builtin::kConv2D, {x, w, b}, y);
        o.padding = Padding::kValid;
        o.stride_h = o.stride_w = op.stride;
        o.activation = act;
        op_tensor_[current_] = y;
        return Status::Ok();
      }
      case OpKind::kDWConv2D: {
        const int w = Parameter(p + "filter", {1, op.kernel, op.kernel, op.in.c}, TensorType::kInt8);
        const int b = Parameter(p + "bias", {op.in.c}, TensorType::kInt32);
        const int y = ActivationTensor(p + "dwconv", op.out);
        GraphOp& o = Emit(builtin::kDepthwiseConv2D, {x, w, b}, y);
        o.padding = Padding::kValid;
        o.stride_h = o.stride_w = op.stride;
        o.depth_multiplier = 1;
        o.activation = act;
        op_tensor_[current_] = y;
        return Status::Ok();
      }
      case OpKind::kDense: {
        const int in_elements = static_cast<int>(op.in.elements());
        const int w = Parameter(p + "weights", {op.out.c, in_elements}, TensorType::kInt8);
        const int b = Parameter(p + "bias", {op.out.c}, TensorType::kInt32);
        const int y = FlatActivation(p + "dense", op.out.c);
        GraphOp& o = Emit(builtin::kFullyConnected, {x, w, b}, y);
        o.activation = act;
        op_tensor_[current_] = y;
        return Status::Ok();
      }
      case OpKind::kMaxPool:
      case OpKind::kAvgPool: return LowerPool(op, x);
      case OpKind::kAdd: return LowerAdd(op);
    }
    return Status::Internal("lowering: unknown operator kind");
  }

  // One pooling operator over a region of the input that needs no split.
  int Pool(const Op& op, int input, const Shape& in, int filter_h, int filter_w, const std::string& name) {
    const int code = op.kind == OpKind::kMaxPool ? builtin::kMaxPool2D : builtin::kAveragePool2D;
    const Shape out{(in.h + op.pool_h - 1) / op.pool_h, (in.w + op.pool_w - 1) / op.pool_w, in.c};
    const bool aligned = out.h * op.pool_h == in.h && out.w * op.pool_w == in.w;
    const int y = ActivationTensor(name, out);
    GraphOp& o = Emit(code, {input}, y);
    o.padding = aligned ? Padding::kValid : Padding::kSame;
    o.stride_h = op.pool_h;
    o.stride_w = op.pool_w;
    o.filter_h = filter_h;
    o.filter_w = filter_w;
    return y;
  }

  int Slice(int input, const Shape& in, int h0, int h1, int w0, int w1, const std::string& name) {
    const int begin = Int32Constant(name + "_begin", {4}, {0, h0, w0, 0});
    const int end = Int32Constant(name + "_end", {4}, {1, h1, w1, in.c});
    const int strides = Int32Constant(name + "_strides", {4}, {1, 1, 1, 1});
    const int y = ActivationTensor(name, Shape{h1 - h0, w1 - w0, in.c});
    Emit(builtin::kStridedSlice, {input, begin, end, strides}, y);
    return y;
  }

  int Concat(const std::vector<int>& parts, int axis, const Shape& out, const std::string& name) {
    const int y = ActivationTensor(name, out);
    GraphOp& o = Emit(builtin::kConcatenation, parts, y);
    o.axis = axis;
    return y;
  }

  Status LowerPool(const Op& op, int x) {
    const std::string p = Prefix();
    const Shape in = op.in;
    const int th = op.out.h * op.pool_h - in.h, tw = op.out.w * op.pool_w - in.w;
    const bool split_h = th >= 2, split_w = tw >= 2;
    if (!split_h && !split_w) {
      op_tensor_[current_] = Pool(op, x, in, op.pool_h, op.pool_w, p + OpKindName(op.kind));
      return Status::Ok();
    }
    // Row bands (aligned part, partial last window) and column bands likewise.
    struct Band {
      int begin, end, filter;
    };
    auto bands = [](int size, int window, int out, bool split) {
      std::vector<Band> b;
      if (!split) return std::vector<Band>{{0, size, window}};
      b.push_back({0, (out - 1) * window, window});
      b.push_back({(out - 1) * window, size, size - (out - 1) * window});
      return b;
    };
    const std::vector<Band> rows = bands(in.h, op.pool_h, op.out.h, split_h);
    const std::vector<Band> cols = bands(in.w, op.pool_w, op.out.w, split_w);
    std::vector<int> row_outputs;
    int piece = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
      std::vector<int> pooled;
      int band_w = 0, band_h = 0;
      for (const Band& c : cols) {
        const std::string name = p + "piece" + std::to_string(piece++);
        const Shape part{rows[r].end - rows[r].begin, c.end - c.begin, in.c};
        const int s = Slice(x, in, rows[r].begin, rows[r].end, c.begin, c.end, name + "_slice");
        const int y = Pool(op, s, part, rows[r].filter, c.filter, name + "_pool");
        pooled.push_back(y);
        band_h = g_.tensors[y].shape[1];
        band_w += g_.tensors[y].shape[2];
      }
      if (pooled.size() == 1) {
        row_outputs.push_back(pooled[0]);
      } else {
        row_outputs.push_back(Concat(pooled, 2, Shape{band_h, band_w, in.c}, p + "band" + std::to_string(r)));
      }
    }
    op_tensor_[current_] =
        row_outputs.size() == 1 ? row_outputs[0] : Concat(row_outputs, 1, op.out, p + OpKindName(op.kind));
    return Status::Ok();
  }

  Status LowerAdd(const Op& op) {
    const std::string p = Prefix();
    if (op.inputs.size() < 2) return Status::Invalid("lowering: an add needs at least two terms");
    std::vector<int> terms;
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      const int t = InputTensor(op.inputs[i]);
      const Shape s = ShapeOf(op.inputs[i]);
      if (s == op.out) {
        terms.push_back(t);
        continue;
      }
      if (s.h > op.out.h || s.w > op.out.w || s.c > op.out.c) {
        return Status::Internal("lowering: an add term is larger than the sum");
      }
      const std::string name = p + "pad" + std::to_string(i);
      const int paddings = Int32Constant(name + "_paddings", {4, 2},
                                         {0, 0, 0, op.out.h - s.h, 0, op.out.w - s.w, 0, op.out.c - s.c});
      const int y = ActivationTensor(name, op.out);
      Emit(builtin::kPad, {t, paddings}, y);
      terms.push_back(y);
    }
    int sum = terms[0];
    for (size_t i = 1; i < terms.size(); ++i) {
      const bool last = i + 1 == terms.size();
      const int y = ActivationTensor(last ? p + "add" : p + "add_partial" + std::to_string(i), op.out);
      Emit(builtin::kAdd, {sum, terms[i]}, y);
      sum = y;
    }
    op_tensor_[current_] = sum;
    return Status::Ok();
  }

  const Network& net_;
  ModelGraph g_;
  std::vector<int> op_tensor_;  // by Network op: graph tensor of its output
  int current_ = 0;             // the Network op being lowered
};

}  // namespace

Result<ModelGraph> LowerNetwork(const Network& network) { return Lowerer(network).Run(); }

std::vector<int> OutputTensors(const ModelGraph& graph, int network_ops) {
  std::vector<int> out(std::max(network_ops, 0), 0);
  for (const GraphOp& op : graph.ops) {
    if (op.source_op >= 0 && op.source_op < network_ops && !op.outputs.empty()) out[op.source_op] = op.outputs[0];
  }
  return out;
}

}  // namespace unas
