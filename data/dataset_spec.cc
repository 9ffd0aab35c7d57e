#include "data/dataset_spec.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string_view>
#include <utility>

#include "base/json_limits.h"
#include "data/image_files.h"
#include "data/image_folder.h"
#include "data/input_contract.h"
#include "data/sensor_csv.h"

namespace unas::data {
namespace {

constexpr const char* kForms =
    "fashion-mnist, synthetic, idx:DIR[:CLASSES], cifar10:DIR, folder:DIR, csv:FILE, csv:DIR, speech_commands:DIR";

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// "DIR/name.gz" if it exists, else "DIR/name" if that does, else an error.
Result<std::string> FindIdxFile(const DatasetSpec& spec, const std::string& name) {
  for (const std::string& candidate : {spec.directory + "/" + name + ".gz", spec.directory + "/" + name}) {
    if (FileExists(candidate)) return candidate;
  }
  std::string message = spec.directory + "/" + name + "[.gz]: no such file";
  if (spec.kind == DatasetKind::kFashionMnist) {
    message += "; install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist)";
  }
  return Status(StatusCode::kNotFound, message);
}

uint32_t BigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string ShapeText(int h, int w, int c) {
  return std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
}

// The fixed-format kinds take no other shape: input_shape may only repeat it.
Status CheckFixedShape(const DatasetSpec& spec, const DatasetShape& shape) {
  const InputShape& s = spec.input_shape;
  if (!s.set() || (s.height == shape.height && s.width == shape.width && s.channels == shape.channels)) {
    return Status::Ok();
  }
  return Status::Invalid("input_shape " + ShapeText(s.height, s.width, s.channels) + ": " + DatasetSpecText(spec) +
                         " is " + ShapeText(shape.height, shape.width, shape.channels) +
                         "; only folder: and csv: data sets are converted to another shape");
}

// --- speech_commands ---------------------------------------------------------

bool DirectoryExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<DatasetShape> DescribeSpeechCommands(const DatasetSpec& spec) {
  UNAS_ASSIGN_OR_RETURN(audio::FrontendConfig config, SpeechFrontendConfig(spec.speech));
  if (!DirectoryExists(spec.directory)) {
    return Status(StatusCode::kNotFound, spec.directory + ": no such directory (speech_commands:DIR)");
  }
  for (const char* list : {"validation_list.txt", "testing_list.txt"}) {
    if (!FileExists(spec.directory + "/" + list)) {
      return Status(StatusCode::kNotFound, spec.directory + "/" + list + ": no such file (the Speech Commands layout)");
    }
  }
  for (const std::string& word : spec.speech.wanted_words) {
    if (!DirectoryExists(spec.directory + "/" + word)) {
      return Status::Invalid(spec.directory + ": wanted word '" + word + "' has no folder");
    }
  }
  return DatasetShape{unas_frontend_frames(&config), unas_frontend_features_per_frame(&config), 1,
                      static_cast<int>(spec.speech.wanted_words.size()) + 2, SpeechClassNames(spec.speech)};
}

}  // namespace

Result<InputShape> ParseInputShape(std::string_view text_view) {
  const std::string text(text_view);
  InputShape shape;
  int* parts[3] = {&shape.height, &shape.width, &shape.channels};
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const size_t comma = text.find(',', start);
    if ((i < 2) != (comma != std::string::npos)) {
      return Status::Invalid("'" + QuotePrefix(text) + "' is not H,W,C (three integers)");
    }
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    const long v = std::strtol(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0') return Status::Invalid("'" + QuotePrefix(text) + "' is not H,W,C (three integers)");
    *parts[i] = v < 0 || v > 1000000 ? -1 : static_cast<int>(v);
    start = comma + 1;
  }
  UNAS_RETURN_IF_ERROR(ValidateInputShape(shape));
  return shape;
}

Status ValidateInputShape(const InputShape& s) {
  if (s.height < 1 || s.height > 65536 || s.width < 1 || s.width > 4096 || s.channels < 1 || s.channels > 256) {
    return Status::Invalid("input_shape [" + std::to_string(s.height) + ", " + std::to_string(s.width) + ", " +
                           std::to_string(s.channels) +
                           "]: height must be 1..65536, width 1..4096, channels 1..256");
  }
  if (int64_t{s.height} * s.width > 4096 * 4096) {
    return Status::Invalid("input_shape [" + std::to_string(s.height) + ", " + std::to_string(s.width) + ", " +
                           std::to_string(s.channels) + "]: more than 4096x4096 positions");
  }
  return Status::Ok();
}

Result<audio::FrontendConfig> SpeechFrontendConfig(const SpeechCommandsSpec& spec) {
  audio::FrontendConfig c = audio::DefaultFrontendConfig();
  // Milliseconds to samples at 16 kHz (16 per ms), so every field is exact.
  constexpr int kSamplesPerMs = kSpeechSampleRateHz / 1000;
  if (spec.window_ms < 1 || spec.window_ms > 64) return Status::Invalid("audio.window_ms: must be 1..64");
  if (spec.stride_ms < 1 || spec.stride_ms > 1000) return Status::Invalid("audio.stride_ms: must be 1..1000");
  c.sample_rate_hz = kSpeechSampleRateHz;
  c.clip_samples = kSpeechSampleRateHz;
  c.window_samples = spec.window_ms * kSamplesPerMs;
  c.stride_samples = spec.stride_ms * kSamplesPerMs;
  c.mel_channels = spec.mel_channels;
  c.lower_hz = spec.lower_hz;
  c.upper_hz = spec.upper_hz;
  c.output = spec.log_mel ? UNAS_FRONTEND_LOG_MEL : UNAS_FRONTEND_MFCC;
  c.mfcc_coefficients = spec.log_mel ? spec.mel_channels : spec.mfcc_coefficients;
  if (Status s = audio::CheckFrontendConfig(c); !s.ok()) return Status::Invalid("audio: " + s.message());
  return c;
}

audio::SpeechCommandsOptions SpeechReaderOptions(const SpeechCommandsSpec& spec) {
  audio::SpeechCommandsOptions o;
  o.wanted_words = spec.wanted_words;
  o.silence_percent = spec.silence_percent;
  o.unknown_percent = spec.unknown_percent;
  o.seed = spec.seed;
  o.sample_rate_hz = kSpeechSampleRateHz;
  o.clip_samples = kSpeechSampleRateHz;
  return o;
}

audio::AugmentOptions SpeechAugmentOptions(const SpeechCommandsSpec& spec) {
  audio::AugmentOptions o;
  o.time_shift_samples = spec.time_shift_ms * (kSpeechSampleRateHz / 1000);
  o.background_frequency = spec.background_frequency;
  o.background_volume = spec.background_volume;
  return o;
}

Status CheckSpeechCommandsSpec(const SpeechCommandsSpec& spec) {
  if (spec.wanted_words.empty() || spec.wanted_words.size() > 254) {
    return Status::Invalid("audio.wanted_words: must name 1 to 254 words");
  }
  for (const std::string& w : spec.wanted_words) {
    if (w.empty() || w.size() > 100 || w[0] == '_' || w[0] == '.' || w.find('/') != std::string::npos) {
      return Status::Invalid("audio.wanted_words: '" + QuotePrefix(w) +
                             "' is not a word folder name (1-100 characters, no '/', not starting with '_' or '.')");
    }
  }
  if (spec.time_shift_ms < 0 || spec.time_shift_ms > 500) return Status::Invalid("audio.time_shift_ms: must be 0..500");
  if (spec.augment_copies < 1 || spec.augment_copies > 16) return Status::Invalid("audio.augment_copies: must be 1..16");
  if (Status s = audio::CheckSpeechCommandsOptions(SpeechReaderOptions(spec)); !s.ok()) {
    return Status::Invalid("audio: " + s.message());
  }
  if (Status s = audio::CheckAugmentOptions(SpeechAugmentOptions(spec), kSpeechSampleRateHz); !s.ok()) {
    return Status::Invalid("audio: " + s.message());
  }
  return SpeechFrontendConfig(spec).status();
}

std::vector<std::string> SpeechClassNames(const SpeechCommandsSpec& spec) {
  std::vector<std::string> names = {"_silence_", "_unknown_"};
  names.insert(names.end(), spec.wanted_words.begin(), spec.wanted_words.end());
  return names;
}

std::string SpeechSpecKey(const SpeechCommandsSpec& spec) {
  std::ostringstream s;
  s.precision(17);
  for (const std::string& w : spec.wanted_words) s << w << ",";
  s << ";" << spec.silence_percent << ";" << spec.unknown_percent << ";" << spec.time_shift_ms << ";"
    << spec.background_frequency << ";" << spec.background_volume << ";" << spec.augment_copies << ";" << spec.seed
    << ";" << spec.window_ms << ";" << spec.stride_ms << ";" << spec.mel_channels << ";" << spec.lower_hz << ";"
    << spec.upper_hz << ";" << spec.log_mel << ";" << spec.mfcc_coefficients;
  return s.str();
}

std::string DatasetSpec::Key() const {
  std::string suffix;
  if (input_shape.set()) suffix += "|shape=" + ShapeText(input_shape.height, input_shape.width, input_shape.channels);
  if (bad_files == BadFilePolicy::kSkip) suffix += "|skip-bad-files";
  switch (kind) {
    case DatasetKind::kFolder: return "folder:" + directory + suffix;
    case DatasetKind::kCsv: return "csv:" + directory + suffix;
    case DatasetKind::kFashionMnist: return "fashion-mnist:" + directory;
    case DatasetKind::kIdx: return "idx:" + directory + ":" + std::to_string(num_classes);
    case DatasetKind::kCifar10: return "cifar10:" + directory;
    case DatasetKind::kSynthetic:
      return "synthetic:" + std::to_string(synthetic_train) + ":" + std::to_string(synthetic_test);
    case DatasetKind::kSpeechCommands: return "speech_commands:" + directory + ":" + SpeechSpecKey(speech);
  }
  return "?";
}

namespace {

// idx:DIR:CLASSES: moves CLASSES from the end of spec->directory into
// spec->num_classes. `text` is the whole spec, for the error.
Status TakeIdxClassCount(const std::string& text, DatasetSpec* spec) {
  const size_t colon = spec->directory.rfind(':');
  if (colon == std::string::npos) return Status::Ok();
  const std::string classes = spec->directory.substr(colon + 1);
  char* end = nullptr;
  const long v = std::strtol(classes.c_str(), &end, 10);
  if (classes.empty() || *end != '\0' || v < 2 || v > 256) {
    return Status::Invalid("'" + QuotePrefix(text) + "': class count '" + QuotePrefix(classes) +
                           "' is not an integer in 2..256");
  }
  spec->num_classes = static_cast<int>(v);
  spec->directory.resize(colon);
  return Status::Ok();
}

}  // namespace

Result<DatasetSpec> ParseDatasetSpec(std::string_view text_view) {
  const std::string text(text_view);
  DatasetSpec spec;
  if (text == "fashion-mnist") {
    spec.kind = DatasetKind::kFashionMnist;
    spec.directory = kFashionMnistDir;
    return spec;
  }
  if (text == "synthetic") {
    spec.kind = DatasetKind::kSynthetic;
    spec.directory.clear();
    return spec;
  }
  // The forms PREFIX:DIR (DIR not empty); idx:DIR may end in :CLASSES.
  static constexpr std::pair<std::string_view, DatasetKind> kDirectoryForms[] = {
      {"folder:", DatasetKind::kFolder},
      {"csv:", DatasetKind::kCsv},
      {"cifar10:", DatasetKind::kCifar10},
      {"speech_commands:", DatasetKind::kSpeechCommands},
      {"idx:", DatasetKind::kIdx}};
  for (const auto& [prefix, kind] : kDirectoryForms) {
    if (text.size() <= prefix.size() || text.compare(0, prefix.size(), prefix) != 0) continue;
    spec.kind = kind;
    spec.directory = text.substr(prefix.size());
    if (kind == DatasetKind::kIdx) UNAS_RETURN_IF_ERROR(TakeIdxClassCount(text, &spec));
    return spec;
  }
  if (text.rfind("data:", 0) == 0) {
    return Status::Invalid("'" + QuotePrefix(text) + "' names a registered data set, which only a coordinator " +
                           "resolves (submit the job; `unas data list` shows them)");
  }
  return Status::Invalid("'" + QuotePrefix(text) + "' is not one of " + kForms);
}

Result<std::string> RegisteredSubpath(const DatasetSpec& spec) {
  const std::string marker = "/" + spec.sha256;
  const size_t at = spec.sha256.empty() ? std::string::npos : spec.directory.rfind(marker);
  const size_t end = at == std::string::npos ? 0 : at + marker.size();
  if (at == std::string::npos || (end < spec.directory.size() && spec.directory[end] != '/')) {
    return Status::Invalid("data set directory '" + QuotePrefix(spec.directory) +
                           "' is not inside a registered data set's folder");
  }
  return spec.directory.substr(end);
}

std::string DatasetSpecText(const DatasetSpec& spec) {
  switch (spec.kind) {
    case DatasetKind::kFashionMnist: return "fashion-mnist";
    case DatasetKind::kSynthetic: return "synthetic";
    case DatasetKind::kCifar10: return "cifar10:" + spec.directory;
    case DatasetKind::kFolder: return "folder:" + spec.directory;
    case DatasetKind::kCsv: return "csv:" + spec.directory;
    case DatasetKind::kSpeechCommands: return "speech_commands:" + spec.directory;
    case DatasetKind::kIdx:
      return "idx:" + spec.directory + (spec.num_classes == 10 ? "" : ":" + std::to_string(spec.num_classes));
  }
  return "?";
}

Result<IdxFiles> FindIdxFiles(const DatasetSpec& spec) {
  IdxFiles f;
  UNAS_ASSIGN_OR_RETURN(f.train_images, FindIdxFile(spec, "train-images-idx3-ubyte"));
  UNAS_ASSIGN_OR_RETURN(f.train_labels, FindIdxFile(spec, "train-labels-idx1-ubyte"));
  UNAS_ASSIGN_OR_RETURN(f.test_images, FindIdxFile(spec, "t10k-images-idx3-ubyte"));
  UNAS_ASSIGN_OR_RETURN(f.test_labels, FindIdxFile(spec, "t10k-labels-idx1-ubyte"));
  return f;
}

static Result<DatasetShape> DescribeDatasetShape(const DatasetSpec& spec);

Result<DatasetShape> DescribeDataset(const DatasetSpec& spec) {
  UNAS_ASSIGN_OR_RETURN(DatasetShape shape, DescribeDatasetShape(spec));
  if (spec.kind != DatasetKind::kFolder && spec.kind != DatasetKind::kCsv) {
    UNAS_RETURN_IF_ERROR(CheckFixedShape(spec, shape));
  }
  return shape;
}

// The shape as the data has it (DescribeDataset then checks input_shape).
static Result<DatasetShape> DescribeDatasetShape(const DatasetSpec& spec) {
  switch (spec.kind) {
    case DatasetKind::kFashionMnist:
      return DatasetShape{28, 28, 1, 10, {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                          "Sneaker", "Bag", "Ankle boot"}};
    case DatasetKind::kCifar10:
      return DatasetShape{32, 32, 3, 10, {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                          "ship", "truck"}};
    case DatasetKind::kSynthetic: return DatasetShape{8, 8, 1, 10, NumberedClassNames(10)};
    case DatasetKind::kFolder: {
      UNAS_ASSIGN_OR_RETURN(FolderListing listing, ListImageFolder(spec.directory));
      UNAS_ASSIGN_OR_RETURN(InputShape s, FolderInputShape(spec, listing));
      return DatasetShape{s.height, s.width, s.channels, static_cast<int>(listing.class_names.size()),
                          listing.class_names};
    }
    case DatasetKind::kCsv: return DescribeSensorCsv(spec);
    case DatasetKind::kSpeechCommands: return DescribeSpeechCommands(spec);
    case DatasetKind::kIdx: {
      UNAS_ASSIGN_OR_RETURN(IdxFiles files, FindIdxFiles(spec));
      UNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> header, ReadFilePrefix(files.train_images, 16));
      if (header.size() < 16 || BigEndian32(header.data()) != 0x00000803) {
        return Status::Invalid(files.train_images + ": not an IDX image file");
      }
      const uint32_t h = BigEndian32(header.data() + 8);
      const uint32_t w = BigEndian32(header.data() + 12);
      if (h == 0 || w == 0 || h > 4096 || w > 4096) {
        return Status::Invalid(files.train_images + ": implausible image size " + std::to_string(h) + "x" +
                               std::to_string(w));
      }
      return DatasetShape{static_cast<int>(h), static_cast<int>(w), 1, spec.num_classes, NumberedClassNames(spec.num_classes)};
    }
  }
  return Status::Internal("unknown data set kind");
}

}  // namespace unas::data
