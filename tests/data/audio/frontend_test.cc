// The fixed-point audio front end: its sizes and checks, hand-worked
// outputs, and its distance from the double-precision computation of the
// same maths (TensorFlow's spectrogram + MFCC) on generated speech, noise
// and extreme inputs.
#include "data/audio/feature_extractor.h"

#include <cmath>
#include <cstring>
#include <iostream>

#include <gtest/gtest.h>

#include "tests/data/audio/keyword_set.h"
#include "tests/data/audio/reference_frontend.h"

namespace unas::data::audio {
namespace {

// The stated tolerance (docs/keyword-spotting.md): every feature within
// 0.01 of the double computation on speech and noise. Rounding to 1/128
// alone costs 0.0039.
constexpr double kTolerance = 0.01;
// Pure synthetic tones (exactly periodic, so without the broadband
// rounding noise of real 16-bit audio) leave channels 120 dB and more
// below the frame's peak, where the int32 FFT's own rounding (about 150 dB
// down) shows: up to 0.03 there.
constexpr double kToneTolerance = 0.03;

std::vector<int16_t> Sine(double hz, double amplitude) {
  std::vector<int16_t> pcm(16000);
  for (int i = 0; i < 16000; ++i) pcm[i] = int16_t(std::lround(amplitude * std::sin(2 * M_PI * hz * i / 16000)));
  return pcm;
}

double MaxDifference(const FrontendConfig& config, const std::vector<int16_t>& pcm) {
  auto extractor = FeatureExtractor::Create(config);
  EXPECT_TRUE(extractor.ok());
  auto fixed = extractor->Compute(pcm);
  EXPECT_TRUE(fixed.ok());
  const std::vector<double> reference = testing::ReferenceFeatures(config, pcm);
  EXPECT_EQ(fixed->size(), reference.size());
  double worst = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    worst = std::max(worst, std::fabs((*fixed)[i] / double(kFeatureScale) - reference[i]));
  }
  return worst;
}

TEST(AudioFrontend, DefaultsGive49By40FeaturesFromOneSecond) {
  const FrontendConfig config = DefaultFrontendConfig();
  EXPECT_TRUE(CheckFrontendConfig(config).ok());
  EXPECT_EQ(unas_frontend_fft_size(&config), 512);
  EXPECT_EQ(unas_frontend_frames(&config), 49);  // 1 + (16000 - 480) / 320
  EXPECT_EQ(unas_frontend_features_per_frame(&config), 40);
  // 48 header + 480 x 4 window + 512 x 4 FFT + 2 x 520 (257 x 2 rounded)
  // filterbank + 40 x 8 mel + 40 x 4 logs + 160 x 4 DCT + 40 x 2 frame.
  EXPECT_EQ(unas_frontend_scratch_bytes(&config), 6256u);
  EXPECT_EQ(UNAS_FRONTEND_SCRATCH_BYTES(480, 512, 40, 40), 6256u);
}

TEST(AudioFrontend, ConfigOutOfRangeNamesTheField) {
  FrontendConfig config = DefaultFrontendConfig();
  config.window_samples = 2000;
  Status s = CheckFrontendConfig(config);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("window_samples = 2000"), std::string::npos) << s.message();
  config = DefaultFrontendConfig();
  config.upper_hz = 9000;
  EXPECT_NE(CheckFrontendConfig(config).message().find("upper_hz = 9000"), std::string::npos);
  config = DefaultFrontendConfig();
  config.mfcc_coefficients = 41;
  EXPECT_NE(CheckFrontendConfig(config).message().find("mfcc_coefficients = 41"), std::string::npos);
  config.output = UNAS_FRONTEND_LOG_MEL;  // the coefficient count does not matter for log-mel
  EXPECT_TRUE(CheckFrontendConfig(config).ok());
  EXPECT_FALSE(FeatureExtractor::Create(FrontendConfig{}).ok());
}

TEST(AudioFrontend, SilenceIsTheLogFloorEverywhere) {
  // ln(1e-12) = -27.631021; x 128 = -3536.77 -> -3537 for every log-mel value.
  FrontendConfig config = DefaultFrontendConfig();
  config.output = UNAS_FRONTEND_LOG_MEL;
  auto log_mel = FeatureExtractor::Create(config)->Compute(std::vector<int16_t>(16000, 0));
  ASSERT_TRUE(log_mel.ok());
  for (int16_t v : *log_mel) ASSERT_EQ(v, -3537);
  // MFCC c0 = sqrt(2/40) * 40 * ln(1e-12) = -247.140 -> x 128 = -31633.8:
  // in fixed point 40 x 234469 (sqrt(2/40) in Q20) x -1810827 (the floor in
  // Q16), rounded from Q36 to Q7, is -31634; the other coefficients are
  // sums of cosines that cancel, 0 to within one step.
  auto mfcc = FeatureExtractor::Create(DefaultFrontendConfig())->Compute(std::vector<int16_t>(16000, 0));
  ASSERT_TRUE(mfcc.ok());
  for (int f = 0; f < 49; ++f) {
    EXPECT_EQ((*mfcc)[f * 40], -31634);
    for (int i = 1; i < 40; ++i) EXPECT_LE(std::abs((*mfcc)[f * 40 + i]), 1) << "frame " << f << " c" << i;
  }
}

TEST(AudioFrontend, ToneOf1000HzPeaksInMelChannel18) {
  // mel(1000 Hz) = 1127 ln(1 + 1000/700) = 999.99; the centres are
  // mel(20) + (i + 1) (mel(4000) - mel(20)) / 41 = 31.75 + 51.569 (i + 1):
  // channel 17 at 959.98, channel 18 at 1011.55, so 1000 Hz (bin 32 of 512
  // exactly) gives 0.776 of its weight to channel 18.
  FrontendConfig config = DefaultFrontendConfig();
  config.output = UNAS_FRONTEND_LOG_MEL;
  const std::vector<int16_t> tone = Sine(1000, 16384);
  auto features = FeatureExtractor::Create(config)->Compute(tone);
  ASSERT_TRUE(features.ok());
  for (int f = 0; f < 49; ++f) {
    const int16_t* frame = features->data() + f * 40;
    EXPECT_EQ(std::max_element(frame, frame + 40) - frame, 18) << "frame " << f;
  }
  EXPECT_LE(MaxDifference(config, tone), kToneTolerance);
}

TEST(AudioFrontend, WithinToleranceOfDoublePrecisionOnSpeechNoiseAndExtremes) {
  if (!testing::HaveSpeechTools()) GTEST_SKIP() << "espeak-ng or sox not installed";
  const auto clips = testing::FrontendTestClips();
  ASSERT_GE(clips.size(), 21u + 3 + 4);  // 3 words x 7 speakers, 3 noise files, 4 synthetic
  for (int output : {UNAS_FRONTEND_MFCC, UNAS_FRONTEND_LOG_MEL}) {
    FrontendConfig config = DefaultFrontendConfig();
    config.output = output;
    double worst = 0;
    for (size_t i = 0; i < clips.size(); ++i) {
      const double d = MaxDifference(config, clips[i]);
      EXPECT_LE(d, kTolerance) << "clip " << i;
      worst = std::max(worst, d);
    }
    std::cout << "[figures] " << (output == UNAS_FRONTEND_MFCC ? "mfcc" : "log-mel") << " clips " << clips.size()
              << " max |fixed - double| " << worst << "\n";
  }
}

TEST(AudioFrontend, OtherConfigsStayWithinTolerance) {
  // MLPerf Tiny's 40 ms / 20 ms windows (FFT 1024), 10 MFCC; an 8 kHz
  // front end with an odd number of mel channels (the DCT's middle term);
  // on a pure chirp.
  FrontendConfig mlperf = DefaultFrontendConfig();
  mlperf.window_samples = 640;
  mlperf.mfcc_coefficients = 10;
  FrontendConfig narrow = DefaultFrontendConfig();
  narrow.sample_rate_hz = 8000;
  narrow.clip_samples = 8000;
  narrow.window_samples = 200;
  narrow.stride_samples = 80;
  narrow.mel_channels = 31;
  narrow.mfcc_coefficients = 13;
  narrow.lower_hz = 60;
  narrow.upper_hz = 3800;
  EXPECT_EQ(unas_frontend_frames(&mlperf), 49);
  EXPECT_EQ(unas_frontend_frames(&narrow), 98);  // 1 + 7800 / 80
  std::vector<int16_t> chirp(16000);
  for (int i = 0; i < 16000; ++i) {
    chirp[i] = int16_t(std::lround(12000 * std::sin(2 * M_PI * (100.0 + 0.1 * i) * i / 16000)));
  }
  EXPECT_LE(MaxDifference(mlperf, chirp), kToneTolerance);
  EXPECT_LE(MaxDifference(narrow, std::vector<int16_t>(chirp.begin(), chirp.begin() + 8000)), kToneTolerance);
}

TEST(AudioFrontend, Int8InputIsTheQuantisedFeatures) {
  const std::vector<int16_t> tone = Sine(440, 9000);
  auto extractor = FeatureExtractor::Create(DefaultFrontendConfig());
  ASSERT_TRUE(extractor.ok());
  auto features = extractor->Compute(tone);
  ASSERT_TRUE(features.ok());
  auto quantizer = MakeInputQuantizer(1.3, -20);
  ASSERT_TRUE(quantizer.ok());
  auto expected = QuantizeFeatures(*quantizer, *features);
  ASSERT_TRUE(expected.ok());
  std::vector<uint64_t> scratch((extractor->scratch_bytes() + 7) / 8);
  const FrontendConfig config = DefaultFrontendConfig();
  ASSERT_EQ(unas_frontend_prepare(&config, reinterpret_cast<uint8_t*>(scratch.data())), 0);
  std::vector<int8_t> input(features->size());
  ASSERT_EQ(unas_frontend_features_int8(&config, &*quantizer, reinterpret_cast<uint8_t*>(scratch.data()),
                                        tone.data(), input.data()),
            0);
  EXPECT_EQ(input, *expected);
}

TEST(AudioFrontend, QuantiserRoundsHalfUpAndClamps) {
  // scale 0.5, zero point -10: q = -10 + feature / 128 / 0.5; the multiplier
  // 1/64 is 2^30 x 2^-36.
  auto q = MakeInputQuantizer(0.5, -10);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->multiplier, 1 << 30);
  EXPECT_EQ(q->shift, 36);
  auto out = QuantizeFeatures(*q, {128, -3200, 96, -96, 32767, -32768, 0});
  ASSERT_TRUE(out.ok());
  // 1.0 -> 2; -25 -> -50; 0.75 -> 1.5 -> 2; -0.75 -> -1.5 -> -1; clamps.
  EXPECT_EQ(*out, (std::vector<int8_t>{-8, -60, -8, -11, 127, -128, -10}));
  // scale 0.3: 1 / 38.4 = 0.0260416... = 1789569707 x 2^-36.
  q = MakeInputQuantizer(0.3, 0);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->multiplier, 1789569707);
  EXPECT_EQ(q->shift, 36);
  EXPECT_EQ(*QuantizeFeatures(*q, {1000, -1000, 1171}), (std::vector<int8_t>{26, -26, 30}));
  EXPECT_FALSE(MakeInputQuantizer(0, 0).ok());
  EXPECT_FALSE(MakeInputQuantizer(std::nan(""), 0).ok());
  EXPECT_NE(MakeInputQuantizer(1, 128).status().message().find("zero point 128"), std::string::npos);
  EXPECT_FALSE(MakeInputQuantizer(1e-30, 0).ok());
  const InputQuantizer bad{12, 3, 0};
  EXPECT_FALSE(QuantizeFeatures(bad, {1}).ok());
}

TEST(AudioFrontend, ScratchMustBePreparedForTheSameConfigAndAligned) {
  FrontendConfig config = DefaultFrontendConfig();
  std::vector<uint64_t> scratch(1000);
  uint8_t* bytes = reinterpret_cast<uint8_t*>(scratch.data());
  const std::vector<int16_t> pcm(16000, 0);
  std::vector<int16_t> out(49 * 40);
  EXPECT_EQ(unas_frontend_features(&config, bytes, pcm.data(), out.data()), UNAS_FRONTEND_E_UNPREPARED);
  ASSERT_EQ(unas_frontend_prepare(&config, bytes), 0);
  EXPECT_EQ(unas_frontend_features(&config, bytes, pcm.data(), out.data()), 0);
  FrontendConfig other = config;
  other.stride_samples = 160;
  EXPECT_EQ(unas_frontend_features(&other, bytes, pcm.data(), out.data()), UNAS_FRONTEND_E_UNPREPARED);
  EXPECT_EQ(unas_frontend_prepare(&config, bytes + 4), UNAS_FRONTEND_E_ALIGN);
  other.window_samples = 8;
  EXPECT_EQ(unas_frontend_prepare(&other, bytes), UNAS_FRONTEND_E_CONFIG);
  EXPECT_STREQ(unas_frontend_error_name(UNAS_FRONTEND_E_UNPREPARED), "unprepared");
}

TEST(AudioFrontend, UsesNoByteBeyondItsScratch) {
  // Guard bytes after exactly scratch_bytes stay untouched by prepare and
  // by a loud clip (the firmware tests check the same under ASan).
  for (int output : {UNAS_FRONTEND_MFCC, UNAS_FRONTEND_LOG_MEL}) {
    FrontendConfig config = DefaultFrontendConfig();
    config.output = output;
    const size_t bytes = unas_frontend_scratch_bytes(&config);
    std::vector<uint64_t> buffer(bytes / 8 + 8, 0x5a5a5a5a5a5a5a5aull);
    uint8_t* scratch = reinterpret_cast<uint8_t*>(buffer.data());
    ASSERT_EQ(unas_frontend_prepare(&config, scratch), 0);
    std::vector<int16_t> out(size_t(unas_frontend_frames(&config)) * unas_frontend_features_per_frame(&config));
    const std::vector<int16_t> loud = Sine(3000, 32767);
    ASSERT_EQ(unas_frontend_features(&config, scratch, loud.data(), out.data()), 0);
    for (size_t i = bytes; i < buffer.size() * 8; ++i) ASSERT_EQ(scratch[i], 0x5a) << "byte " << i;
  }
}

}  // namespace
}  // namespace unas::data::audio
