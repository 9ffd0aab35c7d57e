// Shared helpers for the tflite/ tests: the testdata models and file bytes.
#pragma once

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace unas::testing {

inline std::string TestdataPath(const std::string& file) {
  return std::string(UNAS_SHARED_DIR) + "/testdata/tflite/" + file;
}

// Every .tflite in shared/testdata/tflite (its README lists them).
inline const std::vector<std::string>& TestdataModels() {
  static const std::vector<std::string> kFiles = {
      "add0.tflite", "add1.tflite", "add11.tflite", "add16.tflite", "conv0.tflite", "conv1.tflite",
      "conv20.tflite", "conv21.tflite", "hello_world_int8.tflite", "keyword_scrambled_8bit.tflite",
      "micro_speech_quantized.tflite", "person_detect.tflite", "simple_add_model.tflite",
      "synth_2001.tflite", "synth_2004.tflite", "synth_2024.tflite", "synth_2034.tflite",
      "synth_2039.tflite"};
  return kFiles;
}

inline std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace unas::testing

#include <gtest/gtest.h>

#include "costmodel/model_graph.h"

namespace unas::testing {

// Equal sizes, then check(a[i], b[i]) for each i under the trace "<what> i".
template <typename T, typename Check>
void ExpectEachPair(const std::vector<T>& a, const std::vector<T>& b, const std::string& what, Check check) {
  ASSERT_EQ(a.size(), b.size()) << what << " count";
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(what + " " + std::to_string(i));
    check(a[i], b[i]);
  }
}

// Field-by-field equality of two graphs, with the first difference named.
inline void ExpectSameGraph(const ModelGraph& a, const ModelGraph& b) {
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.subgraphs, b.subgraphs);
  ExpectEachPair(a.tensors, b.tensors, "tensor", [](const GraphTensor& x, const GraphTensor& y) {
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.shape, y.shape);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.quant.scale, y.quant.scale);
    EXPECT_EQ(x.quant.zero_point, y.quant.zero_point);
    if (x.quant.per_channel()) {
      EXPECT_EQ(x.quant.axis, y.quant.axis);
    }
    EXPECT_EQ(x.is_constant, y.is_constant);
    EXPECT_EQ(x.is_variable, y.is_variable);
    EXPECT_EQ(x.data, y.data);
  });
  ExpectEachPair(a.ops, b.ops, "op", [](const GraphOp& x, const GraphOp& y) {
    EXPECT_EQ(x.builtin_code, y.builtin_code);
    EXPECT_EQ(x.custom_code, y.custom_code);
    EXPECT_EQ(x.version, y.version);
    EXPECT_EQ(x.inputs, y.inputs);
    EXPECT_EQ(x.outputs, y.outputs);
    EXPECT_EQ(x.padding, y.padding);
    EXPECT_EQ(x.stride_h, y.stride_h);
    EXPECT_EQ(x.stride_w, y.stride_w);
    EXPECT_EQ(x.filter_h, y.filter_h);
    EXPECT_EQ(x.filter_w, y.filter_w);
    EXPECT_EQ(x.dilation_h, y.dilation_h);
    EXPECT_EQ(x.dilation_w, y.dilation_w);
    EXPECT_EQ(x.depth_multiplier, y.depth_multiplier);
    EXPECT_EQ(x.activation, y.activation);
    EXPECT_EQ(x.axis, y.axis);
    EXPECT_EQ(x.keep_num_dims, y.keep_num_dims);
  });
}

}  // namespace unas::testing
