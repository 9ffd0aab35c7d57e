/* Test driver for a generated keyword model, built twice from the same
 * source: on the host (gcc with AddressSanitizer and UBSan, the arena
 * malloc'ed at exactly UNAS_MODEL_ARENA_BYTES) and for Cortex-M under
 * qemu-system-arm (semihosting output, a static arena of that size). For
 * every clip of kws_clips.h (raw 16-bit PCM, as a microphone gives) it runs
 * unas_model_features then unas_model_invoke in the one arena and prints
 * the int8 input and the int8 output; on Arm also the SysTick ticks of each
 * call, the stack high-water mark (the stack below main's frame is painted
 * first) and a calibration loop of a known instruction count. The arena is
 * poisoned before every clip so a read of a byte nobody wrote shows. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "kws_clips.h"

static int8_t input[UNAS_MODEL_INPUT_BYTES];
static int8_t outputs[UNAS_TEST_CLIPS][UNAS_MODEL_OUTPUT_BYTES];
static int8_t inputs[UNAS_TEST_CLIPS][UNAS_MODEL_INPUT_BYTES];

#ifdef __arm__
static uint8_t arena_storage[UNAS_MODEL_ARENA_BYTES] __attribute__((aligned(16)));
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
#include <stdlib.h>
static uint64_t ticks(void) { return 0; }
#endif

int main(void) {
  uint64_t t0, t1, feature_ticks[UNAS_TEST_CLIPS], invoke_ticks[UNAS_TEST_CLIPS];
  uint8_t *arena;
  int i, j;
#ifdef __arm__
  uint32_t *p, *sp_now;
  __asm volatile("mov %0, sp" : "=r"(sp_now));
  for (p = &__stack_limit__; p < sp_now - 16; ++p) *p = PAINT;
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 7;
  while (SYST_CVR == 0) {
  }
  arena = arena_storage;
#else
  arena = (uint8_t *)malloc(UNAS_MODEL_ARENA_BYTES);
  if (arena == NULL || ((uintptr_t)arena & 15u) != 0) {
    printf("cannot allocate a 16-byte aligned arena\n");
    return 2;
  }
#endif
  for (i = 0; i < UNAS_TEST_CLIPS; ++i) {
    memset(arena, 0x5a, UNAS_MODEL_ARENA_BYTES);
    t0 = ticks();
    unas_model_features(unas_test_clips[i], input, arena);
    t1 = ticks();
    feature_ticks[i] = t1 - t0;
    memcpy(inputs[i], input, sizeof input);
    t0 = ticks();
    unas_model_invoke(input, outputs[i], arena);
    t1 = ticks();
    invoke_ticks[i] = t1 - t0;
  }
#ifdef __arm__
  for (p = &__stack_limit__; p < sp_now && *p == PAINT; ++p) {
  }
  printf("stack_bytes: %lu\n", (unsigned long)((uintptr_t)sp_now - (uintptr_t)p));
#else
  free(arena);
#endif
  for (i = 0; i < UNAS_TEST_CLIPS; ++i) {
    printf("input %d:", i);
    for (j = 0; j < UNAS_MODEL_INPUT_BYTES; ++j) printf(" %d", inputs[i][j]);
    printf("\noutput %d:", i);
    for (j = 0; j < UNAS_MODEL_OUTPUT_BYTES; ++j) printf(" %d", outputs[i][j]);
    printf("\nticks %d: %lu %lu\n", i, (unsigned long)feature_ticks[i], (unsigned long)invoke_ticks[i]);
  }
#ifdef __arm__
  t0 = ticks();
  spin(1000000u);
  t1 = ticks();
  printf("calibration_ticks_per_2M_instructions: %lu\n", (unsigned long)(t1 - t0));
#endif
  return 0;
}
