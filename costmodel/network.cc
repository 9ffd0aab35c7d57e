#include "costmodel/network.h"

#include <algorithm>

#include "base/spelling.h"

namespace unas {
namespace {

int CeilDiv(int a, int b) { return (a + b - 1) / b; }

struct Tensor {
  int op;  // producer, or kNetworkInput
  Shape shape;
};

class Builder {
 public:
  explicit Builder(const InputSpec& input) { net_.input = input; }

  Tensor Pool(Tensor x, OpKind kind, OpRole role, int window_h, int window_w, int block, int layer) {
    Op op;
    op.kind = kind;
    op.role = role;
    op.pool_h = std::min(window_h, x.shape.h);
    op.pool_w = std::min(window_w, x.shape.w);
    op.out = {CeilDiv(x.shape.h, op.pool_h), CeilDiv(x.shape.w, op.pool_w), x.shape.c};
    op.block = block;
    op.layer = layer;
    return Add(std::move(op), {x});
  }

  Tensor ConvLayer(Tensor x, const Layer& l, int filters, OpRole role, int block, int layer) {
    if (l.has_prepool && (x.shape.h > 1 || x.shape.w > 1)) {
      x = Pool(x, OpKind::kMaxPool, OpRole::kPrepool, 2, 2, block, layer);
    }
    Op op;
    op.role = role;
    op.kind = l.type == LayerType::kDWConv2D ? OpKind::kDWConv2D : OpKind::kConv2D;
    op.kernel = l.type == LayerType::kConv1x1 ? 1 : std::min({l.ker_size, x.shape.h, x.shape.w});
    op.stride = (l.type != LayerType::kConv1x1 && l.stride2) ? 2 : 1;
    const int channels = op.kind == OpKind::kDWConv2D ? x.shape.c : filters;
    op.out = {CeilDiv(x.shape.h - op.kernel + 1, op.stride), CeilDiv(x.shape.w - op.kernel + 1, op.stride),
              channels};
    op.has_bn = l.has_bn;
    op.has_relu = l.has_relu;
    op.block = block;
    op.layer = layer;
    return Add(std::move(op), {x});
  }

  Tensor TieUp(const std::vector<Tensor>& pending, int block) {
    if (pending.size() == 1) return pending[0];
    int min_h = pending[0].shape.h, min_w = pending[0].shape.w;
    for (const Tensor& t : pending) {
      min_h = std::min(min_h, t.shape.h);
      min_w = std::min(min_w, t.shape.w);
    }
    std::vector<Tensor> terms;
    Shape out{0, 0, 0};
    for (Tensor t : pending) {
      const int fh = RoundHalfEven(t.shape.h, min_h), fw = RoundHalfEven(t.shape.w, min_w);
      if (fh > 1 || fw > 1) t = Pool(t, OpKind::kMaxPool, OpRole::kTieUpPool, fh, fw, block, -1);
      out = {std::max(out.h, t.shape.h), std::max(out.w, t.shape.w), std::max(out.c, t.shape.c)};
      terms.push_back(t);
    }
    Op add;
    add.kind = OpKind::kAdd;
    add.role = OpRole::kTieUpAdd;
    add.out = out;
    add.block = block;
    return Add(std::move(add), terms);
  }

  Tensor Dense(Tensor x, int units, bool relu, OpRole role, int block) {
    Op op;
    op.kind = OpKind::kDense;
    op.role = role;
    op.out = {1, 1, units};
    op.has_relu = relu;
    op.block = block;
    return Add(std::move(op), {x});
  }

  Network Finish() && { return std::move(net_); }

 private:
  Tensor Add(Op op, const std::vector<Tensor>& inputs) {
    op.in = inputs[0].shape;
    for (const Tensor& t : inputs) op.inputs.push_back(t.op);
    net_.ops.push_back(std::move(op));
    return {static_cast<int>(net_.ops.size()) - 1, net_.ops.back().out};
  }

  Network net_;
};

}  // namespace

int RoundHalfEven(int numerator, int denominator) {
  const int q = numerator / denominator, r = numerator % denominator;
  if (2 * r < denominator) return q;
  if (2 * r > denominator) return q + 1;
  return q % 2 == 0 ? q : q + 1;
}

std::string Shape::ToString() const {
  if (h == 1 && w == 1) return std::to_string(c);
  return std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
}

const char* OpKindName(OpKind kind) {
  static constexpr Spelling<OpKind> kKinds[] = {{OpKind::kConv2D, "conv"},     {OpKind::kDWConv2D, "dwconv"},
                                                {OpKind::kMaxPool, "maxpool"}, {OpKind::kAvgPool, "avgpool"},
                                                {OpKind::kAdd, "add"},         {OpKind::kDense, "dense"}};
  return NameIn(kKinds, kind);
}

const char* OpRoleName(OpRole role) {
  static constexpr Spelling<OpRole> kRoles[] = {{OpRole::kLayer, "layer"},
                                                {OpRole::kPrepool, "prepool"},
                                                {OpRole::kBranchProjection, "branch_projection"},
                                                {OpRole::kTieUpPool, "tieup_pool"},
                                                {OpRole::kTieUpAdd, "tieup_add"},
                                                {OpRole::kPooling, "pooling"},
                                                {OpRole::kDenseBlock, "dense_block"},
                                                {OpRole::kClassifier, "classifier"}};
  return NameIn(kRoles, role);
}

int64_t Op::weight_count() const {
  switch (kind) {
    case OpKind::kConv2D: return int64_t{kernel} * kernel * in.c * out.c;
    case OpKind::kDWConv2D: return int64_t{kernel} * kernel * in.c;
    case OpKind::kDense: return in.elements() * out.c;
    default: return 0;
  }
}

int64_t Op::bias_count() const {
  switch (kind) {
    case OpKind::kConv2D:
    case OpKind::kDWConv2D:
    case OpKind::kDense: return out.c;
    default: return 0;
  }
}

int64_t Op::macs() const {
  switch (kind) {
    case OpKind::kConv2D: return out.elements() * kernel * kernel * in.c;
    case OpKind::kDWConv2D: return out.elements() * kernel * kernel;
    case OpKind::kMaxPool:
    case OpKind::kAvgPool: return out.elements() * pool_h * pool_w;
    case OpKind::kDense: return in.elements() * out.c;
    case OpKind::kAdd: return static_cast<int64_t>(inputs.size() - 1) * out.elements();
  }
  return 0;
}

std::string Op::Describe() const {
  const std::string k = std::to_string(kernel);
  switch (kind) {
    case OpKind::kConv2D:
      return (kernel == 1 ? std::string("conv 1x1") : "conv " + k + "x" + k) +
             (stride == 2 ? "/2" : "") + " x" + std::to_string(out.c) + (has_bn ? " bn" : "") +
             (has_relu ? " relu" : "");
    case OpKind::kDWConv2D:
      return "dwconv " + k + "x" + k + (stride == 2 ? "/2" : "") + (has_bn ? " bn" : "") +
             (has_relu ? " relu" : "");
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
      return std::string(OpKindName(kind)) + " " + std::to_string(pool_h) + "x" + std::to_string(pool_w);
    case OpKind::kAdd: return "add " + std::to_string(inputs.size()) + " terms";
    case OpKind::kDense: return "dense " + std::to_string(out.c) + (has_relu ? " relu" : "");
  }
  return "?";
}

Result<Network> BuildNetwork(const Candidate& candidate, const InputSpec& input) {
  UNAS_RETURN_IF_ERROR(ValidateCandidate(candidate));
  if (input.height < 1 || input.width < 1 || input.channels < 1 || input.num_classes < 2) {
    return Status::Invalid("input: shape and class count must be positive (at least 2 classes)");
  }
  Builder b(input);
  Tensor li{kNetworkInput, {input.height, input.width, input.channels}};
  std::vector<Tensor> pending = {li};
  for (size_t bi = 0; bi < candidate.conv_blocks.size(); ++bi) {
    const ConvBlock& block = candidate.conv_blocks[bi];
    const int block_index = static_cast<int>(bi);
    const int n = static_cast<int>(block.layers.size());
    if (!block.is_branch) {
      li = b.TieUp(pending, block_index);
      Tensor x = li;
      for (int l = 0; l < n; ++l) {
        x = b.ConvLayer(x, block.layers[l], block.layers[l].filters, OpRole::kLayer, block_index, l);
      }
      pending = {x};
      continue;
    }
    // A branch must end with the main path's channel count so it can be added.
    const int main_channels = pending[0].shape.c;
    Tensor x = li;
    for (int l = 0; l < n; ++l) {
      const Layer& layer = block.layers[l];
      const int filters = l == n - 1 ? main_channels : layer.filters;
      x = b.ConvLayer(x, layer, filters, OpRole::kLayer, block_index, l);
    }
    if (block.layers.back().type == LayerType::kDWConv2D) {
      Layer projection;
      projection.type = LayerType::kConv1x1;
      projection.filters = main_channels;
      x = b.ConvLayer(x, projection, main_channels, OpRole::kBranchProjection, block_index, n);
    }
    pending.push_back(x);
  }
  Tensor x = b.TieUp(pending, static_cast<int>(candidate.conv_blocks.size()));
  if (candidate.pooling) {
    const OpKind kind = candidate.pooling->type == PoolType::kAvg ? OpKind::kAvgPool : OpKind::kMaxPool;
    x = b.Pool(x, kind, OpRole::kPooling, candidate.pooling->pool_size, candidate.pooling->pool_size, -1, -1);
  }
  for (size_t d = 0; d < candidate.dense_blocks.size(); ++d) {
    x = b.Dense(x, candidate.dense_blocks[d].units, true, OpRole::kDenseBlock, static_cast<int>(d));
  }
  b.Dense(x, input.num_classes == 2 ? 1 : input.num_classes, false, OpRole::kClassifier, -1);
  return std::move(b).Finish();
}

}  // namespace unas
