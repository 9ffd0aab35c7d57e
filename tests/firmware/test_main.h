/* What the C test drivers share (tests/firmware/arm_main.c, kws_main.c and
 * tests/data/audio/frontend_main.c): on Cortex-M under qemu-system-arm, the
 * SysTick tick count, the stack high-water mark (the stack below the
 * driver's main frame painted with a pattern first and scanned afterwards)
 * and a calibration loop of a known instruction count. Under `-icount`,
 * SysTick advances with executed instructions, so ticks measure
 * instructions. On the host (the sanitizer builds) ticks are 0 and there is
 * no stack to measure or loop to calibrate.
 *
 * Each driver includes this once: it defines SysTick_Handler and static
 * functions. C99. */
#ifndef UNAS_TESTS_FIRMWARE_TEST_MAIN_H_
#define UNAS_TESTS_FIRMWARE_TEST_MAIN_H_

#include <stdint.h>
#include <stdio.h>

/* One line of the drivers' output, "KEY INDEX: v0 v1 ...", what the tests
 * parse (int8 tensors and int16 features). */
static inline void print_int8_line(const char *key, int index, const int8_t *values, int count) {
  int i;
  printf("%s %d:", key, index);
  for (i = 0; i < count; ++i) printf(" %d", values[i]);
  printf("\n");
}
static inline void print_int16_line(const char *key, int index, const int16_t *values, int count) {
  int i;
  printf("%s %d:", key, index);
  for (i = 0; i < count; ++i) printf(" %d", values[i]);
  printf("\n");
}

#ifdef __arm__
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define PAINT 0xA5C3A5C3u

extern uint32_t __stack_limit__;
static volatile uint32_t wraps;

void SysTick_Handler(void) { ++wraps; }

static inline uint64_t ticks(void) {
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

/* Paints the stack below the caller's frame (inlined, so "the caller" is
 * main), then starts SysTick (processor clock, interrupt, enable) and waits
 * for its first load. Returns the stack pointer for stack_bytes_used. */
static inline __attribute__((always_inline)) uint32_t *start_measuring(void) {
  uint32_t *p, *sp_now;
  __asm volatile("mov %0, sp" : "=r"(sp_now));
  for (p = &__stack_limit__; p < sp_now - 16; ++p) *p = PAINT;
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 7;
  while (SYST_CVR == 0) {
  }
  return sp_now;
}

/* The deepest the stack went below `sp_now` since start_measuring, in bytes. */
static inline unsigned long stack_bytes_used(const uint32_t *sp_now) {
  const uint32_t *p;
  for (p = &__stack_limit__; p < sp_now && *p == PAINT; ++p) {
  }
  return (unsigned long)((uintptr_t)sp_now - (uintptr_t)p);
}

/* Prints the ticks of 1,000,000 two-instruction iterations. */
static inline void print_calibration(void) {
  uint64_t t0, t1;
  t0 = ticks();
  spin(1000000u);
  t1 = ticks();
  printf("calibration_ticks_per_2M_instructions: %lu\n", (unsigned long)(t1 - t0));
}
#else
static inline uint64_t ticks(void) { return 0; }
static inline uint32_t *start_measuring(void) { return NULL; }
static inline unsigned long stack_bytes_used(const uint32_t *sp_now) {
  (void)sp_now;
  return 0;
}
static inline void print_calibration(void) {}
#endif

#endif /* UNAS_TESTS_FIRMWARE_TEST_MAIN_H_ */
