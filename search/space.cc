#include "search/space.h"

#include <cmath>

namespace unas::search {
namespace {

constexpr LayerType kLayerTypes[] = {LayerType::kConv2D, LayerType::kConv1x1, LayerType::kDWConv2D};
constexpr int kFilterDeltas[] = {-5, -3, -1, 1, 3, 5};
constexpr int kKernelStep = 2;
constexpr int kPoolStep = 2;

bool InRange(int v, int lo, int hi) { return lo <= v && v <= hi; }

// Removes conv block `index`; a non-branch block followed by a branch hands
// its role to that branch, which becomes a normal block (μNAS's rule), so
// block 0 is never a branch either.
void RemoveBlock(Candidate& c, int index) {
  const bool followed_by_branch = index + 1 < static_cast<int>(c.conv_blocks.size()) &&
                                  c.conv_blocks[index + 1].is_branch;
  if (!c.conv_blocks[index].is_branch && followed_by_branch) c.conv_blocks[index + 1].is_branch = false;
  c.conv_blocks.erase(c.conv_blocks.begin() + index);
  if (!c.conv_blocks.empty()) c.conv_blocks[0].is_branch = false;
}

}  // namespace

double StandardNormal(Rng& rng) {
  const double u1 = UniformOpen01(rng);
  const double u2 = Uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

Layer RandomLayerOfType(Rng& rng, LayerType type) {
  Layer layer;
  layer.type = type;
  // Kernel from {3, 5}: μNAS's range 3..7 step 2 with an exclusive upper end.
  if (layer.HasKernel()) layer.ker_size = 3 + kKernelStep * UniformInt(rng, 0, 2);
  if (layer.HasFilters()) layer.filters = UniformInt(rng, SpaceBounds::kMinFilters, SpaceBounds::kMaxFilters);
  if (layer.HasKernel()) layer.stride2 = Bernoulli(rng, 0.5);
  layer.has_bn = Bernoulli(rng, 0.5);
  layer.has_relu = Bernoulli(rng, 0.9);
  layer.has_prepool = Bernoulli(rng, 0.25);
  return layer;
}

Layer RandomLayer(Rng& rng) { return RandomLayerOfType(rng, kLayerTypes[UniformInt(rng, 0, 3)]); }

ConvBlock RandomConvBlock(Rng& rng, int block_index, int num_layers) {
  ConvBlock block;
  block.is_branch = block_index > 0 && Bernoulli(rng, 0.5);
  for (int i = 0; i < num_layers; ++i) block.layers.push_back(RandomLayer(rng));
  return block;
}

Pooling RandomPooling(Rng& rng) {
  Pooling p;
  p.type = Bernoulli(rng, 0.5) ? PoolType::kAvg : PoolType::kMax;
  p.pool_size = 2 + kPoolStep * UniformInt(rng, 0, 2);  // 2 or 4
  return p;
}

DenseBlock RandomDenseBlock(Rng& rng) {
  return DenseBlock{UniformInt(rng, SpaceBounds::kMinUnits, SpaceBounds::kMaxUnits)};
}

Candidate RandomCandidate(Rng& rng) {
  Candidate c;
  const int blocks = UniformInt(rng, SpaceBounds::kMinConvBlocks, SpaceBounds::kMaxConvBlocks);
  for (int b = 0; b < blocks; ++b) {
    const int layers = UniformInt(rng, SpaceBounds::kMinLayers, SpaceBounds::kMaxLayers);
    c.conv_blocks.push_back(RandomConvBlock(rng, b, layers));
  }
  if (Bernoulli(rng, 0.9)) c.pooling = RandomPooling(rng);
  const int dense = UniformInt(rng, SpaceBounds::kMinDenseBlocks, SpaceBounds::kMaxDenseBlocks);
  for (int d = 0; d < dense; ++d) c.dense_blocks.push_back(RandomDenseBlock(rng));
  return c;
}

std::string Mutation::Describe() const {
  static const char* const kNames[] = {
      "remove-block", "append-block", "toggle-branch", "remove-layer", "insert-layer",
      "toggle-bn",    "toggle-relu",  "toggle-prepool", "change-type", "filters",
      "kernel",       "toggle-stride", "toggle-pooling", "flip-pool-type", "pool-size",
      "remove-dense", "append-dense", "units"};
  std::string s = kNames[static_cast<int>(kind)];
  if (block >= 0) s += " b" + std::to_string(block);
  if (layer >= 0) s += " l" + std::to_string(layer);
  if (kind == MutationKind::kChangeType) s += std::string(" -> ") + LayerTypeName(new_type);
  if (delta != 0) s += (delta > 0 ? " +" : " ") + std::to_string(delta);
  return s;
}

std::vector<Mutation> EnumerateMutations(const Candidate& c) {
  std::vector<Mutation> out;
  auto add = [&out](MutationKind kind, int block = -1, int layer = -1, int delta = 0,
                    LayerType type = LayerType::kConv2D) {
    out.push_back(Mutation{kind, block, layer, delta, type});
  };
  const int blocks = static_cast<int>(c.conv_blocks.size());
  if (blocks > SpaceBounds::kMinConvBlocks) {
    for (int b = 0; b < blocks; ++b) add(MutationKind::kRemoveBlock, b);
  }
  if (blocks < SpaceBounds::kMaxConvBlocks) add(MutationKind::kAppendBlock);
  for (int b = 0; b < blocks; ++b) {
    const ConvBlock& block = c.conv_blocks[b];
    const int layers = static_cast<int>(block.layers.size());
    if (b > 0) add(MutationKind::kToggleBranch, b);
    if (layers > SpaceBounds::kMinLayers) add(MutationKind::kRemoveLayer, b);
    if (layers < SpaceBounds::kMaxLayers) add(MutationKind::kInsertLayer, b);
    for (int l = 0; l < layers; ++l) {
      const Layer& layer = block.layers[l];
      add(MutationKind::kToggleBn, b, l);
      add(MutationKind::kToggleRelu, b, l);
      add(MutationKind::kTogglePrepool, b, l);
      for (LayerType t : kLayerTypes) {
        if (t != layer.type) add(MutationKind::kChangeType, b, l, 0, t);
      }
      if (layer.HasFilters()) {
        for (int d : kFilterDeltas) {
          if (InRange(layer.filters + d, SpaceBounds::kMinFilters, SpaceBounds::kMaxFilters)) {
            add(MutationKind::kFilters, b, l, d);
          }
        }
      }
      if (layer.HasKernel()) {
        for (int d : {-kKernelStep, kKernelStep}) {
          if (InRange(layer.ker_size + d, SpaceBounds::kMinKernel, SpaceBounds::kMaxKernel)) {
            add(MutationKind::kKernel, b, l, d);
          }
        }
        add(MutationKind::kToggleStride, b, l);
      }
    }
  }
  add(MutationKind::kTogglePooling);
  if (c.pooling) {
    add(MutationKind::kFlipPoolType);
    for (int d : {-kPoolStep, kPoolStep}) {
      if (InRange(c.pooling->pool_size + d, SpaceBounds::kMinPool, SpaceBounds::kMaxPool)) {
        add(MutationKind::kPoolSize, -1, -1, d);
      }
    }
  }
  const int dense = static_cast<int>(c.dense_blocks.size());
  if (dense > SpaceBounds::kMinDenseBlocks) add(MutationKind::kRemoveDense);
  if (dense < SpaceBounds::kMaxDenseBlocks) add(MutationKind::kAppendDense);
  for (int i = 0; i < dense; ++i) {
    for (int d : kFilterDeltas) {
      if (InRange(c.dense_blocks[i].units + d, SpaceBounds::kMinUnits, SpaceBounds::kMaxUnits)) {
        add(MutationKind::kUnits, i, -1, d);
      }
    }
  }
  return out;
}

namespace {

// The layer flag a toggle mutation flips.
bool Layer::*ToggledFlag(MutationKind toggle) {
  switch (toggle) {
    case MutationKind::kToggleBn: return &Layer::has_bn;
    case MutationKind::kToggleRelu: return &Layer::has_relu;
    case MutationKind::kTogglePrepool: return &Layer::has_prepool;
    default: return &Layer::stride2;  // kToggleStride
  }
}

}  // namespace

Candidate ApplyMutation(const Candidate& parent, const Mutation& m, Rng& rng) {
  Candidate c = parent;
  switch (m.kind) {
    case MutationKind::kRemoveBlock:
      RemoveBlock(c, m.block);
      break;
    case MutationKind::kAppendBlock:
      c.conv_blocks.push_back(RandomConvBlock(rng, static_cast<int>(c.conv_blocks.size()), 1));
      break;
    case MutationKind::kToggleBranch:
      c.conv_blocks[m.block].is_branch = !c.conv_blocks[m.block].is_branch;
      break;
    case MutationKind::kRemoveLayer: {
      auto& layers = c.conv_blocks[m.block].layers;
      layers.erase(layers.begin() + UniformInt(rng, 0, static_cast<int>(layers.size())));
      break;
    }
    case MutationKind::kInsertLayer: {
      auto& layers = c.conv_blocks[m.block].layers;
      const int at = UniformInt(rng, 0, static_cast<int>(layers.size()));
      layers.insert(layers.begin() + at, RandomLayer(rng));
      break;
    }
    case MutationKind::kToggleBn:
    case MutationKind::kToggleRelu:
    case MutationKind::kTogglePrepool:
    case MutationKind::kToggleStride: {
      bool& flag = c.conv_blocks[m.block].layers[m.layer].*ToggledFlag(m.kind);
      flag = !flag;
      break;
    }
    case MutationKind::kChangeType:
      c.conv_blocks[m.block].layers[m.layer] = RandomLayerOfType(rng, m.new_type);
      break;
    case MutationKind::kFilters:
      c.conv_blocks[m.block].layers[m.layer].filters += m.delta;
      break;
    case MutationKind::kKernel:
      c.conv_blocks[m.block].layers[m.layer].ker_size += m.delta;
      break;
    case MutationKind::kTogglePooling:
      if (c.pooling) {
        c.pooling.reset();
      } else {
        c.pooling = RandomPooling(rng);
      }
      break;
    case MutationKind::kFlipPoolType:
      c.pooling->type = c.pooling->type == PoolType::kAvg ? PoolType::kMax : PoolType::kAvg;
      break;
    case MutationKind::kPoolSize:
      c.pooling->pool_size += m.delta;
      break;
    case MutationKind::kRemoveDense:
      c.dense_blocks.erase(c.dense_blocks.begin() +
                           UniformInt(rng, 0, static_cast<int>(c.dense_blocks.size())));
      break;
    case MutationKind::kAppendDense:
      c.dense_blocks.push_back(RandomDenseBlock(rng));
      break;
    case MutationKind::kUnits:
      c.dense_blocks[m.block].units += m.delta;
      break;
  }
  return c;
}

Candidate RandomMutation(const Candidate& candidate, Rng& rng) {
  const std::vector<Mutation> all = EnumerateMutations(candidate);
  return ApplyMutation(candidate, all[UniformInt(rng, 0, static_cast<int>(all.size()))], rng);
}

}  // namespace unas::search
