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

#include "frontend.h"
#include "test_clips.h"

static uint8_t scratch[UNAS_TEST_SCRATCH_BYTES] __attribute__((aligned(8)));
static int16_t features[UNAS_TEST_CLIPS][UNAS_TEST_FEATURES];
static int8_t input[UNAS_TEST_CLIPS][UNAS_TEST_FEATURES];

#ifdef __arm__
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define PAINT 0xA5C3A5C3u
extern uint32_t __stack_limit__;
static volatile uint32_t wraps;
void SysTick_Handler(void) { ++wraps; }
static uint64_t ticks(void) {
  uint32_t w, v;
  do {
    w = wraps;
    v = SYST_CVR;
  } while (w != wraps);
  return (uint64_t)w * 0x1000000u + (0xFFFFFFu - v);
}
static void __attribute__((noinline)) spin(uint32_t n) {
  __asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
}
#else
static uint64_t ticks(void) { return 0; }
#endif

int main(void) {
  uint64_t t0, t1, prepare_ticks, feature_ticks[UNAS_TEST_CLIPS], int8_ticks[UNAS_TEST_CLIPS];
  unsigned long stack_bytes = 0;
  int i, j, rc;
#ifdef __arm__
  uint32_t *p, *sp_now;
  __asm volatile("mov %0, sp" : "=r"(sp_now));
  for (p = &__stack_limit__; p < sp_now - 16; ++p) *p = PAINT;
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 7;
  while (SYST_CVR == 0) {
  }
#endif
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
#ifdef __arm__
  for (p = &__stack_limit__; p < sp_now && *p == PAINT; ++p) {
  }
  stack_bytes = (unsigned long)((uintptr_t)sp_now - (uintptr_t)p);
#endif
  if (rc != 0) {
    printf("front end failed: %s\n", unas_frontend_error_name(rc));
    return 1;
  }
  printf("prepare_ticks: %lu\n", (unsigned long)prepare_ticks);
  for (i = 0; i < UNAS_TEST_CLIPS; ++i) {
    printf("features %d:", i);
    for (j = 0; j < UNAS_TEST_FEATURES; ++j) printf(" %d", features[i][j]);
    printf("\nint8 %d:", i);
    for (j = 0; j < UNAS_TEST_FEATURES; ++j) printf(" %d", input[i][j]);
    printf("\nticks %d: %lu %lu\n", i, (unsigned long)feature_ticks[i], (unsigned long)int8_ticks[i]);
  }
  printf("stack_bytes: %lu\n", stack_bytes);
#ifdef __arm__
  t0 = ticks();
  spin(1000000u);
  t1 = ticks();
  printf("calibration_ticks_per_2M_instructions: %lu\n", (unsigned long)(t1 - t0));
#endif
  return 0;
}
