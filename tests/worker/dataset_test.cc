#include "worker/dataset.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace unas::worker {
namespace {

TEST(DatasetTest, SyntheticIsSplitAndCached) {
  DatasetSpec spec;
  spec.kind = DatasetKind::kSynthetic;
  auto a = LoadDataset(spec);
  ASSERT_TRUE(a.ok()) << a.status().message();
  const DatasetInfo& info = (*a)->info();
  EXPECT_EQ(info.name, "synthetic");
  EXPECT_EQ(info.input.height, 8);
  EXPECT_EQ(info.input.width, 8);
  EXPECT_EQ(info.input.channels, 1);
  EXPECT_EQ(info.input.num_classes, 10);
  EXPECT_EQ(info.train_count, 1800);  // 2000 minus a stratified 10%
  EXPECT_EQ(info.validation_count, 200);
  EXPECT_EQ(info.test_count, 500);
  auto b = LoadDataset(spec);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->get(), b->get());  // loaded once
}

TEST(DatasetTest, MissingFashionMnistNamesTheDebianPackage) {
  DatasetSpec spec;
  spec.kind = DatasetKind::kFashionMnist;
  spec.directory = "/nonexistent/fashion-mnist";
  auto d = LoadDataset(spec);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(d.status().message(),
            "/nonexistent/fashion-mnist/train-images-idx3-ubyte[.gz]: no such file; install Debian's "
            "dataset-fashion-mnist package (apt-get install dataset-fashion-mnist)");
}

TEST(DatasetTest, CorruptIdxDirectoryIsAnErrorNotACrash) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("unas_dataset_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-labels-idx1-ubyte"}) {
    std::ofstream(dir / name, std::ios::binary) << "garbage that is not IDX";
  }
  DatasetSpec spec;
  spec.kind = DatasetKind::kIdx;
  spec.directory = dir.string();
  auto d = LoadDataset(spec);
  fs::remove_all(dir);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(d.status().message(), (dir / "train-images-idx3-ubyte").string() +
                                      ": not an IDX image file (magic 0x67617262, expected 0x00000803)");
}

TEST(DatasetTest, FashionMnistFromDebianPackage) {
  struct stat st {};
  if (::stat(data::kFashionMnistDir, &st) != 0) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto d = LoadDataset(*data::ParseDatasetSpec("fashion-mnist"));
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ((*d)->info().train_count, 54000);
  EXPECT_EQ((*d)->info().validation_count, 6000);
  EXPECT_EQ((*d)->info().test_count, 10000);
  EXPECT_EQ((*d)->info().input.height, 28);
}

}  // namespace
}  // namespace unas::worker
