#include "costmodel/candidate.h"

#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/spelling.h"
#include "base/json_limits.h"

namespace unas {
namespace {

using nlohmann::json;

std::string Show(const json& value) {
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

// Keys starting with '_' are annotations (μNAS stores derived values there).
Status CheckKeys(const json& object, const std::set<std::string>& allowed, const std::string& what) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    if (!key.empty() && key[0] == '_') continue;
    if (allowed.count(key) == 0) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return Status::Invalid("unknown key '" + QuotePrefix(key) + "' in " + what + " (allowed: " + list + ")");
    }
  }
  return Status::Ok();
}

Result<const json*> Field(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return Status::Invalid(std::string("missing key '") + key + "'");
  return &*it;
}

Result<bool> GetBool(const json& object, const char* key) {
  UNAS_ASSIGN_OR_RETURN(const json* value, Field(object, key));
  if (!value->is_boolean()) {
    return Status::Invalid(std::string(key) + ": expected true or false, got " + Show(*value));
  }
  return value->get<bool>();
}

Result<long long> GetInt(const json& value, const std::string& name) {
  if (value.is_number_integer()) return value.get<long long>();
  if (value.is_number_unsigned()) {
    auto u = value.get<unsigned long long>();
    if (u > 1000000000ULL) return Status::OutOfRange(name + ": " + Show(value) + " is far too large");
    return static_cast<long long>(u);
  }
  return Status::Invalid(name + ": expected an integer, got " + Show(value));
}

Result<int> GetIntInRange(const json& object, const char* key, int lo, int hi) {
  UNAS_ASSIGN_OR_RETURN(const json* value, Field(object, key));
  UNAS_ASSIGN_OR_RETURN(long long v, GetInt(*value, key));
  if (v < lo || v > hi) {
    return Status::OutOfRange(std::string(key) + ": " + std::to_string(v) + " is outside " +
                              std::to_string(lo) + ".." + std::to_string(hi));
  }
  return static_cast<int>(v);
}

Status CheckKernel(long long k) {
  if (k < SpaceBounds::kMinKernel || k > SpaceBounds::kMaxKernel || k % 2 == 0) {
    return Status::OutOfRange("ker_size: " + std::to_string(k) + " is not allowed (3, 5 or 7)");
  }
  return Status::Ok();
}

Status CheckPool(int p) {
  if (p < SpaceBounds::kMinPool || p > SpaceBounds::kMaxPool || p % 2 != 0) {
    return Status::OutOfRange("pool_size: " + std::to_string(p) + " is not allowed (2, 4 or 6)");
  }
  return Status::Ok();
}

Status CheckRange(int v, int lo, int hi, const char* key) {
  if (v < lo || v > hi) {
    return Status::OutOfRange(std::string(key) + ": " + std::to_string(v) + " is outside " +
                              std::to_string(lo) + ".." + std::to_string(hi));
  }
  return Status::Ok();
}

Result<Layer> LayerFromJson(const json& j) {
  if (!j.is_object()) return Status::Invalid("expected an object, got " + Show(j));
  UNAS_ASSIGN_OR_RETURN(const json* type_value, Field(j, "type"));
  if (!type_value->is_string()) return Status::Invalid("type: expected a string, got " + Show(*type_value));
  const std::string type = type_value->get<std::string>();
  Layer layer;
  std::set<std::string> keys = {"type", "has_prepool", "has_bn", "has_relu"};
  if (type == "Conv2D") {
    layer.type = LayerType::kConv2D;
    keys.insert({"ker_size", "filters", "2x_stride"});
  } else if (type == "1x1Conv2D") {
    layer.type = LayerType::kConv1x1;
    keys.insert("filters");
  } else if (type == "DWConv2D") {
    layer.type = LayerType::kDWConv2D;
    keys.insert({"ker_size", "2x_stride"});
  } else {
    return Status::Invalid("type: '" + QuotePrefix(type) + "' is not a layer type (Conv2D, 1x1Conv2D or DWConv2D)");
  }
  UNAS_RETURN_IF_ERROR(CheckKeys(j, keys, type + " layer"));
  UNAS_ASSIGN_OR_RETURN(layer.has_prepool, GetBool(j, "has_prepool"));
  UNAS_ASSIGN_OR_RETURN(layer.has_bn, GetBool(j, "has_bn"));
  UNAS_ASSIGN_OR_RETURN(layer.has_relu, GetBool(j, "has_relu"));
  if (layer.HasKernel()) {
    UNAS_ASSIGN_OR_RETURN(const json* k, Field(j, "ker_size"));
    UNAS_ASSIGN_OR_RETURN(long long kv, GetInt(*k, "ker_size"));
    UNAS_RETURN_IF_ERROR(CheckKernel(kv));  // the value as sent, before narrowing
    layer.ker_size = static_cast<int>(kv);
    UNAS_ASSIGN_OR_RETURN(layer.stride2, GetBool(j, "2x_stride"));
  }
  if (layer.HasFilters()) {
    UNAS_ASSIGN_OR_RETURN(layer.filters,
                          GetIntInRange(j, "filters", SpaceBounds::kMinFilters, SpaceBounds::kMaxFilters));
  }
  return layer;
}

Result<ConvBlock> BlockFromJson(const json& j) {
  if (!j.is_object()) return Status::Invalid("expected an object, got " + Show(j));
  UNAS_RETURN_IF_ERROR(CheckKeys(j, {"is_branch", "layers"}, "conv block"));
  ConvBlock block;
  UNAS_ASSIGN_OR_RETURN(block.is_branch, GetBool(j, "is_branch"));
  UNAS_ASSIGN_OR_RETURN(const json* layers, Field(j, "layers"));
  if (!layers->is_array()) return Status::Invalid("layers: expected an array, got " + Show(*layers));
  if (layers->size() < SpaceBounds::kMinLayers || layers->size() > SpaceBounds::kMaxLayers) {
    return Status::OutOfRange("layers: " + std::to_string(layers->size()) + " layers, allowed 1..3");
  }
  for (size_t i = 0; i < layers->size(); ++i) {
    auto layer = LayerFromJson((*layers)[i]);
    if (!layer.ok()) return layer.status().WithContext("layers[" + std::to_string(i) + "]");
    block.layers.push_back(*layer);
  }
  return block;
}

Result<Pooling> PoolingFromJson(const json& j) {
  if (!j.is_object()) return Status::Invalid("expected an object or null, got " + Show(j));
  UNAS_RETURN_IF_ERROR(CheckKeys(j, {"type", "pool_size"}, "pooling"));
  Pooling pooling;
  UNAS_ASSIGN_OR_RETURN(const json* type, Field(j, "type"));
  if (*type == "avg") {
    pooling.type = PoolType::kAvg;
  } else if (*type == "max") {
    pooling.type = PoolType::kMax;
  } else {
    return Status::Invalid("type: " + Show(*type) + " is not a pooling type (avg or max)");
  }
  UNAS_ASSIGN_OR_RETURN(const json* size, Field(j, "pool_size"));
  UNAS_ASSIGN_OR_RETURN(long long p, GetInt(*size, "pool_size"));
  if (p < 0 || p > 1000) return CheckPool(1000);
  pooling.pool_size = static_cast<int>(p);
  UNAS_RETURN_IF_ERROR(CheckPool(pooling.pool_size));
  return pooling;
}

Result<DenseBlock> DenseFromJson(const json& j) {
  if (!j.is_object()) return Status::Invalid("expected an object, got " + Show(j));
  UNAS_RETURN_IF_ERROR(CheckKeys(j, {"units", "activation"}, "dense block"));
  DenseBlock dense;
  UNAS_ASSIGN_OR_RETURN(dense.units,
                        GetIntInRange(j, "units", SpaceBounds::kMinUnits, SpaceBounds::kMaxUnits));
  auto act = j.find("activation");
  if (act != j.end() && !(act->is_null() || *act == "relu")) {
    return Status::Invalid("activation: " + Show(*act) + " is not supported (dense blocks use relu)");
  }
  return dense;
}

Status ValidateLayer(const Layer& layer) {
  if (layer.HasKernel()) UNAS_RETURN_IF_ERROR(CheckKernel(layer.ker_size));
  if (layer.HasFilters()) {
    UNAS_RETURN_IF_ERROR(
        CheckRange(layer.filters, SpaceBounds::kMinFilters, SpaceBounds::kMaxFilters, "filters"));
  }
  return Status::Ok();
}

}  // namespace

const char* LayerTypeName(LayerType type) {
  static constexpr Spelling<LayerType> kLayerTypes[] = {
      {LayerType::kConv2D, "Conv2D"}, {LayerType::kConv1x1, "1x1Conv2D"}, {LayerType::kDWConv2D, "DWConv2D"}};
  return NameIn(kLayerTypes, type);
}

const char* PoolTypeName(PoolType type) { return type == PoolType::kAvg ? "avg" : "max"; }

bool Layer::operator==(const Layer& other) const {
  if (type != other.type || has_prepool != other.has_prepool || has_bn != other.has_bn ||
      has_relu != other.has_relu) {
    return false;
  }
  if (HasKernel() && (ker_size != other.ker_size || stride2 != other.stride2)) return false;
  if (HasFilters() && filters != other.filters) return false;
  return true;
}

Status ValidateCandidate(const Candidate& c) {
  const int n = static_cast<int>(c.conv_blocks.size());
  if (n < SpaceBounds::kMinConvBlocks || n > SpaceBounds::kMaxConvBlocks) {
    return Status::OutOfRange("conv_blocks: " + std::to_string(n) + " blocks, allowed 1..10");
  }
  for (int b = 0; b < n; ++b) {
    const std::string where = "conv_blocks[" + std::to_string(b) + "]";
    const ConvBlock& block = c.conv_blocks[b];
    if (b == 0 && block.is_branch) {
      return Status::Invalid(where + ".is_branch: the first block cannot be a branch");
    }
    const int layers = static_cast<int>(block.layers.size());
    if (layers < SpaceBounds::kMinLayers || layers > SpaceBounds::kMaxLayers) {
      return Status::OutOfRange(where + ".layers: " + std::to_string(layers) + " layers, allowed 1..3");
    }
    for (int l = 0; l < layers; ++l) {
      UNAS_RETURN_IF_ERROR(
          ValidateLayer(block.layers[l]).WithContext(where + ".layers[" + std::to_string(l) + "]"));
    }
  }
  if (c.pooling) UNAS_RETURN_IF_ERROR(CheckPool(c.pooling->pool_size).WithContext("pooling"));
  const int d = static_cast<int>(c.dense_blocks.size());
  if (d < SpaceBounds::kMinDenseBlocks || d > SpaceBounds::kMaxDenseBlocks) {
    return Status::OutOfRange("dense_blocks: " + std::to_string(d) + " blocks, allowed 1..3");
  }
  for (int i = 0; i < d; ++i) {
    UNAS_RETURN_IF_ERROR(CheckRange(c.dense_blocks[i].units, SpaceBounds::kMinUnits,
                                    SpaceBounds::kMaxUnits, "units")
                             .WithContext("dense_blocks[" + std::to_string(i) + "]"));
  }
  return Status::Ok();
}

Result<Candidate> CandidateFromJson(const json& j) {
  if (!j.is_object()) return Status::Invalid("architecture: expected an object, got " + Show(j));
  UNAS_RETURN_IF_ERROR(CheckKeys(j, {"conv_blocks", "pooling", "dense_blocks"}, "architecture"));
  Candidate c;
  UNAS_ASSIGN_OR_RETURN(const json* blocks, Field(j, "conv_blocks"));
  if (!blocks->is_array()) return Status::Invalid("conv_blocks: expected an array, got " + Show(*blocks));
  for (size_t i = 0; i < blocks->size(); ++i) {
    auto block = BlockFromJson((*blocks)[i]);
    if (!block.ok()) return block.status().WithContext("conv_blocks[" + std::to_string(i) + "]");
    c.conv_blocks.push_back(std::move(block).value());
  }
  auto pooling = j.find("pooling");
  if (pooling == j.end()) return Status::Invalid("missing key 'pooling' (use null for none)");
  if (!pooling->is_null()) {
    auto p = PoolingFromJson(*pooling);
    if (!p.ok()) return p.status().WithContext("pooling");
    c.pooling = *p;
  }
  UNAS_ASSIGN_OR_RETURN(const json* dense, Field(j, "dense_blocks"));
  if (!dense->is_array()) return Status::Invalid("dense_blocks: expected an array, got " + Show(*dense));
  for (size_t i = 0; i < dense->size(); ++i) {
    auto block = DenseFromJson((*dense)[i]);
    if (!block.ok()) return block.status().WithContext("dense_blocks[" + std::to_string(i) + "]");
    c.dense_blocks.push_back(*block);
  }
  UNAS_RETURN_IF_ERROR(ValidateCandidate(c));
  return c;
}

Result<Candidate> ParseCandidate(const std::string& text) {
  auto j = ParseLimitedJson(text);
  if (!j.ok()) return j.status();
  return CandidateFromJson(*j);
}

json CandidateToJson(const Candidate& c) {
  json blocks = json::array();
  for (const ConvBlock& block : c.conv_blocks) {
    json layers = json::array();
    for (const Layer& l : block.layers) {
      json layer = json::object();
      layer["type"] = LayerTypeName(l.type);
      if (l.HasKernel()) layer["ker_size"] = l.ker_size;
      if (l.HasFilters()) layer["filters"] = l.filters;
      if (l.HasKernel()) layer["2x_stride"] = l.stride2;
      layer["has_prepool"] = l.has_prepool;
      layer["has_bn"] = l.has_bn;
      layer["has_relu"] = l.has_relu;
      layers.push_back(std::move(layer));
    }
    blocks.push_back({{"is_branch", block.is_branch}, {"layers", std::move(layers)}});
  }
  json dense = json::array();
  for (const DenseBlock& d : c.dense_blocks) dense.push_back({{"units", d.units}, {"activation", "relu"}});
  json out = json::object();
  out["conv_blocks"] = std::move(blocks);
  out["pooling"] = c.pooling ? json{{"type", PoolTypeName(c.pooling->type)},
                                    {"pool_size", c.pooling->pool_size}}
                             : json(nullptr);
  out["dense_blocks"] = std::move(dense);
  return out;
}

Result<InputSpec> MakeInputSpec(const std::vector<long long>& shape, long long num_classes) {
  if (shape.size() != 3) {
    return Status::Invalid("input_shape: expected 3 values [H, W, C], got " + std::to_string(shape.size()));
  }
  const char* names[] = {"H", "W", "C"};
  const long long limits[] = {4096, 4096, 64};
  for (int i = 0; i < 3; ++i) {
    if (shape[i] < 1 || shape[i] > limits[i]) {
      return Status::OutOfRange(std::string("input_shape: ") + names[i] + " = " + std::to_string(shape[i]) +
                                " is outside 1.." + std::to_string(limits[i]));
    }
  }
  if (num_classes < 2 || num_classes > 100000) {
    return Status::OutOfRange("num_classes: " + std::to_string(num_classes) + " is outside 2..100000");
  }
  InputSpec spec;
  spec.height = static_cast<int>(shape[0]);
  spec.width = static_cast<int>(shape[1]);
  spec.channels = static_cast<int>(shape[2]);
  spec.num_classes = static_cast<int>(num_classes);
  return spec;
}

Result<InputSpec> InputSpecFromJson(const json& shape, const json& classes) {
  if (!shape.is_array()) return Status::Invalid("input_shape: expected [H, W, C], got " + Show(shape));
  std::vector<long long> dims;
  for (const json& d : shape) {
    UNAS_ASSIGN_OR_RETURN(long long v, GetInt(d, "input_shape"));
    dims.push_back(v);
  }
  UNAS_ASSIGN_OR_RETURN(long long k, GetInt(classes, "num_classes"));
  return MakeInputSpec(dims, k);
}

}  // namespace unas
