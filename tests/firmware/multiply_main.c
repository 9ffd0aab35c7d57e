/* Test driver: reads "x multiplier shift" triples from stdin and prints
 * unas_multiply_by_quantized_multiplier of each, one per line. */
#include <stdint.h>
#include <stdio.h>

#include "unas_kernels.h"

int main(void) {
  long x, multiplier, shift;
  while (scanf("%ld %ld %ld", &x, &multiplier, &shift) == 3) {
    printf("%ld\n", (long)unas_multiply_by_quantized_multiplier((int32_t)x, (int32_t)multiplier, (int32_t)shift));
  }
  return 0;
}
