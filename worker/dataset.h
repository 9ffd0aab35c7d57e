// Data sets for training trials: which one (DatasetSpec), loading it once per
// process (LoadDataset) and what it looks like (DatasetInfo). The tensors live
// behind a pimpl; this header has no LibTorch types.
//
// A loaded Dataset holds, normalised and in memory:
//   - train: the official training set minus a stratified 10% validation
//     split (seed 0, the same for every trial, so trials are comparable);
//   - validation: that 10%;
//   - test: the official test set.
// Normalisation uses the per-channel mean and standard deviation of the train
// part: x = (pixel / 255 - mean) / std.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "costmodel/candidate.h"
#include "base/status.h"

namespace unas::worker {

enum class DatasetKind {
  kFashionMnist,  // Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist
  kIdx,           // any IDX pair (MNIST and friends) by path
  kCifar10,       // CIFAR-10 binary batches in a directory
  kSynthetic,     // deterministic 8x8x1, 10 classes, no file (for tests)
};

struct DatasetSpec {
  DatasetKind kind = DatasetKind::kFashionMnist;
  // kFashionMnist, kIdx: a directory holding train-images-idx3-ubyte,
  // train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte
  // (each optionally ".gz"). kCifar10: a directory holding data_batch_1.bin ..
  // data_batch_5.bin and test_batch.bin. Unused for kSynthetic.
  std::string directory;
  int num_classes = 10;            // kIdx only; labels must be below it
  int64_t synthetic_train = 2000;  // kSynthetic: training images (before the split)
  int64_t synthetic_test = 500;    // kSynthetic: test images

  std::string Key() const;  // identifies the data in the process-wide cache
};

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Parses the command-line form:
//   "fashion-mnist"  "synthetic"  "idx:DIR"  "idx:DIR:CLASSES"  "cifar10:DIR"
Result<DatasetSpec> ParseDatasetSpec(const std::string& text);

struct DatasetInfo {
  std::string name;          // e.g. "fashion-mnist"
  InputSpec input;           // H, W, C and number of classes
  int64_t train_count = 0;   // after removing the validation split
  int64_t validation_count = 0;
  int64_t test_count = 0;
};

class Dataset {
 public:
  struct Tensors;  // defined in worker/dataset_tensors.h (LibTorch)

  Dataset(DatasetInfo info, std::unique_ptr<Tensors> tensors);
  ~Dataset();
  Dataset(const Dataset&) = delete;
  Dataset& operator=(const Dataset&) = delete;

  const DatasetInfo& info() const { return info_; }
  const Tensors& tensors() const { return *tensors_; }

 private:
  DatasetInfo info_;
  std::unique_ptr<Tensors> tensors_;
};

// Loads a data set, or returns the copy already loaded by this process (the
// cache is keyed by DatasetSpec::Key() and lives until exit). Errors:
// kNotFound for missing files (for fashion-mnist the message names the Debian
// package to install), kInvalidArgument for corrupt or mismatched files.
// Thread-safe; a Dataset is immutable and may be shared by concurrent trials.
Result<std::shared_ptr<const Dataset>> LoadDataset(const DatasetSpec& spec);

}  // namespace unas::worker
