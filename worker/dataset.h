// Data sets for training trials: loading one (a data::DatasetSpec, data/)
// once per process (LoadDataset) and what it looks like (DatasetInfo). The tensors live
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

#include "base/status.h"
#include "costmodel/candidate.h"
#include "data/dataset_spec.h"

namespace unas::worker {

using data::DatasetKind;
using data::DatasetSpec;

struct DatasetInfo {
  std::string name;          // e.g. "fashion-mnist"
  InputSpec input;           // H, W, C and number of classes
  int64_t train_count = 0;   // after removing the validation split
  int64_t validation_count = 0;
  int64_t test_count = 0;
  // The input contract an exported model needs (one entry per class /
  // channel): label id -> name, and the normalisation above. Images: mean
  // and std of pixel / 255, so a device computes (pixel / 255 - mean) / std;
  // windows: in sensor units, (value - mean) / std.
  std::vector<std::string> class_names;
  std::vector<float> channel_mean, channel_std;
  bool raw_values = false;     // true: sensor windows (no / 255)
  int64_t skipped_files = 0;   // bad image files left out (bad_files "skip")
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
