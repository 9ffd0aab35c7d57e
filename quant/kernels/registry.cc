// Which kernel runs which builtin operator (TFLM's op resolver).
#include "quant/kernels/kernel.h"

namespace unas::quant::kernels {

const OpKernel* FindKernel(int builtin_code) {
  static const OpKernel conv = RegisterConv2D(), depthwise = RegisterDepthwiseConv2D(),
                        fully_connected = RegisterFullyConnected(), max_pool = RegisterMaxPool2D(),
                        average_pool = RegisterAveragePool2D(), add = RegisterAdd(), pad = RegisterPad(),
                        strided_slice = RegisterStridedSlice(), concatenation = RegisterConcatenation(),
                        reshape = RegisterReshape();
  switch (builtin_code) {
    case builtin::kConv2D: return &conv;
    case builtin::kDepthwiseConv2D: return &depthwise;
    case builtin::kFullyConnected: return &fully_connected;
    case builtin::kMaxPool2D: return &max_pool;
    case builtin::kAveragePool2D: return &average_pool;
    case builtin::kAdd: return &add;
    case builtin::kPad:
    case builtin::kPadV2: return &pad;
    case builtin::kStridedSlice: return &strided_slice;
    case builtin::kConcatenation: return &concatenation;
    case builtin::kReshape: return &reshape;
    default: return nullptr;
  }
}

}  // namespace unas::quant::kernels
