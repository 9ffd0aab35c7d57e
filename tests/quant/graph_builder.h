// Test-only helpers to write small int8 ModelGraphs by hand.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "costmodel/model_graph.h"

namespace unas::testing {

class GraphBuilder {
 public:
  // An int8 activation with per-tensor quantisation.
  int Activation(std::vector<int> shape, float scale, int64_t zero_point) {
    GraphTensor t;
    t.name = "t" + std::to_string(graph_.tensors.size());
    t.shape = std::move(shape);
    t.quant.scale = {scale};
    t.quant.zero_point = {zero_point};
    return Push(std::move(t));
  }
  // An int8 constant; `scales` one per tensor or per slice along `axis`, zero points 0.
  int Int8Constant(std::vector<int> shape, const std::vector<int8_t>& values, std::vector<float> scales, int axis = 0) {
    GraphTensor t;
    t.name = "w" + std::to_string(graph_.tensors.size());
    t.shape = std::move(shape);
    t.is_constant = true;
    t.quant.scale = std::move(scales);
    t.quant.zero_point.assign(t.quant.scale.size(), 0);
    t.quant.axis = axis;
    for (int8_t v : values) t.data.push_back(static_cast<uint8_t>(v));
    return Push(std::move(t));
  }
  int Int32Constant(std::vector<int> shape, const std::vector<int32_t>& values) {
    return Push(Int32ConstantTensor("c" + std::to_string(graph_.tensors.size()), std::move(shape), values));
  }
  GraphOp& Op(int code, std::vector<int> inputs, int output) {
    GraphOp op;
    op.builtin_code = code;
    op.inputs = std::move(inputs);
    op.outputs = {output};
    graph_.ops.push_back(op);
    return graph_.ops.back();
  }
  ModelGraph Finish(int input, int output) {
    graph_.inputs = {input};
    graph_.outputs = {output};
    return graph_;
  }
  ModelGraph& graph() { return graph_; }

 private:
  int Push(GraphTensor t) {
    graph_.tensors.push_back(std::move(t));
    return static_cast<int>(graph_.tensors.size()) - 1;
  }
  ModelGraph graph_;
};

}  // namespace unas::testing
