// The input contract inside a .tflite (tflite/metadata.h): written as two
// metadata entries, read back bit-exact; models without them (the real TFLM
// models in shared/testdata) read as before with no contract.
#include "tflite/metadata.h"

#include <gtest/gtest.h>

#include "tests/tflite/tflite_test_util.h"
#include "tflite/reader.h"
#include "tflite/writer.h"

namespace unas {
namespace {

using testing::ReadBytes;
using testing::TestdataModels;
using testing::TestdataPath;

// One int8 RELU: input [1, 2, 2, 3] -> output; enough for a valid model.
ModelGraph Tiny() {
  ModelGraph g;
  GraphTensor in;
  in.name = "in";
  in.shape = {1, 2, 2, 3};
  in.quant.scale = {0.05f};
  in.quant.zero_point = {-7};
  GraphTensor out = in;
  out.name = "out";
  g.tensors = {in, out};
  GraphOp relu;
  relu.builtin_code = builtin::kRelu;
  relu.inputs = {0};
  relu.outputs = {1};
  g.ops = {relu};
  g.inputs = {0};
  g.outputs = {1};
  return g;
}

data::InputContract Rgb() {
  data::InputContract c;
  c.height = 2;
  c.width = 2;
  c.channels = 3;
  c.mean = {0.4914f, 0.4822f, 0.4465f};
  c.std = {0.2470f, 0.2435f, 0.2616f};
  c.class_names = {"a \"quoted\" name", "b", "c"};
  c.input_scale = 0.05f;
  c.input_zero_point = -7;
  return c;
}

std::vector<uint8_t> WithContract(const data::InputContract& c) {
  WriteOptions options;
  options.metadata = InputContractMetadata(c).value();
  return WriteTflite(Tiny(), options).value();
}

TEST(TfliteMetadataTest, ContractReadsBackBitExact) {
  const std::vector<uint8_t> file = WithContract(Rgb());
  auto contract = ReadInputContract(file.data(), file.size());
  ASSERT_TRUE(contract.ok()) << contract.status().message();
  ASSERT_TRUE(contract->has_value());
  EXPECT_EQ((*contract)->mean, Rgb().mean);
  EXPECT_EQ((*contract)->std, Rgb().std);
  EXPECT_EQ((*contract)->class_names, Rgb().class_names);
  EXPECT_EQ((*contract)->input_scale, 0.05f);
  EXPECT_EQ((*contract)->input_zero_point, -7);
  // The model itself is unchanged by the metadata.
  auto graph = ReadTflite(file.data(), file.size());
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_EQ(graph->tensors.size(), 2u);
  EXPECT_EQ(graph->ops.size(), 1u);
  auto entries = ReadTfliteMetadata(file.data(), file.size());
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].name, "unas_input_contract");
  EXPECT_EQ((*entries)[1].name, "TFLITE_METADATA");
  // TFLite Metadata's file identifier at bytes 4..7.
  EXPECT_EQ(std::string((*entries)[1].data.begin() + 4, (*entries)[1].data.begin() + 8), "M001");
}

TEST(TfliteMetadataTest, StandardMetadataHasPixelUnitNormalisation) {
  const std::vector<uint8_t> file = WithContract(Rgb());
  auto standard = ReadStandardMetadata(file.data(), file.size());
  ASSERT_TRUE(standard.ok()) << standard.status().message();
  ASSERT_TRUE(standard->has_value());
  const StandardMetadata& m = **standard;
  EXPECT_EQ(m.color_space, 1);  // RGB
  EXPECT_EQ(m.image_width, 2u);
  EXPECT_EQ(m.image_height, 2u);
  ASSERT_EQ(m.mean.size(), 3u);
  EXPECT_EQ(m.mean[0], static_cast<float>(255.0 * 0.4914f));
  EXPECT_EQ(m.std[2], static_cast<float>(255.0 * 0.2616f));
  EXPECT_EQ(m.input_name, "image");
  EXPECT_EQ(m.output_name, "logits");
  EXPECT_EQ(m.min_parser_version, "1.0.0");
  EXPECT_EQ(m.version, "unas-input-contract/1");
  EXPECT_NE(m.output_description.find("in order: a \"quoted\" name, b, c"), std::string::npos) << m.output_description;
}

TEST(TfliteMetadataTest, ModelsWithoutAContractReadAsBefore) {
  const std::vector<uint8_t> plain = WriteTflite(Tiny()).value();
  auto contract = ReadInputContract(plain.data(), plain.size());
  ASSERT_TRUE(contract.ok());
  EXPECT_FALSE(contract->has_value());
  for (const std::string& name : TestdataModels()) {
    const std::vector<uint8_t> bytes = ReadBytes(TestdataPath(name));
    auto c = ReadInputContract(bytes.data(), bytes.size());
    ASSERT_TRUE(c.ok()) << name << ": " << c.status().message();
    EXPECT_FALSE(c->has_value()) << name;
    auto s = ReadStandardMetadata(bytes.data(), bytes.size());
    ASSERT_TRUE(s.ok()) << name << ": " << s.status().message();
  }
}

TEST(TfliteMetadataTest, BrokenContractIsAClearError) {
  WriteOptions options;
  const std::string text = R"({"format": "unas-input-contract/1", "shape": [2, 2]})";
  options.metadata = {{"unas_input_contract", std::vector<uint8_t>(text.begin(), text.end())},
                      {"TFLITE_METADATA", {1, 2, 3}}};
  const std::vector<uint8_t> file = WriteTflite(Tiny(), options).value();
  auto contract = ReadInputContract(file.data(), file.size());
  ASSERT_FALSE(contract.ok());
  EXPECT_NE(contract.status().message().find("unas_input_contract: input contract: shape is not [H, W, C]"),
            std::string::npos)
      << contract.status().message();
  auto standard = ReadStandardMetadata(file.data(), file.size());
  ASSERT_FALSE(standard.ok());
  EXPECT_NE(standard.status().message().find("not TFLite ModelMetadata"), std::string::npos);
  // A contract that does not validate is refused before it is written.
  data::InputContract bad = Rgb();
  bad.std[1] = -1;
  EXPECT_FALSE(InputContractMetadata(bad).ok());
  // The graph still reads: a broken contract does not make the model unreadable.
  EXPECT_TRUE(ReadTflite(file.data(), file.size()).ok());
}

}  // namespace
}  // namespace unas
