#include "data/image_files.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

namespace unas::data {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// SplitMix64: tiny, portable and fully specified, so synthetic data and splits
// are identical on every standard library.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return (Next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

uint32_t BigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

Result<std::vector<uint8_t>> ReadGzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return Status(StatusCode::kNotFound, path + ": cannot open file");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(f, gzclose);
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(1 << 20);
  for (;;) {
    const int n = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      return Status::Invalid(path + ": corrupt gzip data (" + std::string(msg ? msg : "unknown") + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  }
  // zlib reports a truncated stream only through gzerror after EOF.
  int err = 0;
  gzerror(f, &err);
  if (err != Z_OK && err != Z_STREAM_END) {
    return Status::Invalid(path + ": truncated or corrupt gzip data");
  }
  return out;
}

}  // namespace

Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path) {
  if (EndsWith(path, ".gz")) return ReadGzip(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, path + ": cannot open file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::Invalid(path + ": read error");
  return bytes;
}

Result<std::vector<uint8_t>> ReadFilePrefix(const std::string& path, size_t max_bytes) {
  std::vector<uint8_t> out(max_bytes);
  if (EndsWith(path, ".gz")) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) return Status(StatusCode::kNotFound, path + ": cannot open file");
    std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(f, gzclose);
    const int n = gzread(f, out.data(), static_cast<unsigned>(max_bytes));
    if (n < 0) return Status::Invalid(path + ": corrupt gzip data");
    out.resize(static_cast<size_t>(n));
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, path + ": cannot open file");
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(max_bytes));
  if (in.bad()) return Status::Invalid(path + ": read error");
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

Result<RawImages> ReadIdxPair(const std::string& images_path, const std::string& labels_path,
                              int num_classes) {
  UNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> images, ReadFileBytes(images_path));
  UNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> labels, ReadFileBytes(labels_path));
  if (images.size() < 16) {
    return Status::Invalid(images_path + ": truncated IDX image file (" + std::to_string(images.size()) +
                           " bytes, header needs 16)");
  }
  if (const uint32_t magic = BigEndian32(images.data()); magic != 0x00000803) {
    return Status::Invalid(images_path + ": not an IDX image file (magic " + Hex(magic) + ", expected 0x00000803)");
  }
  if (labels.size() < 8) {
    return Status::Invalid(labels_path + ": truncated IDX label file (" + std::to_string(labels.size()) +
                           " bytes, header needs 8)");
  }
  if (const uint32_t magic = BigEndian32(labels.data()); magic != 0x00000801) {
    return Status::Invalid(labels_path + ": not an IDX label file (magic " + Hex(magic) + ", expected 0x00000801)");
  }
  const uint32_t n = BigEndian32(images.data() + 4);
  const uint32_t h = BigEndian32(images.data() + 8);
  const uint32_t w = BigEndian32(images.data() + 12);
  const uint32_t n_labels = BigEndian32(labels.data() + 4);
  if (h == 0 || w == 0 || h > 4096 || w > 4096) {
    return Status::Invalid(images_path + ": implausible image size " + std::to_string(h) + "x" + std::to_string(w));
  }
  if (n != n_labels) {
    return Status::Invalid(images_path + " has " + std::to_string(n) + " images but " + labels_path + " has " +
                           std::to_string(n_labels) + " labels");
  }
  if (n == 0) return Status::Invalid(images_path + ": contains no images");
  const uint64_t want_pixels = uint64_t{n} * h * w;
  if (images.size() - 16 != want_pixels) {
    return Status::Invalid(images_path + ": " + (images.size() - 16 < want_pixels ? "truncated" : "trailing bytes") +
                           ": header says " + std::to_string(n) + " images of " + std::to_string(h) + "x" +
                           std::to_string(w) + " (" + std::to_string(want_pixels) + " bytes), file has " +
                           std::to_string(images.size() - 16));
  }
  if (labels.size() - 8 != n) {
    return Status::Invalid(labels_path + ": " + (labels.size() - 8 < n ? "truncated" : "trailing bytes") +
                           ": header says " + std::to_string(n) + " labels, file has " +
                           std::to_string(labels.size() - 8));
  }
  RawImages raw;
  raw.count = n;
  raw.height = static_cast<int>(h);
  raw.width = static_cast<int>(w);
  raw.channels = 1;
  raw.pixels.assign(images.begin() + 16, images.end());
  raw.labels.assign(labels.begin() + 8, labels.end());
  for (uint32_t i = 0; i < n; ++i) {
    if (raw.labels[i] >= num_classes) {
      return Status::Invalid(labels_path + ": label " + std::to_string(raw.labels[i]) + " at index " +
                             std::to_string(i) + " is not below " + std::to_string(num_classes) + " classes");
    }
  }
  return raw;
}

Result<RawImages> ReadCifar10(const std::vector<std::string>& paths) {
  constexpr int64_t kPixels = 3 * 32 * 32, kRecord = 1 + kPixels;
  RawImages raw;
  raw.height = raw.width = 32;
  raw.channels = 3;
  for (const std::string& path : paths) {
    UNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path));
    const int64_t size = static_cast<int64_t>(bytes.size());
    if (size == 0 || size % kRecord != 0) {
      return Status::Invalid(path + ": not a CIFAR-10 binary batch (" + std::to_string(size) +
                             " bytes is not a whole number of 3073-byte records)");
    }
    for (int64_t r = 0; r < size / kRecord; ++r) {
      const uint8_t* rec = bytes.data() + r * kRecord;
      if (rec[0] >= 10) {
        return Status::Invalid(path + ": record " + std::to_string(r) + " has label " + std::to_string(rec[0]) +
                               " (CIFAR-10 labels are 0..9)");
      }
      raw.labels.push_back(rec[0]);
      raw.pixels.insert(raw.pixels.end(), rec + 1, rec + kRecord);
    }
  }
  raw.count = static_cast<int64_t>(raw.labels.size());
  return raw;
}

RawImages SyntheticImages(int64_t count, uint64_t seed) {
  RawImages raw;
  raw.count = count;
  raw.height = raw.width = 8;
  raw.channels = 1;
  raw.pixels.resize(static_cast<size_t>(count * 64));
  raw.labels.resize(static_cast<size_t>(count));
  // Blob corners (row, col) per class, on a grid inside the 8x8 image.
  static constexpr int kBlob[10][2] = {{0, 0}, {0, 3}, {0, 6}, {3, 0}, {3, 3},
                                       {3, 6}, {6, 0}, {6, 3}, {6, 6}, {1, 4}};
  SplitMix64 rng(seed);
  for (int64_t i = 0; i < count; ++i) {
    const int label = static_cast<int>(i % 10);
    raw.labels[i] = static_cast<uint8_t>(label);
    for (int p = 0; p < 64; ++p) {
      // Box-Muller noise, sd 40 grey levels around a background of 60.
      const double u1 = std::max(rng.Uniform(), 1e-12), u2 = rng.Uniform();
      const double noise = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
      const int r = p / 8, c = p % 8;
      const bool on = r >= kBlob[label][0] && r < kBlob[label][0] + 2 && c >= kBlob[label][1] &&
                      c < kBlob[label][1] + 2;
      const double v = (on ? 200.0 : 60.0) + 40.0 * noise;
      raw.pixels[i * 64 + p] = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
    }
  }
  return raw;
}

RawImages SelectImages(const RawImages& raw, const std::vector<int64_t>& rows) {
  RawImages out;
  out.count = static_cast<int64_t>(rows.size());
  out.height = raw.height;
  out.width = raw.width;
  out.channels = raw.channels;
  const auto n = static_cast<size_t>(raw.pixels_per_image());
  if (raw.is_float()) out.values.reserve(rows.size() * n);
  else out.pixels.reserve(rows.size() * n);
  out.labels.reserve(rows.size());
  for (int64_t r : rows) {
    const size_t at = static_cast<size_t>(r) * n;
    if (raw.is_float()) {
      out.values.insert(out.values.end(), raw.values.begin() + at, raw.values.begin() + at + n);
    } else {
      out.pixels.insert(out.pixels.end(), raw.pixels.begin() + at, raw.pixels.begin() + at + n);
    }
    out.labels.push_back(raw.labels[static_cast<size_t>(r)]);
  }
  return out;
}

SplitIndices StratifiedSplit(const std::vector<uint8_t>& labels, int num_classes, double validation_fraction,
                             uint64_t seed) {
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(static_cast<int64_t>(i));
  SplitMix64 rng(seed);
  SplitIndices split;
  for (auto& members : by_class) {
    for (size_t i = members.size(); i > 1; --i) std::swap(members[i - 1], members[rng.Below(i)]);
    const auto n_val = static_cast<size_t>(std::llround(validation_fraction * static_cast<double>(members.size())));
    split.validation.insert(split.validation.end(), members.begin(), members.begin() + n_val);
    split.train.insert(split.train.end(), members.begin() + n_val, members.end());
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  return split;
}

}  // namespace unas::data
