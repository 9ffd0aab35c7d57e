// μNAS's search space: its random candidate distribution and its one-step
// mutations (docs: ../shared/spec/search-space.md sections 1 and 2).
//
// Random draws follow μNAS exactly, including its exclusive upper ends: 1-9
// conv blocks, 1-2 layers per block, filters 1-127, kernel 3 or 5, pool size 2
// or 4, 1-2 dense blocks of 10-255 units. Mutations may reach the schema
// maxima (10 blocks, 3 layers, 128 filters, kernel 7, pool 6, 3 dense blocks,
// 256 units). Every candidate produced here passes ValidateCandidate.
//
// Mutation enumeration. Each entry of EnumerateMutations is one mutation; a
// random mutation is one entry drawn uniformly and then applied. Entries whose
// outcome has a random part (a new layer, block or pooling, which layer to
// remove, where to insert) draw it when applied. Block removal is enumerated
// per block: the spec's "remove a random block" and "remove a one-layer block"
// overlap (μNAS lists both, so the same network could appear twice), and
// listing "remove block i" once per block gives each distinct network once.
// Layer removal, layer insertion and dense-block removal stay one random entry
// per block as in μNAS (no other rule produces their outcomes). With this, the
// worked example (examples/worked_example.json) has exactly 64 mutations and
// they give 64 distinct networks.
//
// Thread-safe: pure functions; randomness comes from the caller's generator.
#pragma once

#include <string>
#include <vector>

#include "costmodel/candidate.h"
#include "search/rng.h"

namespace unas::search {

// μNAS's distribution (spec section 1).
Layer RandomLayer(Rng& rng);
Layer RandomLayerOfType(Rng& rng, LayerType type);
ConvBlock RandomConvBlock(Rng& rng, int block_index, int num_layers);
Pooling RandomPooling(Rng& rng);
DenseBlock RandomDenseBlock(Rng& rng);
Candidate RandomCandidate(Rng& rng);

enum class MutationKind {
  kRemoveBlock,     // block: removes it (the next branch, if any, may become normal)
  kAppendBlock,     // appends a random one-layer block
  kToggleBranch,    // block (not 0)
  kRemoveLayer,     // block: removes a uniformly random layer
  kInsertLayer,     // block: inserts a random layer at a random index in [0, n-1]
  kToggleBn,        // block, layer
  kToggleRelu,      // block, layer
  kTogglePrepool,   // block, layer
  kChangeType,      // block, layer, new_type: a fresh random layer of that type
  kFilters,         // block, layer, delta (±1, ±3, ±5)
  kKernel,          // block, layer, delta (±2)
  kToggleStride,    // block, layer
  kTogglePooling,   // removes the pooling, or adds a random one
  kFlipPoolType,
  kPoolSize,        // delta (±2)
  kRemoveDense,     // removes a uniformly random dense block
  kAppendDense,     // appends a random dense block
  kUnits,           // dense block, delta (±1, ±3, ±5)
};

struct Mutation {
  MutationKind kind = MutationKind::kAppendBlock;
  int block = -1;  // conv block, or dense block for kUnits
  int layer = -1;
  int delta = 0;
  LayerType new_type = LayerType::kConv2D;
  std::string Describe() const;  // e.g. "filters b1 l0 +3"
};

// All one-step mutations of a valid candidate, in a fixed order.
std::vector<Mutation> EnumerateMutations(const Candidate& candidate);

// Applies one enumerated mutation. The candidate must be valid and the
// mutation one of EnumerateMutations(candidate); the result is valid.
Candidate ApplyMutation(const Candidate& candidate, const Mutation& mutation, Rng& rng);

// One mutation drawn uniformly from the enumeration, applied.
Candidate RandomMutation(const Candidate& candidate, Rng& rng);

}  // namespace unas::search
