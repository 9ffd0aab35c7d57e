// Raw images as a device holds them, for the tests that feed the generated
// C what a camera gives.
//
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <vector>

#include "data/image_files.h"

namespace unas::testing {

// `raw`'s bytes (data::RawImages stores each image CHW) reordered HWC, as a
// camera delivers them and the generated C reads them.
inline std::vector<uint8_t> RawImagesHwc(const data::RawImages& raw) {
  std::vector<uint8_t> hwc(raw.pixels.size());
  const int64_t per = raw.pixels_per_image();
  for (int64_t n = 0; n < raw.count; ++n)
    for (int c = 0; c < raw.channels; ++c)
      for (int y = 0; y < raw.height; ++y)
        for (int x = 0; x < raw.width; ++x)
          hwc[n * per + (int64_t{y} * raw.width + x) * raw.channels + c] =
              raw.pixels[n * per + (int64_t{c} * raw.height + y) * raw.width + x];
  return hwc;
}

}  // namespace unas::testing
