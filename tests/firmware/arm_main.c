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

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define PAINT 0xA5C3A5C3u

extern uint32_t __stack_limit__;
static uint8_t arena[UNAS_MODEL_ARENA_BYTES] __attribute__((aligned(16)));
static int8_t outputs[UNAS_TEST_INPUTS][UNAS_MODEL_OUTPUT_BYTES];
static uint64_t invoke_ticks[UNAS_TEST_INPUTS];
static volatile uint32_t wraps;

void SysTick_Handler(void) { ++wraps; }
static uint64_t ticks(void);

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

static uint64_t ticks(void) {
  uint32_t w, v;
  do {
    w = wraps;
    v = SYST_CVR;
  } while (w != wraps);
  return (uint64_t)w * 0x1000000u + (0xFFFFFFu - v);
}

/* Two instructions per iteration. ARMv6-M (Cortex-M0+) builds assemble
 * inline asm in divided syntax, where the 16-bit SUB sets the flags. */
static void __attribute__((noinline)) spin(uint32_t n) {
#if defined(__thumb2__)
  __asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
#else
  __asm volatile("1: sub %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
#endif
}

int main(void) {
  uint32_t *p, *sp_now;
  uint64_t t0, t1;
  int i, j;
  __asm volatile("mov %0, sp" : "=r"(sp_now));
  for (p = &__stack_limit__; p < sp_now - 16; ++p) *p = PAINT;
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 7; /* processor clock, interrupt, enable */
  while (SYST_CVR == 0) {
  }
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
  for (p = &__stack_limit__; p < sp_now && *p == PAINT; ++p) {
  }
  for (i = 0; i < UNAS_TEST_INPUTS; ++i) {
    printf("output %d:", i);
    for (j = 0; j < UNAS_MODEL_OUTPUT_BYTES; ++j) printf(" %d", outputs[i][j]);
    printf("\nticks %d: %lu\n", i, (unsigned long)invoke_ticks[i]);
  }
  printf("stack_bytes: %lu\n", (unsigned long)((uintptr_t)sp_now - (uintptr_t)p));
#ifdef UNAS_PROFILE
  /* a step begins where the previous one ended (the first at the invoke's start) */
  for (j = 0; j < MAX_STEPS && step_end[j] != 0; ++j) {
    printf("step %d: %lu\n", j, (unsigned long)(step_end[j] - (j ? step_end[j - 1] : profile_start)));
  }
#endif
  t0 = ticks();
  spin(1000000u);
  t1 = ticks();
  printf("calibration_ticks_per_2M_instructions: %lu\n", (unsigned long)(t1 - t0));
  return 0;
}
