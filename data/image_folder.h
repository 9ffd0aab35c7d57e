// Image folders ("folder:DIR", docs/data.md): the torchvision ImageFolder /
// Keras image_dataset_from_directory convention. One subfolder per class;
// label ids are the class folder names in sorted byte order. If DIR/train
// and DIR/test are both directories they are the splits (DIR/test is the
// test set, exactly); otherwise DIR itself is the class root and a
// stratified, seeded 20% of each class is the test set.
//
// Files: .png .jpg .jpeg .bmp .pgm .ppm .pnm (any case), anywhere below a
// class folder (subfolders are walked, symbolic links followed); names
// starting with '.' and other extensions are ignored. Decoded by stb_image
// (Debian's libstb), never by hand.
//
// Conversion (one rule each):
//   - channels: grey -> RGB copies the grey value to R, G and B; RGB -> grey
//     is stb_image's luma, (77 R + 150 G + 29 B) >> 8; alpha is dropped.
//   - size: stb_image_resize with the triangle (tent) filter, edges clamped,
//     linear colour space: bilinear when enlarging, area-weighted when
//     shrinking. An image already of the target size is copied untouched.
//
// Errors (kInvalidArgument unless said): a missing root (kNotFound), a class
// folder holding no image, fewer than 2 classes, more than 256, a test class
// missing from train, a symbolic-link loop, more than kMaxImageFiles files,
// an image that cannot be decoded (with BadFilePolicy::kFail; kSkip leaves
// it out and counts it) or is larger than kMaxImageSide. Every message names
// the path.
//
// Thread safety: pure functions apart from reading files.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "data/dataset_spec.h"
#include "data/image_files.h"

namespace unas::data {

inline constexpr int64_t kMaxImageFiles = 10'000'000;
inline constexpr int kMaxImageSide = 8192;
inline constexpr double kFolderTestFraction = 0.2;
inline constexpr uint64_t kFolderTestSeed = 0x7e57;

struct ImageFile {
  std::string path;
  int label = 0;
};

struct FolderListing {
  std::vector<std::string> class_names;  // sorted byte order: label id = position
  std::vector<ImageFile> train;          // every image when there is no DIR/train + DIR/test
  std::vector<ImageFile> test;           // DIR/test's images, else empty
  bool has_split_dirs = false;
};

// Lists the class folders and their image files (sorted by path within each
// class), without opening any image.
Result<FolderListing> ListImageFolder(const std::string& root);

// `done` of `total` files decoded so far; called every few thousand files.
using LoadProgress = std::function<void(int64_t done, int64_t total)>;

// Decodes `files` and converts each to `shape` (channels 1 or 3). Pixels
// are stored channel-major per image (RawImages). With kSkip, undecodable
// files are left out and *skipped counts them.
Result<RawImages> DecodeImages(const std::vector<ImageFile>& files, const InputShape& shape, BadFilePolicy policy,
                               int64_t* skipped, const LoadProgress& progress = nullptr);

// The shape an image folder is converted to: spec.input_shape if set, else
// the first training image's size, with 3 channels if it has colour and 1 if
// grey (read from its header only).
Result<InputShape> FolderInputShape(const DatasetSpec& spec, const FolderListing& listing);

// A loaded data set before it becomes tensors (the worker's edge).
struct LoadedSets {
  std::vector<std::string> class_names;
  RawImages train, test;
  int64_t skipped_files = 0;
};

// The whole folder data set: listed, decoded, converted, split.
Result<LoadedSets> ReadImageFolder(const DatasetSpec& spec, const LoadProgress& progress = nullptr);

}  // namespace unas::data
