// Writes a ModelGraph as a TensorFlow Lite flatbuffer (schema version 3,
// identifier "TFL3") that TFLite, TFLM and Arm NN 20.08 read.
//
// What is written:
//   - one subgraph: the graph's tensors in index order, its operators in
//     graph.ops order (TFLM runs them in that order), inputs and outputs;
//   - operator_codes deduplicated by (builtin code, custom code, version), in
//     order of first use, with both opcode fields: builtin_code and
//     deprecated_builtin_code = min(code, 127) (Arm NN 20.08 reads only the
//     byte; 127 is TFLite's PLACEHOLDER_FOR_GREATER_OP_CODES);
//   - buffers: buffer 0 the empty sentinel, then one buffer per constant
//     tensor holding its data (16-byte aligned); activations use buffer 0;
//   - quantisation: scale, zero_point and quantized_dimension (the axis)
//     whenever `quant.scale` is non-empty;
//   - options for CONV_2D, DEPTHWISE_CONV_2D, AVERAGE/MAX_POOL_2D,
//     FULLY_CONNECTED, ADD, MUL, CONCATENATION, RESHAPE (new_shape = the
//     output's shape), SOFTMAX (beta 1), PAD, PADV2, STRIDED_SLICE (all masks
//     0); other operators are written without options;
//   - the graph's description;
//   - WriteOptions::metadata: each entry as the model's `metadata` list
//     (name, buffer index) with its bytes in a buffer of its own, after the
//     constants' buffers (how TFLite stores "TFLITE_METADATA";
//     tflite/metadata.h makes the input contract's entries).
//
// Errors (kInvalidArgument, message starting "tflite writer: "): a tensor id
// out of range in an operator or the graph's inputs/outputs (-1 is allowed
// only as an operator input), a constant whose data size differs from its
// shape and type, a constant without data unless
// WriteOptions::zero_fill_empty_constants, per-channel quantisation whose
// scale count differs from the axis' size or whose zero points differ in
// count, a negative builtin code, a custom operator without a name.
//
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "costmodel/model_graph.h"
#include "base/status.h"

namespace unas {

// One entry of a model's `metadata` list: its name and its buffer's bytes.
struct TfliteMetadataEntry {
  std::string name;
  std::vector<uint8_t> data;
};

struct WriteOptions {
  // Graphs lowered for analysis carry constants without data: write zeros of
  // the right size instead of failing (for memory analysis only; the model
  // computes nothing useful).
  bool zero_fill_empty_constants = false;
  // Named metadata written into the model (names must be non-empty).
  std::vector<TfliteMetadataEntry> metadata;
};

Result<std::vector<uint8_t>> WriteTflite(const ModelGraph& graph, const WriteOptions& options = {});

}  // namespace unas
