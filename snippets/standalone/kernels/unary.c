/* Element-wise int8 -> int8 ops: QUANTIZE (requantize), RELU (requantize and clamp at the
 * output zero point) and RELU6 (TFLite Micro clamps in the input's domain and leaves the
 * values as they are). */
typedef struct {
  int32_t size, in_zp, out_zp, mult, shift, act_min, act_max;
} tm_requantize_t;

/* QUANTIZE int8->int8 (TFLite's Requantize) and RELU (TFLite Micro's ReluQuantized). */
TM_UNUSED static void tm_requantize(const tm_requantize_t *p, const int8_t *in, int8_t *out) {
  for (int32_t i = 0; i < p->size; ++i)
    out[i] = tm_requant(in[i] - p->in_zp, p->mult, p->shift, p->out_zp, p->act_min,
                        p->act_max);
}

typedef struct {
  int32_t size, lower, upper;
} tm_clamp_t;

TM_UNUSED static void tm_clamp(const tm_clamp_t *p, const int8_t *in, int8_t *out) {
  for (int32_t i = 0; i < p->size; ++i) {
    const int8_t v = in[i];
    out[i] = (int8_t)(v > p->upper ? p->upper : (v < p->lower ? p->lower : v));
  }
}
