// A trained network as an int8 model: its float weights with batch norm
// folded (extracted from LibTorch by worker/torch_export.cc), calibration on
// a fixed sample of the training set, int8 validation and test error measured
// with unas's integer-only executor (quant/int8_executor.h), and the model
// itself. Plain C++ types only: LibTorch stays in the .cc.
//
// Thread safety: QuantizeTrained may run on several threads at once (it only
// reads the Dataset); CheckWeightExtraction seeds LibTorch's global generator.
#pragma once

#include <cstdint>
#include <vector>

#include "costmodel/model_graph.h"
#include "costmodel/network.h"
#include "costmodel/reference_executor.h"
#include "base/status.h"
#include "quant/int8_executor.h"
#include "data/input_contract.h"
#include "worker/dataset.h"

namespace unas::worker {

// What training produced, in the float reference executor's layout
// (costmodel/reference_executor.h): conv [ky][kx][ci][co], depthwise
// [ky][kx][c], dense [i][o] with i over the input flattened in (h, w, c)
// order, and every batch norm (eval mode: running statistics, eps 1e-3)
// folded into the preceding convolution's weights and bias:
//   w' = w * gamma / sqrt(var + eps) per output channel,
//   b' = (b - mean) * gamma / sqrt(var + eps) + beta.
// `network` is the network trained (the pruned one when pruning ran).
struct TrainedModel {
  Network network;
  ReferenceWeights folded_weights;
};

struct Int8Options {
  // Training images the activation ranges are calibrated on: the first
  // `calibration_images` of a permutation of the training part drawn with
  // `calibration_seed` (the same images for every trial of a data set).
  int calibration_images = 1000;
  uint64_t calibration_seed = 0;
  // Graph operator indices in the order the .tflite stores them (TFLM runs
  // them in that order); empty = the lowering's build order. Must be a
  // permutation that reads no tensor before it is written.
  std::vector<int> op_order;
  // Threads for the int8 validation and test inferences (results do not
  // depend on it).
  int threads = 1;
  // The int8 executor's kernels for those inferences (results do not depend
  // on it: the optimised kernels are bit-identical to the reference ones).
  quant::Int8Kernels kernels = quant::Int8Kernels::kOptimized;
};

struct Int8Outcome {
  double int8_val_error = 1;   // 0..1, over the whole validation part
  double int8_test_error = 1;  // 0..1, over the whole test set
  int calibration_images = 0;  // actually used (fewer if the training part is smaller)
  // The class the int8 model predicted for each test image, in test-set
  // order: what a device fed the same images must reproduce.
  std::vector<int> int8_test_predictions;
  ModelGraph graph;            // the quantised model, ops in the order written
  // What a device must feed it: the data set's shape, normalisation and
  // class names with the graph input's scale and zero point.
  data::InputContract contract;
  // graph as a .tflite flatbuffer (tflite/writer.h), ops in graph.ops order,
  // carrying `contract` as metadata (tflite/metadata.h).
  // The int8 model's test confusion matrix: [true class][predicted class]
  // counts, num_classes x num_classes (which words are taken for which).
  std::vector<std::vector<int64_t>> int8_test_confusion;
  // graph as a .tflite flatbuffer (tflite/writer.h), ops in graph.ops order.
  std::vector<uint8_t> tflite;
};

// Quantises `model` (calibration per Int8Options), measures its int8 errors
// on the data set and writes the .tflite with its input contract. The class predicted from the int8
// logits follows the float rule: arg-max, or for a single logit (binary
// problems) q > zero point, i.e. a positive logit. Errors: the quantiser's,
// kInvalidArgument for a bad op_order or a data set of another input shape.
Result<Int8Outcome> QuantizeTrained(const TrainedModel& model, const Dataset& dataset, const Int8Options& options = {});

// For tests: builds the LibTorch network for `network` with weights drawn
// from `seed` and non-trivial batch-norm statistics, extracts its folded
// weights, and returns the largest |difference| between the float reference
// executor's logits on them and LibTorch's (eval mode) over `images` random
// images. Errors: kInternal with LibTorch's message.
Result<double> CheckWeightExtraction(const Network& network, uint64_t seed, int images);

}  // namespace unas::worker
