#include "worker/dataset.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include "tests/temp_dir.h"

namespace unas::worker {
namespace {

// Users' own data: the tensors' edge keeps the class names and the
// normalisation an exported model needs (DatasetInfo), worked out by hand:
// every row of a class is identical, so the train part's statistics do not
// depend on which rows the validation split takes.
TEST(DatasetTest, SensorWindowsCarryClassNamesAndSensorUnitStatistics) {
  unas::testing::TempDir dir("windows");
  {
    std::ofstream out(dir / "w.csv");
    out << "label,t0,t1\n";
    for (int i = 0; i < 7; ++i) out << "idle,1,3\nshake,5,7\n";
  }
  DatasetSpec spec = *data::ParseDatasetSpec("csv:" + (dir / "w.csv"));
  spec.input_shape = data::InputShape{2, 1, 1};
  auto d = LoadDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status().message();
  const DatasetInfo& info = (*d)->info();
  // 7 rows per class: 1 to test (20%, rounded), then 1 of the other 6 to validation (10%, rounded).
  EXPECT_EQ(info.test_count, 2);
  EXPECT_EQ(info.validation_count, 2);
  EXPECT_EQ(info.train_count, 10);
  EXPECT_EQ(info.input.height, 2);
  EXPECT_EQ(info.input.width, 1);
  EXPECT_EQ(info.input.channels, 1);
  EXPECT_EQ(info.class_names, (std::vector<std::string>{"idle", "shake"}));
  EXPECT_EQ(info.value_kind, data::InputValueKind::kSensorValue);
  // Values 1, 3, 5, 7 equally often: mean 4, population variance (9 + 1 + 1 + 9) / 4 = 5.
  ASSERT_EQ(info.channel_mean.size(), 1u);
  EXPECT_FLOAT_EQ(info.channel_mean[0], 4.0f);
  EXPECT_FLOAT_EQ(info.channel_std[0], std::sqrt(5.0f));
}

TEST(DatasetTest, ImageFolderCarriesClassNamesAndPixelStatistics) {
  unas::testing::TempDir dir("images");
  std::vector<uint8_t> black(3 * 4 * 4, 0), white(3 * 4 * 4, 255);
  for (const char* cls : {"dark", "light"}) std::filesystem::create_directories(dir / cls);
  for (int i = 0; i < 7; ++i) {
    ASSERT_EQ(stbi_write_png((dir / ("dark/" + std::to_string(i) + ".png")).c_str(), 4, 4, 3, black.data(), 12), 1);
    ASSERT_EQ(stbi_write_png((dir / ("light/" + std::to_string(i) + ".png")).c_str(), 4, 4, 3, white.data(), 12), 1);
  }
  std::ofstream(dir / "light/broken.png") << "truncated";
  DatasetSpec spec = *data::ParseDatasetSpec("folder:" + dir.path());
  spec.input_shape = data::InputShape{2, 2, 3};
  EXPECT_EQ(LoadDataset(spec).status().message(),
            dir / "light/broken.png" +
                ": not a readable image (stb_image: unknown image type) (set \"bad_files\": \"skip\" to leave such "
                "files out)");
  spec.bad_files = data::BadFilePolicy::kSkip;
  auto d = LoadDataset(spec);
  ASSERT_TRUE(d.ok()) << d.status().message();
  const DatasetInfo& info = (*d)->info();
  EXPECT_EQ(info.skipped_files, 1);
  EXPECT_EQ(info.train_count + info.validation_count + info.test_count, 14);
  EXPECT_EQ(info.input.height, 2);
  EXPECT_EQ(info.input.channels, 3);
  EXPECT_EQ(info.class_names, (std::vector<std::string>{"dark", "light"}));
  EXPECT_EQ(info.value_kind, data::InputValueKind::kPixel8);
  ASSERT_EQ(info.channel_mean.size(), 3u);
  for (int c = 0; c < 3; ++c) {
    EXPECT_FLOAT_EQ(info.channel_mean[c], 0.5f);  // pixel / 255: half 0, half 1
    EXPECT_FLOAT_EQ(info.channel_std[c], 0.5f);
  }
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
  if (::stat(data::kFashionMnistDir, &st) != 0) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto d = LoadDataset(*data::ParseDatasetSpec("fashion-mnist"));
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ((*d)->info().train_count, 54000);
  EXPECT_EQ((*d)->info().validation_count, 6000);
  EXPECT_EQ((*d)->info().test_count, 10000);
  EXPECT_EQ((*d)->info().input.height, 28);
  EXPECT_EQ((*d)->info().class_names.front(), "T-shirt/top");
  EXPECT_EQ((*d)->info().channel_mean.size(), 1u);
}

}  // namespace
}  // namespace unas::worker
