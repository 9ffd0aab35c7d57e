// The TFLite reader on every model in shared/testdata/tflite. The expected
// figures were taken independently of the reader: from `flatc --json
// --raw-binary tflite/schema/tflite_subset.fbs -- MODEL.tflite` (counted with
// a few lines of Python) and from the testdata's expected.json.
#include "tflite/reader.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>

#include "tests/tflite/tflite_test_util.h"

namespace unas {
namespace {

struct Expected {
  const char* file;
  int operators;
  int tensors;
  int constants;  // tensors whose buffer holds data
  int variables;
  std::vector<int> inputs;
  std::vector<int> outputs;
  std::vector<int> input_shape;   // of the first graph input
  std::vector<int> output_shape;  // of the first graph output
  std::vector<int> op0_inputs;
  int op0_code;
  int op0_version;
};

const std::vector<Expected>& AllModels() {
  static const std::vector<Expected> kModels = {
      {"add0.tflite", 1, 3, 0, 0, {0, 1}, {2}, {1, 1, 5, 64}, {1, 1, 5, 64}, {0, 1}, 0, 2},
      {"add1.tflite", 1, 3, 0, 0, {0, 1}, {2}, {1, 3, 12, 64}, {1, 3, 12, 64}, {0, 1}, 0, 2},
      {"add11.tflite", 1, 3, 0, 0, {0, 1}, {2}, {1, 2, 80, 16}, {1, 2, 80, 16}, {0, 1}, 0, 2},
      {"add16.tflite", 1, 3, 0, 0, {0, 1}, {2}, {1, 2, 160, 2}, {1, 2, 160, 2}, {0, 1}, 0, 2},
      {"conv0.tflite", 1, 4, 2, 0, {0}, {3}, {1, 8, 166, 2}, {1, 2, 160, 8}, {0, 1, 2}, 3, 3},
      {"conv1.tflite", 1, 4, 2, 0, {0}, {3}, {1, 4, 162, 8}, {1, 2, 160, 8}, {0, 1, 2}, 3, 3},
      {"conv20.tflite", 1, 4, 2, 0, {0}, {3}, {1, 2, 80, 16}, {1, 2, 80, 8}, {0, 1, 2}, 3, 3},
      {"conv21.tflite", 1, 4, 2, 0, {0}, {3}, {1, 8, 166, 8}, {1, 2, 160, 2}, {0, 1, 2}, 3, 3},
      {"hello_world_int8.tflite", 3, 10, 6, 0, {0}, {9}, {1, 1}, {1, 1}, {0, 6, 5}, 9, 4},
      {"keyword_scrambled_8bit.tflite", 15, 54, 31, 7, {52}, {53}, {1, 96}, {1, 2}, {52}, 114, 1},
      {"micro_speech_quantized.tflite", 4, 10, 5, 0, {3}, {9}, {1, 1960}, {1, 4}, {3, 5}, 22, 1},
      {"person_detect.tflite", 31, 89, 57, 0, {88}, {87}, {1, 96, 96, 1}, {1, 2}, {88, 0, 33}, 4, 3},
      {"simple_add_model.tflite", 1, 3, 0, 0, {0, 1}, {2}, {1, 128, 128, 1}, {1, 128, 128, 1}, {0, 1}, 0, 2},
      {"synth_2001.tflite", 9, 27, 16, 0, {0, 1}, {7, 10, 19, 23, 26}, {1, 3}, {1, 5}, {0, 2, 3}, 9, 1},
      {"synth_2004.tflite", 7, 19, 10, 0, {0, 1}, {13, 17, 18}, {1, 3}, {1, 24}, {1, 2, 3}, 9, 1},
      {"synth_2024.tflite", 8, 23, 14, 0, {0}, {7, 10, 16, 19, 22}, {1, 5}, {1, 40}, {0, 17, 18}, 9, 1},
      {"synth_2034.tflite", 5, 12, 6, 0, {0}, {10, 11}, {1, 8}, {1, 3}, {0, 5, 6}, 9, 1},
      {"synth_2039.tflite", 7, 19, 10, 0, {0, 1}, {7, 11, 14, 18}, {1, 24}, {1, 3}, {1, 8, 9}, 9, 1},
  };
  return kModels;
}

TEST(TfliteReader, ReadsEveryTestdataModelWithItsCounts) {
  ASSERT_EQ(AllModels().size(), testing::TestdataModels().size());
  for (const Expected& e : AllModels()) {
    SCOPED_TRACE(e.file);
    auto graph = ReadTfliteFile(testing::TestdataPath(e.file));
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    EXPECT_EQ(graph->subgraphs, 1);
    EXPECT_EQ(static_cast<int>(graph->ops.size()), e.operators);
    EXPECT_EQ(static_cast<int>(graph->tensors.size()), e.tensors);
    int constants = 0, variables = 0;
    for (const GraphTensor& t : graph->tensors) {
      constants += t.is_constant;
      variables += t.is_variable;
      if (t.is_constant) {
        EXPECT_EQ(static_cast<int64_t>(t.data.size()), t.bytes()) << t.name;
      }
    }
    EXPECT_EQ(constants, e.constants);
    EXPECT_EQ(variables, e.variables);
    EXPECT_EQ(graph->inputs, e.inputs);
    EXPECT_EQ(graph->outputs, e.outputs);
    EXPECT_EQ(graph->tensors[graph->inputs[0]].shape, e.input_shape);
    EXPECT_EQ(graph->tensors[graph->outputs[0]].shape, e.output_shape);
    EXPECT_EQ(graph->ops[0].inputs, e.op0_inputs);
    EXPECT_EQ(graph->ops[0].builtin_code, e.op0_code);
    EXPECT_EQ(graph->ops[0].version, e.op0_version);
  }
}

// expected.json's operator kinds, by BuiltinName, for the files from TFLM.
TEST(TfliteReader, OperatorKindsMatchExpectedJson) {
  const std::map<std::string, std::map<std::string, int>> kinds = {
      {"hello_world_int8.tflite", {{"FULLY_CONNECTED", 3}}},
      {"micro_speech_quantized.tflite",
       {{"RESHAPE", 1}, {"DEPTHWISE_CONV_2D", 1}, {"FULLY_CONNECTED", 1}, {"SOFTMAX", 1}}},
      {"person_detect.tflite",
       {{"DEPTHWISE_CONV_2D", 14}, {"CONV_2D", 14}, {"AVERAGE_POOL_2D", 1}, {"RESHAPE", 1}, {"SOFTMAX", 1}}},
      {"conv0.tflite", {{"CONV_2D", 1}}},
      {"add16.tflite", {{"ADD", 1}}},
      // keyword is not in expected.json; from flatc --json: 7 SVDF, 5 FC, softmax, 2 quantize.
      {"keyword_scrambled_8bit.tflite", {{"SVDF", 7}, {"FULLY_CONNECTED", 5}, {"SOFTMAX", 1}, {"QUANTIZE", 2}}},
  };
  for (const auto& [file, want] : kinds) {
    SCOPED_TRACE(file);
    auto graph = ReadTfliteFile(testing::TestdataPath(file));
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    std::map<std::string, int> got;
    for (const GraphOp& op : graph->ops) ++got[BuiltinName(op.builtin_code)];
    EXPECT_EQ(got, want);
  }
}

TEST(TfliteReader, MicroSpeechDepthwiseOptionsAndPerChannelFilter) {
  auto graph = ReadTfliteFile(testing::TestdataPath("micro_speech_quantized.tflite"));
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  ASSERT_EQ(graph->description, "TOCO Converted.");
  const GraphOp& dw = graph->ops[1];
  EXPECT_EQ(dw.builtin_code, builtin::kDepthwiseConv2D);
  EXPECT_EQ(dw.version, 3);
  EXPECT_EQ(dw.inputs, (std::vector<int>{4, 8, 0}));
  EXPECT_EQ(dw.outputs, (std::vector<int>{2}));
  EXPECT_EQ(dw.padding, Padding::kSame);  // absent in the file: the schema's default
  EXPECT_EQ(dw.stride_h, 2);
  EXPECT_EQ(dw.stride_w, 2);
  EXPECT_EQ(dw.depth_multiplier, 8);
  EXPECT_EQ(dw.activation, Activation::kRelu);
  const GraphTensor& filter = graph->tensors[8];
  EXPECT_EQ(filter.name, "first_weights/read");
  EXPECT_EQ(filter.shape, (std::vector<int>{1, 10, 8, 8}));
  EXPECT_EQ(filter.type, TensorType::kInt8);
  EXPECT_TRUE(filter.is_constant);
  EXPECT_EQ(filter.data.size(), 640u);
  ASSERT_EQ(filter.quant.scale.size(), 8u);
  EXPECT_TRUE(filter.quant.per_channel());
  EXPECT_EQ(filter.quant.axis, 3);
  EXPECT_EQ(filter.quant.zero_point, std::vector<int64_t>(8, 0));
  const GraphTensor& bias = graph->tensors[0];
  EXPECT_EQ(bias.name, "Conv2D_bias");
  EXPECT_EQ(bias.type, TensorType::kInt32);
  EXPECT_EQ(bias.shape, (std::vector<int>{8}));
}

TEST(TfliteReader, HelloWorldInputWithAnEmptyBufferIsAnActivation) {
  auto graph = ReadTfliteFile(testing::TestdataPath("hello_world_int8.tflite"));
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  const GraphTensor& input = graph->tensors[0];
  EXPECT_EQ(input.name, "serving_default_dense_input:0");
  EXPECT_FALSE(input.is_constant);  // buffer 1, which holds no data
  ASSERT_EQ(input.quant.zero_point.size(), 1u);
  EXPECT_EQ(input.quant.zero_point[0], -128);
  EXPECT_FLOAT_EQ(input.quant.scale[0], 0.024480115622282028f);
  EXPECT_EQ(graph->ops[0].activation, Activation::kRelu);
  EXPECT_EQ(graph->ops[2].activation, Activation::kNone);
  EXPECT_EQ(graph->description, "MLIR Converted.");
}

TEST(TfliteReader, PersonDetectPoolAndConvOptions) {
  auto graph = ReadTfliteFile(testing::TestdataPath("person_detect.tflite"));
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  int pools = 0;
  for (const GraphOp& op : graph->ops) {
    if (op.builtin_code != builtin::kAveragePool2D) continue;
    ++pools;
    // From flatc --json: VALID, 3x3 window, stride 2 on the [1,3,3,256] map.
    EXPECT_EQ(op.padding, Padding::kValid);
    EXPECT_EQ(op.filter_h, 3);
    EXPECT_EQ(op.filter_w, 3);
    EXPECT_EQ(op.stride_h, 2);
    EXPECT_EQ(op.stride_w, 2);
    EXPECT_EQ(graph->tensors[op.inputs[0]].shape, (std::vector<int>{1, 3, 3, 256}));
  }
  EXPECT_EQ(pools, 1);
  const GraphOp& first = graph->ops[0];
  EXPECT_EQ(first.builtin_code, builtin::kDepthwiseConv2D);
  EXPECT_EQ(first.depth_multiplier, 8);
  EXPECT_EQ(first.activation, Activation::kRelu6);
  EXPECT_EQ(graph->tensors[2].shape, (std::vector<int>{128, 1, 1, 128}));
  EXPECT_EQ(graph->tensors[2].quant.scale.size(), 128u);
  EXPECT_EQ(graph->tensors[2].quant.axis, 0);
}

TEST(TfliteReader, KeywordVariablesAndScrambledOpcodes) {
  auto graph = ReadTfliteFile(testing::TestdataPath("keyword_scrambled_8bit.tflite"));
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_TRUE(graph->tensors[4].is_variable);
  EXPECT_FALSE(graph->tensors[4].is_constant);
  EXPECT_EQ(graph->tensors[4].shape, (std::vector<int>{1, 512}));
  EXPECT_EQ(graph->tensors[52].type, TensorType::kInt16);
  EXPECT_EQ(graph->ops[1].builtin_code, 27);  // SVDF
  EXPECT_EQ(graph->ops[1].version, 3);
  EXPECT_EQ(graph->ops[1].inputs, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(graph->ops[14].builtin_code, builtin::kQuantize);
  EXPECT_EQ(graph->ops[14].outputs, (std::vector<int>{53}));
}

}  // namespace
}  // namespace unas
