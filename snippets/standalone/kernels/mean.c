/* MEAN over one contiguous run of axes (global average pooling is axes 1,2 of NHWC): the
 * input is seen as [outer][reduced][inner]. Two TFLite paths: with equal input and output
 * quantization a plain integer mean (sum / count, truncating); otherwise QuantizedMeanOrSum
 * (the 1/count factor folded into `mult`/`shift` at generation time). */
typedef struct {
  int32_t outer, reduced, inner;
  int32_t plain;  /* 1: sum / count */
  int32_t in_zp, out_zp, mult, shift;
} tm_mean_t;

static void tm_mean(const tm_mean_t *p, const int8_t *in, int8_t *out) {
  for (int32_t o = 0; o < p->outer; ++o) {
    const int8_t *base = in + o * p->reduced * p->inner;
    for (int32_t i = 0; i < p->inner; ++i) {
      int32_t sum = 0;
      for (int32_t r = 0; r < p->reduced; ++r) sum += base[r * p->inner + i];
      int32_t v;
      if (p->plain) {
        v = sum / p->reduced;
      } else {
        v = tm_mbqm(sum - p->in_zp * p->reduced, p->mult, p->shift) + p->out_zp;
        v = v < -128 ? -128 : (v > 127 ? 127 : v);
      }
      *out++ = (int8_t)v;
    }
  }
}
