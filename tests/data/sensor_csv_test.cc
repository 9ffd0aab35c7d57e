// Sensor windows from CSV (data/sensor_csv.h): layout, splits, and bad rows
// answered with file and line.
#include "data/sensor_csv.h"

#include <fstream>

#include <gtest/gtest.h>

#include "tests/data/spec_util.h"
#include "tests/temp_dir.h"

namespace unas::data {
namespace {

DatasetSpec CsvSpec(const std::string& path, InputShape shape = {}) {
  return unas::testing::SpecWithShape("csv:" + path, shape);
}

TEST(SensorCsvTest, TimeMajorColumnsBecomeChannelMajorWindows) {
  unas::testing::TempDir dir("csv");
  std::ofstream(dir / "train.csv") << "ax0,ay0,ax1,ay1,ax2,ay2,label\r\n"
                                      "1,10,2,20,3,30,walk\r\n"
                                      "\n"
                                      "-1.5, 0.25 ,0,0,0,0,run\n";
  std::ofstream(dir / "test.csv") << "ax0,ay0,ax1,ay1,ax2,ay2,label\n4,40,5,50,6,60,walk\n";
  auto sets = ReadSensorCsv(CsvSpec(dir.path(), InputShape{3, 1, 2}));
  ASSERT_TRUE(sets.ok()) << sets.status().message();
  EXPECT_EQ(sets->class_names, (std::vector<std::string>{"run", "walk"}));
  EXPECT_EQ(sets->train.count, 2);
  EXPECT_EQ(sets->train.height, 3);
  EXPECT_EQ(sets->train.width, 1);
  EXPECT_EQ(sets->train.channels, 2);
  EXPECT_EQ(sets->train.labels, (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(sets->train.values, (std::vector<float>{1, 2, 3, 10, 20, 30, -1.5f, 0, 0, 0.25f, 0, 0}));
  EXPECT_EQ(sets->test.values, (std::vector<float>{4, 5, 6, 40, 50, 60}));
  EXPECT_TRUE(sets->train.pixels.empty());

  auto shape = DescribeDataset(CsvSpec(dir.path(), InputShape{3, 1, 2}));
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->height, 3);
  EXPECT_EQ(shape->channels, 2);
  EXPECT_EQ(shape->class_names, (std::vector<std::string>{"run", "walk"}));
  auto flat = DescribeDataset(CsvSpec(dir.path()));  // no input_shape: one channel of 6
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(flat->height, 6);
  EXPECT_EQ(flat->width, 1);
  EXPECT_EQ(flat->channels, 1);
}

TEST(SensorCsvTest, OneFileIsSplitTwentyPercentPerClass) {
  unas::testing::TempDir dir("csv");
  {
    std::ofstream out(dir / "w.csv");
    out << "label,v0,v1\n";
    for (int i = 0; i < 10; ++i) out << "a," << i << ",0\n";
    for (int i = 0; i < 10; ++i) out << "b," << i << ",1\n";
  }
  auto sets = ReadSensorCsv(CsvSpec(dir / "w.csv"));
  ASSERT_TRUE(sets.ok()) << sets.status().message();
  EXPECT_EQ(sets->train.count, 16);
  EXPECT_EQ(sets->test.count, 4);
  EXPECT_EQ(sets->test.labels, (std::vector<uint8_t>{0, 0, 1, 1}));
}

TEST(SensorCsvBadDataTest, RowsAndLabelsAreCheckedWithFileAndLine) {
  unas::testing::TempDir dir("csv");
  const std::string file = dir / "w.csv";
  auto message = [&](const std::string& text, InputShape shape = {}) {
    std::ofstream(file, std::ios::trunc) << text;
    return ReadSensorCsv(CsvSpec(file, shape)).status().message();
  };
  EXPECT_EQ(message("a,b\n1,2\n"), file + ":1: the header has no column named 'label'");
  EXPECT_EQ(message("label,v0,v1\nx,1,2\ny,1\n"), file + ":3: 2 fields, the header has 3");
  EXPECT_EQ(message("label,v0,v1\nx,1,2\ny,1,abc\n"), file + ":3: column 3: 'abc' is not a finite number");
  EXPECT_EQ(message("label,v0,v1\nx,1,2\nx,3,4\n"), file + ": 1 class(es) in the label column; a classifier needs at least 2");
  EXPECT_EQ(message("label,v0,v1\nx,1,2\ny,3,4\n", InputShape{3, 1, 1}),
            "input_shape [3, 1, 1] needs 3 value columns; " + file + " has 2");
  EXPECT_EQ(message(""), file + ": empty file (expected a header line with a 'label' column)");

  std::ofstream(dir / "train.csv") << "label,v\na,1\nb,2\n";
  std::ofstream(dir / "test.csv") << "label,v\na,1\nc,2\n";
  EXPECT_EQ(ReadSensorCsv(CsvSpec(dir.path())).status().message(),
            dir / "test.csv" + ":3: label 'c' is not among the training labels");
}

}  // namespace
}  // namespace unas::data
