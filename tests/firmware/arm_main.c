/* Cortex-M test driver for a generated model under qemu-system-arm
 * (semihosting output). For each input of test_inputs.h it prints the
 * output bytes in hex and the SysTick ticks of the invoke; then the stack
 * high-water mark of the invokes (the stack below main's frame is painted
 * with a pattern first and scanned afterwards) and the ticks of a
 * calibration loop of a known instruction count. Under `-icount`, SysTick
 * advances with executed instructions, so ticks measure instructions. */
#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "test_inputs.h"
#include "test_main.h"

static uint8_t arena[UNAS_MODEL_ARENA_BYTES] __attribute__((aligned(16)));
static int8_t outputs[UNAS_TEST_INPUTS][UNAS_MODEL_OUTPUT_BYTES];
static uint64_t invoke_ticks[UNAS_TEST_INPUTS];

#ifdef UNAS_PROFILE
/* Ticks at the end of every step of the first invoke (model.c's hook). */
#define MAX_STEPS 1024
static uint64_t step_end[MAX_STEPS];
static int profiling;
static uint64_t profile_start;
void unas_profile_step(int step) {
  if (profiling && step < MAX_STEPS) step_end[step] = ticks();
}
#endif

int main(void) {
  uint64_t t0, t1;
  unsigned long stack_bytes;
  int i;
  const uint32_t *sp_now = start_measuring();
  /* Nothing but the invokes runs on the painted stack before the scan. */
  for (i = 0; i < UNAS_TEST_INPUTS; ++i) {
#ifdef UNAS_PROFILE
    profiling = i == 0;
#endif
    t0 = ticks();
#ifdef UNAS_PROFILE
    if (i == 0) profile_start = t0;
#endif
    unas_model_invoke(unas_test_inputs[i], outputs[i], arena);
    t1 = ticks();
    invoke_ticks[i] = t1 - t0;
  }
  stack_bytes = stack_bytes_used(sp_now);
  for (i = 0; i < UNAS_TEST_INPUTS; ++i) {
    print_int8_line("output", i, outputs[i], UNAS_MODEL_OUTPUT_BYTES);
    printf("ticks %d: %lu\n", i, (unsigned long)invoke_ticks[i]);
  }
  printf("stack_bytes: %lu\n", stack_bytes);
#ifdef UNAS_PROFILE
  /* a step begins where the previous one ended (the first at the invoke's start) */
  for (int j = 0; j < MAX_STEPS && step_end[j] != 0; ++j) {
    printf("step %d: %lu\n", j, (unsigned long)(step_end[j] - (j ? step_end[j - 1] : profile_start)));
  }
#endif
  print_calibration();
  return 0;
}
