/* Host test driver for a generated model: runs every input of argv[1]
 * (concatenated UNAS_MODEL_INPUT_BYTES records) through unas_model_invoke in
 * an arena malloc'ed at exactly UNAS_MODEL_ARENA_BYTES - UNAS_TEST_SHRINK
 * bytes (so AddressSanitizer catches one byte outside) and writes the
 * outputs to argv[2]. The arena is poisoned before every run so that a read
 * of a byte nobody wrote shows in the output. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#ifndef UNAS_TEST_SHRINK
#define UNAS_TEST_SHRINK 0
#endif

int main(int argc, char **argv) {
  FILE *in, *out;
  int8_t input[UNAS_MODEL_INPUT_BYTES], output[UNAS_MODEL_OUTPUT_BYTES];
  const size_t arena_bytes = (size_t)UNAS_MODEL_ARENA_BYTES - UNAS_TEST_SHRINK;
  uint8_t *arena;
  int runs = 0;
  if (argc != 3) {
    fprintf(stderr, "usage: %s INPUTS.bin OUTPUTS.bin\n", argv[0]);
    return 2;
  }
  arena = (uint8_t *)malloc(arena_bytes);
  in = fopen(argv[1], "rb");
  out = fopen(argv[2], "wb");
  if (!arena || !in || !out) {
    fprintf(stderr, "cannot open files or allocate the arena\n");
    return 2;
  }
  if (((uintptr_t)arena & 15u) != 0) {
    fprintf(stderr, "arena not 16-byte aligned\n");
    return 2;
  }
  while (fread(input, 1, sizeof input, in) == sizeof input) {
    memset(arena, 0x5a, arena_bytes);
    unas_model_invoke(input, output, arena);
    if (fwrite(output, 1, sizeof output, out) != sizeof output) return 2;
    ++runs;
  }
  fclose(in);
  if (fclose(out) != 0) return 2;
  free(arena);
  printf("runs %d arena %d\n", runs, (int)UNAS_MODEL_ARENA_BYTES);
  return 0;
}
