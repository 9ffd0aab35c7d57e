// The shapes of model that made `unas analyze` and POST /api/v1/analyze run
// for minutes (issue 23), built as ModelGraphs that WriteTflite can write:
// the regression tests analyse them in-process, and bench/bench_analyze
// writes them as .tflite files to measure `unas analyze` on.
// Header-only; pure functions.
#pragma once

#include <string>
#include <vector>

#include "costmodel/model_graph.h"

namespace unas::testing {

// An int8 activation tensor [1, h, w, c], quantised per tensor.
inline GraphTensor Int8Activation(const std::string& name, int h, int w, int c) {
  GraphTensor t;
  t.name = name;
  t.shape = {1, h, w, c};
  t.type = TensorType::kInt8;
  t.quant.scale = {0.05f};
  t.quant.zero_point = {0};
  return t;
}

// What a chain is made of: 1x1 MAX_POOL_2D over [1,4,4,8] (no constants,
// the kind partial execution slices, so every part of the analysis sees the
// whole chain), 1x1 CONV_2D with int8 filters and int32 biases, or a custom
// operator nothing maps (the shape of the probe's chain: 92 bytes an
// operator, Pex gives up at every step).
enum class ChainOf { kPools, kConvs, kCustom };

// `ops` operators in a line, each reading the previous one's output.
inline ModelGraph ChainModel(int ops, ChainOf kind = ChainOf::kPools) {
  const bool conv = kind == ChainOf::kConvs;
  ModelGraph g;
  g.tensors.push_back(Int8Activation("input", 4, 4, 8));
  g.inputs = {0};
  for (int i = 0; i < ops; ++i) {
    GraphOp op;
    op.inputs = {static_cast<int>(g.tensors.size()) - 1};
    if (conv) {
      op.builtin_code = builtin::kConv2D;
      GraphTensor filter = Int8Activation("w" + std::to_string(i), 1, 1, 8);
      filter.shape = {8, 1, 1, 8};
      filter.is_constant = true;
      filter.data.assign(64, 1);
      GraphTensor bias;
      bias.name = "b" + std::to_string(i);
      bias.shape = {8};
      bias.type = TensorType::kInt32;
      bias.is_constant = true;
      bias.data.assign(32, 0);
      op.inputs.push_back(static_cast<int>(g.tensors.size()));
      g.tensors.push_back(filter);
      op.inputs.push_back(static_cast<int>(g.tensors.size()));
      g.tensors.push_back(bias);
    } else if (kind == ChainOf::kCustom) {
      op.builtin_code = builtin::kCustom;
      op.custom_code = "OPAQUE";
    } else {
      op.builtin_code = builtin::kMaxPool2D;
    }
    op.outputs = {static_cast<int>(g.tensors.size())};
    g.tensors.push_back(Int8Activation("t" + std::to_string(i), 4, 4, 8));
    g.ops.push_back(op);
  }
  g.outputs = {static_cast<int>(g.tensors.size()) - 1};
  return g;
}

// `ops` 3x3 DEPTHWISE_CONV_2D (SAME) over [1,8,8,channels] int8 in a line:
// every operator channel-local, so every stretch of the chain is a
// candidate segment for partial execution, each sliced into `channels`
// slices: near the analysis' Pex work limit with 64 operators of 64
// channels.
inline ModelGraph DepthwiseChainModel(int ops, int channels) {
  ModelGraph g;
  g.tensors.push_back(Int8Activation("input", 8, 8, channels));
  g.inputs = {0};
  for (int i = 0; i < ops; ++i) {
    GraphOp op;
    op.builtin_code = builtin::kDepthwiseConv2D;
    op.padding = Padding::kSame;
    op.inputs = {static_cast<int>(g.tensors.size()) - 1};
    GraphTensor filter = Int8Activation("w" + std::to_string(i), 3, 3, channels);
    filter.is_constant = true;
    filter.data.assign(static_cast<size_t>(9 * channels), 1);
    GraphTensor bias;
    bias.name = "b" + std::to_string(i);
    bias.shape = {channels};
    bias.type = TensorType::kInt32;
    bias.is_constant = true;
    bias.data.assign(static_cast<size_t>(4 * channels), 0);
    op.inputs.push_back(static_cast<int>(g.tensors.size()));
    g.tensors.push_back(filter);
    op.inputs.push_back(static_cast<int>(g.tensors.size()));
    g.tensors.push_back(bias);
    op.outputs = {static_cast<int>(g.tensors.size())};
    g.tensors.push_back(Int8Activation("t" + std::to_string(i), 8, 8, channels));
    g.ops.push_back(op);
  }
  g.outputs = {static_cast<int>(g.tensors.size()) - 1};
  return g;
}

// `ops` operators in a line, each writing `outputs` tensors [1,4,4,8] of
// which only the first is read on (a custom operator: the analysis models
// its memory, not its arithmetic): the most activation tensors per
// operator, for the arena planners.
inline ModelGraph MultiOutputChainModel(int ops, int outputs) {
  ModelGraph g;
  g.tensors.push_back(Int8Activation("input", 4, 4, 8));
  g.inputs = {0};
  int last = 0;
  for (int i = 0; i < ops; ++i) {
    GraphOp op;
    op.builtin_code = builtin::kCustom;
    op.custom_code = "SPLIT_LIKE";
    op.inputs = {last};
    for (int k = 0; k < outputs; ++k) {
      op.outputs.push_back(static_cast<int>(g.tensors.size()));
      g.tensors.push_back(Int8Activation("t" + std::to_string(i) + "_" + std::to_string(k), 4, 4, 8));
    }
    last = op.outputs[0];
    g.ops.push_back(op);
  }
  g.outputs = {last};
  return g;
}

// `inputs` graph inputs [1,4,4,1..3], each through its own 1x1 MAX_POOL_2D,
// then one CONCATENATION along channels: the pools may run in any of
// inputs! orders, so the exact order search meets 2^inputs downsets.
inline ModelGraph ManyInputsModel(int inputs) {
  ModelGraph g;
  GraphOp concat;
  concat.builtin_code = builtin::kConcatenation;
  concat.axis = 3;
  for (int i = 0; i < inputs; ++i) {
    g.inputs.push_back(static_cast<int>(g.tensors.size()));
    g.tensors.push_back(Int8Activation("in" + std::to_string(i), 4, 4, 1 + i % 3));
    GraphOp pool;
    pool.builtin_code = builtin::kMaxPool2D;
    pool.inputs = {g.inputs.back()};
    pool.outputs = {static_cast<int>(g.tensors.size())};
    concat.inputs.push_back(pool.outputs[0]);
    g.tensors.push_back(Int8Activation("p" + std::to_string(i), 4, 4, 1 + i % 3));
    g.ops.push_back(pool);
  }
  concat.outputs = {static_cast<int>(g.tensors.size())};
  int channels = 0;
  for (int i = 0; i < inputs; ++i) channels += 1 + i % 3;
  g.tensors.push_back(Int8Activation("out", 4, 4, channels));
  g.ops.push_back(concat);
  g.outputs = concat.outputs;
  return g;
}

// One input feeding `branches` branches of `depth` operators each, every
// other step of a branch an ADD that also reads the neighbouring branch's
// previous tensor (so the branches are no independent chains), then one
// CONCATENATION: branches * depth + 1 operators (15 x 17 + 1 = 256), whose
// orders the exact search cannot enumerate.
inline ModelGraph BranchingModel(int branches, int depth) {
  ModelGraph g;
  g.tensors.push_back(Int8Activation("input", 4, 4, 4));
  g.inputs = {0};
  std::vector<int> last(branches, 0);
  for (int j = 0; j < depth; ++j) {
    const std::vector<int> previous = last;
    for (int b = 0; b < branches; ++b) {
      GraphOp op;
      if (j % 2 == 1) {
        op.builtin_code = builtin::kAdd;
        op.inputs = {previous[b], previous[(b + 1) % branches]};
      } else {
        op.builtin_code = builtin::kMaxPool2D;
        op.inputs = {previous[b]};
      }
      op.outputs = {static_cast<int>(g.tensors.size())};
      g.tensors.push_back(Int8Activation("b" + std::to_string(b) + "_" + std::to_string(j), 4, 4, 4));
      last[b] = op.outputs[0];
      g.ops.push_back(op);
    }
  }
  GraphOp concat;
  concat.builtin_code = builtin::kConcatenation;
  concat.axis = 3;
  concat.inputs = last;
  concat.outputs = {static_cast<int>(g.tensors.size())};
  g.tensors.push_back(Int8Activation("out", 4, 4, 4 * branches));
  g.ops.push_back(concat);
  g.outputs = concat.outputs;
  return g;
}

}  // namespace unas::testing
