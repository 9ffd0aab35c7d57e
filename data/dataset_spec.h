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

#include "base/status.h"

namespace unas::data {

enum class DatasetKind {
  kFashionMnist,  // Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist
  kIdx,           // any IDX pair (MNIST and friends) by path
  kCifar10,       // CIFAR-10 binary batches in a directory
  kSynthetic,     // deterministic 8x8x1, 10 classes, no file (for tests)
};

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

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

  std::string Key() const;  // identifies the data in a process-wide cache
  friend bool operator==(const DatasetSpec& a, const DatasetSpec& b) { return a.Key() == b.Key(); }
  friend bool operator!=(const DatasetSpec& a, const DatasetSpec& b) { return !(a == b); }
};

// Parses the text form:
//   "fashion-mnist"  "synthetic"  "idx:DIR"  "idx:DIR:CLASSES"  "cifar10:DIR"
// kInvalidArgument names what is wrong and lists the forms, quoting at most
// kQuoteChars characters of the text (base/json_limits.h).
Result<DatasetSpec> ParseDatasetSpec(std::string_view text);

// The text form ParseDatasetSpec reads back to an equal spec (what a job's
// normalised JSON stores).
std::string DatasetSpecText(const DatasetSpec& spec);

// What a network trained on the data set takes and predicts.
struct DatasetShape {
  int height = 0, width = 0, channels = 0;
  int num_classes = 0;
};

// The shape without reading the data: fashion-mnist 28x28x1, cifar10 32x32x3
// and synthetic 8x8x1 (10 classes each) are fixed by their formats; an IDX
// data set's image size is read from its training images' header.
// kNotFound for missing files, kInvalidArgument for a file that is not IDX.
Result<DatasetShape> DescribeDataset(const DatasetSpec& spec);

// An IDX data set's four files, each "DIR/name.gz" if it exists, else
// "DIR/name"; kNotFound names the file (for fashion-mnist, and the Debian
// package to install).
struct IdxFiles {
  std::string train_images, train_labels, test_images, test_labels;
};
Result<IdxFiles> FindIdxFiles(const DatasetSpec& spec);

}  // namespace unas::data
