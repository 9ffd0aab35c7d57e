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
/* after model.h: the clips are sized by UNAS_MODEL_PCM_SAMPLES */
#include "kws_clips.h"
#include "test_main.h"

static int8_t input[UNAS_MODEL_INPUT_BYTES];
static int8_t outputs[UNAS_TEST_CLIPS][UNAS_MODEL_OUTPUT_BYTES];
static int8_t inputs[UNAS_TEST_CLIPS][UNAS_MODEL_INPUT_BYTES];

#ifdef __arm__
static uint8_t arena_storage[UNAS_MODEL_ARENA_BYTES] __attribute__((aligned(16)));
#else
#include <stdlib.h>
#endif

int main(void) {
  uint64_t t0, t1, feature_ticks[UNAS_TEST_CLIPS], invoke_ticks[UNAS_TEST_CLIPS];
  uint8_t *arena;
  int i;
  const uint32_t *sp_now = start_measuring();
#ifdef __arm__
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
  printf("stack_bytes: %lu\n", stack_bytes_used(sp_now));
#ifndef __arm__
  free(arena);
#endif
  for (i = 0; i < UNAS_TEST_CLIPS; ++i) {
    print_int8_line("input", i, inputs[i], UNAS_MODEL_INPUT_BYTES);
    print_int8_line("output", i, outputs[i], UNAS_MODEL_OUTPUT_BYTES);
    printf("ticks %d: %lu %lu\n", i, (unsigned long)feature_ticks[i], (unsigned long)invoke_ticks[i]);
  }
  print_calibration();
  return 0;
}
