/* Host driver for a generated model fed as a device would feed it: every
 * record of argv[1] is UNAS_MODEL_INPUT_BYTES raw 8-bit pixels (HWC); each
 * goes through unas_model_quantize_pixels, then unas_model_invoke in an arena
 * malloc'ed at exactly UNAS_MODEL_ARENA_BYTES (AddressSanitizer catches a
 * byte outside), poisoned before every run. Writes the int8 inputs to argv[2]
 * and the outputs to argv[3]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int main(int argc, char **argv) {
  FILE *in, *inputs, *out;
  uint8_t pixels[UNAS_MODEL_INPUT_BYTES];
  int8_t input[UNAS_MODEL_INPUT_BYTES], output[UNAS_MODEL_OUTPUT_BYTES];
  uint8_t *arena;
  int runs = 0;
  if (argc != 4) {
    fprintf(stderr, "usage: %s PIXELS.bin INPUTS.bin OUTPUTS.bin\n", argv[0]);
    return 2;
  }
  if (UNAS_MODEL_INPUT_BYTES != UNAS_MODEL_INPUT_HEIGHT * UNAS_MODEL_INPUT_WIDTH * UNAS_MODEL_INPUT_CHANNELS) {
    fprintf(stderr, "model.h: the input shape does not make UNAS_MODEL_INPUT_BYTES\n");
    return 2;
  }
  arena = (uint8_t *)malloc(UNAS_MODEL_ARENA_BYTES);
  in = fopen(argv[1], "rb");
  inputs = fopen(argv[2], "wb");
  out = fopen(argv[3], "wb");
  if (!arena || !in || !inputs || !out) {
    fprintf(stderr, "cannot open files or allocate the arena\n");
    return 2;
  }
  while (fread(pixels, 1, sizeof pixels, in) == sizeof pixels) {
    memset(input, 0x5a, sizeof input);
    unas_model_quantize_pixels(pixels, input);
    memset(arena, 0x5a, UNAS_MODEL_ARENA_BYTES);
    unas_model_invoke(input, output, arena);
    if (fwrite(input, 1, sizeof input, inputs) != sizeof input) return 2;
    if (fwrite(output, 1, sizeof output, out) != sizeof output) return 2;
    ++runs;
  }
  fclose(in);
  if (fclose(inputs) != 0 || fclose(out) != 0) return 2;
  free(arena);
  printf("runs %d classes %d first class '%s'\n", runs, UNAS_MODEL_CLASSES, unas_model_class_names[0]);
  return 0;
}
