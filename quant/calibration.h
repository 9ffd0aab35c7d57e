// Calibration for post-training int8 quantisation: the float range of every
// activation tensor of a lowered graph that gets its own quantisation, over
// a sample of float input images.
//
// The float values come from costmodel/reference_executor.h (RunWhole with a
// RunTrace): the one float implementation of the network's semantics, so no
// second copy of them lives here. Graph tensors are matched to what the
// executor saw through LowerNetwork's contract (costmodel/lowering.h):
//   - tensor 0 (the graph input): the input images;
//   - the output of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED: the
//     Network op's output (after bias and ReLU);
//   - the k-th ADD (0-based, in stored order) of a Network Add: the running
//     sum of its first k+2 terms (RunTrace::add_partial_sums);
//   - every other tensor (pool, PAD, STRIDED_SLICE, CONCATENATION outputs)
//     takes its input's quantisation, so it needs no range of its own.
//
// Statistic: the minimum and maximum over every element of every image of
// the sample, as TensorFlow Lite's converter does by default. Why: it is
// what a TFLite user gets from the same sample, it never clips a calibrated
// value, and on trained Fashion-MNIST networks it keeps int8 test accuracy
// within 0.1 point of float; clipping to the 99.9th-99.999th percentiles
// moved int8 test error by at most 0.14 points, better on one network and
// worse on the other (docs/deploy-int8.md).
// Ranges are widened to include 0 when quantised (quantize.h), not here.
//
// Thread safety: pure functions; a RangeCollector is not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "costmodel/model_graph.h"
#include "costmodel/network.h"
#include "costmodel/reference_executor.h"
#include "base/status.h"

namespace unas::quant {

struct TensorRange {
  float min = 0;
  float max = 0;
  bool seen = false;  // false: no calibration value (the tensor needs none, or no image was added)
  void Add(float v) {
    if (!seen || v < min) min = v;
    if (!seen || v > max) max = v;
    seen = true;
  }
};

// Collects ranges image by image (streaming: nothing is kept per image).
class RangeCollector {
 public:
  // `graph` must be LowerNetwork(network); checked against the contract above.
  static Result<RangeCollector> Create(const Network& network, const ModelGraph& graph,
                                       const ReferenceWeights& weights);
  // Runs the float network on one NHWC image and widens the ranges.
  Status Add(const std::vector<float>& image);
  int64_t images() const { return images_; }
  // By graph tensor id; `seen` only for tensors with their own range.
  const std::vector<TensorRange>& ranges() const { return ranges_; }

 private:
  struct Source {
    int tensor = -1;
    int op = -1;       // Network op; -1 = the input image
    int partial = -1;  // >= 0: that Add partial sum
  };
  RangeCollector() = default;

  const Network* network_ = nullptr;
  const ReferenceWeights* weights_ = nullptr;
  std::vector<Source> sources_;
  std::vector<TensorRange> ranges_;
  int64_t images_ = 0;
};

// Checks that `weights` has the shape ReferenceWeights documents for
// `network` (one entry per op, weight_count() and bias_count() values).
Status CheckWeights(const Network& network, const ReferenceWeights& weights);

// Create + Add for every image. `network`, `graph` and `weights` must outlive
// nothing: the ranges are returned by value.
Result<std::vector<TensorRange>> CalibrateRanges(const Network& network, const ModelGraph& graph,
                                                 const ReferenceWeights& weights,
                                                 const std::vector<std::vector<float>>& images);

}  // namespace unas::quant
