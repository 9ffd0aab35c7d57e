/* Cortex-M4 instruction counts of the audio front end for one config, for
 * bench/frontend_cost_fit.sh (the fit of costmodel/frontend_cost.cc). The
 * config comes from -D flags (CFG_WINDOW, CFG_STRIDE, CFG_CLIP, CFG_MEL,
 * CFG_COEFFS, CFG_OUTPUT, CFG_LOWER, CFG_UPPER). The clip is full-scale
 * pseudo-random noise so that every frame carries sound and runs the whole
 * pipeline (an all-zero frame skips the FFT): the worst case a microphone
 * gives. Prints the SysTick ticks of unas_frontend_prepare and of
 * unas_frontend_features_int8 (the two calls unas_model_features makes) and a
 * calibration loop of 2,000,000 instructions (tests/firmware/test_main.h's
 * ticks() and spin()); under qemu -icount shift=0
 * ticks count instructions. */
#include <stdint.h>
#include <stdio.h>

#include "frontend.h"
#include "test_main.h" /* ticks() and the calibration loop spin(), as the test drivers */

#define SCRATCH UNAS_FRONTEND_SCRATCH_BYTES(CFG_WINDOW, CFG_FFT, CFG_MEL, CFG_FEATURES)
static uint8_t scratch[SCRATCH] __attribute__((aligned(8)));
static int16_t pcm[CFG_CLIP];
static int8_t input[CFG_FRAMES * CFG_FEATURES];

int main(void) {
  unas_frontend_config config;
  unas_frontend_quant quant = {1717986918, 38, 60}; /* about 1 / (1.25 x 128) */
  uint32_t state = 12345u;
  uint64_t t0, t1, t2;
  int32_t i;
  int rc;
  unas_frontend_default_config(&config);
  config.window_samples = CFG_WINDOW;
  config.stride_samples = CFG_STRIDE;
  config.clip_samples = CFG_CLIP;
  config.mel_channels = CFG_MEL;
  config.mfcc_coefficients = CFG_COEFFS;
  config.output = CFG_OUTPUT;
  config.lower_hz = CFG_LOWER;
  config.upper_hz = CFG_UPPER;
  for (i = 0; i < CFG_CLIP; ++i) {
    state = state * 1664525u + 1013904223u;
    pcm[i] = (int16_t)(state >> 16);
  }
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 7;
  while (SYST_CVR == 0) {
  }
  t0 = ticks();
  rc = unas_frontend_prepare(&config, scratch);
  t1 = ticks();
  if (rc == 0) rc = unas_frontend_features_int8(&config, &quant, scratch, pcm, input);
  t2 = ticks();
  if (rc != 0) {
    printf("front end failed: %s\n", unas_frontend_error_name(rc));
    return 1;
  }
  printf("prepare_ticks: %lu\nfeatures_ticks: %lu\n", (unsigned long)(t1 - t0), (unsigned long)(t2 - t1));
  t0 = ticks();
  spin(1000000u);
  t1 = ticks();
  printf("calibration_ticks_per_2M_instructions: %lu\n", (unsigned long)(t1 - t0));
  printf("input[0]: %d\n", input[0]);
  return 0;
}
