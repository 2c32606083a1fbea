/* model_quantize_input() rounds like TFLite Micro's QUANTIZE kernel, TfLiteRound(x / s)
 * (half away from zero), without <math.h>; model_dequantize_output() is its DEQUANTIZE. */
void model_quantize_input(const float *x, int8_t *q) {
  for (uint32_t i = 0; i < model_input_sizes[0]; ++i) {
    const float v = x[i] / model_input_scale;
    const float a = v < 0 ? -v : v;
    int32_t r = a > 1e9f ? 1000000000 : (int32_t)a;
    if (a <= 1e9f && a - (float)r >= 0.5f) ++r;
    if (v < 0) r = -r;
    r += model_input_zero_point;
    q[i] = (int8_t)(r < -128 ? -128 : (r > 127 ? 127 : r));
  }
}

void model_dequantize_output(const int8_t *q, float *y) {
  for (uint32_t i = 0; i < model_output_sizes[0]; ++i)
    y[i] = model_output_scale * (float)(q[i] - model_output_zero_point);
}
