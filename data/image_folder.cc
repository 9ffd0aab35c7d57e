#include "data/image_folder.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

namespace unas::data {
namespace {

constexpr int kMaxDepth = 32;  // below a class folder; deeper is surely a mistake

bool IsImageName(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::set<std::string> kExtensions = {"png", "jpg", "jpeg", "bmp", "pgm", "ppm", "pnm"};
  return kExtensions.count(ext) > 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

struct Entry {
  std::string name;
  unsigned char type = DT_UNKNOWN;  // readdir's d_type: DT_REG needs no stat (100,000 files list fast)
  bool operator<(const Entry& o) const { return name < o.name; }
};

// The entries of a directory, sorted, without "." and "..".
Result<std::vector<Entry>> ListDirectory(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return Status::Invalid(path + ": cannot open directory (" + std::strerror(errno) + ")");
  std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, ::closedir);
  std::vector<Entry> entries;
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") entries.push_back(Entry{name, e->d_type});
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

using DirId = std::pair<dev_t, ino_t>;

// Appends every image file below `dir` (following symbolic links) to `out`.
// `ancestors` holds the directories on the way down: meeting one again is a
// symbolic-link loop.
Status WalkClass(const std::string& dir, int label, int depth, std::set<DirId>* ancestors,
                 std::vector<ImageFile>* out, int64_t* total) {
  if (depth > kMaxDepth) return Status::Invalid(dir + ": more than " + std::to_string(kMaxDepth) + " folders deep");
  UNAS_ASSIGN_OR_RETURN(std::vector<Entry> entries, ListDirectory(dir));
  for (const Entry& entry : entries) {
    const std::string& name = entry.name;
    if (name[0] == '.') continue;
    const std::string path = dir + "/" + name;
    if (entry.type == DT_REG) {
      if (IsImageName(name)) {
        out->push_back(ImageFile{path, label});
        if (++*total > kMaxImageFiles) break;
      }
      continue;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      // A dangling symbolic link or an entry that vanished: if it names an
      // image, the decode step reports it under the file policy.
      if (IsImageName(name)) {
        out->push_back(ImageFile{path, label});
        if (++*total > kMaxImageFiles) break;
      }
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      const DirId id{st.st_dev, st.st_ino};
      if (ancestors->count(id) > 0) {
        return Status::Invalid(path + ": symbolic-link loop (leads back to a folder above it)");
      }
      ancestors->insert(id);
      UNAS_RETURN_IF_ERROR(WalkClass(path, label, depth + 1, ancestors, out, total));
      ancestors->erase(id);
    } else if (S_ISREG(st.st_mode) && IsImageName(name)) {
      out->push_back(ImageFile{path, label});
      if (++*total > kMaxImageFiles) break;
    }
  }
  if (*total > kMaxImageFiles) {
    return Status::Invalid(dir + ": more than " + std::to_string(kMaxImageFiles) + " image files");
  }
  return Status::Ok();
}

// The class folders of `root` (sorted byte order), each with its images.
Result<std::vector<std::pair<std::string, std::vector<ImageFile>>>> ReadClassRoot(const std::string& root) {
  UNAS_ASSIGN_OR_RETURN(std::vector<Entry> entries, ListDirectory(root));
  std::vector<std::pair<std::string, std::vector<ImageFile>>> classes;
  int64_t total = 0;
  for (const Entry& entry : entries) {
    const std::string& name = entry.name;
    if (name[0] == '.') continue;
    const std::string path = root + "/" + name;
    if (!IsDirectory(path)) continue;  // loose files beside the class folders (README, labels.txt) are ignored
    struct stat st {};
    ::stat(path.c_str(), &st);
    std::set<DirId> ancestors = {{st.st_dev, st.st_ino}};
    if (struct stat rs {}; ::stat(root.c_str(), &rs) == 0) ancestors.insert({rs.st_dev, rs.st_ino});
    std::vector<ImageFile> files;
    UNAS_RETURN_IF_ERROR(WalkClass(path, static_cast<int>(classes.size()), 1, &ancestors, &files, &total));
    if (files.empty()) {
      return Status::Invalid(path + ": class folder holds no image (.png .jpg .jpeg .bmp .pgm .ppm .pnm)");
    }
    classes.emplace_back(name, std::move(files));
  }
  return classes;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 20; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 20) out += ", ...";
  return out;
}

// Converts one decoded HWC image of `comp` channels (already `shape.channels`
// thanks to stb_image's req_comp) to the target size, channel-major, at `out`.
Status ResizeInto(const uint8_t* hwc, int w, int h, const InputShape& shape, uint8_t* out, const std::string& path) {
  const int c = shape.channels;
  std::vector<uint8_t> resized;
  const uint8_t* src = hwc;
  if (w != shape.width || h != shape.height) {
    resized.resize(static_cast<size_t>(shape.width) * shape.height * c);
    if (stbir_resize_uint8_generic(hwc, w, h, 0, resized.data(), shape.width, shape.height, 0, c,
                                   STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE,
                                   STBIR_COLORSPACE_LINEAR, nullptr) != 1) {
      return Status::Invalid(path + ": cannot resize image");
    }
    src = resized.data();
  }
  const int64_t plane = int64_t{shape.height} * shape.width;
  for (int64_t p = 0; p < plane; ++p) {
    for (int ch = 0; ch < c; ++ch) out[ch * plane + p] = src[p * c + ch];
  }
  return Status::Ok();
}

}  // namespace

Result<FolderListing> ListImageFolder(const std::string& root) {
  if (!IsDirectory(root)) return Status(StatusCode::kNotFound, root + ": no such directory");
  FolderListing listing;
  const std::string train_dir = root + "/train", test_dir = root + "/test";
  listing.has_split_dirs = IsDirectory(train_dir) && IsDirectory(test_dir);
  UNAS_ASSIGN_OR_RETURN(auto train, ReadClassRoot(listing.has_split_dirs ? train_dir : root));
  const std::string where = listing.has_split_dirs ? train_dir : root;
  if (train.size() < 2) {
    return Status::Invalid(where + ": " + std::to_string(train.size()) +
                           " class folder(s); a classifier needs at least 2 (one subfolder per class)");
  }
  if (train.size() > 256) {
    return Status::Invalid(where + ": " + std::to_string(train.size()) + " class folders; at most 256 are supported");
  }
  for (auto& [name, files] : train) {
    listing.class_names.push_back(name);
    listing.train.insert(listing.train.end(), files.begin(), files.end());
  }
  if (listing.has_split_dirs) {
    UNAS_ASSIGN_OR_RETURN(auto test, ReadClassRoot(test_dir));
    for (auto& [name, files] : test) {
      const auto it = std::lower_bound(listing.class_names.begin(), listing.class_names.end(), name);
      if (it == listing.class_names.end() || *it != name) {
        return Status::Invalid(test_dir + "/" + name + ": class '" + name + "' is not among the training classes (" +
                               Joined(listing.class_names) + ")");
      }
      const int label = static_cast<int>(it - listing.class_names.begin());
      for (ImageFile& f : files) listing.test.push_back(ImageFile{std::move(f.path), label});
    }
    if (listing.test.empty()) return Status::Invalid(test_dir + ": holds no class folder");
  }
  return listing;
}

Result<InputShape> FolderInputShape(const DatasetSpec& spec, const FolderListing& listing) {
  if (spec.input_shape.set()) {
    UNAS_RETURN_IF_ERROR(ValidateInputShape(spec.input_shape));
    if (spec.input_shape.channels != 1 && spec.input_shape.channels != 3) {
      return Status::Invalid("input_shape: images have 1 (grey) or 3 (RGB) channels, not " +
                             std::to_string(spec.input_shape.channels));
    }
    return spec.input_shape;
  }
  if (listing.train.empty()) return Status::Invalid(spec.directory + ": no training image");
  const std::string& first = listing.train.front().path;
  int w = 0, h = 0, comp = 0;
  if (stbi_info(first.c_str(), &w, &h, &comp) != 1) {
    const char* why = stbi_failure_reason();
    return Status::Invalid(first + ": cannot read the image header (" + std::string(why ? why : "unknown") +
                           "); give input_shape");
  }
  if (w > 4096 || h > 4096) {
    return Status::Invalid(first + ": " + std::to_string(w) + "x" + std::to_string(h) +
                           " is too large to train on as it is; give input_shape");
  }
  return InputShape{h, w, comp >= 3 ? 3 : 1};
}

Result<RawImages> DecodeImages(const std::vector<ImageFile>& files, const InputShape& shape, BadFilePolicy policy,
                               int64_t* skipped, const LoadProgress& progress) {
  RawImages raw;
  raw.height = shape.height;
  raw.width = shape.width;
  raw.channels = shape.channels;
  const auto per_image = static_cast<size_t>(raw.pixels_per_image());
  raw.pixels.resize(files.size() * per_image);
  raw.labels.reserve(files.size());
  const auto total = static_cast<int64_t>(files.size());
  int64_t done = 0;
  for (const ImageFile& file : files) {
    if (progress && done > 0 && done % 5000 == 0) progress(done, total);
    ++done;
    auto bad = [&](const std::string& why) -> Status {
      if (policy == BadFilePolicy::kSkip) {
        ++*skipped;
        return Status::Ok();
      }
      return Status::Invalid(file.path + ": " + why + " (set \"bad_files\": \"skip\" to leave such files out)");
    };
    auto bytes = ReadFileBytes(file.path);
    if (!bytes.ok()) {
      UNAS_RETURN_IF_ERROR(bad("cannot read file"));
      continue;
    }
    int w = 0, h = 0, comp = 0;
    if (bytes->empty() ||
        stbi_info_from_memory(bytes->data(), static_cast<int>(bytes->size()), &w, &h, &comp) != 1) {
      const char* why = bytes->empty() ? "empty file" : stbi_failure_reason();
      UNAS_RETURN_IF_ERROR(bad(std::string("not a readable image (stb_image: ") + (why ? why : "unknown") + ")"));
      continue;
    }
    if (w > kMaxImageSide || h > kMaxImageSide) {
      UNAS_RETURN_IF_ERROR(bad("image of " + std::to_string(w) + "x" + std::to_string(h) + " is larger than " +
                               std::to_string(kMaxImageSide) + "x" + std::to_string(kMaxImageSide)));
      continue;
    }
    std::unique_ptr<stbi_uc, void (*)(void*)> hwc(
        stbi_load_from_memory(bytes->data(), static_cast<int>(bytes->size()), &w, &h, &comp, shape.channels),
        stbi_image_free);
    if (hwc == nullptr) {
      const char* why = stbi_failure_reason();
      UNAS_RETURN_IF_ERROR(
          bad(std::string("corrupt or truncated image (stb_image: ") + (why ? why : "unknown") + ")"));
      continue;
    }
    UNAS_RETURN_IF_ERROR(
        ResizeInto(hwc.get(), w, h, shape, raw.pixels.data() + raw.labels.size() * per_image, file.path));
    raw.labels.push_back(static_cast<uint8_t>(file.label));
  }
  raw.count = static_cast<int64_t>(raw.labels.size());
  raw.pixels.resize(static_cast<size_t>(raw.count) * per_image);
  if (progress && total >= 5000) progress(total, total);
  return raw;
}

Result<LoadedSets> ReadImageFolder(const DatasetSpec& spec, const LoadProgress& progress) {
  UNAS_ASSIGN_OR_RETURN(FolderListing listing, ListImageFolder(spec.directory));
  UNAS_ASSIGN_OR_RETURN(InputShape shape, FolderInputShape(spec, listing));
  LoadedSets sets;
  sets.class_names = listing.class_names;
  const int64_t total = static_cast<int64_t>(listing.train.size() + listing.test.size());
  // One progress count over both splits.
  auto offset_progress = [&](int64_t offset) -> LoadProgress {
    if (!progress) return nullptr;
    return [&progress, offset, total](int64_t done, int64_t) { progress(offset + done, total); };
  };
  UNAS_ASSIGN_OR_RETURN(RawImages all, DecodeImages(listing.train, shape, spec.bad_files, &sets.skipped_files,
                                                    offset_progress(0)));
  if (listing.has_split_dirs) {
    sets.train = std::move(all);
    UNAS_ASSIGN_OR_RETURN(sets.test, DecodeImages(listing.test, shape, spec.bad_files, &sets.skipped_files,
                                                  offset_progress(static_cast<int64_t>(listing.train.size()))));
  } else {
    const SplitIndices split = StratifiedSplit(all.labels, static_cast<int>(listing.class_names.size()),
                                               kFolderTestFraction, kFolderTestSeed);
    sets.train = SelectImages(all, split.train);
    sets.test = SelectImages(all, split.validation);
  }
  if (sets.train.count == 0 || sets.test.count == 0) {
    return Status::Invalid(spec.directory + ": " + std::to_string(sets.train.count) + " training and " +
                           std::to_string(sets.test.count) + " test images after skipping " +
                           std::to_string(sets.skipped_files) + " bad file(s); both splits need images");
  }
  return sets;
}

}  // namespace unas::data
