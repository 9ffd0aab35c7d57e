// WAV files of 16-bit PCM: a small strict RIFF reader that accepts exactly
// what keyword-spotting data is (mono, 16-bit integer PCM, one sample rate)
// and refuses everything else with a message naming the file and what is
// wrong, a writer for tests and generated data, and TensorFlow's rule for
// fitting a clip to one second.
//
// Accepted: "RIFF" ... "WAVE", a "fmt " chunk (format 1 = PCM, or
// WAVE_FORMAT_EXTENSIBLE with the PCM sub-format), channels 1, bits per
// sample 16, block align 2, byte rate = 2 x rate, then one "data" chunk of
// an even size; other chunks (LIST, fact, ...) are skipped. Bytes after the
// RIFF chunk are ignored. Refused (kInvalidArgument): not RIFF, not WAVE,
// another format (float, A-law, ...), stereo, 8/24/32-bit samples, another
// sample rate, a chunk or the data running past the end of the file
// (truncated), no fmt or data chunk, data before fmt. A file that cannot be
// opened is kNotFound.
//
// Thread safety: pure functions (apart from the file they read or write).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace unas::data::audio {

// The samples of `path`, which must be mono 16-bit PCM at `sample_rate_hz`.
Result<std::vector<int16_t>> ReadPcmWav(const std::string& path, int32_t sample_rate_hz = 16000);

// The same on bytes already in memory; `name` is used in messages.
Result<std::vector<int16_t>> ParsePcmWav(const uint8_t* data, size_t size, const std::string& name,
                                         int32_t sample_rate_hz);

// Writes a canonical 44-byte-header mono 16-bit PCM WAV.
Status WritePcmWav(const std::string& path, const int16_t* samples, size_t count, int32_t sample_rate_hz);

// tf.audio.decode_wav(desired_samples = clip_samples): a shorter clip is
// padded with zeros at the end, a longer one cut at the end.
std::vector<int16_t> FitClip(std::vector<int16_t> samples, size_t clip_samples);

}  // namespace unas::data::audio
