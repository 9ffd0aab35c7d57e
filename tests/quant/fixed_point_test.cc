// TFLite's fixed-point helpers, checked against values worked out by hand
// from the reference definitions (quant/fixed_point.h).
#include "quant/fixed_point.h"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace unas::quant {
namespace {

constexpr int32_t kHalf = 1 << 30;  // 0.5 in Q0.31

TEST(QuantizeMultiplierTest, SplitsIntoMantissaAndExponent) {
  EXPECT_EQ(QuantizeMultiplier(0.5).multiplier, kHalf);
  EXPECT_EQ(QuantizeMultiplier(0.5).shift, 0);
  EXPECT_EQ(QuantizeMultiplier(1.0).multiplier, kHalf);
  EXPECT_EQ(QuantizeMultiplier(1.0).shift, 1);
  EXPECT_EQ(QuantizeMultiplier(0.75).multiplier, 1610612736);  // 0.75 * 2^31
  EXPECT_EQ(QuantizeMultiplier(0.75).shift, 0);
  // 0.1 = 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4 -> 1717986918.
  EXPECT_EQ(QuantizeMultiplier(0.1).multiplier, 1717986918);
  EXPECT_EQ(QuantizeMultiplier(0.1).shift, -3);
  EXPECT_EQ(QuantizeMultiplier(1.5).multiplier, 1610612736);
  EXPECT_EQ(QuantizeMultiplier(1.5).shift, 1);
}

TEST(QuantizeMultiplierTest, MantissaRoundingUpToOneIsRenormalised) {
  // q = 1 - 2^-40: q * 2^31 rounds to 2^31, which is halved with shift + 1.
  const QuantizedMultiplier m = QuantizeMultiplier(1.0 - 1.0 / (1LL << 40));
  EXPECT_EQ(m.multiplier, kHalf);
  EXPECT_EQ(m.shift, 1);
}

TEST(QuantizeMultiplierTest, ZeroAndTinyValuesFlushToZero) {
  EXPECT_EQ(QuantizeMultiplier(0.0).multiplier, 0);
  EXPECT_EQ(QuantizeMultiplier(0.0).shift, 0);
  // 2^-32 = 0.5 * 2^-31 is the smallest kept; 2^-33 has shift -32.
  EXPECT_EQ(QuantizeMultiplier(1.0 / (1LL << 32)).multiplier, kHalf);
  EXPECT_EQ(QuantizeMultiplier(1.0 / (1LL << 32)).shift, -31);
  EXPECT_EQ(QuantizeMultiplier(1.0 / (1LL << 33)).multiplier, 0);
  EXPECT_EQ(QuantizeMultiplier(1.0 / (1LL << 33)).shift, 0);
}

TEST(SaturatingRoundingDoublingHighMulTest, RoundsTiesTowardPositiveInfinity) {
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kHalf, kHalf), 1 << 29);
  // 3 * 0.5 = 1.5 -> 2; -3 * 0.5 = -1.5 -> -1 (nudge 1 - 2^30, truncation).
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(3, kHalf), 2);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-3, kHalf), -1);
  // -5 * 0.5 = -2.5 -> -2; 5 * 0.5 = 2.5 -> 3; -7 * 0.5 = -3.5 -> -3.
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-5, kHalf), -2);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(5, kHalf), 3);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-7, kHalf), -3);
  // 1.25 -> 1, -1.25 -> -1, -1.75 -> -2 (not ties: nearest).
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(5, 1 << 29), 1);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-5, 1 << 29), -1);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-7, 1 << 29), -2);
}

TEST(SaturatingRoundingDoublingHighMulTest, SaturatesTheOneOverflow) {
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMin, kMin), std::numeric_limits<int32_t>::max());
  // kMin * kMax / 2^31 = -(2^31 - 1) exactly.
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMin, std::numeric_limits<int32_t>::max()), kMin + 1);
}

TEST(RoundingDivideByPOTTest, RoundsTiesAwayFromZero) {
  EXPECT_EQ(RoundingDivideByPOT(5, 1), 3);     // 2.5
  EXPECT_EQ(RoundingDivideByPOT(-5, 1), -3);   // -2.5
  EXPECT_EQ(RoundingDivideByPOT(6, 2), 2);     // 1.5
  EXPECT_EQ(RoundingDivideByPOT(-6, 2), -2);   // -1.5
  EXPECT_EQ(RoundingDivideByPOT(-5, 2), -1);   // -1.25
  EXPECT_EQ(RoundingDivideByPOT(-7, 2), -2);   // -1.75
  EXPECT_EQ(RoundingDivideByPOT(7, 0), 7);
  EXPECT_EQ(RoundingDivideByPOT(-917504, 18), -4);  // -3.5
}

TEST(MultiplyByQuantizedMultiplierTest, AppliesBothRoundings) {
  const QuantizedMultiplier tenth = QuantizeMultiplier(0.1);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(100, tenth), 10);
  // 25 * 0.1: the high multiply gives 20 (19.99.. + nudge), then 20 / 8 = 2.5 -> 3.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(25, tenth), 3);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-25, tenth), -3);
  // 3 * 1.5 = 4.5: left shift to 6, 6 * 0.75 = 4.5 -> 5.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(3, QuantizeMultiplier(1.5)), 5);
  // -3 * 1.5 = -4.5: -6 * 0.75 = -4.5 -> -4 (the high multiply's tie goes up).
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-3, QuantizeMultiplier(1.5)), -4);
  // Double rounding: 44 * 0.125 = 5.5; high multiply 44 * 0.5 = 22, then 22 / 4 = 5.5 -> 6.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(44, QuantizeMultiplier(0.125)), 6);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-24, QuantizeMultiplier(0.25)), -6);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(12345, QuantizedMultiplier{}), 0);
}

}  // namespace
}  // namespace unas::quant
