// Readers for the on-disk image data sets, and the split of a training set
// into training and validation parts. Plain C++ (no LibTorch), so the parsers
// can be tested on generated bad files cheaply.
//
// Every reader validates what it reads: wrong magic numbers, truncated files,
// impossible dimensions and image/label count mismatches give a
// kInvalidArgument Status naming the file and what is wrong; a missing file
// gives kNotFound. Nothing here throws or aborts on bad input.
//
// Thread safety: all functions are pure apart from reading files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace unas::data {

// Images stored as uint8, image-major, each image channel-major (C, H, W),
// which is LibTorch's NCHW layout. Sensor windows (data/sensor_csv.h) use
// the same layout with float `values` in sensor units instead of `pixels`
// (H = window length, W = 1, C = channels).
struct RawImages {
  int64_t count = 0;
  int height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;  // count * channels * height * width (images)
  std::vector<float> values;    // count * channels * height * width (windows); empty for images
  std::vector<uint8_t> labels;  // count class indices
  int64_t pixels_per_image() const { return int64_t{height} * width * channels; }
  bool is_float() const { return !values.empty(); }
};

// The images at `rows` (each < raw.count), in that order.
RawImages SelectImages(const RawImages& raw, const std::vector<int64_t>& rows);

// Reads a whole file, transparently gunzipping it when its name ends in ".gz".
Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path);
// At most `max_bytes` from the start of a file (after gunzipping ".gz"):
// a header, without reading the rest.
Result<std::vector<uint8_t>> ReadFilePrefix(const std::string& path, size_t max_bytes);

// IDX (the MNIST format): an image file (magic 0x00000803, N x H x W uint8)
// and a label file (magic 0x00000801, N uint8), ".gz" or not. Labels must be
// below `num_classes`.
Result<RawImages> ReadIdxPair(const std::string& images_path, const std::string& labels_path,
                              int num_classes);

// CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes
// (3 x 32 x 32). Concatenates the files in order.
Result<RawImages> ReadCifar10(const std::vector<std::string>& paths);

// A deterministic synthetic 10-class problem for tests (no file): 8x8x1
// images, class k is a bright 2x2 blob at one of 10 fixed places plus
// Gaussian noise. Same `seed` gives the same bytes on every platform
// (own generator, no std:: distributions).
RawImages SyntheticImages(int64_t count, uint64_t seed);

struct SplitIndices {
  std::vector<int64_t> train;
  std::vector<int64_t> validation;
};

// Stratified split: for each class, a fraction `validation_fraction`
// (rounded to nearest) of its images, chosen by a generator seeded with
// `seed`, goes to validation. Both lists are sorted.
SplitIndices StratifiedSplit(const std::vector<uint8_t>& labels, int num_classes,
                             double validation_fraction, uint64_t seed);

}  // namespace unas::data
