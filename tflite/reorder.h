// Permutes the operator list of a .tflite file in place, keeping every other
// byte: buffers, tensors, metadata, signatures, options and fields this
// project's schema does not know. TFLM runs operators in stored order, so
// this is how a better execution order (lower peak memory) is deployed.
//
// How: the first subgraph's `operators` vector holds one uoffset per
// operator, each pointing forward to that operator's table. Only those slots
// are rewritten, each to point at the table of the operator that now takes
// its place; no table moves. This needs every operator table to lie after the
// vector (flatbuffers' builders always place them so; checked, with a clear
// error otherwise). The result goes through the reader again (Verifier
// included) before it is returned.
//
// `order[i]` is the index, in the file, of the operator to run at position i.
// Errors (kInvalidArgument, message starting "tflite reorder: "): the file
// does not read (the reader's message), `order` is not a permutation of
// 0..N-1, or it runs an operator before one that writes a tensor it reads
// (graph inputs, constants, variables and tensors no operator writes are
// available from the start).
//
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <vector>

#include "costmodel/status.h"

namespace unas {

Result<std::vector<uint8_t>> ReorderOperators(const std::vector<uint8_t>& file, const std::vector<int>& order);

}  // namespace unas
