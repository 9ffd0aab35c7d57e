/* Test driver for a generated keyword model's front end on the host
 * (gcc with AddressSanitizer and UBSan): reads clips of raw 16-bit PCM
 * (UNAS_MODEL_PCM_SAMPLES little-endian samples each, back to back) from
 * the file named by argv[1], runs unas_model_features on each in an arena
 * malloc'ed at exactly UNAS_MODEL_ARENA_BYTES and poisoned before every
 * clip, and prints "input N: v v v ..." (the int8 network input). The PCM
 * comes from a file rather than a generated header so that a hundred clips
 * cost no compile time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static int16_t pcm[UNAS_MODEL_PCM_SAMPLES];
static int8_t input[UNAS_MODEL_INPUT_BYTES];

int main(int argc, char **argv) {
  unsigned char bytes[2 * UNAS_MODEL_PCM_SAMPLES];
  uint8_t *arena;
  FILE *f;
  int clip = 0, i;
  if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL) {
    printf("usage: %s CLIPS.pcm\n", argv[0]);
    return 2;
  }
  arena = (uint8_t *)malloc(UNAS_MODEL_ARENA_BYTES);
  if (arena == NULL || ((uintptr_t)arena & 15u) != 0) {
    printf("cannot allocate a 16-byte aligned arena\n");
    return 2;
  }
  while (fread(bytes, 1, sizeof bytes, f) == sizeof bytes) {
    for (i = 0; i < UNAS_MODEL_PCM_SAMPLES; ++i) {
      pcm[i] = (int16_t)(uint16_t)(bytes[2 * i] | (bytes[2 * i + 1] << 8));
    }
    memset(arena, 0x5a, UNAS_MODEL_ARENA_BYTES);
    unas_model_features(pcm, input, arena);
    printf("input %d:", clip);
    for (i = 0; i < UNAS_MODEL_INPUT_BYTES; ++i) printf(" %d", input[i]);
    printf("\n");
    ++clip;
  }
  fclose(f);
  free(arena);
  printf("clips: %d\n", clip);
  return 0;
}
