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
};

}  // namespace unas::worker
