#include "quant/multipliers.h"

#include <algorithm>
#include <string>

namespace unas::quant {

std::vector<QuantizedMultiplier> ConvMultipliers(float input_scale, const std::vector<float>& filter_scales,
                                                 float output_scale) {
  std::vector<QuantizedMultiplier> out;
  out.reserve(filter_scales.size());
  for (float filter_scale : filter_scales) {
    out.push_back(QuantizeMultiplier(static_cast<double>(input_scale) * static_cast<double>(filter_scale) /
                                     static_cast<double>(output_scale)));
  }
  return out;
}

QuantizedMultiplier FullyConnectedMultiplier(float input_scale, float filter_scale, float output_scale) {
  // The float32 product is what TFLite widens; `volatile` keeps a compiler
  // with excess precision (x87) from carrying more bits into the division.
  volatile float product = input_scale * filter_scale;
  return QuantizeMultiplier(static_cast<double>(product) / static_cast<double>(output_scale));
}

Result<AddMultipliers> AddQuantization(float input1_scale, float input2_scale, float output_scale) {
  AddMultipliers m;
  const double twice_max = 2 * static_cast<double>(std::max(input1_scale, input2_scale));
  const double real[3] = {static_cast<double>(input1_scale) / twice_max,
                          static_cast<double>(input2_scale) / twice_max,
                          twice_max / ((1 << m.left_shift) * static_cast<double>(output_scale))};
  const char* names[3] = {"input 1", "input 2", "output"};
  for (int k = 0; k < 3; ++k) {
    if (!(real[k] > 0.0 && real[k] < 1.0)) {
      return Status::Invalid(std::string("ADD: the ") + names[k] + " multiplier " + std::to_string(real[k]) +
                             " is outside (0, 1) (TFLite refuses it; output scale too small for the left shift 20?)");
    }
  }
  m.input1 = QuantizeMultiplier(real[0]);
  m.input2 = QuantizeMultiplier(real[1]);
  m.output = QuantizeMultiplier(real[2]);
  // QuantizeMultiplierSmallerThanOneExp also CHECKs the exponent <= 0, which
  // a real multiplier within 2^-32 of 1 breaks by rounding up to 1.
  for (const QuantizedMultiplier* q : {&m.input1, &m.input2, &m.output}) {
    if (q->shift > 0) return Status::Invalid("ADD: a multiplier rounds up to 1 (TFLite refuses it)");
  }
  return m;
}

}  // namespace unas::quant
