/* Test driver for the audio front end, built twice from the same source:
 * on the host (gcc with AddressSanitizer and UBSan) and for Cortex-M under
 * qemu-system-arm (semihosting output). For every clip of test_clips.h it
 * prints the int16 features and the int8 input, and on Arm the SysTick
 * ticks of unas_frontend_prepare, of each clip's features and of each
 * clip's int8 input, the stack high-water mark of those calls (the stack
 * below main's frame is painted first and scanned before anything is
 * printed) and a calibration loop of a known instruction count. Under -icount shift=0 SysTick advances with
 * executed instructions, so ticks measure instructions (40 per tick). */
#include <stdint.h>
#include <stdio.h>

#include "../../firmware/test_main.h"
#include "frontend.h"
#include "test_clips.h"

static uint8_t scratch[UNAS_TEST_SCRATCH_BYTES] __attribute__((aligned(8)));
static int16_t features[UNAS_TEST_CLIPS][UNAS_TEST_FEATURES];
static int8_t input[UNAS_TEST_CLIPS][UNAS_TEST_FEATURES];

int main(void) {
  uint64_t t0, t1, prepare_ticks, feature_ticks[UNAS_TEST_CLIPS], int8_ticks[UNAS_TEST_CLIPS];
  unsigned long stack_bytes;
  int i, rc;
  const uint32_t *sp_now = start_measuring();
  t0 = ticks();
  rc = unas_frontend_prepare(&unas_test_config, scratch);
  t1 = ticks();
  prepare_ticks = t1 - t0;
  for (i = 0; i < UNAS_TEST_CLIPS && rc == 0; ++i) {
    t0 = ticks();
    rc = unas_frontend_features(&unas_test_config, scratch, unas_test_clips[i], features[i]);
    t1 = ticks();
    feature_ticks[i] = t1 - t0;
    if (rc != 0) break;
    t0 = ticks();
    rc = unas_frontend_features_int8(&unas_test_config, &unas_test_quant, scratch, unas_test_clips[i], input[i]);
    t1 = ticks();
    int8_ticks[i] = t1 - t0;
  }
  stack_bytes = stack_bytes_used(sp_now);
  if (rc != 0) {
    printf("front end failed: %s\n", unas_frontend_error_name(rc));
    return 1;
  }
  printf("prepare_ticks: %lu\n", (unsigned long)prepare_ticks);
  for (i = 0; i < UNAS_TEST_CLIPS; ++i) {
    print_int16_line("features", i, features[i], UNAS_TEST_FEATURES);
    print_int8_line("int8", i, input[i], UNAS_TEST_FEATURES);
    printf("ticks %d: %lu %lu\n", i, (unsigned long)feature_ticks[i], (unsigned long)int8_ticks[i]);
  }
  printf("stack_bytes: %lu\n", stack_bytes);
  print_calibration();
  return 0;
}
