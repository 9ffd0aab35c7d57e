// Reads a TensorFlow Lite flatbuffer (.tflite) into a ModelGraph: the first
// subgraph's tensors (shape, type, quantisation, constant data, variables)
// and operators (builtin code, custom code, version, inputs, outputs and the
// options model_graph.h carries). Any model reads, not only unas's own:
// operators the graph does not model are kept as opaque operators with their
// code and tensors.
//
// Safety: the bytes may come from anyone (REST uploads). Before anything is
// read, the file's size (at most kMaxTfliteBytes), its identifier ("TFL3")
// and its root are checked, then the whole buffer goes through flatbuffers'
// Verifier (nesting depth at most kMaxTfliteDepth, at most kMaxTfliteTables
// tables). Every index (opcode, tensor, buffer) and every size (shapes, data
// against shape) is checked before use. Bad input gives an error naming what
// is wrong ("tensor 3 ('conv/w'): buffer 99 out of range (the model has 12
// buffers)"), never a crash or an exception.
//
// What the graph keeps: ModelGraph::subgraphs counts all subgraphs; only the
// first is described. A tensor is constant when its buffer (index != 0) holds
// data; its data are copied. The builtin code is max(deprecated_builtin_code,
// builtin_code), as TFLite's own reader takes it. A per-channel vector whose
// quantized_dimension lies outside its rank (person detection's depthwise
// biases say 3) reads with axis 0, the only axis its scales can run along. Options are read for the
// operators in model_graph.h (CONV_2D, DEPTHWISE_CONV_2D, the pools,
// FULLY_CONNECTED, ADD, MUL, CONCATENATION); other options keep their defaults.
//
// Not supported (clear errors): sparse tensors, buffers stored outside the
// flatbuffer (models over 2 GB), tensor types unas has no TensorType for
// (COMPLEX128 and newer), shapes with more than 2^48 elements.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "costmodel/model_graph.h"
#include "base/status.h"
#include "tflite/writer.h"

namespace unas {

constexpr size_t kMaxTfliteBytes = size_t{256} << 20;  // 256 MiB
constexpr int kMaxTfliteDepth = 64;
constexpr int kMaxTfliteTables = 4'000'000;

// Errors: kInvalidArgument for every malformed or unsupported file, the
// message starting "tflite: ".
Result<ModelGraph> ReadTflite(const uint8_t* data, size_t size);

// The model's named metadata (its `metadata` list, each entry's buffer
// copied), after the same checks as ReadTflite; empty when it has none.
// Errors as ReadTflite's, plus an entry's buffer out of range.
Result<std::vector<TfliteMetadataEntry>> ReadTfliteMetadata(const uint8_t* data, size_t size);

// Reads the file at `path` (kNotFound when it cannot be opened,
// kInvalidArgument when it is larger than kMaxTfliteBytes), then ReadTflite.
Result<ModelGraph> ReadTfliteFile(const std::string& path);

}  // namespace unas
