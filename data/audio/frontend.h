/* unas audio front end: one second of 16 kHz int16 PCM in, MFCC (or log-mel)
 * features out, in integer arithmetic only, so the worker that trains a
 * keyword model and the firmware that runs it compute the same features bit
 * for bit (x86-64 and Cortex-M alike). Plain C99: no heap, no floating
 * point, nothing from the C library but <stdint.h> and <string.h>; this
 * file and frontend.c are compiled into the worker and copied unchanged
 * beside generated firmware.
 *
 * The maths is TensorFlow's speech-commands features (audio_spectrogram
 * with magnitude_squared, then Mfcc), which μNAS trains on:
 *   1. frame f is samples [f * stride, f * stride + window) of the clip,
 *      frames = 1 + (clip - window) / stride (49 for the defaults);
 *   2. periodic Hann window w[n] = 0.5 - 0.5 cos(2 pi n / window);
 *   3. a real FFT of fft_size = the next power of two >= window (zero
 *      padded), power |X[k]|^2, magnitude |X[k]| (TensorFlow's Mfcc takes
 *      the square root of the power spectrogram before the filterbank);
 *   4. TensorFlow's mel filterbank (MfccMelFilterbank): mel(f) = 1127
 *      ln(1 + f / 700), mel_channels triangles between lower_hz and
 *      upper_hz, bins floor(1.5 + lower_hz / (rate / fft_size)) to
 *      floor(upper_hz / (rate / fft_size)), DC excluded;
 *   5. ln(max(mel energy, 1e-12)) with samples scaled to [-1, 1) (pcm /
 *      32768, as tf.audio.decode_wav does);
 *   6. MFCC: TensorFlow's DCT-II, c[i] = sqrt(2 / M) sum_j ln_mel[j]
 *      cos(pi i (j + 0.5) / M), i < mfcc_coefficients; log-mel skips it.
 * docs/keyword-spotting.md gives the fixed-point formats of every step and
 * the measured difference from a double-precision computation.
 *
 * Output: int16 features, frame-major ([frame][feature], i.e. an HWC tensor
 * of frames x features x 1), each = round(value * 2^UNAS_FRONTEND_FRAC_BITS)
 * saturated to int16. A trainer feeds feature / 128.0f.
 *
 * Working memory: a caller-given scratch buffer of
 * unas_frontend_scratch_bytes(config) bytes (8-byte aligned), also
 * UNAS_FRONTEND_SCRATCH_BYTES(...) for static sizing. unas_frontend_prepare
 * writes the configuration's tables into it (window, filterbank weights,
 * DCT cosines); the feature calls then use the rest as work space, so a
 * prepared scratch may be used for any number of clips but by one caller at
 * a time. Nothing survives in it that the caller must keep between clips
 * other than the prepared tables; a firmware that prepares before every
 * clip may overlap the scratch with other buffers (the network's arena).
 *
 * Errors are returned as negative UNAS_FRONTEND_E_* codes (0 = success);
 * unas_frontend_error_name() names them. Thread safety: no global state;
 * concurrent calls with distinct scratch buffers are safe. */
#ifndef UNAS_FRONTEND_H
#define UNAS_FRONTEND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* feature = round(value * 2^7): 1/128 per step, range +-256. */
#define UNAS_FRONTEND_FRAC_BITS 7
#define UNAS_FRONTEND_MAX_FFT 1024

enum {
  UNAS_FRONTEND_MFCC = 0,    /* DCT of the log-mel energies */
  UNAS_FRONTEND_LOG_MEL = 1  /* the log-mel energies themselves */
};

/* Every field, its default (unas_frontend_default_config) and valid range;
 * unas_frontend_check enforces them. */
typedef struct {
  int32_t sample_rate_hz;    /* 16000; 8000..48000 */
  int32_t clip_samples;      /* 16000 (1 s); window_samples..1000000 */
  int32_t window_samples;    /* 480 (30 ms); 16..UNAS_FRONTEND_MAX_FFT */
  int32_t stride_samples;    /* 320 (20 ms); 1..clip_samples */
  int32_t mel_channels;      /* 40; 1..128 */
  int32_t lower_hz;          /* 20; 0 <= lower_hz < upper_hz */
  int32_t upper_hz;          /* 4000; <= sample_rate_hz / 2 */
  int32_t output;            /* UNAS_FRONTEND_MFCC or UNAS_FRONTEND_LOG_MEL */
  int32_t mfcc_coefficients; /* 40; 1..mel_channels (MFCC only) */
} unas_frontend_config;

/* The int8 input tensor from features: q = clamp(zero_point + round(feature
 * * multiplier / 2^shift), -128, 127), rounding half up. Made on the host
 * from the tensor's float scale (q = real / scale + zero_point): multiplier
 * / 2^shift = 1 / (scale * 2^UNAS_FRONTEND_FRAC_BITS), multiplier in
 * [2^30, 2^31), shift in 1..62 (see data/audio/feature_extractor.h). */
typedef struct {
  int32_t multiplier;
  int32_t shift;
  int32_t zero_point; /* -128..127 */
} unas_frontend_quant;

#define UNAS_FRONTEND_E_CONFIG -1   /* a config field is out of range */
#define UNAS_FRONTEND_E_UNPREPARED -2 /* scratch not prepared for this config */
#define UNAS_FRONTEND_E_QUANT -3    /* quantiser fields out of range */
#define UNAS_FRONTEND_E_ALIGN -4    /* scratch not 8-byte aligned */

/* The defaults above: 49 frames x 40 MFCC from 1 s at 16 kHz. */
void unas_frontend_default_config(unas_frontend_config *config);

/* 0, or UNAS_FRONTEND_E_CONFIG with *field (if not NULL) set to the name of
 * the first field out of range ("window_samples", ...). */
int unas_frontend_check(const unas_frontend_config *config, const char **field);

/* "ok", "config", "unprepared", "quant", "align", or "unknown". */
const char *unas_frontend_error_name(int code);

/* Derived sizes of a valid config (meaningless, but safe to call, for an
 * invalid one). */
int32_t unas_frontend_fft_size(const unas_frontend_config *config);
int32_t unas_frontend_frames(const unas_frontend_config *config);
int32_t unas_frontend_features_per_frame(const unas_frontend_config *config);

/* Scratch layout, in bytes, each part rounded up to 8: a 48-byte header (the
 * prepared config and bin range),
 * the Hann window (uint32 per sample), the FFT buffer (int32 per FFT
 * point), filterbank band and weight (int16 + uint16 per bin, fft/2 + 1
 * bins), mel energies (uint64 per channel), logs (int32 per channel), DCT
 * cosines (int32, 4 per channel), one frame's features (int16 each).
 * The defaults need 6,256 bytes. */
#define UNAS_FRONTEND_ROUND8(n) ((((size_t)(n)) + 7u) / 8u * 8u)
#define UNAS_FRONTEND_SCRATCH_BYTES(window_samples, fft_size, mel_channels, features_per_frame)          \
  (48u + UNAS_FRONTEND_ROUND8(4 * (window_samples)) + UNAS_FRONTEND_ROUND8(4 * (fft_size)) +             \
   2u * UNAS_FRONTEND_ROUND8(2 * ((fft_size) / 2 + 1)) + UNAS_FRONTEND_ROUND8(8 * (mel_channels)) +      \
   UNAS_FRONTEND_ROUND8(4 * (mel_channels)) + UNAS_FRONTEND_ROUND8(16 * (mel_channels)) +                 \
   UNAS_FRONTEND_ROUND8(2 * (features_per_frame)))
size_t unas_frontend_scratch_bytes(const unas_frontend_config *config); /* 0 for an invalid config */

/* Checks the config and writes its tables into `scratch` (8-byte aligned,
 * unas_frontend_scratch_bytes long). 0, UNAS_FRONTEND_E_CONFIG or
 * UNAS_FRONTEND_E_ALIGN. */
int unas_frontend_prepare(const unas_frontend_config *config, uint8_t *scratch);

/* Features of one clip of config->clip_samples samples into `features`
 * (frames x features_per_frame int16). 0, or UNAS_FRONTEND_E_UNPREPARED
 * when `scratch` was not prepared with an equal config. */
int unas_frontend_features(const unas_frontend_config *config, uint8_t *scratch, const int16_t *pcm,
                           int16_t *features);

/* The same features quantised straight into the network's int8 input
 * (frames x features_per_frame bytes), one frame at a time, so no int16
 * feature map is stored. 0, UNAS_FRONTEND_E_UNPREPARED or
 * UNAS_FRONTEND_E_QUANT. */
int unas_frontend_features_int8(const unas_frontend_config *config, const unas_frontend_quant *quant,
                                uint8_t *scratch, const int16_t *pcm, int8_t *input);

/* The quantiser alone on `count` features (what the int8 evaluation of a
 * trained model applies to the trainer's features). 0 or
 * UNAS_FRONTEND_E_QUANT. */
int unas_frontend_quantize(const unas_frontend_quant *quant, const int16_t *features, int32_t count, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* UNAS_FRONTEND_H */
