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
// part: x = (pixel / 255 - mean) / std for images, x = (value - mean) / std
// for sensor windows (values in sensor units). The data layer (data/)
// reads, decodes, converts and splits; this file only makes tensors.
//
// speech_commands (docs/keyword-spotting.md) differs: the splits are the data
// set's own lists; every example is the audio front end's int16 features
// (unas_audio_frontend, the same C the firmware runs) fed at the fixed scale
// x = feature / 128 (data::audio::kFeatureScale: the MFCC's real value; no
// statistics, so the device's input needs nothing but the front end); the
// training part is `augment_copies` augmented versions of every training
// example (time shift and background noise, drawn once per load from the
// spec's seed), validation and test are never augmented.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "costmodel/candidate.h"
#include "data/dataset_spec.h"
#include "data/input_contract.h"

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
  // channel): label id -> name (for speech_commands "_silence_",
  // "_unknown_", then the wanted words), and the normalisation above.
  // Images: mean and std of pixel / 255, so a device computes
  // (pixel / 255 - mean) / std; windows: in sensor units, (value - mean) /
  // std; speech_commands: mean 0 and std 1 / kFeatureScale of the front
  // end's features (x = feature / 128).
  std::vector<std::string> class_names;
  std::vector<float> channel_mean, channel_std;
  // What one input value is before normalisation: pixels (/ 255), sensor
  // values or, for speech_commands, the audio front end's features (whose
  // front end is `audio_frontend`).
  data::InputValueKind value_kind = data::InputValueKind::kPixel8;
  std::optional<data::AudioFrontendContract> audio_frontend;
  int64_t skipped_files = 0;   // bad image files left out (bad_files "skip")
  // Things the loader noticed (missing background noise, too few unknowns);
  // also written to stderr once when the data set is loaded.
  std::vector<std::string> notes;
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
// cache is keyed by DatasetSpec::Key() and lives until exit). Loads of more
// than 5,000 image files print their progress to stderr (the worker's log).
// Errors:
// kNotFound for missing files (for fashion-mnist the message names the Debian
// package to install), kInvalidArgument for corrupt or mismatched files.
// Thread-safe; a Dataset is immutable and may be shared by concurrent trials.
Result<std::shared_ptr<const Dataset>> LoadDataset(const DatasetSpec& spec);

// speech_commands only: the front end's int16 features of the validation
// (`test` false) or test split, example-major ([example][frame][feature]),
// in the split's order (data/audio/speech_commands.h); what the int8
// evaluation quantises and what the device's unas_model_features computes.
// kInvalidArgument for an image data set.
Result<std::vector<int16_t>> KeywordFeatures(const Dataset& dataset, bool test);

}  // namespace unas::worker
