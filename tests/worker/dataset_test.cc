#include "worker/dataset.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace unas::worker {
namespace {

TEST(DatasetSpecTest, ParsesCommandLineForms) {
  auto fm = ParseDatasetSpec("fashion-mnist");
  ASSERT_TRUE(fm.ok());
  EXPECT_EQ(fm->kind, DatasetKind::kFashionMnist);
  EXPECT_EQ(fm->directory, "/usr/share/datasets/fashion-mnist");
  auto idx = ParseDatasetSpec("idx:/data/mnist");
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(idx->kind, DatasetKind::kIdx);
  EXPECT_EQ(idx->directory, "/data/mnist");
  EXPECT_EQ(idx->num_classes, 10);
  auto idx26 = ParseDatasetSpec("idx:/data/letters:26");
  ASSERT_TRUE(idx26.ok());
  EXPECT_EQ(idx26->directory, "/data/letters");
  EXPECT_EQ(idx26->num_classes, 26);
  auto cifar = ParseDatasetSpec("cifar10:/data/cifar-10-batches-bin");
  ASSERT_TRUE(cifar.ok());
  EXPECT_EQ(cifar->kind, DatasetKind::kCifar10);
  EXPECT_EQ(ParseDatasetSpec("synthetic")->kind, DatasetKind::kSynthetic);
  auto bad = ParseDatasetSpec("imagenet");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown data set 'imagenet' (fashion-mnist, synthetic, idx:DIR[:CLASSES] or cifar10:DIR)");
  EXPECT_EQ(ParseDatasetSpec("idx:/x:1").status().message(),
            "data set 'idx:/x:1': class count '1' is not an integer in 2..256");
}

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
  if (::stat(kFashionMnistDir, &st) != 0) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto d = LoadDataset(*ParseDatasetSpec("fashion-mnist"));
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ((*d)->info().train_count, 54000);
  EXPECT_EQ((*d)->info().validation_count, 6000);
  EXPECT_EQ((*d)->info().test_count, 10000);
  EXPECT_EQ((*d)->info().input.height, 28);
}

}  // namespace
}  // namespace unas::worker
