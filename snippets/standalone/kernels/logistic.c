/* LOGISTIC int8 -> int8 (output zero point -128, scale 1/256): TFLite's integer_ops::Logistic,
 * gemmlowp::logistic on the input rescaled to Q4.27. */
typedef struct {
  int32_t size, in_zp, radius, mult, shift;
} tm_logistic_t;

static void tm_logistic(const tm_logistic_t *p, const int8_t *in, int8_t *out) {
  for (int32_t i = 0; i < p->size; ++i) {
    const int32_t x = in[i] - p->in_zp;
    int32_t v;
    if (x <= -p->radius) {
      v = -128;
    } else if (x >= p->radius) {
      v = 127;
    } else {
      const int32_t a = tm_mbqm(x, p->mult, p->shift);  /* Q4.27 */
      const int32_t abs_a = a > 0 ? a : -a;
      const int32_t positive = tm_one_over_one_plus_x(tm_exp_on_negative_values(-abs_a, 4));
      const int32_t q0 = a == 0 ? ((int32_t)1 << 30) : (a > 0 ? positive : INT32_MAX - positive);
      v = tm_rdbpot(q0, 23) - 128;
      v = v < -128 ? -128 : (v > 127 ? 127 : v);
    }
    out[i] = (int8_t)v;
  }
}
