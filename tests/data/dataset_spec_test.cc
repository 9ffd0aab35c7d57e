// The typed data-set description (data/dataset_spec.h): the one parser of
// the text users write, its inverse, and the shape read from headers only.
#include "data/dataset_spec.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace unas::data {
namespace {

namespace fs = std::filesystem;

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
            "'imagenet' is not one of fashion-mnist, synthetic, idx:DIR[:CLASSES], cifar10:DIR, folder:DIR, csv:FILE, "
            "csv:DIR, speech_commands:DIR");
  EXPECT_EQ(ParseDatasetSpec("idx:/x:1").status().message(),
            "'idx:/x:1': class count '1' is not an integer in 2..256");
}

TEST(DatasetSpecTest, TextFormReadsBackToTheSameSpec) {
  for (const char* text : {"fashion-mnist", "synthetic", "idx:/data/mnist", "idx:/data/letters:26",
                           "cifar10:/data/cifar-10-batches-bin", "folder:/data/flowers", "csv:/data/imu.csv"}) {
    auto spec = ParseDatasetSpec(text);
    ASSERT_TRUE(spec.ok()) << text;
    EXPECT_EQ(DatasetSpecText(*spec), text);
    auto again = ParseDatasetSpec(DatasetSpecText(*spec));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->Key(), spec->Key());
  }
}

TEST(DatasetSpecTest, KeyTellsShapesAndPoliciesApart) {
  DatasetSpec a = *ParseDatasetSpec("folder:/data/x");
  DatasetSpec b = a;
  b.input_shape = InputShape{32, 32, 3};
  DatasetSpec c = b;
  c.bad_files = BadFilePolicy::kSkip;
  EXPECT_EQ(a.Key(), "folder:/data/x");
  EXPECT_EQ(b.Key(), "folder:/data/x|shape=32x32x3");
  EXPECT_EQ(c.Key(), "folder:/data/x|shape=32x32x3|skip-bad-files");
  EXPECT_NE(a, b);
  auto shape = ParseInputShape("49,1,3");
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->height, 49);
  EXPECT_EQ(shape->width, 1);
  EXPECT_EQ(shape->channels, 3);
}

// A described data set in one line, so that one comparison checks all of
// it and a failure shows all of it.
std::string Described(const DatasetShape& s) {
  return std::to_string(s.height) + "x" + std::to_string(s.width) + "x" + std::to_string(s.channels) + ", " +
         std::to_string(s.num_classes) + " classes";
}

TEST(DescribeDatasetTest, FixedFormatsNeedNoFiles) {
  auto fm = DescribeDataset(*ParseDatasetSpec("fashion-mnist"));
  ASSERT_TRUE(fm.ok());
  EXPECT_EQ(Described(*fm), "28x28x1, 10 classes");
  auto cifar = DescribeDataset(*ParseDatasetSpec("cifar10:/nowhere"));
  ASSERT_TRUE(cifar.ok());
  EXPECT_EQ(Described(*cifar), "32x32x3, 10 classes");
  auto synthetic = DescribeDataset(*ParseDatasetSpec("synthetic"));
  ASSERT_TRUE(synthetic.ok());
  EXPECT_EQ(Described(*synthetic), "8x8x1, 10 classes");
}

TEST(DescribeDatasetTest, IdxShapeComesFromTheTrainingImagesHeader) {
  const fs::path dir = fs::path(testing::TempDir()) / ("unas_describe_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // Only the header matters: 3 images of 5 x 7 (the pixels are not read).
  const unsigned char header[16] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0, 7};
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-labels-idx1-ubyte"}) {
    std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(header), sizeof header);
  }
  auto shape = DescribeDataset(*ParseDatasetSpec("idx:" + dir.string() + ":26"));
  fs::remove_all(dir);
  ASSERT_TRUE(shape.ok()) << shape.status().message();
  EXPECT_EQ(Described(*shape), "5x7x1, 26 classes");
}

TEST(DescribeDatasetTest, MissingIdxFileIsNotFoundNamingIt) {
  auto shape = DescribeDataset(*ParseDatasetSpec("idx:/nonexistent/dir"));
  ASSERT_FALSE(shape.ok());
  EXPECT_EQ(shape.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(shape.status().message(), "/nonexistent/dir/train-images-idx3-ubyte[.gz]: no such file");
}

}  // namespace
}  // namespace unas::data
