// Names what is wrong with a flatbuffer that flatbuffers' Verifier rejected.
// The Verifier only answers yes or no; this walks the same structure with
// bounds-checked raw reads (root, vtables, the vectors and strings of the
// tables unas reads) and reports the first field whose offset or declared
// size leaves the file, e.g. "buffers[3].data declares 4294967295 bytes but
// 120 bytes follow it". Internal to tflite/.
//
// Thread safety: pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace unas::tflite_internal {

// A description of the first out-of-bounds offset or size found, or an empty
// string when the walk finds none (the Verifier failed for another reason:
// misalignment, nesting depth, the table limit, a bad union or enum value).
std::string DiagnoseFlatbuffer(const uint8_t* data, size_t size);

}  // namespace unas::tflite_internal
