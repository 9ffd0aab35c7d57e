// The optimised int8 kernels against the reference kernels, bit for bit
// (quant/kernels/kernel.h): random single-operator graphs over every operator
// kind and option (per-channel and per-tensor filters, SAME padding that pads,
// strides, dilations, depthwise multipliers, filter zero points, every fused
// activation, multipliers above 1), random search-space networks quantised
// as a trial quantises them, and the vectorised requantisation against
// fixed_point.h on accumulators chosen to land on exact ties. Every
// intermediate tensor is compared, for the AVX2 and the portable kernels,
// image by image and batched.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "costmodel/network.h"
#include "quant/int8_executor.h"
#include "quant/kernels/arithmetic.h"
#include "quant/kernels/kernel_util.h"
#include "quant/quantize.h"
#include "tests/costmodel/random_candidates.h"
#include "tests/costmodel/random_images.h"
#include "tests/quant/calibrated_networks.h"
#include "tests/quant/graph_builder.h"

namespace unas::quant {
namespace {

using unas::testing::GraphBuilder;
using I8 = std::vector<int8_t>;

// int8 values with the extremes (where int16 widening or saturation would
// show) drawn a quarter of the time.
int8_t RandomInt8(std::mt19937_64& rng) {
  const int pick = static_cast<int>(rng() % 8);
  if (pick == 0) return -128;
  if (pick == 1) return 127;
  return static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
}
I8 RandomValues(std::mt19937_64& rng, int64_t n) {
  I8 v(static_cast<size_t>(n));
  for (int8_t& x : v) x = RandomInt8(rng);
  return v;
}
int Uniform(std::mt19937_64& rng, int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1)); }
float LogUniform(std::mt19937_64& rng, double lo, double hi) {
  std::uniform_real_distribution<double> u(std::log(lo), std::log(hi));
  return static_cast<float>(std::exp(u(rng)));
}
Activation RandomActivation(std::mt19937_64& rng) { return static_cast<Activation>(rng() % 4); }
Padding RandomPadding(std::mt19937_64& rng) { return rng() % 2 ? Padding::kSame : Padding::kValid; }

// A windowed operator (convolution or pool) appended to `b`: its padding and
// strides, and a random fused activation.
GraphOp& WindowOp(GraphBuilder& b, int code, std::vector<int> inputs, int output, Padding padding, int stride_h,
                  int stride_w, std::mt19937_64& rng) {
  GraphOp& op = b.Op(code, std::move(inputs), output);
  op.padding = padding;
  op.stride_h = stride_h;
  op.stride_w = stride_w;
  op.activation = RandomActivation(rng);
  return op;
}

int WindowOut(Padding p, int in, int filter, int stride, int dilation) {
  const int eff = (filter - 1) * dilation + 1;
  return p == Padding::kSame ? (in + stride - 1) / stride : (in - eff + stride) / stride;
}

// What the random graphs exercised, so the test fails if a change to the
// generator stops covering something.
struct Coverage {
  std::map<std::string, int> seen;
  void Note(const std::string& what) { ++seen[what]; }
};

// A convolution-like operator's output scale: about the accumulator's
// spread over the int8 range, or (one time in eight) small enough for a
// real multiplier above 1 (a left shift).
float OutputScale(std::mt19937_64& rng, float s_in, float s_w, int taps, Coverage* cov) {
  if (rng() % 8 == 0) {
    cov->Note("multiplier > 1");
    return s_in * s_w * LogUniform(rng, 0.1, 0.9);
  }
  return s_in * s_w * std::sqrt(static_cast<float>(taps)) * 128 * LogUniform(rng, 0.02, 1.0);
}

// CONV_2D or DEPTHWISE_CONV_2D with random geometry and quantisation.
ModelGraph RandomConv(std::mt19937_64& rng, bool depthwise, Coverage* cov) {
  GraphBuilder b;
  const int h = Uniform(rng, 1, 9), w = Uniform(rng, 1, 9), cin = Uniform(rng, 1, depthwise ? 10 : 12);
  const int dm = depthwise ? Uniform(rng, 1, 3) : 1;
  const int cout = depthwise ? cin * dm : Uniform(rng, 1, 20);
  const int stride_h = Uniform(rng, 1, 3), stride_w = Uniform(rng, 1, 3);
  const int dil_h = rng() % 4 == 0 ? 2 : 1, dil_w = rng() % 4 == 0 ? 2 : 1;
  Padding padding = RandomPadding(rng);
  int kh = Uniform(rng, 1, 4), kw = Uniform(rng, 1, 4);
  // VALID needs the dilated filter inside the input.
  if (padding == Padding::kValid && ((kh - 1) * dil_h + 1 > h || (kw - 1) * dil_w + 1 > w)) {
    kh = std::min(kh, (h - 1) / dil_h + 1);
    kw = std::min(kw, (w - 1) / dil_w + 1);
  }
  const int oh = WindowOut(padding, h, kh, stride_h, dil_h), ow = WindowOut(padding, w, kw, stride_w, dil_w);
  const float s_in = LogUniform(rng, 0.005, 1.0);
  const int in = b.Activation({1, h, w, cin}, s_in, Uniform(rng, -128, 127));
  const bool per_channel = rng() % 3 != 0;
  std::vector<float> scales(per_channel ? cout : 1);
  for (float& s : scales) s = LogUniform(rng, 0.001, 0.1);
  cov->Note(per_channel ? "per-channel filter" : "per-tensor filter");
  const std::vector<int> shape = depthwise ? std::vector<int>{1, kh, kw, cout} : std::vector<int>{cout, kh, kw, cin};
  const int filter = b.Int8Constant(shape, RandomValues(rng, int64_t{cout} * kh * kw * (depthwise ? 1 : cin)), scales,
                                    depthwise ? 3 : 0);
  int bias = -1;
  if (rng() % 4 != 0) {
    std::vector<int32_t> values(cout);
    for (int32_t& v : values) v = Uniform(rng, -20000, 20000);
    bias = b.Int32Constant({cout}, values);
  }
  const int out = b.Activation({1, oh, ow, cout}, OutputScale(rng, s_in, scales[0], kh * kw * (depthwise ? 1 : cin), cov),
                               Uniform(rng, -128, 127));
  GraphOp& op = WindowOp(b, depthwise ? builtin::kDepthwiseConv2D : builtin::kConv2D, {in, filter, bias}, out, padding,
                         stride_h, stride_w, rng);
  op.dilation_h = dil_h;
  op.dilation_w = dil_w;
  op.depth_multiplier = dm;
  if (padding == Padding::kSame && ((oh - 1) * stride_h + (kh - 1) * dil_h + 1 > h ||
                                    (ow - 1) * stride_w + (kw - 1) * dil_w + 1 > w)) {
    cov->Note("SAME padding that pads");
  }
  if (stride_h > 1 || stride_w > 1) cov->Note("stride > 1");
  if (dil_h > 1 || dil_w > 1) cov->Note("dilation > 1");
  if (dm > 1) cov->Note("depth multiplier > 1");
  cov->Note(depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D");
  return b.Finish(in, out);
}

ModelGraph RandomFullyConnected(std::mt19937_64& rng, Coverage* cov) {
  GraphBuilder b;
  std::vector<int> in_shape;
  int batches = 1, inputs = 0;
  if (rng() % 2) {
    in_shape = {1, Uniform(rng, 1, 5), Uniform(rng, 1, 5), Uniform(rng, 1, 8)};  // flattened
    inputs = in_shape[1] * in_shape[2] * in_shape[3];
  } else {
    batches = Uniform(rng, 1, 3);
    inputs = Uniform(rng, 1, 70);
    in_shape = {batches, inputs};
  }
  const int units = Uniform(rng, 1, 40);
  const float s_in = LogUniform(rng, 0.005, 1.0), s_w = LogUniform(rng, 0.001, 0.1);
  const int in = b.Activation(in_shape, s_in, Uniform(rng, -128, 127));
  const int w = b.Int8Constant({units, inputs}, RandomValues(rng, int64_t{units} * inputs), {s_w});
  // FULLY_CONNECTED weights may have a zero point (the filter offset).
  b.graph().tensors[w].quant.zero_point = {rng() % 2 ? 0 : Uniform(rng, -128, 127)};
  if (b.graph().tensors[w].quant.zero_point[0] != 0) cov->Note("filter zero point");
  int bias = -1;
  if (rng() % 4 != 0) {
    std::vector<int32_t> values(units);
    for (int32_t& v : values) v = Uniform(rng, -50000, 50000);
    bias = b.Int32Constant({units}, values);
  }
  const int out = b.Activation({batches, units}, OutputScale(rng, s_in, s_w, inputs, cov) * 2, Uniform(rng, -128, 127));
  b.Op(builtin::kFullyConnected, {in, w, bias}, out).activation = RandomActivation(rng);
  cov->Note("FULLY_CONNECTED");
  return b.Finish(in, out);
}

ModelGraph RandomPool(std::mt19937_64& rng, bool max, Coverage* cov) {
  GraphBuilder b;
  const int h = Uniform(rng, 1, 9), w = Uniform(rng, 1, 9), c = Uniform(rng, 1, 20);
  const Padding padding = RandomPadding(rng);
  const int fh = padding == Padding::kValid ? Uniform(rng, 1, h) : Uniform(rng, 1, 4);
  const int fw = padding == Padding::kValid ? Uniform(rng, 1, w) : Uniform(rng, 1, 4);
  const int sh = Uniform(rng, 1, 3), sw = Uniform(rng, 1, 3);
  const float scale = LogUniform(rng, 0.01, 1.0);
  const int64_t zp = Uniform(rng, -128, 127);
  const int in = b.Activation({1, h, w, c}, scale, zp);
  const int out = b.Activation({1, WindowOut(padding, h, fh, sh, 1), WindowOut(padding, w, fw, sw, 1), c}, scale, zp);
  GraphOp& op = WindowOp(b, max ? builtin::kMaxPool2D : builtin::kAveragePool2D, {in}, out, padding, sh, sw, rng);
  op.filter_h = fh;
  op.filter_w = fw;
  cov->Note(max ? "MAX_POOL_2D" : "AVERAGE_POOL_2D");
  return b.Finish(in, out);
}

// ADD of the input and a depthwise 1x1 of it (the executor has one graph input).
ModelGraph RandomAdd(std::mt19937_64& rng, Coverage* cov) {
  GraphBuilder b;
  const int h = Uniform(rng, 1, 6), w = Uniform(rng, 1, 6), c = Uniform(rng, 1, 19);
  const float s1 = LogUniform(rng, 0.005, 1.0), s2 = LogUniform(rng, 0.005, 1.0);
  const int x = b.Activation({1, h, w, c}, s1, Uniform(rng, -128, 127));
  std::vector<float> scales(c);
  for (float& s : scales) s = LogUniform(rng, 0.001, 0.1);
  const int filter = b.Int8Constant({1, 1, 1, c}, RandomValues(rng, c), scales, 3);
  const int second = b.Activation({1, h, w, c}, s2, Uniform(rng, -128, 127));
  const int y = b.Activation({1, h, w, c}, std::max(s1, s2) * LogUniform(rng, 0.3, 3.0), Uniform(rng, -128, 127));
  b.Op(builtin::kDepthwiseConv2D, {x, filter, -1}, second);
  b.Op(builtin::kAdd, {x, second}, y).activation = RandomActivation(rng);
  cov->Note("ADD");
  return b.Finish(x, y);
}

// PAD, STRIDED_SLICE + CONCATENATION, or RESHAPE of a random input.
ModelGraph RandomMovement(std::mt19937_64& rng, int kind, Coverage* cov) {
  GraphBuilder b;
  const std::vector<int> shape = {1, Uniform(rng, 1, 6), Uniform(rng, 1, 6), Uniform(rng, 1, 9)};
  const float scale = LogUniform(rng, 0.01, 1.0);
  const int64_t zp = Uniform(rng, -128, 127);
  const int x = b.Activation(shape, scale, zp);
  if (kind == 0) {
    std::vector<int32_t> pads(8, 0);
    std::vector<int> out_shape = shape;
    for (int d = 1; d < 4; ++d) {
      pads[2 * d] = Uniform(rng, 0, 2);
      pads[2 * d + 1] = Uniform(rng, 0, 2);
      out_shape[d] += pads[2 * d] + pads[2 * d + 1];
    }
    const int paddings = b.Int32Constant({4, 2}, pads);
    const int out = b.Activation(out_shape, scale, zp);
    b.Op(rng() % 2 ? builtin::kPad : builtin::kPadV2, {x, paddings}, out);
    cov->Note("PAD");
    return b.Finish(x, out);
  }
  if (kind == 1) {
    // Two strided slices of x joined along a random axis (in the other order).
    const int axis = Uniform(rng, 1, 3);
    std::vector<int> slice_shape[2];
    int ids[2];
    for (int k = 0; k < 2; ++k) {
      std::vector<int32_t> begin(4, 0), end(4), strides(4, 1);
      slice_shape[k] = shape;
      for (int d = 0; d < 4; ++d) {
        end[d] = shape[d];
        if (d == 0) continue;
        // Off the axis both slices must agree: same bounds for both.
        const uint64_t seed = d == axis ? rng() : 1000003u * d + shape[d];
        std::mt19937_64 r(seed);
        begin[d] = Uniform(r, 0, shape[d] - 1);
        end[d] = Uniform(r, begin[d] + 1, shape[d]);
        strides[d] = Uniform(r, 1, 2);
        if (r() % 3 == 0) begin[d] -= shape[d];  // negative: counts from the end
        const int first = begin[d] < 0 ? begin[d] + shape[d] : begin[d];
        slice_shape[k][d] = (end[d] - first + strides[d] - 1) / strides[d];
      }
      const int bt = b.Int32Constant({4}, begin), et = b.Int32Constant({4}, end), st = b.Int32Constant({4}, strides);
      ids[k] = b.Activation(slice_shape[k], scale, zp);
      b.Op(builtin::kStridedSlice, {x, bt, et, st}, ids[k]);
    }
    std::vector<int> out_shape = slice_shape[0];
    out_shape[axis] += slice_shape[1][axis];
    const int out = b.Activation(out_shape, scale, zp);
    b.Op(builtin::kConcatenation, {ids[1], ids[0]}, out).axis = rng() % 2 ? axis : axis - 4;
    cov->Note("STRIDED_SLICE");
    cov->Note("CONCATENATION");
    return b.Finish(x, out);
  }
  const int out = b.Activation({1, shape[1] * shape[2] * shape[3]}, scale, zp);
  b.Op(builtin::kReshape, {x}, out);
  cov->Note("RESHAPE");
  return b.Finish(x, out);
}

ModelGraph RandomOperatorGraph(std::mt19937_64& rng, int kind, Coverage* cov) {
  switch (kind) {
    case 0: return RandomConv(rng, false, cov);
    case 1: return RandomConv(rng, true, cov);
    case 2: return RandomFullyConnected(rng, cov);
    case 3: return RandomPool(rng, true, cov);
    case 4: return RandomPool(rng, false, cov);
    case 5: return RandomAdd(rng, cov);
    default: return RandomMovement(rng, kind - 6, cov);
  }
}
constexpr int kOperatorKinds = 9;

// Runs `images` inputs through the reference kernels one at a time and
// through `kernels` one at a time (every tensor compared) and batched (the
// outputs compared). Returns the number of output values compared.
int64_t ExpectSameAsReference(const ModelGraph& g, Int8Kernels kernels, const std::vector<I8>& images,
                              const std::string& what) {
  auto reference = Int8Executor::Create(g, Int8Kernels::kReference);
  auto fast = Int8Executor::Create(g, kernels);
  EXPECT_TRUE(reference.ok()) << what << ": " << reference.status().message();
  EXPECT_TRUE(fast.ok()) << what << ": " << fast.status().message();
  if (!reference.ok() || !fast.ok()) return 0;
  I8 batch, expected_outputs;
  int64_t compared = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    auto want = reference->RunAll(images[i]);
    auto got = fast->RunAll(images[i]);
    EXPECT_TRUE(want.ok() && got.ok()) << what;
    if (!want.ok() || !got.ok()) return compared;
    for (size_t t = 0; t < want->size(); ++t) {
      EXPECT_EQ((*got)[t], (*want)[t]) << what << ", image " << i << ", tensor " << t;
      compared += static_cast<int64_t>((*want)[t].size());
    }
    batch.insert(batch.end(), images[i].begin(), images[i].end());
    const I8& out = (*want)[g.outputs[0]];
    expected_outputs.insert(expected_outputs.end(), out.begin(), out.end());
  }
  auto batched = fast->RunBatch(batch, static_cast<int>(images.size()));
  EXPECT_TRUE(batched.ok()) << what << ": " << batched.status().message();
  if (batched.ok()) {
    EXPECT_EQ(*batched, expected_outputs) << what << ", batched";
  }
  return compared;
}

std::vector<Int8Kernels> OptimizedKernels() {
  std::vector<Int8Kernels> k = {Int8Kernels::kOptimizedPortable};
  if (kernels::CpuHasAvx2()) k.push_back(Int8Kernels::kOptimized);
  return k;
}

TEST(Int8KernelsTest, OptimizedMatchesReferenceOnRandomOperators) {
  std::mt19937_64 rng(2024);
  Coverage cov;
  int64_t compared = 0;
  for (int n = 0; n < 60 * kOperatorKinds; ++n) {
    const int kind = n % kOperatorKinds;
    const ModelGraph g = RandomOperatorGraph(rng, kind, &cov);
    const int64_t in_elements = g.tensors[g.inputs[0]].elements();
    // Some batches longer than the executor's pass of 16 images.
    std::vector<I8> images(n % 7 == 0 ? 19 : 3);
    for (I8& image : images) image = RandomValues(rng, in_elements);
    for (Int8Kernels k : OptimizedKernels()) {
      compared += ExpectSameAsReference(g, k, images, "graph " + std::to_string(n) + " (kind " + std::to_string(kind) + ")");
    }
    if (::testing::Test::HasFailure()) break;
  }
  for (const char* what : {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D", "AVERAGE_POOL_2D", "ADD",
                           "PAD", "STRIDED_SLICE", "CONCATENATION", "RESHAPE", "per-channel filter",
                           "per-tensor filter", "SAME padding that pads", "stride > 1", "dilation > 1",
                           "depth multiplier > 1", "filter zero point", "multiplier > 1"}) {
    EXPECT_GE(cov.seen[what], 10) << what;
  }
  EXPECT_GT(compared, 100000);
}

// Networks of the search space (random candidates, random weights,
// calibrated as a trial is), on random int8 inputs.
TEST(Int8KernelsTest, OptimizedMatchesReferenceOnRandomNetworks) {
  std::mt19937_64 rng(77);
  const testing::RandomCandidateLimits limits = testing::ExecutableLimits(5, 24);
  std::map<int, int> ops_seen;
  for (int i = 0; i < 40; ++i) {
    const testing::CalibratedNetwork n =
        testing::DrawCalibratedNetwork(rng, limits, /*max_side=*/20, 300 + i, /*images=*/8, 5000 * i);
    const Result<ModelGraph>& g = n.graph;
    ASSERT_TRUE(g.ok()) << "candidate " << i << ": " << g.status().message();
    for (const GraphOp& op : g->ops) ++ops_seen[op.builtin_code];
    std::vector<I8> images(i % 5 == 0 ? 17 : 4);
    for (I8& image : images) image = RandomValues(rng, g->tensors[g->inputs[0]].elements());
    for (Int8Kernels k : OptimizedKernels()) ExpectSameAsReference(*g, k, images, "candidate " + std::to_string(i));
    if (::testing::Test::HasFailure()) break;
  }
  for (int code : {builtin::kConv2D, builtin::kDepthwiseConv2D, builtin::kFullyConnected, builtin::kAdd}) {
    EXPECT_GT(ops_seen[code], 0) << BuiltinName(code);
  }
}

// The vectorised requantisation against MultiplyByQuantizedMultiplier on
// accumulators that make the result an exact tie (x.5) after the high
// multiply or the rounding shift, both signs, and on random ones.
TEST(Int8KernelsTest, VectorRequantizationMatchesFixedPoint) {
  if (!kernels::CpuHasAvx2()) GTEST_SKIP() << "no AVX2 on this CPU: only the portable path runs here";
  std::mt19937_64 rng(5);
  constexpr int kChannels = 13;  // one full block of 8 and a tail of 5
  int64_t checked = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    kernels::OpParams p;
    std::vector<int32_t> acc(kernels::PaddedChannels(kChannels));
    for (int c = 0; c < kChannels; ++c) {
      const int kind = static_cast<int>(rng() % 3);
      double real;
      if (kind == 0) {
        // A power of two 2^-s: multiplier 2^30, so an odd multiple of 2^(s-1) is an exact tie.
        const int s = Uniform(rng, 1, 20);
        real = std::ldexp(1.0, -s);
        acc[c] = (2 * Uniform(rng, -100, 100) + 1) * (1 << (s - 1));
      } else if (kind == 1) {
        real = LogUniform(rng, 1e-9, 8.0);  // shifts from about -29 to +3
        const double target = Uniform(rng, -160, 160) + 0.5;
        acc[c] = static_cast<int32_t>(std::clamp(target / real, -2147483648.0, 2147483647.0));
      } else {
        real = LogUniform(rng, 1e-9, 1.0);
        acc[c] = static_cast<int32_t>(rng());
      }
      p.multipliers.push_back(QuantizeMultiplier(real));
    }
    const kernels::ChannelRequant r = kernels::MakeChannelRequant(p, kChannels);
    ASSERT_TRUE(r.vectorizable);
    const int32_t offset = Uniform(rng, -128, 127);
    I8 vector_out(kChannels), scalar_out(kChannels);
    kernels::RequantizeRows(acc.data(), 0, 1, kChannels, r, offset, -128, 127, vector_out.data(), 0, true);
    kernels::RequantizeRows(acc.data(), 0, 1, kChannels, r, offset, -128, 127, scalar_out.data(), 0, false);
    for (int c = 0; c < kChannels; ++c) {
      const int32_t want = std::clamp(MultiplyByQuantizedMultiplier(acc[c], p.multipliers[c]) + offset, -128, 127);
      ASSERT_EQ(vector_out[c], want) << "acc " << acc[c] << " multiplier " << p.multipliers[c].multiplier << " shift "
                                     << p.multipliers[c].shift;
      ASSERT_EQ(scalar_out[c], want);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4000 * kChannels);
}

// A mantissa of INT32_MIN (possible only from a negative scale) saturates in
// SaturatingRoundingDoublingHighMul; such operators requantise with the
// scalar functions, so even that case matches.
TEST(Int8KernelsTest, SaturatingMultiplierFallsBackToScalar) {
  kernels::OpParams p;
  p.multipliers = {{std::numeric_limits<int32_t>::min(), 0}, {1 << 30, 0}};
  const kernels::ChannelRequant r = kernels::MakeChannelRequant(p, 2);
  EXPECT_FALSE(r.vectorizable);
  std::vector<int32_t> acc(8, 0);
  acc[0] = std::numeric_limits<int32_t>::min();  // INT32_MIN x INT32_MIN -> INT32_MAX, then clamped
  I8 out(2);
  kernels::RequantizeRows(acc.data(), 0, 1, 2, r, 0, -128, 127, out.data(), 0, kernels::CpuHasAvx2());
  EXPECT_EQ(out[0], 127);
  EXPECT_EQ(out[1], 0);
}

// QUANTIZE of float inputs: the AVX2 path's exact rounding against
// std::round on ties (x.5 both signs), values a float ulp either side of
// them, values beyond the vector path's 2^24, and random ones; 8 lanes and a tail.
TEST(Int8KernelsTest, VectorInputQuantizationMatchesStdRound) {
  std::mt19937_64 rng(8);
  std::vector<float> values;
  for (int k = -300; k <= 300; ++k) {
    const float tie = static_cast<float>(k) + 0.5f;
    values.insert(values.end(), {tie, std::nextafter(tie, 0.0f), std::nextafter(tie, 1e9f), static_cast<float>(k)});
  }
  // (Not infinities or values beyond int64: the scalar rule's conversion is undefined there.)
  values.insert(values.end(), {0.49999997f, -0.49999997f, -0.0f, 3e7f, -3e7f, 8388609.5f, -16777215.0f});
  std::uniform_real_distribution<float> u(-200.0f, 200.0f);
  for (int i = 0; i < 5003; ++i) values.push_back(u(rng));
  for (float scale : {1.0f, 0.5f, 0.0078125f, 0.3f}) {
    for (int64_t zp : {int64_t{-128}, int64_t{0}, int64_t{17}, int64_t{127}}) {
      I8 got(values.size()), want(values.size());
      kernels::QuantizeFloats(values.data(), static_cast<int64_t>(values.size()), scale, zp, got.data(),
                              kernels::CpuHasAvx2());
      for (size_t i = 0; i < values.size(); ++i) {
        want[i] = static_cast<int8_t>(std::clamp<int64_t>(static_cast<int64_t>(std::round(values[i] / scale)) + zp, -128, 127));
      }
      ASSERT_EQ(got, want) << "scale " << scale << " zero point " << zp;
    }
  }
}

TEST(Int8KernelsTest, RunBatchRejectsAWrongInputSize) {
  GraphBuilder b;
  const int in = b.Activation({1, 2}, 1.0f, 0);
  const int out = b.Activation({1, 2}, 1.0f, 0);
  b.Op(builtin::kReshape, {in}, out);
  auto e = Int8Executor::Create(b.Finish(in, out));
  ASSERT_TRUE(e.ok());
  auto r = e->RunBatch({1, 2, 3}, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "RunBatch: 3 input values are not 2 images of 2");
  EXPECT_EQ(e->RunBatch({1, 2, 3, 4}, 2).value(), (I8{1, 2, 3, 4}));
}

}  // namespace
}  // namespace unas::quant
