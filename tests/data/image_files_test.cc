// Readers reject corrupt and mismatched files with messages that say what is
// wrong, and never crash; splits are stratified and deterministic.
#include "data/image_files.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace unas::data {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> BigEndian(uint32_t v) {
  return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}

std::vector<uint8_t> IdxImages(uint32_t n, uint32_t h, uint32_t w, uint32_t magic = 0x803) {
  std::vector<uint8_t> b;
  for (uint32_t v : {magic, n, h, w}) {
    auto be = BigEndian(v);
    b.insert(b.end(), be.begin(), be.end());
  }
  for (uint32_t i = 0; i < n * h * w; ++i) b.push_back(uint8_t(i % 251));
  return b;
}

std::vector<uint8_t> IdxLabels(uint32_t n, uint32_t magic = 0x801) {
  std::vector<uint8_t> b;
  for (uint32_t v : {magic, n}) {
    auto be = BigEndian(v);
    b.insert(b.end(), be.begin(), be.end());
  }
  for (uint32_t i = 0; i < n; ++i) b.push_back(uint8_t(i % 10));
  return b;
}

class DataFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("unas_worker_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = (dir_ / name).string();
    if (name.size() > 3 && name.substr(name.size() - 3) == ".gz") {
      gzFile f = gzopen(path.c_str(), "wb");
      gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
      gzclose(f);
    } else {
      std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    return path;
  }

  fs::path dir_;
};

TEST_F(DataFilesTest, ReadsGzippedIdxPair) {
  auto raw = ReadIdxPair(Write("i.gz", IdxImages(20, 3, 4)), Write("l.gz", IdxLabels(20)), 10);
  ASSERT_TRUE(raw.ok()) << raw.status().message();
  EXPECT_EQ(raw->count, 20);
  EXPECT_EQ(raw->height, 3);
  EXPECT_EQ(raw->width, 4);
  EXPECT_EQ(raw->channels, 1);
  ASSERT_EQ(raw->pixels.size(), 240u);
  EXPECT_EQ(raw->pixels[239], 239 % 251);
  EXPECT_EQ(raw->labels[13], 3);
}

TEST_F(DataFilesTest, RejectsWrongImageMagic) {
  const std::string images = Write("i", IdxImages(5, 2, 2, 0x801));
  auto raw = ReadIdxPair(images, Write("l", IdxLabels(5)), 10);
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(raw.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(raw.status().message(), images + ": not an IDX image file (magic 0x00000801, expected 0x00000803)");
}

TEST_F(DataFilesTest, RejectsWrongLabelMagic) {
  const std::string labels = Write("l", IdxLabels(5, 0x803));
  auto raw = ReadIdxPair(Write("i", IdxImages(5, 2, 2)), labels, 10);
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(raw.status().message(), labels + ": not an IDX label file (magic 0x00000803, expected 0x00000801)");
}

TEST_F(DataFilesTest, RejectsTruncatedImages) {
  auto bytes = IdxImages(5, 2, 2);
  bytes.resize(bytes.size() - 3);
  const std::string images = Write("i", bytes);
  auto raw = ReadIdxPair(images, Write("l", IdxLabels(5)), 10);
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(raw.status().message(),
            images + ": truncated: header says 5 images of 2x2 (20 bytes), file has 17");
}

TEST_F(DataFilesTest, RejectsTruncatedHeader) {
  const std::string images = Write("i", {0, 0, 8, 3, 0});
  auto raw = ReadIdxPair(images, Write("l", IdxLabels(5)), 10);
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(raw.status().message(), images + ": truncated IDX image file (5 bytes, header needs 16)");
}

TEST_F(DataFilesTest, RejectsLabelCountMismatch) {
  const std::string images = Write("i", IdxImages(5, 2, 2));
  const std::string labels = Write("l", IdxLabels(6));
  auto raw = ReadIdxPair(images, labels, 10);
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(raw.status().message(), images + " has 5 images but " + labels + " has 6 labels");
}

TEST_F(DataFilesTest, RejectsLabelOutsideClasses) {
  const std::string labels = Write("l", IdxLabels(5));
  auto raw = ReadIdxPair(Write("i", IdxImages(5, 2, 2)), labels, 3);
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(raw.status().message(), labels + ": label 3 at index 3 is not below 3 classes");
}

TEST_F(DataFilesTest, RejectsTruncatedGzip) {
  const std::string full = Write("full.gz", IdxImages(50, 8, 8));
  std::vector<uint8_t> gz;
  {
    std::ifstream in(full, std::ios::binary);
    gz.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  gz.resize(gz.size() / 2);
  const std::string cut = (dir_ / "cut.gz").string();
  std::ofstream(cut, std::ios::binary).write(reinterpret_cast<const char*>(gz.data()), gz.size());
  auto bytes = ReadFileBytes(cut);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bytes.status().message(), cut + ": truncated or corrupt gzip data");
}

TEST_F(DataFilesTest, MissingFileIsNotFound) {
  auto bytes = ReadFileBytes((dir_ / "nope").string());
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(bytes.status().message(), (dir_ / "nope").string() + ": cannot open file");
}

TEST_F(DataFilesTest, ReadsCifar10Records) {
  std::vector<uint8_t> batch;
  for (int r = 0; r < 3; ++r) {
    batch.push_back(uint8_t(r + 7));
    for (int p = 0; p < 3072; ++p) batch.push_back(uint8_t(p % 256));
  }
  auto raw = ReadCifar10({Write("a.bin", batch), Write("b.bin", batch)});
  ASSERT_TRUE(raw.ok()) << raw.status().message();
  EXPECT_EQ(raw->count, 6);
  EXPECT_EQ(raw->channels, 3);
  EXPECT_EQ(raw->height, 32);
  EXPECT_EQ(raw->labels, (std::vector<uint8_t>{7, 8, 9, 7, 8, 9}));
  EXPECT_EQ(raw->pixels.size(), 6u * 3072u);
}

TEST_F(DataFilesTest, RejectsPartialCifar10Record) {
  const std::string path = Write("a.bin", std::vector<uint8_t>(3073 + 100, 1));
  auto raw = ReadCifar10({path});
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(raw.status().message(),
            path + ": not a CIFAR-10 binary batch (3173 bytes is not a whole number of 3073-byte records)");
}

TEST_F(DataFilesTest, RejectsCifar10LabelAboveNine) {
  std::vector<uint8_t> rec(3073, 0);
  rec[0] = 10;
  const std::string path = Write("a.bin", rec);
  auto raw = ReadCifar10({path});
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(raw.status().message(), path + ": record 0 has label 10 (CIFAR-10 labels are 0..9)");
}

TEST(SplitTest, StratifiedTenPercentIsDeterministic) {
  std::vector<uint8_t> labels;
  for (int i = 0; i < 1000; ++i) labels.push_back(uint8_t(i % 10));
  for (int i = 0; i < 55; ++i) labels.push_back(3);  // class 3: 155 images -> round(15.5) = 16
  const SplitIndices a = StratifiedSplit(labels, 10, 0.1, 0);
  const SplitIndices b = StratifiedSplit(labels, 10, 0.1, 0);
  EXPECT_EQ(a.validation, b.validation);
  ASSERT_EQ(a.validation.size(), 9u * 10u + 16u);
  EXPECT_EQ(a.train.size(), labels.size() - a.validation.size());
  std::vector<int> per_class(10);
  for (int64_t i : a.validation) ++per_class[labels[static_cast<size_t>(i)]];
  EXPECT_EQ(per_class, (std::vector<int>{10, 10, 10, 16, 10, 10, 10, 10, 10, 10}));
  EXPECT_NE(StratifiedSplit(labels, 10, 0.1, 1).validation, a.validation);
}

TEST(SyntheticTest, IsDeterministicAndBalanced) {
  const RawImages a = SyntheticImages(100, 1), b = SyntheticImages(100, 1);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_NE(SyntheticImages(100, 2).pixels, a.pixels);
  EXPECT_EQ(a.height, 8);
  EXPECT_EQ(a.width, 8);
  EXPECT_EQ(a.labels[0], 0);
  EXPECT_EQ(a.labels[57], 7);
}

}  // namespace
}  // namespace unas::data
