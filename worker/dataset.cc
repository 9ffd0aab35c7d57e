#include "worker/dataset.h"

#include <iostream>
#include <map>
#include <mutex>

#include "data/audio/augment.h"
#include "data/audio/feature_extractor.h"
#include "data/audio/speech_commands.h"
#include "data/image_files.h"
#include "data/image_folder.h"
#include "data/sensor_csv.h"
#include "data/input_contract.h"
#include "worker/dataset_tensors.h"

namespace unas::worker {
namespace {

torch::Tensor ImagesToFloat(const data::RawImages& raw, const std::vector<int64_t>* rows) {
  auto all = raw.is_float() ? torch::from_blob(const_cast<float*>(raw.values.data()),
                                               {raw.count, raw.channels, raw.height, raw.width}, torch::kFloat32)
                            : torch::from_blob(const_cast<uint8_t*>(raw.pixels.data()),
                                               {raw.count, raw.channels, raw.height, raw.width}, torch::kUInt8);
  torch::Tensor picked = all;
  if (rows != nullptr) {
    auto index = torch::from_blob(const_cast<int64_t*>(rows->data()), {static_cast<int64_t>(rows->size())},
                                  torch::kInt64);
    picked = all.index_select(0, index);
  }
  if (raw.is_float()) return picked.clone().contiguous();
  return picked.to(torch::kFloat32).div_(255.0f).contiguous();
}

torch::Tensor LabelsToTensor(const std::vector<uint8_t>& labels, const std::vector<int64_t>* rows) {
  std::vector<int64_t> out;
  if (rows == nullptr) {
    out.assign(labels.begin(), labels.end());
  } else {
    out.reserve(rows->size());
    for (int64_t r : *rows) out.push_back(labels[static_cast<size_t>(r)]);
  }
  return torch::tensor(out, torch::kInt64);
}

struct RawSets {
  std::string name;
  int num_classes = 10;
  data::RawImages train, test;
  std::vector<std::string> class_names;
  int64_t skipped_files = 0;
};

Result<RawSets> ReadRaw(const DatasetSpec& spec) {
  RawSets sets;
  switch (spec.kind) {
    // Users' own data: read, converted and split by the data layer.
    case DatasetKind::kFolder:
    case DatasetKind::kCsv: {
      sets.name = data::DatasetSpecText(spec);
      auto progress = [&](int64_t done, int64_t total) {
        if (total > 5000) std::cerr << sets.name << ": decoded " << done << " of " << total << " images\n";
      };
      UNAS_ASSIGN_OR_RETURN(data::LoadedSets loaded, spec.kind == DatasetKind::kFolder
                                                         ? data::ReadImageFolder(spec, progress)
                                                         : data::ReadSensorCsv(spec));
      sets.num_classes = static_cast<int>(loaded.class_names.size());
      sets.class_names = std::move(loaded.class_names);
      sets.train = std::move(loaded.train);
      sets.test = std::move(loaded.test);
      sets.skipped_files = loaded.skipped_files;
      return sets;
    }
    case DatasetKind::kFashionMnist:
    case DatasetKind::kIdx: {
      sets.name = spec.kind == DatasetKind::kFashionMnist ? "fashion-mnist" : "idx:" + spec.directory;
      sets.num_classes = spec.num_classes;
      UNAS_ASSIGN_OR_RETURN(data::IdxFiles files, data::FindIdxFiles(spec));
      UNAS_ASSIGN_OR_RETURN(sets.train, data::ReadIdxPair(files.train_images, files.train_labels, spec.num_classes));
      UNAS_ASSIGN_OR_RETURN(sets.test, data::ReadIdxPair(files.test_images, files.test_labels, spec.num_classes));
      if (sets.train.height != sets.test.height || sets.train.width != sets.test.width) {
        return Status::Invalid(files.test_images + ": images are " + std::to_string(sets.test.height) + "x" +
                               std::to_string(sets.test.width) + " but the training images are " +
                               std::to_string(sets.train.height) + "x" + std::to_string(sets.train.width));
      }
      return sets;
    }
    case DatasetKind::kCifar10: {
      sets.name = "cifar10";
      std::vector<std::string> train_files;
      for (int i = 1; i <= 5; ++i) train_files.push_back(spec.directory + "/data_batch_" + std::to_string(i) + ".bin");
      UNAS_ASSIGN_OR_RETURN(sets.train, data::ReadCifar10(train_files));
      UNAS_ASSIGN_OR_RETURN(sets.test, data::ReadCifar10({spec.directory + "/test_batch.bin"}));
      return sets;
    }
    case DatasetKind::kSpeechCommands:
      return Status::Internal("speech_commands is not an image data set");
    case DatasetKind::kSynthetic:
      sets.name = "synthetic";
      // Different seeds so the test images are not copies of training images.
      sets.train = data::SyntheticImages(spec.synthetic_train, 1);
      sets.test = data::SyntheticImages(spec.synthetic_test, 2);
      return sets;
  }
  return Status::Internal("unknown data set kind");
}

// int16 features [N, count] -> float [N, 1, frames, features] / kFeatureScale.
torch::Tensor FeaturesToFloat(const torch::Tensor& features, int frames, int per_frame) {
  return features.to(torch::kFloat32).div_(data::audio::kFeatureScale).view({-1, 1, frames, per_frame}).contiguous();
}

torch::Tensor Labels(const std::vector<int32_t>& labels) {
  return torch::tensor(std::vector<int64_t>(labels.begin(), labels.end()), torch::kInt64);
}

// A speech_commands data set: the layout read with TensorFlow's rules
// (data/audio/speech_commands.h), features by the C front end.
Result<std::shared_ptr<const Dataset>> BuildSpeech(const DatasetSpec& spec) {
  namespace audio = data::audio;
  const std::string name = "speech_commands:" + spec.directory;
  UNAS_RETURN_IF_ERROR(data::CheckSpeechCommandsSpec(spec.speech));
  UNAS_ASSIGN_OR_RETURN(audio::FrontendConfig config, data::SpeechFrontendConfig(spec.speech));
  UNAS_ASSIGN_OR_RETURN(audio::SpeechCommands sc,
                        audio::LoadSpeechCommands(spec.directory, data::SpeechReaderOptions(spec.speech)));
  if (sc.training.size() < 2 || sc.validation.size() < 1 || sc.testing.size() < 1) {
    return Status::Invalid(name + ": too few clips (training " + std::to_string(sc.training.size()) +
                           ", validation " + std::to_string(sc.validation.size()) + ", testing " +
                           std::to_string(sc.testing.size()) + "); each split needs examples");
  }
  UNAS_ASSIGN_OR_RETURN(audio::FeatureExtractor extractor, audio::FeatureExtractor::Create(config));
  const int frames = extractor.frames(), per_frame = extractor.features_per_frame();
  const int64_t count = extractor.feature_count();
  UNAS_ASSIGN_OR_RETURN(std::vector<int16_t> validation, audio::SplitFeatures(sc, audio::SpeechSplit::kValidation, extractor));
  UNAS_ASSIGN_OR_RETURN(std::vector<int16_t> testing, audio::SplitFeatures(sc, audio::SpeechSplit::kTesting, extractor));

  // Training: copy c of example i is drawn after copies 0..c-1 of every
  // example, from one generator seeded by the spec, so the set is a pure
  // function of the files and the spec.
  const int copies = spec.speech.augment_copies;
  const int64_t train_n = sc.training.size() * copies;
  const audio::AugmentOptions augment = data::SpeechAugmentOptions(spec.speech);
  audio::AudioRng rng(spec.speech.seed);
  std::vector<int16_t> training(static_cast<size_t>(train_n * count));
  std::vector<int32_t> training_labels;
  training_labels.reserve(static_cast<size_t>(train_n));
  for (int c = 0; c < copies; ++c) {
    for (int64_t i = 0; i < sc.training.size(); ++i) {
      const std::vector<int16_t> clip = audio::MakeTrainingClip(sc, i, augment, rng);
      const int64_t row = static_cast<int64_t>(training_labels.size());
      UNAS_RETURN_IF_ERROR(extractor.Compute(clip.data(), clip.size(), training.data() + row * count));
      training_labels.push_back(sc.training.labels[static_cast<size_t>(i)]);
    }
  }
  try {
    auto t = std::make_unique<Dataset::Tensors>();
    auto int16 = [&](std::vector<int16_t>& v) {
      return torch::from_blob(v.data(), {static_cast<int64_t>(v.size()) / count, count}, torch::kInt16).clone();
    };
    t->validation_features = int16(validation);
    t->test_features = int16(testing);
    t->train_x = FeaturesToFloat(int16(training), frames, per_frame);
    t->train_y = Labels(training_labels);
    t->validation_x = FeaturesToFloat(t->validation_features, frames, per_frame);
    t->validation_y = Labels(sc.validation.labels);
    t->test_x = FeaturesToFloat(t->test_features, frames, per_frame);
    t->test_y = Labels(sc.testing.labels);

    DatasetInfo info;
    info.name = name;
    info.input = InputSpec{frames, per_frame, 1, static_cast<int>(sc.class_names.size())};
    info.train_count = train_n;
    info.validation_count = sc.validation.size();
    info.test_count = sc.testing.size();
    info.class_names = sc.class_names;
    // x = feature / kFeatureScale, as the contract's (feature - 0) / std.
    info.value_kind = data::InputValueKind::kAudioFeatures;
    info.channel_mean = {0.0f};
    info.channel_std = {audio::kFeatureScale};
    info.audio_frontend = data::AudioFrontendContract{config.sample_rate_hz, config.clip_samples,
                                                      config.window_samples, config.stride_samples,
                                                      config.mel_channels, config.lower_hz, config.upper_hz,
                                                      config.output == UNAS_FRONTEND_LOG_MEL, config.mfcc_coefficients};
    info.notes = sc.notes;
    for (const std::string& note : info.notes) std::cerr << "unas: " << name << ": " << note << "\n";
    return std::shared_ptr<const Dataset>(std::make_shared<Dataset>(std::move(info), std::move(t)));
  } catch (const std::exception& e) {
    return Status(StatusCode::kResourceExhausted, name + ": cannot hold the data set in memory: " + e.what());
  }
}

Result<std::shared_ptr<const Dataset>> Build(const DatasetSpec& spec) {
  if (spec.kind == DatasetKind::kSpeechCommands) return BuildSpeech(spec);
  UNAS_ASSIGN_OR_RETURN(RawSets raw, ReadRaw(spec));
  if (raw.class_names.empty()) {
    // Fixed formats: their class names, and input_shape checked against
    // their shape (folder: and csv: readers convert to it themselves).
    UNAS_ASSIGN_OR_RETURN(data::DatasetShape described, data::DescribeDataset(spec));
    raw.class_names = described.class_names;
  }
  const data::SplitIndices split = data::StratifiedSplit(raw.train.labels, raw.num_classes, 0.1, /*seed=*/0);
  if (split.train.empty() || split.validation.empty()) {
    return Status::Invalid(raw.name + ": too few training images (" + std::to_string(raw.train.count) +
                           ") for a 10% validation split");
  }
  try {
    auto t = std::make_unique<Dataset::Tensors>();
    t->train_x = ImagesToFloat(raw.train, &split.train);
    t->train_y = LabelsToTensor(raw.train.labels, &split.train);
    t->validation_x = ImagesToFloat(raw.train, &split.validation);
    t->validation_y = LabelsToTensor(raw.train.labels, &split.validation);
    t->test_x = ImagesToFloat(raw.test, nullptr);
    t->test_y = LabelsToTensor(raw.test.labels, nullptr);
    // Per-channel statistics of the train part only: validation and test
    // stay unseen.
    const auto mean = t->train_x.mean({0, 2, 3}, /*keepdim=*/true);
    const auto std = t->train_x.std({0, 2, 3}, /*unbiased=*/false, /*keepdim=*/true).clamp_min(1e-6);
    for (torch::Tensor* x : {&t->train_x, &t->validation_x, &t->test_x}) x->sub_(mean).div_(std);

    DatasetInfo info;
    info.name = raw.name;
    info.input = InputSpec{raw.train.height, raw.train.width, raw.train.channels, raw.num_classes};
    info.train_count = static_cast<int64_t>(split.train.size());
    info.validation_count = static_cast<int64_t>(split.validation.size());
    info.test_count = raw.test.count;
    info.class_names = raw.class_names.empty() ? data::NumberedClassNames(raw.num_classes) : raw.class_names;
    info.value_kind = raw.train.is_float() ? data::InputValueKind::kSensorValue : data::InputValueKind::kPixel8;
    info.skipped_files = raw.skipped_files;
    const auto mean_flat = mean.flatten().contiguous(), std_flat = std.flatten().contiguous();
    info.channel_mean.assign(mean_flat.data_ptr<float>(), mean_flat.data_ptr<float>() + mean_flat.numel());
    info.channel_std.assign(std_flat.data_ptr<float>(), std_flat.data_ptr<float>() + std_flat.numel());
    return std::shared_ptr<const Dataset>(std::make_shared<Dataset>(std::move(info), std::move(t)));
  } catch (const std::exception& e) {  // LibTorch (c10::Error) or bad_alloc
    return Status(StatusCode::kResourceExhausted, raw.name + ": cannot hold the data set in memory: " + e.what());
  }
}

}  // namespace

Dataset::Dataset(DatasetInfo info, std::unique_ptr<Tensors> tensors)
    : info_(std::move(info)), tensors_(std::move(tensors)) {}
Dataset::~Dataset() = default;

Result<std::vector<int16_t>> KeywordFeatures(const Dataset& dataset, bool test) {
  const torch::Tensor& f = test ? dataset.tensors().test_features : dataset.tensors().validation_features;
  if (!f.defined()) return Status::Invalid(dataset.info().name + ": not a keyword (speech_commands) data set");
  const torch::Tensor c = f.contiguous();
  return std::vector<int16_t>(c.data_ptr<int16_t>(), c.data_ptr<int16_t>() + c.numel());
}

Result<std::shared_ptr<const Dataset>> LoadDataset(const DatasetSpec& spec) {
  // Guards `cache`. Held while loading, so two trials asking for the same
  // data set at once read it once; loads of different data sets serialise,
  // which only happens at start-up.
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Dataset>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  const std::string key = spec.Key();
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  UNAS_ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> loaded, Build(spec));
  cache.emplace(key, loaded);
  return loaded;
}

}  // namespace unas::worker
