/* Host test harness for a generated model: reads COUNT samples from stdin (all inputs of a
 * sample, one after the other: int8, or float32 when the original model takes float), runs
 * model_invoke_all() on each and writes all outputs to stdout (int8, or float32 when the
 * original model gives float). Runs each sample REPEAT times (default 1), timing the runs,
 * and prints "ns_per_invoke N" on stderr. Usage: host_main COUNT [REPEAT] */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s COUNT [REPEAT]\n", argv[0]);
    return 2;
  }
  const long count = atol(argv[1]);
  const long repeat = argc > 2 ? atol(argv[2]) : 1;
  int8_t *ins[MODEL_INPUT_COUNT];
  int8_t *outs[MODEL_OUTPUT_COUNT];
  float *fbuf = NULL;
  size_t fsize = 0;
  for (int i = 0; i < MODEL_INPUT_COUNT; ++i) {
    ins[i] = malloc(model_input_sizes[i]);
    if (model_input_sizes[i] > fsize) fsize = model_input_sizes[i];
  }
  for (int i = 0; i < MODEL_OUTPUT_COUNT; ++i) {
    outs[i] = malloc(model_output_sizes[i]);
    if (model_output_sizes[i] > fsize) fsize = model_output_sizes[i];
  }
  fbuf = malloc(fsize * sizeof(float));
  double total_ns = 0;
  long timed = 0;
  for (long s = 0; s < count; ++s) {
    for (int i = 0; i < MODEL_INPUT_COUNT; ++i) {
      const size_t n = model_input_sizes[i];
      if (i == 0 && MODEL_INPUT_IS_FLOAT) {
        if (fread(fbuf, sizeof(float), n, stdin) != n) return 3;
        model_quantize_input(fbuf, ins[i]);
      } else if (fread(ins[i], 1, n, stdin) != n) {
        return 3;
      }
    }
    const double t0 = now_ns();
    for (long r = 0; r < repeat; ++r) {
      if (model_invoke_all((const int8_t *const *)ins, outs) != 0) return 4;
    }
    total_ns += now_ns() - t0;
    timed += repeat;
    for (int i = 0; i < MODEL_OUTPUT_COUNT; ++i) {
      const size_t n = model_output_sizes[i];
      if (i == 0 && MODEL_OUTPUT_IS_FLOAT) {
        model_dequantize_output(outs[i], fbuf);
        fwrite(fbuf, sizeof(float), n, stdout);
      } else {
        fwrite(outs[i], 1, n, stdout);
      }
    }
  }
  if (timed) fprintf(stderr, "ns_per_invoke %.1f\n", total_ns / timed);
  for (int i = 0; i < MODEL_INPUT_COUNT; ++i) free(ins[i]);
  for (int i = 0; i < MODEL_OUTPUT_COUNT; ++i) free(outs[i]);
  free(fbuf);
  return 0;
}
