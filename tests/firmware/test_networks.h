// Test-only: small random networks, quantised by quant/'s real quantiser
// (random float weights, calibrated on random images) and extracted with
// FromModelGraph; the reference is quant::RunInt8 on the quantised graph.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "costmodel/candidate.h"
#include "costmodel/model_graph.h"
#include "costmodel/network.h"
#include "costmodel/status.h"
#include "firmware/quantized_network.h"

namespace unas::firmware::testing {

// A random candidate small enough to compile and run quickly (at most 4
// blocks of 16 filters, dense blocks of at most 24 units).
Candidate SmallRandomCandidate(std::mt19937_64& rng);

struct QuantisedModel {
  ModelGraph graph;     // quant::QuantizeWithImages's int8 graph
  QuantizedNetwork q;   // FromModelGraph(network, graph)
};
// RandomWeights(network, seed), calibrated on 4 random images. Deterministic.
Result<QuantisedModel> QuantiseRandom(const Network& network, uint64_t seed);

// `count` random int8 inputs, concatenated.
std::vector<int8_t> RandomInputs(const Network& network, int count, uint64_t seed);

}  // namespace unas::firmware::testing
