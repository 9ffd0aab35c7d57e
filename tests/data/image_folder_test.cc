// Image folders (data/image_folder.h): the ImageFolder convention, the split
// rule, the conversion rules, and bad data answered with messages that name
// the file. Images are generated here with stb_image_write (Debian's libstb).
#include "data/image_folder.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include "tests/data/spec_util.h"
#include "tests/temp_dir.h"

namespace unas::data {
namespace {

namespace fs = std::filesystem;

// A w x h image of `comp` channels, every pixel `value` (per channel).
void WritePng(const std::string& path, int w, int h, int comp, std::vector<uint8_t> value) {
  fs::create_directories(fs::path(path).parent_path());
  std::vector<uint8_t> pixels;
  for (int i = 0; i < w * h; ++i) pixels.insert(pixels.end(), value.begin(), value.end());
  ASSERT_EQ(stbi_write_png(path.c_str(), w, h, comp, pixels.data(), w * comp), 1) << path;
}

DatasetSpec FolderSpec(const std::string& dir, InputShape shape = {}) {
  return unas::testing::SpecWithShape("folder:" + dir, shape);
}

TEST(ImageFolderTest, ClassesAreFolderNamesInSortedByteOrder) {
  unas::testing::TempDir dir("folder");
  for (const char* name : {"b", "B", "a"}) WritePng(dir / (std::string(name) + "/x.png"), 2, 2, 1, {9});
  WritePng(dir / "a/y.png", 2, 2, 1, {9});
  std::ofstream(dir / "README.txt") << "loose files beside the class folders are ignored";
  std::ofstream(dir / "a/notes.txt") << "so are other extensions";
  auto listing = ListImageFolder(dir.path());
  ASSERT_TRUE(listing.ok()) << listing.status().message();
  EXPECT_EQ(listing->class_names, (std::vector<std::string>{"B", "a", "b"}));
  EXPECT_FALSE(listing->has_split_dirs);
  ASSERT_EQ(listing->train.size(), 4u);
  EXPECT_EQ(listing->train[0].path, dir / "B/x.png");
  EXPECT_EQ(listing->train[0].label, 0);
  EXPECT_EQ(listing->train[1].path, dir / "a/x.png");
  EXPECT_EQ(listing->train[2].path, dir / "a/y.png");
  EXPECT_EQ(listing->train[2].label, 1);
  EXPECT_EQ(listing->train[3].label, 2);
}

TEST(ImageFolderTest, TrainAndTestFoldersAreTheSplitsExactly) {
  unas::testing::TempDir dir("folder");
  for (int i = 0; i < 3; ++i) {
    WritePng(dir / ("train/cat/" + std::to_string(i) + ".png"), 4, 4, 1, {10});
    WritePng(dir / ("train/dog/" + std::to_string(i) + ".png"), 4, 4, 1, {200});
  }
  WritePng(dir / "test/dog/t.png", 4, 4, 1, {201});
  auto sets = ReadImageFolder(FolderSpec(dir.path()));
  ASSERT_TRUE(sets.ok()) << sets.status().message();
  EXPECT_EQ(sets->class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(sets->train.count, 6);
  ASSERT_EQ(sets->test.count, 1);
  EXPECT_EQ(sets->test.labels[0], 1);
  EXPECT_EQ(sets->test.pixels, std::vector<uint8_t>(16, 201));
}

TEST(ImageFolderTest, WithoutSplitFoldersTwentyPercentOfEachClassIsTheTestSet) {
  unas::testing::TempDir dir("folder");
  for (int i = 0; i < 10; ++i) WritePng(dir / ("a/" + std::to_string(i) + ".png"), 2, 2, 1, {1});
  for (int i = 0; i < 5; ++i) WritePng(dir / ("b/" + std::to_string(i) + ".png"), 2, 2, 1, {2});
  auto sets = ReadImageFolder(FolderSpec(dir.path()));
  ASSERT_TRUE(sets.ok()) << sets.status().message();
  EXPECT_EQ(sets->train.count, 12);  // 8 + 4
  EXPECT_EQ(sets->test.count, 3);    // 2 + 1
  EXPECT_EQ(sets->test.labels, (std::vector<uint8_t>{0, 0, 1}));
  auto again = ReadImageFolder(FolderSpec(dir.path()));
  EXPECT_EQ(again->test.pixels, sets->test.pixels);
}

TEST(ImageFolderTest, AnImageOfTheTargetShapePassesUntouchedChannelMajor) {
  unas::testing::TempDir dir("folder");
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  // 2x1 RGB: pixel 0 = (1, 2, 3), pixel 1 = (4, 5, 6).
  const uint8_t rgb[] = {1, 2, 3, 4, 5, 6};
  ASSERT_EQ(stbi_write_png((dir / "a/x.png").c_str(), 2, 1, 3, rgb, 6), 1);
  ASSERT_EQ(stbi_write_bmp((dir / "b/x.bmp").c_str(), 2, 1, 3, rgb), 1);
  auto listing = ListImageFolder(dir.path());
  ASSERT_TRUE(listing.ok());
  int64_t skipped = 0;
  auto raw = DecodeImages(listing->train, InputShape{1, 2, 3}, BadFilePolicy::kFail, &skipped);
  ASSERT_TRUE(raw.ok()) << raw.status().message();
  EXPECT_EQ(raw->pixels, (std::vector<uint8_t>{1, 4, 2, 5, 3, 6, 1, 4, 2, 5, 3, 6}));
}

TEST(ImageFolderTest, GreyBecomesRgbByCopyAndRgbBecomesGreyByLuma) {
  unas::testing::TempDir dir("folder");
  WritePng(dir / "a/grey.png", 1, 1, 1, {77});
  WritePng(dir / "b/rgb.png", 1, 1, 3, {100, 200, 50});
  auto listing = ListImageFolder(dir.path());
  ASSERT_TRUE(listing.ok());
  int64_t skipped = 0;
  auto rgb = DecodeImages(listing->train, InputShape{1, 1, 3}, BadFilePolicy::kFail, &skipped);
  ASSERT_TRUE(rgb.ok());
  EXPECT_EQ(rgb->pixels, (std::vector<uint8_t>{77, 77, 77, 100, 200, 50}));
  auto grey = DecodeImages(listing->train, InputShape{1, 1, 1}, BadFilePolicy::kFail, &skipped);
  ASSERT_TRUE(grey.ok());
  // (77 * 100 + 150 * 200 + 29 * 50) >> 8 = 39150 >> 8 = 152.
  EXPECT_EQ(grey->pixels, (std::vector<uint8_t>{77, 152}));
}

TEST(ImageFolderTest, ImagesOfOtherSizesAreResizedToTheShape) {
  unas::testing::TempDir dir("folder");
  WritePng(dir / "a/big.png", 40, 30, 3, {10, 20, 30});
  WritePng(dir / "b/small.png", 3, 5, 1, {90});
  // A JPEG of one flat colour stays that colour within JPEG's rounding.
  {
    std::vector<uint8_t> flat(16 * 16 * 3, 0);
    for (size_t i = 0; i < flat.size(); i += 3) flat[i] = 250;
    ASSERT_EQ(stbi_write_jpg((dir / "b/photo.JPG").c_str(), 16, 16, 3, flat.data(), 95), 1);
  }
  auto listing = ListImageFolder(dir.path());
  ASSERT_TRUE(listing.ok());
  int64_t skipped = 0;
  auto raw = DecodeImages(listing->train, InputShape{8, 8, 3}, BadFilePolicy::kFail, &skipped);
  ASSERT_TRUE(raw.ok()) << raw.status().message();
  ASSERT_EQ(raw->count, 3);
  // A flat image resized is the same flat image: the filter's weights sum to 1.
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < 64; ++p) EXPECT_EQ(raw->pixels[c * 64 + p], 10 * (c + 1));
  }
  for (int p = 0; p < 3 * 64; ++p) EXPECT_EQ(raw->pixels[2 * 192 + p], 90);  // b/small.png after b/photo.JPG
  for (int p = 0; p < 64; ++p) EXPECT_NEAR(raw->pixels[192 + p], 250, 3);
}

TEST(ImageFolderTest, ShapeDefaultsToTheFirstTrainingImage) {
  unas::testing::TempDir dir("folder");
  WritePng(dir / "a/x.png", 7, 5, 3, {1, 2, 3});
  WritePng(dir / "b/x.png", 9, 9, 1, {4});
  auto shape = DescribeDataset(FolderSpec(dir.path()));
  ASSERT_TRUE(shape.ok()) << shape.status().message();
  EXPECT_EQ(shape->height, 5);
  EXPECT_EQ(shape->width, 7);
  EXPECT_EQ(shape->channels, 3);
  EXPECT_EQ(shape->num_classes, 2);
  EXPECT_EQ(shape->class_names, (std::vector<std::string>{"a", "b"}));
  auto given = DescribeDataset(FolderSpec(dir.path(), InputShape{16, 16, 1}));
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->height, 16);
  EXPECT_EQ(given->channels, 1);
}

TEST(ImageFolderBadDataTest, TruncatedImageFailsNamingTheFileOrIsSkippedAndCounted) {
  unas::testing::TempDir dir("folder");
  for (int i = 0; i < 5; ++i) {
    WritePng(dir / ("a/" + std::to_string(i) + ".png"), 8, 8, 1, {1});
    WritePng(dir / ("b/" + std::to_string(i) + ".png"), 8, 8, 1, {2});
  }
  fs::resize_file(dir / "a/3.png", 40);  // the header survives, the pixels do not
  std::ofstream(dir / "b/2.png", std::ios::trunc) << "not an image at all";
  auto failed = ReadImageFolder(FolderSpec(dir.path()));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), dir / "a/3.png" +
                                           ": corrupt or truncated image (stb_image: IDA) (set \"bad_files\": \"skip\" to leave "
                                           "such files out)");
  DatasetSpec skip = FolderSpec(dir.path());
  skip.bad_files = BadFilePolicy::kSkip;
  auto sets = ReadImageFolder(skip);
  ASSERT_TRUE(sets.ok()) << sets.status().message();
  EXPECT_EQ(sets->skipped_files, 2);
  EXPECT_EQ(sets->train.count + sets->test.count, 8);
  std::ofstream(dir / "a/3.png", std::ios::trunc) << "";
  fs::remove(dir / "b/2.png");
  fs::create_symlink(dir / "gone.png", dir / "b/2.png");  // dangling
  auto empty = ReadImageFolder(FolderSpec(dir.path()));
  EXPECT_EQ(empty.status().message(), dir / "a/3.png" +
                                          ": not a readable image (stb_image: empty file) (set \"bad_files\": "
                                          "\"skip\" to leave such files out)");
  fs::remove(dir / "a/3.png");
  EXPECT_EQ(ReadImageFolder(FolderSpec(dir.path())).status().message(),
            dir / "b/2.png" + ": cannot read file (set \"bad_files\": \"skip\" to leave such files out)");
}

TEST(ImageFolderBadDataTest, EmptyClassFolderOneClassAndUnknownTestClassAreRefused) {
  unas::testing::TempDir dir("folder");
  WritePng(dir / "a/x.png", 2, 2, 1, {1});
  fs::create_directories(dir / "b");
  std::ofstream(dir / "b/readme.txt") << "no image here";
  EXPECT_EQ(ListImageFolder(dir.path()).status().message(),
            dir / "b" + ": class folder holds no image (.png .jpg .jpeg .bmp .pgm .ppm .pnm)");
  fs::remove_all(dir / "b");
  EXPECT_EQ(ListImageFolder(dir.path()).status().message(),
            dir.path() + ": 1 class folder(s); a classifier needs at least 2 (one subfolder per class)");
  WritePng(dir / "train/a/x.png", 2, 2, 1, {1});
  WritePng(dir / "train/b/x.png", 2, 2, 1, {1});
  WritePng(dir / "test/c/x.png", 2, 2, 1, {1});
  EXPECT_EQ(ListImageFolder(dir.path()).status().message(),
            dir / "test/c" + ": class 'c' is not among the training classes (a, b)");
  auto missing = ListImageFolder(dir / "nowhere");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), dir / "nowhere" + ": no such directory");
}

TEST(ImageFolderBadDataTest, SymbolicLinkLoopIsNamed) {
  unas::testing::TempDir dir("folder");
  WritePng(dir / "a/x.png", 2, 2, 1, {1});
  WritePng(dir / "b/sub/x.png", 2, 2, 1, {1});
  fs::create_directory_symlink(dir / "b", dir / "b/sub/again");
  EXPECT_EQ(ListImageFolder(dir.path()).status().message(),
            dir / "b/sub/again" + ": symbolic-link loop (leads back to a folder above it)");
}

TEST(ImageFolderBadDataTest, ShapeErrorsSayWhatIsWrong) {
  unas::testing::TempDir dir("folder");
  WritePng(dir / "a/x.png", 2, 2, 1, {1});
  WritePng(dir / "b/x.png", 2, 2, 1, {1});
  EXPECT_EQ(DescribeDataset(FolderSpec(dir.path(), InputShape{8, 8, 2})).status().message(),
            "input_shape: images have 1 (grey) or 3 (RGB) channels, not 2");
  EXPECT_EQ(ParseInputShape("32,32").status().message(), "'32,32' is not H,W,C (three integers)");
  EXPECT_EQ(ParseInputShape("32,0,3").status().message(),
            "input_shape [32, 0, 3]: height must be 1..65536, width 1..4096, channels 1..256");
  EXPECT_EQ(DescribeDataset([] {
              DatasetSpec s = *ParseDatasetSpec("fashion-mnist");
              s.input_shape = {32, 32, 3};
              return s;
            }())
                .status()
                .message(),
            "input_shape 32x32x3: fashion-mnist is 28x28x1; only folder: and csv: data sets are converted to another "
            "shape");
}

// Thousands of tiny files: listed and decoded in one pass, nothing kept per
// file but its path (docs/data.md has the throughput on 50,000).
TEST(ImageFolderTest, ThreeThousandTinyFilesLoad) {
  unas::testing::TempDir dir("folder");
  const uint8_t px[4] = {0, 64, 128, 255};
  for (int c = 0; c < 3; ++c) {
    fs::create_directories(dir / ("c" + std::to_string(c)));
    for (int i = 0; i < 1000; ++i) {
      const std::string path = dir / ("c" + std::to_string(c) + "/" + std::to_string(i) + ".png");
      ASSERT_EQ(stbi_write_png(path.c_str(), 2, 2, 1, px, 2), 1);
    }
  }
  int64_t last_done = 0, calls = 0;
  auto sets = ReadImageFolder(FolderSpec(dir.path()), [&](int64_t done, int64_t total) {
    EXPECT_EQ(total, 3000);
    last_done = done;
    ++calls;
  });
  ASSERT_TRUE(sets.ok()) << sets.status().message();
  EXPECT_EQ(sets->train.count, 2400);
  EXPECT_EQ(sets->test.count, 600);
  EXPECT_EQ(calls, 0);  // progress is reported every 5,000 files
  EXPECT_EQ(last_done, 0);
}

}  // namespace
}  // namespace unas::data
