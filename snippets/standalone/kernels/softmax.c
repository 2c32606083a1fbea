/* SOFTMAX int8 -> int8 (output scale 1/256, zero point -128), TFLite's reference_ops::Softmax:
 * exp of (x - max) in Q5.26, sum in Q12.19, reciprocal by Newton-Raphson. */
typedef struct {
  int32_t rows, depth;
  int32_t mult, shift, diff_min;
} tm_softmax_t;

static void tm_softmax(const tm_softmax_t *p, const int8_t *in, int8_t *out) {
  for (int32_t r = 0; r < p->rows; ++r, in += p->depth, out += p->depth) {
    int32_t max = -128;
    for (int32_t c = 0; c < p->depth; ++c) max = in[c] > max ? in[c] : max;
    int32_t sum = 0;
    for (int32_t c = 0; c < p->depth; ++c) {
      const int32_t diff = in[c] - max;
      if (diff >= p->diff_min) {
        const int32_t scaled = tm_srdhm((int32_t)((uint32_t)diff << p->shift), p->mult);
        sum += tm_rdbpot(tm_exp_on_negative_values(scaled, 5), 12);
      }
    }
    const int headroom_plus_one = tm_clz32((uint32_t)sum);
    const int bits_over_unit = 12 - headroom_plus_one;
    const int32_t shifted_sum_minus_one =
        (int32_t)(((uint32_t)sum << headroom_plus_one) - ((uint32_t)1 << 31));
    const int32_t shifted_scale = tm_one_over_one_plus_x(shifted_sum_minus_one);
    const int exponent = bits_over_unit + 31 - 8;
    for (int32_t c = 0; c < p->depth; ++c) {
      const int32_t diff = in[c] - max;
      int32_t v = -128;
      if (diff >= p->diff_min) {
        const int32_t scaled = tm_srdhm((int32_t)((uint32_t)diff << p->shift), p->mult);
        const int32_t e = tm_exp_on_negative_values(scaled, 5);
        v = tm_rdbpot(tm_srdhm(shifted_scale, e), exponent) - 128;
        v = v < -128 ? -128 : (v > 127 ? 127 : v);
      }
      out[c] = (int8_t)v;
    }
  }
}
