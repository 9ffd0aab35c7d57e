// The canonical form of a candidate and its stable 64-bit hash, used to never
// train (or propose) the same network twice in a job.
//
// Two candidates are the same network exactly when Candidate::operator== says
// so: fields that do not apply to a layer type (ker_size and 2x_stride of a
// 1x1 conv, filters of a depthwise conv) are ignored. The canonical form drops
// them, so two JSON spellings of one network (key order, whitespace, an
// irrelevant field, "_" annotations, the optional "activation") have the same
// text and hash.
//
// The hash is FNV-1a 64 over the canonical text: stable across runs,
// platforms and versions of the standard library (no std::hash). It may be
// stored. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <string>

#include "costmodel/candidate.h"

namespace unas::search {

// Resets the fields that do not apply to each layer's type to fixed values.
Candidate Canonicalise(const Candidate& candidate);

// Compact JSON in the μNAS format, keys sorted, only applicable keys.
std::string CanonicalJson(const Candidate& candidate);

uint64_t Fnv1a64(const std::string& bytes);

// Fnv1a64(CanonicalJson(candidate)).
uint64_t CandidateHash(const Candidate& candidate);

}  // namespace unas::search
