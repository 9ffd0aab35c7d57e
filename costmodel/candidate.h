// The μNAS candidate format (see docs/cost-model.md): the architecture a
// search proposes, independent of the data set it is trained on.
//
// Parsing validates every key, type and bound and names the offending one in
// its error; the parsed struct is always inside the search space.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace unas {

enum class LayerType { kConv2D, kConv1x1, kDWConv2D };
enum class PoolType { kAvg, kMax };

const char* LayerTypeName(LayerType type);  // "Conv2D", "1x1Conv2D", "DWConv2D"
const char* PoolTypeName(PoolType type);    // "avg", "max"

// Bounds of the search space (μNAS's schema maxima; random draws stay below).
struct SpaceBounds {
  static constexpr int kMinConvBlocks = 1, kMaxConvBlocks = 10;
  static constexpr int kMinLayers = 1, kMaxLayers = 3;
  static constexpr int kMinFilters = 1, kMaxFilters = 128;
  static constexpr int kMinKernel = 3, kMaxKernel = 7;  // odd sizes only: 3, 5, 7
  static constexpr int kMinPool = 2, kMaxPool = 6;      // even sizes only: 2, 4, 6
  static constexpr int kMinDenseBlocks = 1, kMaxDenseBlocks = 3;
  static constexpr int kMinUnits = 10, kMaxUnits = 256;
};

struct Layer {
  LayerType type = LayerType::kConv2D;
  int ker_size = 3;      // Conv2D and DWConv2D only
  int filters = 1;       // Conv2D and 1x1Conv2D only
  bool stride2 = false;  // "2x_stride"; Conv2D and DWConv2D only
  bool has_prepool = false;
  bool has_bn = false;
  bool has_relu = false;

  bool HasKernel() const { return type != LayerType::kConv1x1; }
  bool HasFilters() const { return type != LayerType::kDWConv2D; }
  bool operator==(const Layer& other) const;
};

struct ConvBlock {
  bool is_branch = false;
  std::vector<Layer> layers;
  bool operator==(const ConvBlock& other) const {
    return is_branch == other.is_branch && layers == other.layers;
  }
};

struct Pooling {
  PoolType type = PoolType::kAvg;
  int pool_size = 2;
  bool operator==(const Pooling& other) const {
    return type == other.type && pool_size == other.pool_size;
  }
};

struct DenseBlock {
  int units = 10;  // always followed by ReLU
  bool operator==(const DenseBlock& other) const { return units == other.units; }
};

struct Candidate {
  std::vector<ConvBlock> conv_blocks;
  std::optional<Pooling> pooling;
  std::vector<DenseBlock> dense_blocks;
  bool operator==(const Candidate& other) const {
    return conv_blocks == other.conv_blocks && pooling == other.pooling &&
           dense_blocks == other.dense_blocks;
  }
  bool operator!=(const Candidate& other) const { return !(*this == other); }
};

// The data set's side of a network: input [H, W, C] and the number of classes.
struct InputSpec {
  int height = 28;
  int width = 28;
  int channels = 1;
  int num_classes = 10;
};

// Parses and validates a candidate. Errors name the JSON path of the bad key or
// value and the allowed values, e.g.
//   conv_blocks[1].layers[0].ker_size: 4 is not allowed (3, 5 or 7)
Result<Candidate> CandidateFromJson(const nlohmann::json& json);
Result<Candidate> ParseCandidate(const std::string& text);

// Checks the bounds of an already built candidate (used by search, which builds
// candidates without JSON). Same messages as parsing.
Status ValidateCandidate(const Candidate& candidate);

// Serialises in the μNAS format, keys in a fixed order, only the keys that
// apply to each layer type. CandidateFromJson(CandidateToJson(c)) == c.
nlohmann::json CandidateToJson(const Candidate& candidate);

// Parses and validates an input shape "H,W,C" or [H, W, C] plus class count.
Result<InputSpec> MakeInputSpec(const std::vector<long long>& shape, long long num_classes);
Result<InputSpec> InputSpecFromJson(const nlohmann::json& shape, const nlohmann::json& classes);

}  // namespace unas
