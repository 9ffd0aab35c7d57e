/* Minimal Cortex-M startup for the Arm MPS2 boards (mps2-an386 = Cortex-M4F,
 * mps2-an500 = Cortex-M7) under qemu-system-arm: a template the firmware
 * tests link against, and a starting point for a real board.
 *
 * The vector table holds the initial stack pointer (the top of RAM, from the
 * linker script) and the handlers; Reset_Handler copies .data from flash,
 * zeroes .bss, turns the FPU on (CPACR; harmless when the code is built for
 * soft float), opens newlib's semihosting handles and exits with main's
 * return value, which qemu reports as its exit code. SysTick_Handler is weak
 * so the program can count timer wraps. */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __data_load__, __data_start__, __data_end__, __bss_start__, __bss_end__, __stack_top__;
extern int main(void);
extern void initialise_monitor_handles(void);

void Reset_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

void Default_Handler(void) {
  for (;;) {
  }
}

__attribute__((section(".vectors"), used)) const uintptr_t unas_vectors[16] = {
    (uintptr_t)&__stack_top__,     (uintptr_t)Reset_Handler,
    (uintptr_t)Default_Handler,    /* NMI */
    (uintptr_t)Default_Handler,    /* HardFault */
    (uintptr_t)Default_Handler,    /* MemManage */
    (uintptr_t)Default_Handler,    /* BusFault */
    (uintptr_t)Default_Handler,    /* UsageFault */
    0, 0, 0, 0,
    (uintptr_t)Default_Handler,    /* SVCall */
    (uintptr_t)Default_Handler,    /* DebugMonitor */
    0,
    (uintptr_t)Default_Handler,    /* PendSV */
    (uintptr_t)SysTick_Handler,
};

#define UNAS_CPACR (*(volatile uint32_t *)0xE000ED88u)

void Reset_Handler(void) {
  uint32_t *src = &__data_load__, *dst = &__data_start__;
  while (dst < &__data_end__) *dst++ = *src++;
  for (dst = &__bss_start__; dst < &__bss_end__;) *dst++ = 0;
  UNAS_CPACR |= 0xFu << 20; /* CP10 and CP11: full access */
  __asm volatile("dsb\n\tisb" ::: "memory");
  initialise_monitor_handles();
  exit(main());
}
