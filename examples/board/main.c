/* The smallest program that runs an exported model on a Cortex-M board, as
 * README.md's "Put it on a board" builds it for QEMU's mps2-an386
 * (Cortex-M4F) with firmware/arm/startup.c and firmware/arm/mps2.ld. It
 * feeds the model what a camera would give it: image.h holds one image's
 * raw 8-bit pixels (`xxd -i image.raw`, HWC), which
 * unas_model_quantize_pixels turns into the int8 input the network was
 * trained on; it prints the scores and the class with the highest over
 * semihosting. On a real board, replace image.h with the sensor's buffer
 * and printf with the board's UART. C99. */
#include <stdint.h>
#include <stdio.h>

#include "image.h"
#include "model.h"

static uint8_t arena[UNAS_MODEL_ARENA_BYTES] __attribute__((aligned(16)));

int main(void) {
  static int8_t input[UNAS_MODEL_INPUT_BYTES];
  static int8_t scores[UNAS_MODEL_OUTPUT_BYTES];
  int best = 0, i;
  if (image_raw_len != UNAS_MODEL_INPUT_BYTES) {
    printf("image.h holds %u bytes; the model takes %d (%dx%dx%d raw pixels)\n", image_raw_len,
           UNAS_MODEL_INPUT_BYTES, UNAS_MODEL_INPUT_HEIGHT, UNAS_MODEL_INPUT_WIDTH, UNAS_MODEL_INPUT_CHANNELS);
    return 1;
  }
  unas_model_quantize_pixels(image_raw, input);
  unas_model_invoke(input, scores, arena);
  for (i = 0; i < UNAS_MODEL_CLASSES; ++i) {
    printf("%-12s %4d\n", unas_model_class_names[i], scores[i]);
    if (scores[i] > scores[best]) best = i;
  }
  printf("class: %s (arena %d bytes)\n", unas_model_class_names[best], UNAS_MODEL_ARENA_BYTES);
  return 0;
}
