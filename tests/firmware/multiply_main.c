/* Test driver for the kernels' fixed-point multiply. Reads lines from stdin
 * and prints one result per line:
 *   g X MULTIPLIER SHIFT                   unas_multiply_by_quantized_multiplier
 *   p X MULTIPLIER NEG_BELOW K_LO K_HI K_HI_NEG SHIFT
 *                                          the kernels' prepared form
 *                                          (unas_requant) */
#include <stdint.h>
#include <stdio.h>

#include "unas_kernels.h"
#include "unas_kernels_impl.h"

int main(void) {
  char kind;
  long x, m;
  while (scanf(" %c %ld %ld", &kind, &x, &m) == 3) {
    if (kind == 'g') {
      long shift;
      if (scanf("%ld", &shift) != 1) return 2;
      printf("%ld\n", (long)unas_multiply_by_quantized_multiplier((int32_t)x, (int32_t)m, (int32_t)shift));
    } else {
      long neg_below, k_lo, k_hi, k_hi_neg, shift;
      unas_requant r;
      if (scanf("%ld %ld %ld %ld %ld", &neg_below, &k_lo, &k_hi, &k_hi_neg, &shift) != 5) return 2;
      r.multiplier = (int32_t)m;
      r.neg_below = (int32_t)neg_below;
      r.k_lo = (uint32_t)k_lo;
      r.k_hi = (int32_t)k_hi;
      r.k_hi_neg = (int32_t)k_hi_neg;
      r.shift = (int32_t)shift;
      printf("%ld\n", (long)unas_multiply_prepared((int32_t)x, &r));
    }
  }
  return 0;
}
