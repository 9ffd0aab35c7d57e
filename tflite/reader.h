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
// tables), then the counts and sizes TfliteReadLimits bounds. Every index (opcode, tensor, buffer) and every size (shapes, data
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
#include <vector>

#include "costmodel/model_graph.h"
#include "base/status.h"

namespace unas {

constexpr size_t kMaxTfliteBytes = size_t{256} << 20;  // 256 MiB
constexpr int kMaxTfliteDepth = 64;
constexpr int kMaxTfliteTables = 4'000'000;

// What the reader materialises, so that the ModelGraph's size follows the
// file's: flatbuffers let many tables point at one vector, so a small file
// could otherwise describe 100,000 operators that each list the same
// million inputs. Checked before anything is copied.
struct TfliteReadLimits {
  int64_t max_operators = 100'000;  // in the first subgraph
  int64_t max_tensors = 400'000;    // in the first subgraph
  // Every tensor's shape, quantisation, name and data and every operator's
  // and the subgraph's tensor lists, in bytes as stored, at most this many
  // times the file's size plus 1 MiB (a file states each of them once,
  // unless tables share vectors).
  int64_t max_copies_of_file = 2;
};

// Errors: kInvalidArgument for every malformed or unsupported file and for
// a file beyond `limits`, the message starting "tflite: ".
Result<ModelGraph> ReadTflite(const uint8_t* data, size_t size, const TfliteReadLimits& limits = {});

// The bytes of the file at `path`, never holding more than max_bytes of
// them (plus one 64 KiB piece being read): a regular file's size is checked (fstat) before a byte is read; a
// pipe or FIFO is read as a stream in 64 KiB pieces and refused as soon as
// it passes the limit; directories and devices (/dev/zero, a terminal) are
// refused without reading. Opening a FIFO waits for its writer, as cat does.
// Errors (messages starting "tflite: "): kNotFound when it cannot be opened;
// kInvalidArgument when it is not a regular file or a pipe, is larger than
// `max_bytes`, or a read fails.
Result<std::vector<uint8_t>> ReadTfliteFileBytes(const std::string& path, size_t max_bytes = kMaxTfliteBytes);

// ReadTfliteFileBytes, then ReadTflite.
Result<ModelGraph> ReadTfliteFile(const std::string& path, const TfliteReadLimits& limits = {});

}  // namespace unas
