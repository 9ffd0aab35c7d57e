// Seeded, portable randomness for the search.
//
// Every random choice in search/ goes through these helpers, never through
// std::*_distribution (whose output differs between standard libraries) nor a
// global generator, so a seed gives the same proposals on every platform.
//
// Streams are derived, not consumed: the randomness of proposal i of a job
// with seed s comes from DeriveSeed(s, stream, i), so a strategy rebuilt from
// stored results can produce proposal i without replaying proposals 0..i-1.
#pragma once

#include <cstdint>
#include <random>

namespace unas::search {

using Rng = std::mt19937_64;

// SplitMix64's finaliser: a bijective, well-mixed 64-bit hash.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A seed for one independent stream, e.g. (job seed, "proposal", index).
inline uint64_t DeriveSeed(uint64_t seed, uint64_t stream, uint64_t index) {
  return Mix64(Mix64(Mix64(seed) ^ stream) ^ index);
}

// Uniform integer in [lo, hi_exclusive); unbiased (rejection sampling).
inline int UniformInt(Rng& rng, int lo, int hi_exclusive) {
  const uint64_t range = static_cast<uint64_t>(hi_exclusive - lo);
  if (range <= 1) return lo;
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  uint64_t x;
  do {
    x = rng();
  } while (x >= limit);
  return lo + static_cast<int>(x % range);
}

// Uniform double in [0, 1) with 53 random bits.
inline double Uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Uniform double in the open interval (0, 1): never exactly 0.
inline double UniformOpen01(Rng& rng) {
  return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
}

inline bool Bernoulli(Rng& rng, double p) { return Uniform01(rng) < p; }

// Standard normal by Box-Muller (one of the pair; simplicity over speed).
double StandardNormal(Rng& rng);

}  // namespace unas::search
