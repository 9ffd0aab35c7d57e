#include "search/canonical.h"

#include <string>

namespace unas::search {

Candidate Canonicalise(const Candidate& candidate) {
  Candidate c = candidate;
  for (ConvBlock& block : c.conv_blocks) {
    for (Layer& layer : block.layers) {
      if (!layer.HasKernel()) {
        layer.ker_size = 3;
        layer.stride2 = false;
      }
      if (!layer.HasFilters()) layer.filters = 1;
    }
  }
  return c;
}

namespace {

void Append(std::string& out, const char* text) { out += text; }
void Append(std::string& out, bool value) { out += value ? "true" : "false"; }
void Append(std::string& out, int value) { out += std::to_string(value); }

}  // namespace

std::string CanonicalJson(const Candidate& candidate) {
  // CandidateToJson(candidate).dump(), byte for byte, without building the
  // json tree (a fifth of a random proposal's CPU went to it): compact, keys
  // in nlohmann's sorted order, only the keys that apply to each layer type,
  // so the fields Canonicalise resets are never written. The names are plain
  // identifiers (no escaping). canonical_test compares the two texts.
  std::string out;
  out.reserve(128 + 160 * candidate.conv_blocks.size());
  Append(out, "{\"conv_blocks\":[");
  for (size_t b = 0; b < candidate.conv_blocks.size(); ++b) {
    const ConvBlock& block = candidate.conv_blocks[b];
    Append(out, b ? ",{\"is_branch\":" : "{\"is_branch\":");
    Append(out, block.is_branch);
    Append(out, ",\"layers\":[");
    for (size_t i = 0; i < block.layers.size(); ++i) {
      const Layer& l = block.layers[i];
      Append(out, i ? ",{" : "{");
      if (l.HasKernel()) {
        Append(out, "\"2x_stride\":");
        Append(out, l.stride2);
        Append(out, ",");
      }
      if (l.HasFilters()) {
        Append(out, "\"filters\":");
        Append(out, l.filters);
        Append(out, ",");
      }
      Append(out, "\"has_bn\":");
      Append(out, l.has_bn);
      Append(out, ",\"has_prepool\":");
      Append(out, l.has_prepool);
      Append(out, ",\"has_relu\":");
      Append(out, l.has_relu);
      if (l.HasKernel()) {
        Append(out, ",\"ker_size\":");
        Append(out, l.ker_size);
      }
      Append(out, ",\"type\":\"");
      Append(out, LayerTypeName(l.type));
      Append(out, "\"}");
    }
    Append(out, "]}");
  }
  Append(out, "],\"dense_blocks\":[");
  for (size_t d = 0; d < candidate.dense_blocks.size(); ++d) {
    Append(out, d ? ",{\"activation\":\"relu\",\"units\":" : "{\"activation\":\"relu\",\"units\":");
    Append(out, candidate.dense_blocks[d].units);
    Append(out, "}");
  }
  Append(out, "],\"pooling\":");
  if (candidate.pooling) {
    Append(out, "{\"pool_size\":");
    Append(out, candidate.pooling->pool_size);
    Append(out, ",\"type\":\"");
    Append(out, PoolTypeName(candidate.pooling->type));
    Append(out, "\"}");
  } else {
    Append(out, "null");
  }
  Append(out, "}");
  return out;
}

uint64_t Fnv1a64(const std::string& bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

uint64_t CandidateHash(const Candidate& candidate) { return Fnv1a64(CanonicalJson(candidate)); }

}  // namespace unas::search
