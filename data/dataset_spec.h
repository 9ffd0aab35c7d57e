// Which data set a job trains on: the one typed description (DatasetSpec),
// parsed once from the text users write ("fashion-mnist", "idx:DIR", ...)
// and held by the job spec, the worker's trial task and the CLI; and what it
// looks like (DescribeDataset: input shape and classes, read from the files'
// headers, never the whole data set). docs/data.md lists the forms.
//
// Thread safety: pure functions apart from reading files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "data/audio/augment.h"
#include "data/audio/feature_extractor.h"
#include "data/audio/speech_commands.h"

namespace unas::data {

enum class DatasetKind {
  kFashionMnist,  // Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist
  kIdx,           // any IDX pair (MNIST and friends) by path
  kCifar10,       // CIFAR-10 binary batches in a directory
  kSynthetic,     // deterministic 8x8x1, 10 classes, no file (for tests)
  // Users' own data (docs/data.md, "Use your own data").
  kFolder,  // image folders: DIR/<class>/<image>, or DIR/train/<class>/... and DIR/test/<class>/...
  kCsv,     // sensor windows: a CSV file, or a directory holding train.csv and test.csv
  kSpeechCommands,  // keyword clips in the Speech Commands layout (docs/keyword-spotting.md)
};

// The shape a job's data is converted to (JSON "input_shape": [H, W, C]).
// All zero: unset (the data's own shape, docs/data.md).
struct InputShape {
  int height = 0, width = 0, channels = 0;
  bool set() const { return height > 0; }
};

// What happens to an image file that cannot be decoded (JSON "bad_files").
enum class BadFilePolicy {
  kFail,  // the default: the load fails, naming the file
  kSkip,  // the file is left out and counted (DatasetInfo::skipped_files)
};

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// --- speech_commands (issue 25) ---------------------------------------------
// The job fields of a keyword data set ("audio" in a job spec), with μNAS's
// and TensorFlow's defaults. Clips are 16 kHz, one second.
struct SpeechCommandsSpec {
  std::vector<std::string> wanted_words = {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"};
  double silence_percent = 10.0;       // of each split's wanted-word clips, 0..100
  double unknown_percent = 10.0;       // 0..100
  int time_shift_ms = 100;             // training shift uniform in [-ms, ms); 0..500
  double background_frequency = 0.8;   // share of training clips mixed with noise, 0..1
  double background_volume = 0.1;      // noise volume uniform in [0, this), 0..1
  int augment_copies = 1;              // augmented versions of each training clip, 1..16
  uint64_t seed = 59185;               // split shuffles, silence clips and augmentation
  // The front end (data/audio/frontend.h): 30 ms windows, 20 ms stride,
  // 40 MFCC of 40 mel channels over 20-4000 Hz: 49 x 40 x 1.
  int window_ms = 30;
  int stride_ms = 20;
  int mel_channels = 40;
  int lower_hz = 20;
  int upper_hz = 4000;
  bool log_mel = false;                // true: log-mel energies, no DCT
  int mfcc_coefficients = 40;
};
inline constexpr int32_t kSpeechSampleRateHz = 16000;

// The front end, reader and augmentation settings of a spec, checked
// (kInvalidArgument naming the job field, e.g. "audio.window_ms").
Result<audio::FrontendConfig> SpeechFrontendConfig(const SpeechCommandsSpec& spec);
audio::SpeechCommandsOptions SpeechReaderOptions(const SpeechCommandsSpec& spec);
audio::AugmentOptions SpeechAugmentOptions(const SpeechCommandsSpec& spec);
Status CheckSpeechCommandsSpec(const SpeechCommandsSpec& spec);
// The class names in label order: "_silence_", "_unknown_", the wanted words.
std::vector<std::string> SpeechClassNames(const SpeechCommandsSpec& spec);
// A canonical text of every field (part of DatasetSpec::Key()).
std::string SpeechSpecKey(const SpeechCommandsSpec& spec);
// ---------------------------------------------------------------------------

struct DatasetSpec {
  DatasetKind kind = DatasetKind::kFashionMnist;
  // kFashionMnist, kIdx: a directory holding train-images-idx3-ubyte,
  // train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte
  // (each optionally ".gz"). kCifar10: a directory holding data_batch_1.bin ..
  // data_batch_5.bin and test_batch.bin. Unused for kSynthetic.
  std::string directory = kFashionMnistDir;
  int num_classes = 10;            // kIdx only; labels must be below it
  int64_t synthetic_train = 2000;  // kSynthetic: training images (before the split)
  int64_t synthetic_test = 500;    // kSynthetic: test images
  // kFolder: the image root; kCsv: the CSV file or directory (in `directory`).
  // kFolder, kCsv: images are converted and resized to it, windows must match
  // it; other kinds only accept their own fixed shape here.
  InputShape input_shape;
  BadFilePolicy bad_files = BadFilePolicy::kFail;  // kFolder only
  SpeechCommandsSpec speech;       // kSpeechCommands: `directory` is the layout's root
  // A registered data set (a job's "data:NAME", resolved by the coordinator,
  // docs/deploy.md): the SHA-256 of its pack (data/dataset_pack.h), empty
  // for data named by path. `directory` is then DATASETS_DIR/<sha256> or a
  // file in it: the coordinator's copy, or a worker's cached one.
  std::string sha256;

  std::string Key() const;  // identifies the data in a process-wide cache
  friend bool operator==(const DatasetSpec& a, const DatasetSpec& b) { return a.Key() == b.Key(); }
  friend bool operator!=(const DatasetSpec& a, const DatasetSpec& b) { return !(a == b); }
};

// Parses the text form:
//   "fashion-mnist"  "synthetic"  "idx:DIR"  "idx:DIR:CLASSES"  "cifar10:DIR"
//   "folder:DIR"  "csv:FILE"  "csv:DIR"  "speech_commands:DIR"
// ("data:NAME", a registered data set, is refused with a message saying that
// only a coordinator resolves it: server/core/dataset_registry.h.)
// (input_shape, bad_files and speech_commands' options are not part of the
// text: the job spec and the CLI carry them beside it; `speech` keeps its
// defaults).
// kInvalidArgument names what is wrong and lists the forms, quoting at most
// kQuoteChars characters of the text (base/json_limits.h).
Result<DatasetSpec> ParseDatasetSpec(std::string_view text);

// The part of a registered data set's `directory` after its "<sha256>"
// component: "" for a directory, "/FILE" for a single-file pack. kInvalidArgument
// when `sha256` is empty or the directory does not hold that component.
Result<std::string> RegisteredSubpath(const DatasetSpec& spec);

// The text form ParseDatasetSpec reads back to an equal spec (what a job's
// normalised JSON stores).
std::string DatasetSpecText(const DatasetSpec& spec);

// Parses "H,W,C" (the CLI's --input-shape): each 1..4096, C 1 or 3 for
// images. kInvalidArgument names the part that is wrong.
Result<InputShape> ParseInputShape(std::string_view text);
// Checks a shape given as numbers (the job's "input_shape": [H, W, C]).
Status ValidateInputShape(const InputShape& shape);

// What a network trained on the data set takes and predicts.
struct DatasetShape {
  int height = 0, width = 0, channels = 0;
  int num_classes = 0;
  std::vector<std::string> class_names;  // num_classes names, label id order
};

// The shape without decoding the data: fashion-mnist 28x28x1, cifar10 32x32x3
// and synthetic 8x8x1 (10 classes each) are fixed by their formats; an IDX
// data set's image size is read from its training images' header; an image
// folder's classes are its folder names (directories listed, no image
// decoded; the shape is input_shape, or the first training image's header);
// a CSV's classes are read from its label column; speech_commands is
// frames x features x 1 of its front end (49x40x1 by default) with 2 + wanted
// words classes, after checking that DIR, its two list files and a folder per
// wanted word exist (no clip is read).
// kNotFound for missing files, kInvalidArgument for bad files or an
// input_shape the data cannot take.
Result<DatasetShape> DescribeDataset(const DatasetSpec& spec);

// An IDX data set's four files, each "DIR/name.gz" if it exists, else
// "DIR/name"; kNotFound names the file (for fashion-mnist, and the Debian
// package to install).
struct IdxFiles {
  std::string train_images, train_labels, test_images, test_labels;
};
Result<IdxFiles> FindIdxFiles(const DatasetSpec& spec);

}  // namespace unas::data
