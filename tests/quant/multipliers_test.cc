// The requantisation multipliers against the values TFLite's own code gives
// for the same float32 scales. The expected numbers were printed by a
// program compiled against tflite-micro 90b983c2's
// tensorflow/lite/kernels/internal/quantization_util.cc, applying the
// formulas of kernel_util.cc (GetQuantizedConvolutionMultipler for
// FULLY_CONNECTED, PopulateConvolutionQuantizationParams for CONV_2D) and
// add_common.cc (CalculateOpDataAdd); quant/multipliers.h cites each.
#include "quant/multipliers.h"

#include <gtest/gtest.h>

#include "quant/int8_executor.h"
#include "tests/quant/graph_builder.h"

namespace unas::quant {
namespace {

struct Case {
  float input, filter, output;
  int32_t fc_multiplier, conv_multiplier;
  int shift;
};
// TFLM's figures: FULLY_CONNECTED and CONV_2D differ in 3 of these 4 (the
// float32 product), by 37, 66 and 2 units of 2^-31.
constexpr Case kCases[] = {
    {0.0173411239f, 0.00281247729f, 0.0937212408f, 1144347889, 1144347852, -10},
    {0.0041231201f, 0.00123449997f, 0.0412121005f, 1086380927, 1086380927, -12},
    {0.0472933985f, 0.00912829954f, 0.234812304f, 2021479757, 2021479691, -9},
    {0.00392156886f, 0.00784313772f, 0.0235294122f, 1437270242, 1437270244, -9},
};

TEST(MultipliersTest, FullyConnectedRoundsTheScaleProductToFloatLikeTflite) {
  for (const Case& c : kCases) {
    const QuantizedMultiplier m = FullyConnectedMultiplier(c.input, c.filter, c.output);
    EXPECT_EQ(m.multiplier, c.fc_multiplier) << c.input << " " << c.filter << " " << c.output;
    EXPECT_EQ(m.shift, c.shift);
  }
}

TEST(MultipliersTest, ConvolutionComputesInDoubleLikeTflite) {
  for (const Case& c : kCases) {
    const std::vector<QuantizedMultiplier> m = ConvMultipliers(c.input, {c.filter, c.filter * 2}, c.output);
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[0].multiplier, c.conv_multiplier) << c.input << " " << c.filter << " " << c.output;
    EXPECT_EQ(m[0].shift, c.shift);
    // Doubling a float scale is exact: the same mantissa, one more in the exponent.
    EXPECT_EQ(m[1].multiplier, c.conv_multiplier);
    EXPECT_EQ(m[1].shift, c.shift + 1);
  }
}

TEST(MultipliersTest, AddMatchesTflitesAddCommon) {
  auto a = AddQuantization(0.0235294122f, 0.0431372561f, 0.0627451017f);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->left_shift, 20);
  EXPECT_EQ(a->input1.multiplier, 1171354709);
  EXPECT_EQ(a->input1.shift, -1);
  EXPECT_EQ(a->input2.multiplier, 1073741824);  // the larger input: exactly 0.5
  EXPECT_EQ(a->input2.shift, 0);
  EXPECT_EQ(a->output.multiplier, 1476394960);
  EXPECT_EQ(a->output.shift, -19);
  auto b = AddQuantization(0.0500000007f, 0.0299999993f, 0.0700000003f);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->input1.multiplier, 1073741824);
  EXPECT_EQ(b->input1.shift, 0);
  EXPECT_EQ(b->input2.multiplier, 1288490141);
  EXPECT_EQ(b->input2.shift, -1);
  EXPECT_EQ(b->output.multiplier, 1533916908);
  EXPECT_EQ(b->output.shift, -19);
}

TEST(MultipliersTest, AddRefusesAnOutputScaleTfliteCannotReach) {
  // 2 * 1.0 / (2^20 * 2^-20) = 2: not below 1, where TFLite's Prepare aborts.
  auto a = AddQuantization(1.0f, 0.5f, 1.0f / (1 << 20));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("output multiplier"), std::string::npos) << a.status().message();
}

// One FULLY_CONNECTED output whose accumulator lands where the two
// multipliers round differently: scales 0.0167846121 (input),
// 0.00278478046 (filter), 0.0733290017 (output) give 1401704069 * 2^-10
// (TFLite's float32 product) against 1401704028 * 2^-10 (double). Input
// value 1 (zero point 0), weight 1 and bias -41574 make the accumulator
// -41573: TFLite's arithmetic gives -27 (checked with TFLM's
// MultiplyByQuantizedMultiplier); the double multiplier would give -26.
TEST(MultipliersTest, RunInt8RequantisesFullyConnectedWithTflitesMultiplier) {
  testing::GraphBuilder b;
  const int in = b.Activation({1, 1}, 0.0167846121f, 0);
  const int w = b.Int8Constant({1, 1}, {1}, {0.00278478046f});
  const int bias = b.Int32Constant({1}, {-41574});
  const int out = b.Activation({1, 1}, 0.0733290017f, 0);
  b.Op(builtin::kFullyConnected, {in, w, bias}, out);
  auto y = RunInt8(b.Finish(in, out), {1});
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_EQ(*y, std::vector<int8_t>{-27});
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-41573, 1401704028, -10), -26);  // what double would give
}

}  // namespace
}  // namespace unas::quant
