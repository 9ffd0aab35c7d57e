#include "search/canonical.h"

#include <nlohmann/json.hpp>

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

std::string CanonicalJson(const Candidate& candidate) {
  // CandidateToJson writes only the keys that apply to each layer type, and
  // nlohmann's default object keeps keys sorted, so dump() is canonical.
  return CandidateToJson(Canonicalise(candidate)).dump();
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
