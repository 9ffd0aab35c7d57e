// Test-only: keyword sets made by make_keywords.sh (espeak-ng + sox) in the
// suite's temporary directory, and clips read from them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace unas::data::audio::testing {

// True when espeak-ng and sox are installed (deploy/install-deps.sh's test
// packages); tests that need generated speech skip otherwise.
bool HaveSpeechTools();

// The small set every test of this binary shares, made on first use and
// removed at exit: words "yes no", others "cat", 7 speakers, split period
// 5 (speakers 3 validation, 4 testing; speaker 6's clips shorter than 1 s).
// Empty when the tools are missing; a failed generation aborts the test
// with the script's output.
const std::string& SmallKeywordSet();

// Runs make_keywords.sh into `dir` with `args`; the script's output on
// failure, empty on success.
std::string MakeKeywords(const std::string& dir, const std::string& args);

// Clips for the front-end checks: every clip of the small set fitted to
// 1 s, in sorted path order, then the set's noise recordings' first
// seconds, then synthetic extremes (silence, a full-scale square wave,
// full-scale white noise, a single 1-LSB click at a window edge).
std::vector<std::vector<int16_t>> FrontendTestClips();

// Hand-made Speech Commands layouts: a 16 kHz WAV at `path` (its folders
// made; a failure fails the calling test) and a list file with one entry a
// line, as validation_list.txt and testing_list.txt are.
void WriteClip(const std::string& path, const std::vector<int16_t>& pcm);
void WriteLines(const std::string& path, const std::vector<std::string>& lines);

}  // namespace unas::data::audio::testing
