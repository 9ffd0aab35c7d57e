// The TFLite writer: write -> read gives the same graph; the raw fields TFLite
// and Arm NN look at; errors; and a hand-made int8 model that Arm NN 20.08
// runs with the output worked out by hand.
#include "tflite/writer.h"

#include <gtest/gtest.h>

#include "tests/common/graph_test_util.h"
#include "tests/tflite/tflite_test_util.h"
#include "tests/tools/armnn_runner.h"
#include "tflite/reader.h"
#include "tflite/tflite_subset_generated.h"

namespace unas {
namespace {

namespace fb = ::unas::tflite_fb;

GraphTensor Activ(const std::string& name, std::vector<int> shape, float scale, int64_t zero_point) {
  GraphTensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.type = TensorType::kInt8;
  t.quant.scale = {scale};
  t.quant.zero_point = {zero_point};
  return t;
}

GraphTensor Const(const std::string& name, std::vector<int> shape, TensorType type, std::vector<uint8_t> data) {
  GraphTensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.type = type;
  t.is_constant = true;
  t.data = std::move(data);
  return t;
}

std::vector<uint8_t> Int8Bytes(const std::vector<int8_t>& v) { return std::vector<uint8_t>(v.begin(), v.end()); }

GraphOp Op(int code, std::vector<int> inputs, std::vector<int> outputs) {
  return testing::GraphOpOf(code, std::move(inputs), std::move(outputs));
}

// Every operator kind the lowering emits, with options away from their
// defaults, plus a custom operator, a code above 127 and a variable.
ModelGraph EveryKindGraph() {
  ModelGraph g;
  g.description = "unas round trip";
  g.tensors.push_back(Activ("in", {1, 8, 8, 3}, 0.5f, -3));                       // 0
  GraphTensor w = Const("conv/w", {4, 3, 3, 3}, TensorType::kInt8, std::vector<uint8_t>(108, 7));
  w.quant.scale = {0.1f, 0.2f, 0.3f, 0.4f};
  w.quant.zero_point = {0, 0, 0, 0};
  w.quant.axis = 0;
  g.tensors.push_back(w);                                                           // 1
  g.tensors.push_back(Const("conv/b", {4}, TensorType::kInt32, Int32LeBytes({1, -2, 3, -4})));  // 2
  g.tensors.push_back(Activ("conv", {1, 4, 4, 4}, 0.25f, 5));                      // 3
  GraphTensor dw = Const("dw/w", {1, 3, 3, 8}, TensorType::kInt8, std::vector<uint8_t>(72, 1));
  dw.quant.scale = std::vector<float>(8, 0.05f);
  dw.quant.zero_point = std::vector<int64_t>(8, 0);
  dw.quant.axis = 3;
  g.tensors.push_back(dw);                                                          // 4
  g.tensors.push_back(Activ("dw", {1, 4, 4, 8}, 0.125f, -1));                      // 5
  g.tensors.push_back(Activ("maxpool", {1, 2, 2, 8}, 0.125f, -1));                 // 6
  g.tensors.push_back(Activ("avgpool", {1, 2, 2, 8}, 0.125f, -1));                 // 7
  g.tensors.push_back(Activ("add", {1, 2, 2, 8}, 0.25f, 0));                       // 8
  g.tensors.push_back(Const("pad/amounts", {4, 2}, TensorType::kInt32, Int32LeBytes({0, 0, 0, 1, 0, 1, 0, 0})));  // 9
  g.tensors.push_back(Activ("pad", {1, 3, 3, 8}, 0.25f, 0));                       // 10
  g.tensors.push_back(Const("ss/begin", {4}, TensorType::kInt32, Int32LeBytes({0, 0, 0, 0})));   // 11
  g.tensors.push_back(Const("ss/end", {4}, TensorType::kInt32, Int32LeBytes({1, 2, 3, 8})));     // 12
  g.tensors.push_back(Const("ss/strides", {4}, TensorType::kInt32, Int32LeBytes({1, 1, 1, 1}))); // 13
  g.tensors.push_back(Activ("ss", {1, 2, 3, 8}, 0.25f, 0));                        // 14
  g.tensors.push_back(Activ("concat", {1, 5, 3, 8}, 0.25f, 0));                    // 15
  GraphTensor fw = Const("fc/w", {10, 120}, TensorType::kInt8, std::vector<uint8_t>(1200, 3));
  fw.quant.scale = {0.01f};
  fw.quant.zero_point = {0};
  g.tensors.push_back(fw);                                                          // 16
  g.tensors.push_back(Activ("fc", {1, 10}, 0.5f, 2));                              // 17
  GraphTensor state = Activ("state", {1, 16}, 1.0f, 0);
  state.is_variable = true;
  g.tensors.push_back(state);                                                       // 18
  g.tensors.push_back(Activ("custom", {1, 10}, 0.5f, 2));                          // 19
  g.tensors.push_back(Activ("gelu", {1, 10}, 0.5f, 2));                            // 20

  GraphOp conv = Op(builtin::kConv2D, {0, 1, 2}, {3});
  conv.padding = Padding::kSame;
  conv.stride_h = 2;
  conv.stride_w = 2;
  conv.dilation_h = 2;
  conv.dilation_w = 1;
  conv.activation = Activation::kRelu6;
  conv.version = 3;
  g.ops.push_back(conv);
  GraphOp dwop = Op(builtin::kDepthwiseConv2D, {3, 4, -1}, {5});  // bias omitted
  dwop.depth_multiplier = 2;
  dwop.activation = Activation::kRelu;
  dwop.padding = Padding::kSame;
  g.ops.push_back(dwop);
  GraphOp maxpool = Op(builtin::kMaxPool2D, {5}, {6});
  maxpool.filter_h = maxpool.filter_w = maxpool.stride_h = maxpool.stride_w = 2;
  g.ops.push_back(maxpool);
  GraphOp avgpool = Op(builtin::kAveragePool2D, {5}, {7});
  avgpool.filter_h = 3;
  avgpool.filter_w = 2;
  avgpool.stride_h = 2;
  avgpool.stride_w = 2;
  avgpool.padding = Padding::kSame;
  g.ops.push_back(avgpool);
  GraphOp add = Op(builtin::kAdd, {6, 7}, {8});
  add.activation = Activation::kReluN1To1;
  g.ops.push_back(add);
  g.ops.push_back(Op(builtin::kPad, {8, 9}, {10}));
  g.ops.push_back(Op(builtin::kStridedSlice, {10, 11, 12, 13}, {14}));
  GraphOp concat = Op(builtin::kConcatenation, {10, 14}, {15});
  concat.axis = 1;
  g.ops.push_back(concat);
  GraphOp fc = Op(builtin::kFullyConnected, {15, 16, -1}, {17});
  fc.keep_num_dims = true;
  fc.version = 4;
  g.ops.push_back(fc);
  GraphOp custom = Op(builtin::kCustom, {17, 18}, {19});
  custom.custom_code = "UnasState";
  g.ops.push_back(custom);
  g.ops.push_back(Op(150, {19}, {20}));  // GELU: above the byte field's range
  g.inputs = {0, 18};
  g.outputs = {20, 15};
  return g;
}

TEST(TfliteWriter, RoundTripKeepsEveryField) {
  const ModelGraph graph = EveryKindGraph();
  auto bytes = WriteTflite(graph);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto back = ReadTflite(bytes->data(), bytes->size());
  ASSERT_TRUE(back.ok()) << back.status().message();
  testing::ExpectSameGraph(graph, *back);
}

TEST(TfliteWriter, OperatorCodesAreDedupedWithBothFields) {
  ModelGraph graph = EveryKindGraph();
  GraphOp again = graph.ops[0];  // CONV_2D v3 again: shares code 0
  graph.ops.push_back(again);
  GraphOp other_version = graph.ops[0];
  other_version.version = 2;  // a new code
  graph.ops.push_back(other_version);
  auto bytes = WriteTflite(graph);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  flatbuffers::Verifier verifier(bytes->data(), bytes->size());
  ASSERT_TRUE(fb::VerifyModelBuffer(verifier));
  const fb::Model* model = fb::GetModel(bytes->data());
  EXPECT_EQ(model->version(), 3u);
  // conv v3, dw, maxpool, avgpool, add, pad, strided slice, concat, fc v4, custom, gelu, conv v2.
  ASSERT_EQ(model->operator_codes()->size(), 12u);
  const auto* ops = model->subgraphs()->Get(0)->operators();
  EXPECT_EQ(ops->Get(11)->opcode_index(), 0u);
  EXPECT_EQ(ops->Get(12)->opcode_index(), 11u);
  const fb::OperatorCode* gelu = model->operator_codes()->Get(10);
  EXPECT_EQ(gelu->builtin_code(), 150);
  EXPECT_EQ(gelu->deprecated_builtin_code(), 127);
  const fb::OperatorCode* fc = model->operator_codes()->Get(8);
  EXPECT_EQ(fc->builtin_code(), builtin::kFullyConnected);
  EXPECT_EQ(fc->deprecated_builtin_code(), builtin::kFullyConnected);
  EXPECT_EQ(fc->version(), 4);
  EXPECT_EQ(model->operator_codes()->Get(9)->custom_code()->str(), "UnasState");
  // Buffer 0 is the empty sentinel; constants' data are 16-byte aligned.
  EXPECT_EQ(model->buffers()->Get(0)->data(), nullptr);
  EXPECT_EQ(model->buffers()->size(), 1u + 8u);  // 8 constants
  for (uint32_t i = 1; i < model->buffers()->size(); ++i) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(model->buffers()->Get(i)->data()->data()) % 16, 0u) << i;
  }
  EXPECT_EQ(model->subgraphs()->Get(0)->tensors()->Get(3)->buffer(), 0u);  // an activation
}

TEST(TfliteWriter, ReadsBackTestdataModelsItCanRepresent) {
  // Models whose operators carry only options the graph holds round-trip:
  // read -> write -> read gives the same graph.
  for (const char* file : {"hello_world_int8.tflite", "simple_add_model.tflite", "synth_2001.tflite",
                           "synth_2039.tflite", "conv0.tflite", "person_detect.tflite"}) {
    SCOPED_TRACE(file);
    auto graph = ReadTfliteFile(testing::TestdataPath(file));
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    auto bytes = WriteTflite(*graph);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    auto back = ReadTflite(bytes->data(), bytes->size());
    ASSERT_TRUE(back.ok()) << back.status().message();
    testing::ExpectSameGraph(*graph, *back);
  }
}

// The writer's error for `g`, or "written" when it wrote the model.
std::string WriteError(const ModelGraph& g) {
  auto r = WriteTflite(g);
  return r.ok() ? "written" : r.status().message();
}

TEST(TfliteWriter, Errors) {
  ModelGraph g = EveryKindGraph();
  g.ops[2].inputs = {99};
  EXPECT_EQ(WriteError(g), "tflite writer: operator 2 input: tensor 99 out of range (the graph has 21 tensors)");

  g = EveryKindGraph();
  g.tensors[2].data.pop_back();
  EXPECT_EQ(WriteError(g),
            "tflite writer: tensor 2 ('conv/b'): its data are 15 bytes, its shape and type (int32) need 16");

  g = EveryKindGraph();
  g.tensors[1].data.clear();
  EXPECT_NE(WriteError(g).find("tensor 1 ('conv/w'): a constant without data"), std::string::npos);
  WriteOptions zero_fill;
  zero_fill.zero_fill_empty_constants = true;
  auto r = WriteTflite(g, zero_fill);
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto back = ReadTflite(r->data(), r->size());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->tensors[1].data, std::vector<uint8_t>(108, 0));

  g = EveryKindGraph();
  g.tensors[4].quant.axis = 2;
  EXPECT_EQ(WriteError(g), "tflite writer: tensor 4 ('dw/w'): 8 scales along axis 2 of size 3");

  g = EveryKindGraph();
  g.ops[9].custom_code.clear();
  EXPECT_EQ(WriteError(g), "tflite writer: operator 9: a custom operator needs its custom_code");
}

// input [1,2,2,1] (scale 0.5, zp 10) -> CONV_2D 1x1, 2 filters per channel
// (ReLU) -> MAX_POOL_2D 2x2 -> FULLY_CONNECTED 2 -> 1. Worked by hand:
//   real input x = {4, 8, -4, 12}: q = x / 0.5 + 10 = {18, 26, 2, 34}.
//   conv filters q {2, -1}, scales {0.5, 0.25}: real weights {1, -0.25};
//   biases q {8, 0} at scales 0.5 * {0.5, 0.25}: real {2, 0}.
//   channel 0 = relu(x + 2) = {6, 10, 0, 14}; channel 1 = relu(-x/4) = {0, 0, 1, 0}.
//   conv output scale 1, zp -5.  max pool: {14, 1} -> q {9, -4}.
//   fc weights q {1, 2} scale 1, bias q -3 (scale 1): 14 + 2 - 3 = 13.
//   output scale 0.5, zp -10: q = 13 / 0.5 - 10 = 16.
ModelGraph HandMadeInt8() {
  ModelGraph g;
  g.tensors.push_back(Activ("input", {1, 2, 2, 1}, 0.5f, 10));  // 0
  GraphTensor w = Const("conv/w", {2, 1, 1, 1}, TensorType::kInt8, Int8Bytes({2, -1}));
  w.quant.scale = {0.5f, 0.25f};
  w.quant.zero_point = {0, 0};
  w.quant.axis = 0;
  g.tensors.push_back(w);  // 1
  GraphTensor b = Const("conv/b", {2}, TensorType::kInt32, Int32LeBytes({8, 0}));
  b.quant.scale = {0.25f, 0.125f};
  b.quant.zero_point = {0, 0};
  g.tensors.push_back(b);                                         // 2
  g.tensors.push_back(Activ("conv", {1, 2, 2, 2}, 1.0f, -5));    // 3
  g.tensors.push_back(Activ("pool", {1, 1, 1, 2}, 1.0f, -5));    // 4
  GraphTensor fw = Const("fc/w", {1, 2}, TensorType::kInt8, Int8Bytes({1, 2}));
  fw.quant.scale = {1.0f};
  fw.quant.zero_point = {0};
  g.tensors.push_back(fw);  // 5
  GraphTensor fb_ = Const("fc/b", {1}, TensorType::kInt32, Int32LeBytes({-3}));
  fb_.quant.scale = {1.0f};
  fb_.quant.zero_point = {0};
  g.tensors.push_back(fb_);                                      // 6
  g.tensors.push_back(Activ("output", {1, 1}, 0.5f, -10));      // 7
  GraphOp conv = Op(builtin::kConv2D, {0, 1, 2}, {3});
  conv.activation = Activation::kRelu;
  conv.version = 3;
  g.ops.push_back(conv);
  GraphOp pool = Op(builtin::kMaxPool2D, {3}, {4});
  pool.filter_h = pool.filter_w = pool.stride_h = pool.stride_w = 2;
  pool.version = 2;
  g.ops.push_back(pool);
  GraphOp fc = Op(builtin::kFullyConnected, {4, 5, 6}, {7});
  fc.version = 4;
  g.ops.push_back(fc);
  g.inputs = {0};
  g.outputs = {7};
  return g;
}

TEST(TfliteWriter, HandMadeInt8ModelRunsOnArmNnWithTheHandWorkedOutput) {
  if (std::string(UNAS_ARMNN_RUN).empty()) GTEST_SKIP() << "Arm NN is not installed";
  auto bytes = WriteTflite(HandMadeInt8());
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  const std::vector<uint8_t> input = Int8Bytes({18, 26, 2, 34});
  auto out = testing::RunArmNn(UNAS_ARMNN_RUN, *bytes, input);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ(static_cast<int8_t>((*out)[0]), 16);
  // A second input: x = {-20, 0, 2, 6} (q {-30, 10, 14, 22}): channel 0 =
  // relu(x + 2) = {0, 2, 4, 8}, max 8; channel 1 = relu(-x/4) = {5, 0, 0, 0},
  // max 5; fc 8 + 10 - 3 = 15 -> q 15 / 0.5 - 10 = 20.
  out = testing::RunArmNn(UNAS_ARMNN_RUN, *bytes, Int8Bytes({-30, 10, 14, 22}));
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(static_cast<int8_t>((*out)[0]), 20);
}

// Arm NN 20.08 refuses TFLM's person detection because its depthwise biases
// say quantized_dimension 3; the same model as the writer writes it (bias
// axis 0, filters still per channel along axis 3) loads and runs. This is
// the depthwise layout Arm NN takes.
TEST(TfliteWriter, PersonDetectWithBiasAxisZeroRunsOnArmNn) {
  if (std::string(UNAS_ARMNN_RUN).empty()) GTEST_SKIP() << "Arm NN is not installed";
  const std::vector<uint8_t> original = testing::ReadBytes(testing::TestdataPath("person_detect.tflite"));
  const std::vector<uint8_t> input(96 * 96, 0x11);
  auto refused = testing::RunArmNn(UNAS_ARMNN_RUN, original, input);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("expected to be 0 on tensor bias, but got: 3"), std::string::npos)
      << refused.status().message();
  auto graph = ReadTflite(original.data(), original.size());
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_EQ(graph->tensors[1].quant.axis, 3);   // a depthwise filter [1,3,3,128]
  EXPECT_EQ(graph->tensors[36].quant.axis, 0);  // its bias [128], 3 in the file
  auto rewritten = WriteTflite(*graph);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().message();
  auto out = testing::RunArmNn(UNAS_ARMNN_RUN, *rewritten, input);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 2u);  // [1,2] int8 softmax scores, scale 1/256, zero point -128
  const int sum = (static_cast<int8_t>((*out)[0]) + 128) + (static_cast<int8_t>((*out)[1]) + 128);
  EXPECT_NEAR(sum, 256, 1);  // the two probabilities add up to 1
}

}  // namespace
}  // namespace unas
