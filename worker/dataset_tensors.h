// The LibTorch side of a Dataset: internal to worker/ (and its tests).
#pragma once

#include <torch/types.h>

#include "worker/dataset.h"

namespace unas::worker {

// Images are float32 NCHW, normalised; labels int64. Read-only after loading.
struct Dataset::Tensors {
  torch::Tensor train_x, train_y;
  torch::Tensor validation_x, validation_y;
  torch::Tensor test_x, test_y;
  // speech_commands only (else undefined): the front end's int16 features
  // of validation and test, [N, frames * features] ([frame][feature]), from
  // which the int8 evaluation quantises the input exactly as the device does
  // (data/audio/feature_extractor.h QuantizeFeatures).
  torch::Tensor validation_features, test_features;
};

}  // namespace unas::worker
