#include "data/dataset_spec.h"

#include <sys/stat.h>

#include <cstdlib>

#include "base/json_limits.h"
#include "data/image_files.h"
#include "data/image_folder.h"
#include "data/sensor_csv.h"

namespace unas::data {
namespace {

constexpr const char* kForms = "fashion-mnist, synthetic, idx:DIR[:CLASSES], cifar10:DIR, folder:DIR, csv:FILE, csv:DIR";

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

std::vector<std::string> NumberNames(int n) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back(std::to_string(i));
  return names;
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
  }
  return "?";
}

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
  auto rest = [&](const std::string& prefix) { return text.substr(prefix.size()); };
  if (text.rfind("folder:", 0) == 0 && text.size() > 7) {
    spec.kind = DatasetKind::kFolder;
    spec.directory = rest("folder:");
    return spec;
  }
  if (text.rfind("csv:", 0) == 0 && text.size() > 4) {
    spec.kind = DatasetKind::kCsv;
    spec.directory = rest("csv:");
    return spec;
  }
  if (text.rfind("cifar10:", 0) == 0 && text.size() > 8) {
    spec.kind = DatasetKind::kCifar10;
    spec.directory = rest("cifar10:");
    return spec;
  }
  if (text.rfind("idx:", 0) == 0 && text.size() > 4) {
    spec.kind = DatasetKind::kIdx;
    spec.directory = rest("idx:");
    if (auto colon = spec.directory.rfind(':'); colon != std::string::npos) {
      const std::string classes = spec.directory.substr(colon + 1);
      char* end = nullptr;
      const long v = std::strtol(classes.c_str(), &end, 10);
      if (classes.empty() || *end != '\0' || v < 2 || v > 256) {
        return Status::Invalid("'" + QuotePrefix(text) + "': class count '" + QuotePrefix(classes) +
                               "' is not an integer in 2..256");
      }
      spec.num_classes = static_cast<int>(v);
      spec.directory.resize(colon);
    }
    return spec;
  }
  return Status::Invalid("'" + QuotePrefix(text) + "' is not one of " + kForms);
}

std::string DatasetSpecText(const DatasetSpec& spec) {
  switch (spec.kind) {
    case DatasetKind::kFashionMnist: return "fashion-mnist";
    case DatasetKind::kSynthetic: return "synthetic";
    case DatasetKind::kCifar10: return "cifar10:" + spec.directory;
    case DatasetKind::kFolder: return "folder:" + spec.directory;
    case DatasetKind::kCsv: return "csv:" + spec.directory;
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
    case DatasetKind::kSynthetic: return DatasetShape{8, 8, 1, 10, NumberNames(10)};
    case DatasetKind::kFolder: {
      UNAS_ASSIGN_OR_RETURN(FolderListing listing, ListImageFolder(spec.directory));
      UNAS_ASSIGN_OR_RETURN(InputShape s, FolderInputShape(spec, listing));
      return DatasetShape{s.height, s.width, s.channels, static_cast<int>(listing.class_names.size()),
                          listing.class_names};
    }
    case DatasetKind::kCsv: return DescribeSensorCsv(spec);
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
      return DatasetShape{static_cast<int>(h), static_cast<int>(w), 1, spec.num_classes, NumberNames(spec.num_classes)};
    }
  }
  return Status::Internal("unknown data set kind");
}

}  // namespace unas::data
