// The input contract record: its JSON round trip, its checks, and the pixel
// table's arithmetic on hand-worked values.
#include "data/input_contract.h"

#include <gtest/gtest.h>

namespace unas::data {
namespace {

InputContract Grey() {
  InputContract c;
  c.height = 2;
  c.width = 3;
  c.channels = 1;
  c.mean = {0.5f};
  c.std = {0.25f};
  c.class_names = {"cat", "dog"};
  c.input_scale = 0.0625f;
  c.input_zero_point = 3;
  return c;
}

TEST(InputContractTest, JsonRoundTripKeepsEveryBit) {
  InputContract c = Grey();
  c.channels = 3;
  c.mean = {0.2860119f, 0.1f, 0.9f};
  c.std = {0.3529840f, 0.3f, 1e-6f};
  c.input_scale = 0.01234567f;
  c.input_zero_point = -128;
  const nlohmann::json j = InputContractToJson(c);
  EXPECT_EQ(j["format"], "unas-input-contract/1");
  EXPECT_EQ(j["shape"], nlohmann::json({2, 3, 3}));
  EXPECT_EQ(j["value"], "pixel8");
  EXPECT_DOUBLE_EQ(j["normalization"]["mean_pixels"][0].get<double>(), 255.0 * 0.2860119f);
  auto back = InputContractFromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->mean, c.mean);
  EXPECT_EQ(back->std, c.std);
  EXPECT_EQ(back->input_scale, c.input_scale);
  EXPECT_EQ(back->input_zero_point, -128);
  EXPECT_EQ(back->class_names, c.class_names);
  EXPECT_EQ(back->height, 2);
  EXPECT_EQ(back->channels, 3);
}

TEST(InputContractTest, SensorValuesHaveNoPixelUnitsOrTable) {
  InputContract c = Grey();
  c.value_kind = InputValueKind::kSensorValue;
  const nlohmann::json j = InputContractToJson(c);
  EXPECT_EQ(j["value"], "sensor_value");
  EXPECT_EQ(j["normalization"]["formula"], "x = (value - mean[c]) / std[c]");
  EXPECT_FALSE(j["normalization"].contains("mean_pixels"));
  auto back = InputContractFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->value_kind, InputValueKind::kSensorValue);
  EXPECT_EQ(back->mean_pixels(), std::vector<double>{0.5});
  auto table = PixelQuantizationTable(c);
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.status().message().find("8-bit pixels"), std::string::npos);
}

TEST(InputContractTest, AudioFeaturesCarryTheirFrontEnd) {
  InputContract c = Grey();
  c.height = 49;
  c.width = 40;
  c.value_kind = InputValueKind::kAudioFeatures;
  c.mean = {0.0f};
  c.std = {128.0f};
  c.class_names = {"_silence_", "_unknown_", "yes", "no"};
  c.audio_frontend = AudioFrontendContract{16000, 16000, 480, 320, 40, 20, 4000, false, 40};
  const nlohmann::json j = InputContractToJson(c);
  EXPECT_EQ(j["value"], "audio_features");
  EXPECT_EQ(j["normalization"]["formula"], "x = (feature - mean[c]) / std[c]");
  EXPECT_FALSE(j["normalization"].contains("mean_pixels"));
  EXPECT_EQ(j["audio_frontend"]["window_samples"], 480);
  EXPECT_EQ(j["audio_frontend"]["features"], "mfcc");
  auto back = InputContractFromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->value_kind, InputValueKind::kAudioFeatures);
  ASSERT_TRUE(back->audio_frontend.has_value());
  EXPECT_EQ(*back->audio_frontend, *c.audio_frontend);
  EXPECT_FALSE(PixelQuantizationTable(c).ok());

  InputContract missing = c;
  missing.audio_frontend.reset();
  EXPECT_EQ(ValidateInputContract(missing).message(), "input contract: audio features without their audio front end");
  InputContract stray = Grey();
  stray.audio_frontend = c.audio_frontend;
  EXPECT_EQ(ValidateInputContract(stray).message(),
            "input contract: an audio front end for a model whose input is not audio features");
  nlohmann::json bad = j;
  bad["audio_frontend"]["features"] = "fft";
  EXPECT_EQ(InputContractFromJson(bad).status().message(),
            "input contract: audio_frontend.features is not 'mfcc' or 'log_mel'");
}

TEST(InputContractTest, BadContractsNameTheField) {
  auto message = [](InputContract c) { return ValidateInputContract(c).message(); };
  InputContract c = Grey();
  c.std = {0.0f};
  EXPECT_NE(message(c).find("std[0] is not positive"), std::string::npos) << message(c);
  c = Grey();
  c.mean = {0.1f, 0.2f};
  EXPECT_NE(message(c).find("2 means and 1 stds for 1 channels"), std::string::npos) << message(c);
  c = Grey();
  c.class_names.clear();
  EXPECT_NE(message(c).find("no class names"), std::string::npos);
  c = Grey();
  c.input_zero_point = 200;
  EXPECT_NE(message(c).find("zero point 200"), std::string::npos);
  c = Grey();
  c.layout = "NCHW";
  EXPECT_NE(message(c).find("layout 'NCHW'"), std::string::npos);

  nlohmann::json j = InputContractToJson(Grey());
  j["normalization"]["mean"] = "half";
  auto bad = InputContractFromJson(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("normalization.mean is not an array"), std::string::npos);
  j = InputContractToJson(Grey());
  j.erase("input_quantization");
  EXPECT_NE(InputContractFromJson(j).status().message().find("input_quantization is missing"), std::string::npos);
  EXPECT_FALSE(InputContractFromJson(nlohmann::json::array()).ok());
}

// mean 0.5, std 0.25, scale 1/16, zero point 3 (all exact in float):
//   p = 0:   x = (0 - 0.5) / 0.25 = -2,     -2 * 16 = -32, + 3 = -29
//   p = 255: x = (1 - 0.5) / 0.25 = 2,       2 * 16 =  32, + 3 =  35
//   p = 128: x = (0.50196081 - 0.5) / 0.25 = 0.0078432, * 16 = 0.125, rounds to 0: 3
//   p = 64:  x = (0.25098040 - 0.5) / 0.25 = -0.99607843, * 16 = -15.937, rounds to -16: -13
TEST(InputContractTest, PixelTableIsTheEvaluationsArithmetic) {
  auto table = PixelQuantizationTable(Grey());
  ASSERT_TRUE(table.ok()) << table.status().message();
  ASSERT_EQ(table->size(), 1u);
  EXPECT_EQ((*table)[0][0], -29);
  EXPECT_EQ((*table)[0][255], 35);
  EXPECT_EQ((*table)[0][128], 3);
  EXPECT_EQ((*table)[0][64], -13);
  // Saturation: a narrow std pushes the ends past int8.
  InputContract narrow = Grey();
  narrow.std = {0.01f};
  auto clamped = PixelQuantizationTable(narrow).value();
  EXPECT_EQ(clamped[0][0], -128);
  EXPECT_EQ(clamped[0][255], 127);
}

}  // namespace
}  // namespace unas::data
