// Shared by the worker tests: a tiny candidate, the synthetic data set and a
// short single-threaded training run, so that each test states only what it
// changes from them.
#pragma once

#include <memory>
#include <string>

#include "costmodel/candidate.h"
#include "worker/dataset.h"
#include "worker/trainer.h"

namespace unas::worker {

// conv 3x3 x`filters` (BN, ReLU), max-pool 2, dense 32, classifier 10; with
// 8 filters on 8x8: 6x6x8, 3x3x8, 3*3*8+8 + 72*32+32 + 32*10+10 = 2746
// parameters.
inline Candidate TinyCandidate(int filters = 8) {
  return ParseCandidate(R"({"conv_blocks":[{"is_branch":false,"layers":[
      {"type":"Conv2D","ker_size":3,"filters":)" +
                        std::to_string(filters) + R"(,"2x_stride":false,"has_bn":true,"has_relu":true,
       "has_prepool":false}]}],
      "pooling":{"type":"max","pool_size":2},"dense_blocks":[{"units":32,"activation":"relu"}]})")
      .value();
}

inline std::shared_ptr<const Dataset> Synthetic() {
  DatasetSpec spec;
  spec.kind = DatasetKind::kSynthetic;
  return LoadDataset(spec).value();
}

// 4 epochs of batches of 32 at learning rate 0.05, seed 1, one thread.
inline TrainConfig FastConfig() {
  TrainConfig c;
  c.learning_rate = 0.05;
  c.epochs = 4;
  c.batch_size = 32;
  c.seed = 1;
  c.threads = 1;
  return c;
}

}  // namespace unas::worker
