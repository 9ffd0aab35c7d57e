// The input contract end to end, as a device sees the model: a tiny network
// trained on the synthetic data set (and one on a user's image folder, RGB),
// exported with its contract; the
// generated C, built on the host under AddressSanitizer with the exact
// arena, is fed the test set's RAW 8-bit pixels through
// unas_model_quantize_pixels, and must predict exactly what the trial's int8
// evaluation predicted on every image (so its accuracy is the reported int8
// test accuracy). Arm NN runs the same .tflite fed as its TFLite Metadata
// says (NormalizationOptions in pixel units, then the input's quantisation).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>

#include <stb/stb_image_write.h>

#include <gtest/gtest.h>

#include "data/image_files.h"
#include "data/image_folder.h"
#include "data/input_contract.h"
#include "firmware/generator.h"
#include "quant/quantize.h"
#include "tests/data/raw_images_hwc.h"
#include "tests/firmware/c_build.h"
#include "tests/tools/armnn_runner.h"
#include "tests/worker/train_fixtures.h"
#include "tflite/metadata.h"
#include "tflite/reader.h"
#include "worker/int8_export.h"

namespace unas::worker {
namespace {

using ::unas::testing::RawImagesHwc;

// The synthetic data set's test images as a device holds them: HWC bytes
// (data/image_files.h stores CHW; with one channel both are the same, but
// the conversion keeps the test honest for any shape).
std::vector<uint8_t> RawTestPixelsHwc(const DatasetSpec& spec) {
  return RawImagesHwc(data::SyntheticImages(spec.synthetic_test, 2));  // as worker/dataset.cc reads it
}

std::vector<uint8_t> Labels(const DatasetSpec& spec) { return data::SyntheticImages(spec.synthetic_test, 2).labels; }

// The generated C library of `network` with the input contract its int8
// .tflite carries (read back from the file, as `unas export` does), built
// in `dir` as the pixel host (tests/firmware/c_build.h).
void BuildContractHost(const std::string& dir, const Network& network, const Int8Outcome& int8) {
  auto contract = ReadInputContract(int8.tflite.data(), int8.tflite.size());
  ASSERT_TRUE(contract.ok() && contract->has_value());
  firmware::FirmwareOptions options;
  options.contract = **contract;
  ASSERT_TRUE(firmware::WriteCLibrary(dir, network, int8.graph, options).ok());
  const Status built = firmware::testing::BuildPixelHost(dir);
  ASSERT_TRUE(built.ok()) << built.message();
}

struct Exported {
  Int8Outcome int8;
  Network network;
};

const Exported& TrainedOnce() {
  static const Exported* exported = [] {
    const auto data = Synthetic();
    TrainConfig config = FastConfig();
    config.epochs = 2;
    config.keep_model = true;
    auto trained = Train(TinyCandidate(), *data, config);
    EXPECT_TRUE(trained.ok() && trained->model) << trained.status().message();
    auto int8 = QuantizeTrained(*trained->model, *data);
    EXPECT_TRUE(int8.ok()) << int8.status().message();
    return new Exported{std::move(*int8), trained->model->network};
  }();
  return *exported;
}

TEST(InputContractTest, TfliteCarriesTheDatasetsNormalisationAndClasses) {
  const Exported& e = TrainedOnce();
  const auto data = Synthetic();
  auto contract = ReadInputContract(e.int8.tflite.data(), e.int8.tflite.size());
  ASSERT_TRUE(contract.ok()) << contract.status().message();
  ASSERT_TRUE(contract->has_value());
  const data::InputContract& c = **contract;
  EXPECT_EQ(c.height, 8);
  EXPECT_EQ(c.width, 8);
  EXPECT_EQ(c.channels, 1);
  EXPECT_EQ(c.layout, "NHWC");
  EXPECT_EQ(c.class_names, data::NumberedClassNames(10));
  // Bit-exact: the values training normalised with, and the graph's input.
  ASSERT_EQ(c.mean.size(), 1u);
  EXPECT_EQ(c.mean[0], data->info().channel_mean[0]);
  EXPECT_EQ(c.std[0], data->info().channel_std[0]);
  const Quantization& q = e.int8.graph.tensors[e.int8.graph.inputs[0]].quant;
  EXPECT_EQ(c.input_scale, q.scale[0]);
  EXPECT_EQ(c.input_zero_point, q.zero_point[0]);
  // The synthetic images' pixel statistics, from the raw training pixels in
  // double: the float32 figures agree to float precision.
  EXPECT_GT(c.mean[0], 0.0f);
  EXPECT_LT(c.mean[0], 1.0f);
  // TFLite Metadata: the same normalisation in pixel units.
  auto standard = ReadStandardMetadata(e.int8.tflite.data(), e.int8.tflite.size());
  ASSERT_TRUE(standard.ok()) << standard.status().message();
  ASSERT_TRUE(standard->has_value());
  EXPECT_EQ((*standard)->color_space, 2);  // GRAYSCALE
  EXPECT_EQ((*standard)->image_width, 8u);
  EXPECT_EQ((*standard)->image_height, 8u);
  ASSERT_EQ((*standard)->mean.size(), 1u);
  EXPECT_EQ((*standard)->mean[0], static_cast<float>(255.0 * c.mean[0]));
  EXPECT_EQ((*standard)->std[0], static_cast<float>(255.0 * c.std[0]));
  EXPECT_EQ((*standard)->min_parser_version, "1.0.0");
  EXPECT_NE((*standard)->output_description.find("in order: 0, 1, 2"), std::string::npos);
  // The graph reads back as before: metadata does not disturb the model.
  auto graph = ReadTflite(e.int8.tflite.data(), e.int8.tflite.size());
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_EQ(graph->tensors.size(), e.int8.graph.tensors.size());
}

TEST(InputContractTest, GeneratedCFedRawPixelsPredictsAsTheInt8Evaluation) {
  const Exported& e = TrainedOnce();
  const DatasetSpec spec = [] {
    DatasetSpec s;
    s.kind = DatasetKind::kSynthetic;
    return s;
  }();
  firmware::testing::TempDir dir;
  ASSERT_NO_FATAL_FAILURE(BuildContractHost(dir.path(), e.network, e.int8));
  const std::vector<uint8_t> pixels = RawTestPixelsHwc(spec);
  const std::vector<uint8_t> labels = Labels(spec);
  auto run = firmware::testing::RunPixelHost(dir.path(), pixels);
  ASSERT_TRUE(run.ok()) << run.status().message();
  const size_t images = labels.size(), classes = 10, per = 64;
  ASSERT_EQ(run->outputs.size(), images * classes);
  ASSERT_EQ(run->inputs.size(), pixels.size());
  ASSERT_EQ(e.int8.int8_test_predictions.size(), images);
  // The table is the contract's arithmetic, pixel by pixel.
  const auto table = data::PixelQuantizationTable(e.int8.contract).value();
  for (size_t i = 0; i < pixels.size(); ++i) ASSERT_EQ(run->inputs[i], table[0][pixels[i]]) << i;
  int correct = 0, mismatches = 0;
  for (size_t n = 0; n < images; ++n) {
    const std::vector<int8_t> logits(run->outputs.begin() + n * classes, run->outputs.begin() + (n + 1) * classes);
    const int predicted = quant::ArgMax(logits);
    mismatches += predicted != e.int8.int8_test_predictions[n];
    correct += predicted == labels[n];
  }
  EXPECT_EQ(mismatches, 0);
  // Exactly the reported int8 test accuracy (500 images).
  EXPECT_EQ(correct, static_cast<int>(std::lround((1.0 - e.int8.int8_test_error) * images)));
  std::printf("raw pixels through the generated C: %d of %zu correct, int8 evaluation %.4f\n", correct, images,
              1.0 - e.int8.int8_test_error);
  (void)per;
}

TEST(InputContractTest, ArmNnFedAsTheMetadataSaysPredictsAsTheInt8Evaluation) {
  if (std::string(UNAS_ARMNN_RUN).empty()) GTEST_SKIP() << "Arm NN is not installed";
  const Exported& e = TrainedOnce();
  DatasetSpec spec;
  spec.kind = DatasetKind::kSynthetic;
  auto standard = ReadStandardMetadata(e.int8.tflite.data(), e.int8.tflite.size());
  ASSERT_TRUE(standard.ok() && standard->has_value());
  auto graph = ReadTflite(e.int8.tflite.data(), e.int8.tflite.size());
  ASSERT_TRUE(graph.ok());
  const Quantization& q = graph->tensors[graph->inputs[0]].quant;
  const std::vector<uint8_t> pixels = RawTestPixelsHwc(spec);
  // One Arm NN process per image: the first 25 test images.
  constexpr int kImages = 25;
  int mismatches = 0;
  for (int n = 0; n < kImages; ++n) {
    std::vector<uint8_t> input(64);
    for (int i = 0; i < 64; ++i) {
      // TFLite Metadata: normalised = (pixel - mean) / std; then QUANTIZE.
      const float x = (static_cast<float>(pixels[n * 64 + i]) - (*standard)->mean[0]) / (*standard)->std[0];
      const long v = std::lround(x / q.scale[0]) + q.zero_point[0];
      input[i] = static_cast<uint8_t>(static_cast<int8_t>(std::max(-128L, std::min(127L, v))));
    }
    auto logits = testing::RunArmNn(UNAS_ARMNN_RUN, e.int8.tflite, input);
    ASSERT_TRUE(logits.ok()) << logits.status().message();
    const std::vector<int8_t> theirs(logits->begin(), logits->end());
    mismatches += quant::ArgMax(theirs) != e.int8.int8_test_predictions[n];
  }
  EXPECT_EQ(mismatches, 0);
}

// A user's image folder (PNG and JPEG, grey and RGB, four sizes) converted to
// 8x8x3 RGB, trained and quantised once. Two classes: a bright left or right
// half. `test` holds the converted test images as a device would get them.
struct FolderModel {
  Int8Outcome int8;
  Network network;
  data::RawImages test;
};

const FolderModel& FolderTrainedOnce() {
  static const FolderModel* model = [] {
    firmware::testing::TempDir dir;  // the images: gone once they are loaded
    const std::string root = dir.path() + "/images";
    const int sizes[][2] = {{12, 12}, {16, 10}, {8, 8}, {20, 14}};
    for (int cls = 0; cls < 2; ++cls) {
      const std::string folder = root + (cls == 0 ? "/left" : "/right");
      std::filesystem::create_directories(folder);
      for (int i = 0; i < 40; ++i) {
        const int w = sizes[i % 4][0], h = sizes[i % 4][1], comp = i % 3 == 0 ? 1 : 3;
        std::vector<uint8_t> px(static_cast<size_t>(w * h * comp));
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x)
            for (int c = 0; c < comp; ++c)
              px[(y * w + x) * comp + c] =
                  static_cast<uint8_t>(((x < w / 2) == (cls == 0) ? 180 : 40) + (x * 7 + y * 13 + i * 5 + c) % 30);
        const std::string path = folder + "/" + std::to_string(i) + (i % 2 == 0 ? ".png" : ".jpg");
        const int written = i % 2 == 0 ? stbi_write_png(path.c_str(), w, h, comp, px.data(), w * comp)
                                       : stbi_write_jpg(path.c_str(), w, h, comp, px.data(), 90);
        EXPECT_EQ(written, 1) << path;
      }
    }
    DatasetSpec spec;
    spec.kind = DatasetKind::kFolder;
    spec.directory = root;
    spec.input_shape = data::InputShape{8, 8, 3};
    auto dataset = LoadDataset(spec);
    EXPECT_TRUE(dataset.ok()) << dataset.status().message();
    TrainConfig config = FastConfig();
    config.epochs = 3;
    config.keep_model = true;
    auto trained = Train(TinyCandidate(), **dataset, config);
    EXPECT_TRUE(trained.ok() && trained->model) << trained.status().message();
    auto int8 = QuantizeTrained(*trained->model, **dataset);
    EXPECT_TRUE(int8.ok()) << int8.status().message();
    auto loaded = data::ReadImageFolder(spec);  // the device's raw bytes, as the data layer converted them
    EXPECT_TRUE(loaded.ok()) << loaded.status().message();
    return new FolderModel{std::move(*int8), trained->model->network, std::move(loaded->test)};
  }();
  return *model;
}

// A single logit: class 1 above the output's zero point.
int BinaryClass(const Int8Outcome& int8, int8_t logit) {
  return logit > int8.graph.tensors[int8.graph.outputs[0]].quant.zero_point[0] ? 1 : 0;
}

// Its raw bytes through unas_model_quantize_pixels and the generated C
// predict exactly what the int8 evaluation predicted.
TEST(InputContractTest, ImageFolderRawPixelsThroughTheGeneratedCPredictAsTheInt8Evaluation) {
  const FolderModel& m = FolderTrainedOnce();
  EXPECT_EQ(m.int8.contract.class_names, (std::vector<std::string>{"left", "right"}));
  EXPECT_EQ(m.int8.contract.channels, 3);
  firmware::testing::TempDir dir;
  ASSERT_NO_FATAL_FAILURE(BuildContractHost(dir.path(), m.network, m.int8));
  const std::vector<uint8_t> pixels = RawImagesHwc(m.test);
  auto run = firmware::testing::RunPixelHost(dir.path(), pixels);
  ASSERT_TRUE(run.ok()) << run.status().message();
  const size_t images = static_cast<size_t>(m.test.count);
  ASSERT_EQ(run->outputs.size(), images);  // two classes: one logit
  ASSERT_EQ(m.int8.int8_test_predictions.size(), images);
  int correct = 0, mismatches = 0;
  for (size_t n = 0; n < images; ++n) {
    const int predicted = BinaryClass(m.int8, run->outputs[n]);
    mismatches += predicted != m.int8.int8_test_predictions[n];
    correct += predicted == m.test.labels[n];
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(correct, static_cast<int>(std::lround((1.0 - m.int8.int8_test_error) * images)));
  std::printf("image folder, raw pixels through the generated C: %d of %zu correct, int8 evaluation %.4f\n", correct,
              images, 1.0 - m.int8.int8_test_error);
}

// The same .tflite in Debian's Arm NN, every test image normalised per
// channel as its TFLITE_METADATA says (RGB, mean and std in pixel units),
// then quantised with the input tensor's own parameters.
TEST(InputContractTest, ImageFolderModelInArmNnFedAsTheMetadataSaysPredictsAsTheInt8Evaluation) {
  if (std::string(UNAS_ARMNN_RUN).empty()) GTEST_SKIP() << "Arm NN is not installed";
  const FolderModel& m = FolderTrainedOnce();
  auto standard = ReadStandardMetadata(m.int8.tflite.data(), m.int8.tflite.size());
  ASSERT_TRUE(standard.ok() && standard->has_value());
  ASSERT_EQ((*standard)->color_space, 1);  // RGB
  ASSERT_EQ((*standard)->mean.size(), 3u);
  const Quantization& q = m.int8.graph.tensors[m.int8.graph.inputs[0]].quant;
  const std::vector<uint8_t> pixels = RawImagesHwc(m.test);
  const size_t per = 8 * 8 * 3;
  int mismatches = 0;
  for (int64_t n = 0; n < m.test.count; ++n) {
    std::vector<uint8_t> input(per);
    for (size_t i = 0; i < per; ++i) {
      const size_t c = i % 3;
      const float x = (static_cast<float>(pixels[n * per + i]) - (*standard)->mean[c]) / (*standard)->std[c];
      const long v = std::lround(x / q.scale[0]) + q.zero_point[0];
      input[i] = static_cast<uint8_t>(static_cast<int8_t>(std::max(-128L, std::min(127L, v))));
    }
    auto logits = testing::RunArmNn(UNAS_ARMNN_RUN, m.int8.tflite, input);
    ASSERT_TRUE(logits.ok()) << logits.status().message();
    ASSERT_EQ(logits->size(), 1u);
    mismatches += BinaryClass(m.int8, static_cast<int8_t>((*logits)[0])) != m.int8.int8_test_predictions[n];
  }
  EXPECT_EQ(mismatches, 0) << "of " << m.test.count;
}

}  // namespace
}  // namespace unas::worker
