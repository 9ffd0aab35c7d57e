/* unas audio front end (see frontend.h for the contract and the maths).
 *
 * Fixed-point formats, step by step (docs/keyword-spotting.md has the
 * bounds that make each step overflow-free):
 *   window   periodic Hann w[n] in Q30 (uint32), computed once by
 *            unas_frontend_prepare from a Taylor series (error ~1e-9);
 *   frame    block floating point: v[n] = pcm[n] * w[n] (exact, < 2^45),
 *            scaled by 2^-shift so that sum |v| / 2^shift is in
 *            [2^29, 2^30): the largest int32 FFT input that cannot
 *            overflow, whatever the frame's loudness; an all-zero frame
 *            skips the FFT (every mel energy 0);
 *   FFT      fft_size real points as fft_size / 2 complex int32 points,
 *            radix-2 decimation in time, twiddles Q30 from a quarter-wave
 *            sine table, each product rounded half up (W = 1 and W = -i
 *            exactly, without multiplying); no scaling between stages;
 *            the real spectrum is recovered as 2X[k] in int64;
 *   magnitude sqrt(|2X[k]|^2) in Q6 with 16 significant bits;
 *   mel      magnitude * Q15 weight summed in uint64: mel_int = mel energy
 *            * 2^(67 - shift) (2^6 magnitude, 2^15 weight, 2^1 from 2X,
 *            2^30 window, 2^15 pcm / 32768);
 *   log      ln(mel energy) in Q16 from log2 (64-segment table, linear
 *            interpolation, error below 5e-5), floored at ln(1e-12);
 *   DCT      cosines * sqrt(2 / M) in Q20, sums in int64 (Q36), folded
 *            on the cosine's symmetry; output rounded to Q7.
 * No signed overflow can occur (the bounds above), no floating point is
 * used, and the one implementation-defined operation (>> of a negative
 * number) is checked at compile time, so host and Cortex-M agree bit for
 * bit. */
#include "frontend.h"

#include <string.h>

/* sin(pi / 2 * i / 256) * 2^30, rounded: a quarter of a turn in 256 steps.
 * Generated with Python: round(math.sin(math.pi / 2 * i / 256) * 2**30). */
static const int32_t kSinQ30[257] = {
    0, 6588356, 13176464, 19764076, 26350943, 32936819, 39521455, 46104602,
    52686014, 59265442, 65842639, 72417357, 78989349, 85558366, 92124163, 98686491,
    105245103, 111799753, 118350194, 124896179, 131437462, 137973796, 144504935, 151030634,
    157550647, 164064728, 170572633, 177074115, 183568930, 190056834, 196537583, 203010932,
    209476638, 215934457, 222384147, 228825464, 235258165, 241682010, 248096755, 254502159,
    260897982, 267283981, 273659918, 280025552, 286380643, 292724951, 299058239, 305380268,
    311690799, 317989595, 324276419, 330551034, 336813204, 343062693, 349299266, 355522689,
    361732726, 367929144, 374111709, 380280190, 386434353, 392573967, 398698801, 404808624,
    410903207, 416982319, 423045732, 429093217, 435124548, 441139496, 447137835, 453119340,
    459083786, 465030947, 470960600, 476872522, 482766489, 488642281, 494499676, 500338453,
    506158392, 511959275, 517740883, 523502998, 529245404, 534967884, 540670223, 546352205,
    552013618, 557654248, 563273883, 568872310, 574449320, 580004702, 585538248, 591049748,
    596538995, 602005783, 607449906, 612871159, 618269338, 623644239, 628995660, 634323400,
    639627258, 644907034, 650162530, 655393548, 660599890, 665781362, 670937767, 676068911,
    681174602, 686254647, 691308855, 696337036, 701339000, 706314559, 711263525, 716185713,
    721080937, 725949013, 730789757, 735602987, 740388522, 745146182, 749875788, 754577161,
    759250125, 763894504, 768510122, 773096806, 777654384, 782182683, 786681534, 791150767,
    795590213, 799999706, 804379079, 808728167, 813046808, 817334838, 821592095, 825818421,
    830013654, 834177638, 838310216, 842411232, 846480531, 850517961, 854523370, 858496606,
    862437520, 866345964, 870221790, 874064853, 877875009, 881652112, 885396022, 889106597,
    892783698, 896427186, 900036924, 903612776, 907154608, 910662286, 914135678, 917574653,
    920979082, 924348837, 927683790, 930983817, 934248793, 937478595, 940673101, 943832191,
    946955747, 950043650, 953095785, 956112036, 959092290, 962036435, 964944360, 967815955,
    970651112, 973449725, 976211688, 978936898, 981625251, 984276646, 986890984, 989468165,
    992008094, 994510675, 996975812, 999403415, 1001793390, 1004145648, 1006460100, 1008736660,
    1010975242, 1013175761, 1015338134, 1017462281, 1019548121, 1021595575, 1023604567, 1025575020,
    1027506862, 1029400018, 1031254418, 1033069992, 1034846671, 1036584389, 1038283080, 1039942680,
    1041563127, 1043144360, 1044686319, 1046188946, 1047652185, 1049075980, 1050460278, 1051805027,
    1053110176, 1054375676, 1055601479, 1056787540, 1057933813, 1059040255, 1060106826, 1061133483,
    1062120190, 1063066909, 1063973603, 1064840240, 1065666786, 1066453210, 1067199483, 1067905576,
    1068571464, 1069197120, 1069782521, 1070327646, 1070832474, 1071296985, 1071721163, 1072104991,
    1072448455, 1072751542, 1073014240, 1073236540, 1073418433, 1073559913, 1073660973, 1073721611,
    1073741824,
};

/* log2(1 + i / 64) * 2^30, rounded: round(math.log2(1 + i / 64) * 2**30). */
static const int32_t kLog2Q30[65] = {
    0, 24017256, 47667823, 70962728, 93912511, 116527248,
    138816582, 160789745, 182455581, 203822568, 224898839, 245692198,
    266210141, 286459867, 306448299, 326182095, 345667660, 364911162,
    383918542, 402695523, 421247625, 439580170, 457698295, 475606957,
    493310944, 510814882, 528123241, 545240343, 562170370, 578917365,
    595485245, 611877800, 628098702, 644151509, 660039669, 675766525,
    691335320, 706749198, 722011213, 737124328, 752091421, 766915285,
    781598637, 796144114, 810554283, 824831638, 838978604, 852997541,
    866890747, 880660455, 894308843, 907838029, 921250079, 934547002,
    947730758, 960803257, 973766362, 986621888, 999371606, 1012017244,
    1024560487, 1037002979, 1049346328, 1061592099, 1073741824,
};

#define LN2_Q24 11629080          /* ln 2 * 2^24 */
#define LOG_FLOOR_Q16 (-1810827)  /* ln(1e-12) * 2^16: TensorFlow's filterbank floor */
#define MEL_EXPONENT 67           /* mel energy = mel_int * 2^(frame shift - 67) */
#define SUM_BITS 29               /* a frame's sum of |windowed sample| is scaled below 2^30 */
#define PREPARED_MAGIC 0x756E4146u

/* Scratch header: written by unas_frontend_prepare. */
typedef struct {
  uint32_t magic;
  int32_t start_bin, end_bin;
  unas_frontend_config config;
} header_t;

typedef char header_fits[sizeof(header_t) <= 48 ? 1 : -1];

/* ---- integer helpers -------------------------------------------------- */

/* The hot helpers are forced inline where the compiler allows (-Os would
 * otherwise call them per butterfly), and each stage of a frame is a
 * function of its own (inlined into one, they spill registers). */
#if defined(__GNUC__)
#define HOT static inline __attribute__((always_inline))
#define STAGE static __attribute__((noinline))
#else
#define HOT static inline
#define STAGE static
#endif

/* C99 leaves the right shift of a negative number to the implementation;
 * every compiler for x86-64 and Cortex-M shifts arithmetically (floor), and
 * these declarations refuse to compile where that is not so, rather than
 * give other features there. */
typedef char arithmetic_shift_int64[((int64_t)-3 >> 1) == -2 ? 1 : -1];
typedef char arithmetic_shift_int32[((int32_t)-3 >> 1) == -2 ? 1 : -1];

/* x * 2^-s rounded half up, 1 <= s < 63. */
HOT int64_t shr_round64(int64_t x, int s) { return (x + ((int64_t)1 << (s - 1))) >> s; }

/* Index of the highest set bit of x > 0. */
HOT int msb32(uint32_t x) {
#if defined(__GNUC__)
  return 31 - __builtin_clz(x);
#else
  int n = 0;
  if (x >> 16) { x >>= 16; n += 16; }
  if (x >> 8) { x >>= 8; n += 8; }
  if (x >> 4) { x >>= 4; n += 4; }
  if (x >> 2) { x >>= 2; n += 2; }
  return n + (int)(x >> 1);
#endif
}

HOT int msb64(uint64_t x) {
  return (x >> 32) ? 32 + msb32((uint32_t)(x >> 32)) : msb32((uint32_t)x);
}

/* ceil(sqrt((i + 1) * 2^27)) for i = 8..31: an over-estimate of sqrt(y)
 * for y in [i * 2^27, (i + 1) * 2^27), at most 6 % high. */
static const uint16_t kSqrtStart[32] = {
    0, 0, 0, 0, 0, 0, 0, 0,
    34756, 36636, 38424, 40133, 41772, 43348, 44870, 46341,
    47768, 49152, 50499, 51811, 53091, 54340, 55561, 56756,
    57927, 59074, 60199, 61304, 62389, 63455, 64504, 65535,
};

/* floor(sqrt(y)) for y in [2^30, 2^32): Newton's iteration from an
 * over-estimate decreases strictly until it reaches the floor (about three
 * steps from kSqrtStart), so the loop ends. */
HOT uint32_t isqrt32(uint32_t y) {
  uint32_t r = kSqrtStart[y >> 27], next;
  for (;;) {
    next = (r + y / r) >> 1;
    if (next >= r) return r;
    r = next;
  }
}

/* floor(sqrt(y)) for 64-bit y, digit by digit (prepare only). */
static uint64_t isqrt64(uint64_t y) {
  uint64_t r = 0, bit = (uint64_t)1 << 62;
  while (bit > y) bit >>= 2;
  while (bit != 0) {
    if (y >= r + bit) {
      y -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
    bit >>= 2;
  }
  return r;
}

/* sin(2 pi i / 1024) in Q30, 0 <= i <= 1024: a table entry, no rounding. */
HOT int32_t sin_index(uint32_t i) {
  const uint32_t j = i & 255u;
  switch ((i >> 8) & 3u) {
    case 0: return kSinQ30[j];
    case 1: return kSinQ30[256 - j];
    case 2: return -kSinQ30[j];
    default: return -kSinQ30[256 - j];
  }
}

#define PI_2_Q30 1686629713 /* pi / 2 * 2^30 */
#define PI_4_Q30 843314857  /* pi / 4 * 2^30 */

/* sin x and cos x in Q30 for 0 <= x <= pi / 4 (Q30 radians), by their
 * Taylor series to x^13 / 13! (smaller than 2^-31 there); each term is
 * rounded, so the error is a few units of 2^-30. Prepare only. */
static int32_t taylor(int32_t x, int sine) {
  const int64_t x2 = shr_round64((int64_t)x * x, 30);
  int32_t term = sine ? x : (int32_t)1 << 30, sum = term, k;
  for (k = sine ? 2 : 1; k <= 13; k += 2) {
    /* term * -x^2 / ((k)(k + 1)) for cosine, / ((k)(k + 1)) from k = 2 for sine */
    term = -(int32_t)shr_round64(term * x2, 30) / (k * (k + 1));
    sum += term;
  }
  return sum;
}

/* sin(2 pi num / den) in Q30, 0 < den <= 65536: reduced to a quadrant and
 * to [0, pi / 4], then taylor(); error about 1e-9 absolute, so the window
 * and the DCT carry no table-interpolation error (a window error of 1e-6
 * would show as leakage 120 dB down, above what 16-bit input holds). */
static int32_t sin_fraction(uint32_t num, uint32_t den) {
  const uint32_t quarter = (num % den) * 4u / den, rest = (num % den) * 4u % den; /* rest in [0, den) */
  /* rest / den in Q32 by two 32-bit divisions, then y = pi / 2 * that */
  const uint32_t high = (rest << 16) / den, low = (((rest << 16) % den) << 16) / den;
  const int32_t y = (int32_t)(((uint64_t)PI_2_Q30 * ((high << 16) | low) + ((uint64_t)1 << 31)) >> 32);
  const int want_cos = quarter % 2; /* sin of quarters 0 and 2, cos of 1 and 3 (of y) */
  const int32_t v = y <= PI_4_Q30 ? taylor(y, !want_cos) : taylor(PI_2_Q30 - y, want_cos);
  return quarter < 2 ? v : -v;
}

/* log2(x) in Q24 for x >= 1, by repeated squaring of the normalised
 * mantissa (24 fraction bits, error about 2^-22). Prepare only. */
static int32_t log2_q24(uint32_t x) {
  const int k = msb32(x);
  uint64_t m = ((uint64_t)x << 30) >> k; /* Q30, [1, 2) */
  int32_t r = (int32_t)k * (1 << 24);
  int b;
  for (b = 23; b >= 0; --b) {
    m = (m * m) >> 30;
    if (m >= ((uint64_t)2 << 30)) {
      m >>= 1;
      r += (int32_t)1 << b;
    }
  }
  return r;
}

/* ln(max(mel_int * 2^(shift - MEL_EXPONENT), 1e-12)) in Q16. log2 of the
 * mantissa from kLog2Q30 with linear interpolation (error below 5e-5). */
static int32_t ln_mel_q16(uint64_t mel_int, int shift) {
  int k;
  uint32_t top, f, seg, pos;
  int64_t frac_q30, l_q24;
  if (mel_int == 0) return LOG_FLOOR_Q16;
  k = msb64(mel_int);
  top = (uint32_t)((mel_int << (63 - k)) >> 32); /* [2^31, 2^32) */
  f = top - 0x80000000u;                          /* mantissa - 1, Q31 */
  seg = f >> 25;
  pos = f & 0x1FFFFFFu;
  frac_q30 = (int64_t)kLog2Q30[seg] + (((int64_t)(kLog2Q30[seg + 1] - kLog2Q30[seg]) * (int64_t)pos) >> 25);
  l_q24 = (int64_t)(k + shift - MEL_EXPONENT) * ((int64_t)1 << 24) + (frac_q30 >> 6);
  l_q24 = shr_round64(l_q24 * LN2_Q24, 32);
  return l_q24 < LOG_FLOOR_Q16 ? LOG_FLOOR_Q16 : (int32_t)l_q24;
}

static int16_t saturate16(int64_t v) {
  if (v > 32767) return 32767;
  if (v < -32768) return -32768;
  return (int16_t)v;
}

/* sqrt(power) * 2^6, rounded, for power < 2^63: the power is brought into
 * [2^30, 2^32) by an even shift, so the square root has 16 significant
 * bits (relative error below 2^-15) whatever the magnitude. */
static uint64_t magnitude_q6(uint64_t power) {
  int t, d, up;
  uint32_t r;
  if (power == 0) return 0;
  t = msb64(power) - 30;
  d = t >= 0 ? t - t % 2 : -((1 - t) / 2 * 2); /* t rounded down to even */
  r = isqrt32((uint32_t)(d >= 0 ? power >> d : power << -d));
  up = d / 2 + 6; /* sqrt(power) * 2^6 = r * 2^(d / 2 + 6) */
  return up >= 0 ? (uint64_t)r << up : (uint64_t)shr_round64(r, -up);
}

/* ---- scratch layout ---------------------------------------------------- */

typedef struct {
  header_t *header;
  uint32_t *window;
  int32_t *fft;
  int16_t *band;
  uint16_t *weight;
  uint64_t *mel;
  int32_t *log;
  int32_t *dct;
  int16_t *frame;
} layout_t;

static layout_t layout(const unas_frontend_config *c, uint8_t *scratch) {
  const int32_t n = unas_frontend_fft_size(c);
  layout_t l;
  size_t at = 48;
  l.header = (header_t *)(void *)scratch;
  l.window = (uint32_t *)(void *)(scratch + at);
  at += UNAS_FRONTEND_ROUND8(4 * c->window_samples);
  l.fft = (int32_t *)(void *)(scratch + at);
  at += UNAS_FRONTEND_ROUND8(4 * n);
  l.band = (int16_t *)(void *)(scratch + at);
  at += UNAS_FRONTEND_ROUND8(2 * (n / 2 + 1));
  l.weight = (uint16_t *)(void *)(scratch + at);
  at += UNAS_FRONTEND_ROUND8(2 * (n / 2 + 1));
  l.mel = (uint64_t *)(void *)(scratch + at);
  at += UNAS_FRONTEND_ROUND8(8 * c->mel_channels);
  l.log = (int32_t *)(void *)(scratch + at);
  at += UNAS_FRONTEND_ROUND8(4 * c->mel_channels);
  l.dct = (int32_t *)(void *)(scratch + at);
  at += UNAS_FRONTEND_ROUND8(16 * c->mel_channels);
  l.frame = (int16_t *)(void *)(scratch + at);
  return l;
}

/* ---- config ------------------------------------------------------------ */

void unas_frontend_default_config(unas_frontend_config *c) {
  c->sample_rate_hz = 16000;
  c->clip_samples = 16000;
  c->window_samples = 480;
  c->stride_samples = 320;
  c->mel_channels = 40;
  c->lower_hz = 20;
  c->upper_hz = 4000;
  c->output = UNAS_FRONTEND_MFCC;
  c->mfcc_coefficients = 40;
}

int unas_frontend_check(const unas_frontend_config *c, const char **field) {
  const char *bad = 0;
  if (c->sample_rate_hz < 8000 || c->sample_rate_hz > 48000) {
    bad = "sample_rate_hz";
  } else if (c->window_samples < 16 || c->window_samples > UNAS_FRONTEND_MAX_FFT) {
    bad = "window_samples";
  } else if (c->clip_samples < c->window_samples || c->clip_samples > 1000000) {
    bad = "clip_samples";
  } else if (c->stride_samples < 1 || c->stride_samples > c->clip_samples) {
    bad = "stride_samples";
  } else if (c->mel_channels < 1 || c->mel_channels > 128) {
    bad = "mel_channels";
  } else if (c->lower_hz < 0 || c->lower_hz >= c->upper_hz) {
    bad = "lower_hz";
  } else if (c->upper_hz > c->sample_rate_hz / 2) {
    bad = "upper_hz";
  } else if (c->output != UNAS_FRONTEND_MFCC && c->output != UNAS_FRONTEND_LOG_MEL) {
    bad = "output";
  } else if (c->output == UNAS_FRONTEND_MFCC &&
             (c->mfcc_coefficients < 1 || c->mfcc_coefficients > c->mel_channels)) {
    bad = "mfcc_coefficients";
  }
  if (field) *field = bad;
  return bad ? UNAS_FRONTEND_E_CONFIG : 0;
}

const char *unas_frontend_error_name(int code) {
  switch (code) {
    case 0: return "ok";
    case UNAS_FRONTEND_E_CONFIG: return "config";
    case UNAS_FRONTEND_E_UNPREPARED: return "unprepared";
    case UNAS_FRONTEND_E_QUANT: return "quant";
    case UNAS_FRONTEND_E_ALIGN: return "align";
    default: return "unknown";
  }
}

int32_t unas_frontend_fft_size(const unas_frontend_config *c) {
  int32_t n = 1;
  while (n < c->window_samples && n <= UNAS_FRONTEND_MAX_FFT) n *= 2;
  return n;
}

int32_t unas_frontend_frames(const unas_frontend_config *c) {
  if (c->stride_samples < 1 || c->clip_samples < c->window_samples) return 0;
  return 1 + (c->clip_samples - c->window_samples) / c->stride_samples;
}

int32_t unas_frontend_features_per_frame(const unas_frontend_config *c) {
  return c->output == UNAS_FRONTEND_MFCC ? c->mfcc_coefficients : c->mel_channels;
}

size_t unas_frontend_scratch_bytes(const unas_frontend_config *c) {
  if (unas_frontend_check(c, 0) != 0) return 0;
  return UNAS_FRONTEND_SCRATCH_BYTES(c->window_samples, unas_frontend_fft_size(c), c->mel_channels,
                                     unas_frontend_features_per_frame(c));
}

/* ---- prepare ----------------------------------------------------------- */

/* Centre i (0..M) of TensorFlow's filterbank on the log2 scale (Q24):
 * mel_low + span * (i + 1) / (M + 1), in 32-bit arithmetic. */
static int32_t mel_centre(int32_t mel_low, int32_t span, int32_t m, int32_t i) {
  const int32_t q = span / (m + 1), r = span % (m + 1);
  return mel_low + q * (i + 1) + r * (i + 1) / (m + 1);
}

/* round(num / den * 2^15) for 0 <= num <= den, den > 0, in 32-bit
 * arithmetic (restoring division, 16 quotient bits). */
static uint16_t weight_q15(uint32_t num, uint32_t den) {
  uint32_t q = 0, r = num;
  int b;
  if (r >= den) return 32768;
  for (b = 0; b < 16; ++b) {
    r <<= 1;
    q <<= 1;
    if (r >= den) {
      r -= den;
      q |= 1u;
    }
  }
  return (uint16_t)((q + 1u) >> 1);
}

int unas_frontend_prepare(const unas_frontend_config *c, uint8_t *scratch) {
  layout_t l;
  int32_t n, half, m, k, i, start, end, mel_low, span, channel;
  uint32_t fnorm_q20;
  if (((uintptr_t)scratch & 7u) != 0) return UNAS_FRONTEND_E_ALIGN;
  if (unas_frontend_check(c, 0) != 0) return UNAS_FRONTEND_E_CONFIG;
  l = layout(c, scratch);
  n = unas_frontend_fft_size(c);
  half = n / 2;
  m = c->mel_channels;

  /* Periodic Hann, (1 - cos(2 pi i / W)) / 2 = sin(pi i / W)^2, in Q30
   * (the sine form keeps the small values at the edges accurate). */
  for (i = 0; i < c->window_samples; ++i) {
    const int64_t sine = sin_fraction((uint32_t)i, 2u * (uint32_t)c->window_samples);
    l.window[i] = (uint32_t)shr_round64(sine * sine, 30);
  }

  /* TensorFlow's MfccMelFilterbank on the log2(700 + f) scale (mel is
   * 1127 ln(1 + f / 700); the weights are ratios of mel differences, so
   * the constant factor and offset cancel). Bin k is k * rate / n Hz. */
  start = (3 * c->sample_rate_hz + 2 * c->lower_hz * n) / (2 * c->sample_rate_hz);
  end = c->upper_hz * n / c->sample_rate_hz;
  mel_low = log2_q24((uint32_t)(700 + c->lower_hz) * (uint32_t)n);
  span = log2_q24((uint32_t)(700 + c->upper_hz) * (uint32_t)n) - mel_low;
  channel = 0;
  for (k = 0; k <= half; ++k) {
    int32_t mel_k, band, upper, lower;
    l.band[k] = -2;
    l.weight[k] = 0;
    if (k < start || k > end) continue;
    mel_k = log2_q24((uint32_t)700 * (uint32_t)n + (uint32_t)k * (uint32_t)c->sample_rate_hz);
    while (channel < m && mel_centre(mel_low, span, m, channel) < mel_k) ++channel;
    band = channel - 1;
    upper = mel_centre(mel_low, span, m, band + 1);
    lower = band >= 0 ? mel_centre(mel_low, span, m, band) : mel_low;
    l.band[k] = (int16_t)band;
    l.weight[k] = upper > lower && upper >= mel_k
                      ? weight_q15((uint32_t)(upper - mel_k), (uint32_t)(upper - lower))
                      : 0;
  }

  /* DCT-II cosines times sqrt(2 / M): entry t is cos(2 pi t / 4M), since
   * cos(pi i (j + 0.5) / M) = cos(2 pi i (2j + 1) / 4M). */
  fnorm_q20 = ((uint32_t)isqrt64((uint64_t)(2 * m) << 40) + (uint32_t)(m / 2)) / (uint32_t)m;
  for (i = 0; i < 4 * m; ++i) {
    const int32_t cosine = sin_fraction((uint32_t)(i + m), (uint32_t)(4 * m));
    l.dct[i] = (int32_t)shr_round64((int64_t)cosine * (int64_t)fnorm_q20, 30);
  }

  l.header->magic = PREPARED_MAGIC;
  l.header->start_bin = start;
  l.header->end_bin = end;
  memcpy(&l.header->config, c, sizeof *c);
  return 0;
}

/* ---- features ---------------------------------------------------------- */

static int prepared(const unas_frontend_config *c, const uint8_t *scratch) {
  const header_t *h = (const header_t *)(const void *)scratch;
  if (((uintptr_t)scratch & 7u) != 0) return 0;
  return h->magic == PREPARED_MAGIC && memcmp(&h->config, c, sizeof *c) == 0;
}

/* The frame's windowed samples scaled by 2^-shift, as n / 2 complex
 * points (even samples real, odd imaginary, zero padded), in bit-reversed
 * order for the FFT. Returns the shift, or NO_SIGNAL for an all-zero frame.
 *
 * Block floating point: the windowed samples pcm * w (Q30, each below
 * 2^45) are scaled so that the sum of their magnitudes is in [2^29, 2^30).
 * That sum bounds every FFT value (the rounding adds at most window / 2,
 * and each stage at most 1 per value: far below 2^31), so nothing
 * overflows int32, and every frame, loud or quiet, keeps as many
 * significant bits as int32 allows; the shift comes back as a term of the
 * logarithm. */
#define NO_SIGNAL 1000
STAGE int window_frame(const int16_t *restrict pcm, const uint32_t *restrict window, int32_t window_samples,
                        int32_t n, int32_t *restrict z) {
  const int32_t points = n / 2;
  uint64_t total = 0;
  int32_t i, j;
  int shift;
  for (i = 0; i < window_samples; ++i) {
    const int64_t v = (int64_t)pcm[i] * (int32_t)window[i];
    total += (uint64_t)(v < 0 ? -v : v);
  }
  if (total == 0) return NO_SIGNAL;
  shift = msb64(total) - SUM_BITS;
  if (shift > 0) {
    const int64_t half = (int64_t)1 << (shift - 1);
    for (i = 0; i < window_samples; ++i) z[i] = (int32_t)(((int64_t)pcm[i] * (int32_t)window[i] + half) >> shift);
  } else {
    const int64_t scale = (int64_t)1 << -shift; /* a multiplication: << of a negative number is undefined */
    for (i = 0; i < window_samples; ++i) z[i] = (int32_t)((int64_t)pcm[i] * (int32_t)window[i] * scale);
  }
  for (i = window_samples; i < n; ++i) z[i] = 0;
  /* Bit-reversed order: j is i with its bits reversed, counted in step. */
  for (i = 0, j = 0; i < points - 1; ++i) {
    int32_t bit = points / 2;
    if (i < j) {
      const int32_t re = z[2 * i], im = z[2 * i + 1];
      z[2 * i] = z[2 * j];
      z[2 * i + 1] = z[2 * j + 1];
      z[2 * j] = re;
      z[2 * j + 1] = im;
    }
    while (bit >= 1 && (j & bit)) {
      j ^= bit;
      bit /= 2;
    }
    j |= bit;
  }
  return shift;
}

/* In-place radix-2 decimation-in-time FFT of `points` complex int32 values
 * (re, im interleaved), input already in bit-reversed order. */
STAGE void complex_fft(int32_t *restrict z, int32_t points) {
  int32_t len, j, k;
  for (len = 2; len <= points; len *= 2) {
    const int32_t half = len / 2;
    const uint32_t step = (uint32_t)(1024 / len);
    for (j = 0; j < half; ++j) {
      /* W = exp(-2 pi i j / len) = cos - i sin */
      const int32_t wr = sin_index((uint32_t)j * step + 256u);
      const int32_t wi = -sin_index((uint32_t)j * step);
      if (j == 0 || 2 * j == half) {
        /* W = 1 or -i: the general product below rounds to exactly b or
         * -i b (the twiddle is 2^30 or -2^30 i), so skip the multiplies. */
        const int minus_i = j != 0;
        for (k = j; k < points; k += len) {
          int32_t *restrict a = z + 2 * k, *restrict b = z + 2 * (k + half);
          const int32_t ar = a[0], ai = a[1];
          const int32_t tr = minus_i ? b[1] : b[0], ti = minus_i ? -b[0] : b[1];
          b[0] = ar - tr;
          b[1] = ai - ti;
          a[0] = ar + tr;
          a[1] = ai + ti;
        }
        continue;
      }
      {
        const int32_t minus_wi = -wi;
        int32_t *restrict a = z + 2 * j;
        int32_t *const last = z + 2 * points;
        for (; a < last; a += 2 * len) {
          int32_t *restrict b = a + 2 * half;
          const int32_t br = b[0], bi = b[1];
          /* (b * W + 2^29) >> 30, the rounding constant as the accumulator's start */
          const int32_t tr = (int32_t)(((int64_t)(1 << 29) + (int64_t)br * wr + (int64_t)bi * minus_wi) >> 30);
          const int32_t ti = (int32_t)(((int64_t)(1 << 29) + (int64_t)br * wi + (int64_t)bi * wr) >> 30);
          int32_t x = a[0];
          a[0] = x + tr;
          b[0] = x - tr;
          x = a[1];
          a[1] = x + ti;
          b[1] = x - ti;
        }
      }
    }
  }
}

/* The real spectrum's magnitudes at bins [start, end] into the filterbank:
 * 2X[k] = (Z[k] + conj Z[-k]) - i W^k (Z[k] - conj Z[-k]), W = exp(-2 pi i / n). */
STAGE void spectrum_to_mel(const int32_t *restrict z, int32_t n, int32_t start, int32_t end,
                            const int16_t *restrict band, const uint16_t *restrict weight, int32_t m,
                            uint64_t *restrict mel) {
  const int32_t points = n / 2;
  const uint32_t step = (uint32_t)(1024 / n);
  int32_t k;
  for (k = start; k <= end; ++k) {
    const int32_t kk = k == points ? 0 : k, mk = kk == 0 ? 0 : points - kk;
    const int32_t ar = z[2 * kk], ai = z[2 * kk + 1], br = z[2 * mk], bi = -z[2 * mk + 1];
    const int32_t cs = sin_index((uint32_t)k * step + 256u), sn = sin_index((uint32_t)k * step);
    /* cos * D_im - sin * D_re and cos * D_re + sin * D_im with D = A - B,
     * expanded so that every product is 32 x 32 bits (exactly the same sums) */
    const int64_t p =
        ((int64_t)(1 << 29) + (int64_t)cs * ai - (int64_t)cs * bi - (int64_t)sn * ar + (int64_t)sn * br) >> 30;
    const int64_t q =
        ((int64_t)(1 << 29) + (int64_t)cs * ar - (int64_t)cs * br + (int64_t)sn * ai - (int64_t)sn * bi) >> 30;
    const int64_t xr = (int64_t)ar + br + p, xi = (int64_t)ai + bi - q;
    const uint32_t abs_r = (uint32_t)(xr < 0 ? -xr : xr), abs_i = (uint32_t)(xi < 0 ? -xi : xi); /* < 2^32 */
    const uint64_t magnitude = magnitude_q6((uint64_t)abs_r * abs_r + (uint64_t)abs_i * abs_i);
    const uint64_t weighted = magnitude * weight[k];
    const int32_t b = band[k];
    if (b >= 0) mel[b] += weighted;
    if (b + 1 < m) mel[b + 1] += magnitude * 32768u - weighted;
  }
}

/* MFCC c[i] = sum_j C[i (2j + 1) mod 4M] log[j] (C = dct, cos(2 pi t / 4M)
 * sqrt(2 / M) in Q20), folded: the terms j and M - 1 - j have cosines of
 * angles pi i - theta and theta, so c[i] sums C times log[j] + log[M-1-j]
 * for even i and log[j] - log[M-1-j] for odd i over j < M / 2 (plus the
 * middle term for odd M), half the multiplies. `log` is overwritten. */
STAGE void dct_features(const int32_t *restrict dct, int32_t *restrict log, int32_t m, int32_t count,
                        int16_t *restrict frame) {
  const int32_t wrap = 4 * m, pairs = m / 2;
  int32_t i, j;
  for (j = 0; j < pairs; ++j) {
    const int32_t a = log[j], b = log[m - 1 - j];
    log[j] = a + b;         /* used by even coefficients */
    log[m - 1 - j] = a - b; /* used by odd ones, read at index m - 1 - j */
  }
  for (i = 0; i < count; ++i) {
    const int32_t step = (2 * i) % wrap;
    int64_t acc = 0;
    int32_t t = i;
    if (i % 2 == 0) {
      for (j = 0; j < pairs; ++j) {
        acc += (int64_t)dct[t] * log[j];
        t += step;
        if (t >= wrap) t -= wrap;
      }
    } else {
      for (j = 0; j < pairs; ++j) {
        acc += (int64_t)dct[t] * log[m - 1 - j];
        t += step;
        if (t >= wrap) t -= wrap;
      }
    }
    if (m % 2 != 0) acc += (int64_t)dct[i * m % wrap] * log[pairs]; /* the middle term, j = (m - 1) / 2 */
    frame[i] = saturate16(shr_round64(acc, 36 - UNAS_FRONTEND_FRAC_BITS));
  }
}

/* One frame's features (int16) into l->frame. */
static void frame_features(const unas_frontend_config *c, const layout_t *l, const int16_t *pcm) {
  const int32_t n = unas_frontend_fft_size(c), m = c->mel_channels;
  int32_t *restrict log = l->log;
  int16_t *restrict frame = l->frame;
  uint64_t *restrict mel = l->mel;
  int32_t i;
  int shift = window_frame(pcm, l->window, c->window_samples, n, l->fft);

  for (i = 0; i < m; ++i) mel[i] = 0;
  if (shift != NO_SIGNAL) {
    complex_fft(l->fft, n / 2);
    spectrum_to_mel(l->fft, n, l->header->start_bin, l->header->end_bin, l->band, l->weight, m, mel);
  } else {
    shift = 0;
  }
  for (i = 0; i < m; ++i) log[i] = ln_mel_q16(mel[i], shift);
  if (c->output == UNAS_FRONTEND_LOG_MEL) {
    for (i = 0; i < m; ++i) frame[i] = saturate16(shr_round64(log[i], 16 - UNAS_FRONTEND_FRAC_BITS));
    return;
  }
  dct_features(l->dct, log, m, c->mfcc_coefficients, frame);
}

static int quant_ok(const unas_frontend_quant *q) {
  return q->multiplier >= (1 << 30) && q->shift >= 1 && q->shift <= 62 && q->zero_point >= -128 &&
         q->zero_point <= 127;
}

static int8_t quantize_one(const unas_frontend_quant *q, int16_t feature) {
  const int64_t v = shr_round64((int64_t)feature * q->multiplier, q->shift) + q->zero_point;
  if (v > 127) return 127;
  if (v < -128) return -128;
  return (int8_t)v;
}

int unas_frontend_features(const unas_frontend_config *c, uint8_t *scratch, const int16_t *pcm,
                           int16_t *features) {
  layout_t l;
  int32_t f, frames, per_frame;
  if (!prepared(c, scratch)) return UNAS_FRONTEND_E_UNPREPARED;
  l = layout(c, scratch);
  frames = unas_frontend_frames(c);
  per_frame = unas_frontend_features_per_frame(c);
  for (f = 0; f < frames; ++f) {
    frame_features(c, &l, pcm + f * c->stride_samples);
    memcpy(features + f * per_frame, l.frame, (size_t)per_frame * sizeof(int16_t));
  }
  return 0;
}

int unas_frontend_features_int8(const unas_frontend_config *c, const unas_frontend_quant *quant,
                                uint8_t *scratch, const int16_t *pcm, int8_t *input) {
  layout_t l;
  int32_t f, i, frames, per_frame;
  if (!quant_ok(quant)) return UNAS_FRONTEND_E_QUANT;
  if (!prepared(c, scratch)) return UNAS_FRONTEND_E_UNPREPARED;
  l = layout(c, scratch);
  frames = unas_frontend_frames(c);
  per_frame = unas_frontend_features_per_frame(c);
  for (f = 0; f < frames; ++f) {
    frame_features(c, &l, pcm + f * c->stride_samples);
    for (i = 0; i < per_frame; ++i) input[f * per_frame + i] = quantize_one(quant, l.frame[i]);
  }
  return 0;
}

int unas_frontend_quantize(const unas_frontend_quant *quant, const int16_t *features, int32_t count, int8_t *out) {
  int32_t i;
  if (!quant_ok(quant)) return UNAS_FRONTEND_E_QUANT;
  for (i = 0; i < count; ++i) out[i] = quantize_one(quant, features[i]);
  return 0;
}
