// Test-only: TensorFlow's speech features (audio_spectrogram with
// magnitude_squared, then Mfcc: MfccMelFilterbank, log with the 1e-12
// floor, MfccDct) written straight from their formulas in double precision,
// with a direct DFT instead of an FFT, as the independent reference the
// fixed-point front end (data/audio/frontend.c) is measured against.
#pragma once

#include <cstdint>
#include <vector>

#include "data/audio/feature_extractor.h"

namespace unas::data::audio::testing {

// Features of one clip of config.clip_samples samples, [frame][feature],
// in real units (the fixed-point front end's feature / kFeatureScale).
std::vector<double> ReferenceFeatures(const FrontendConfig& config, const std::vector<int16_t>& pcm);

}  // namespace unas::data::audio::testing
