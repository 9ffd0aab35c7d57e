// Test-only: networks, hand-made quantisation and an int8 reference at the
// Network's level, until the quant branch's quantiser and RunInt8 land (then
// HandQuantize gives way to Quantize + FromModelGraph and RunInt8Network to
// RunInt8 on the quantised graph).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "costmodel/candidate.h"
#include "costmodel/network.h"
#include "firmware/quantized_network.h"

namespace unas::firmware::testing {

// A random candidate small enough to compile and run quickly (at most 4
// blocks of 16 filters, dense blocks of at most 24 units).
Candidate SmallRandomCandidate(std::mt19937_64& rng);

// Random int8 weights and biases with per-channel scales, and activation
// scales chosen from each op's fan-in so that outputs use the int8 range
// without saturating wholesale. Deterministic in `seed`.
QuantizedNetwork HandQuantize(const Network& network, uint64_t seed);

// `count` random int8 inputs, concatenated.
std::vector<int8_t> RandomInputs(const Network& network, int count, uint64_t seed);

// The int8 network run op by op, each tensor in its own buffer, with TFLite's
// reference-kernel arithmetic (independent of the C kernels).
std::vector<int8_t> RunInt8Network(const QuantizedNetwork& q, const std::vector<int8_t>& input);

}  // namespace unas::firmware::testing
