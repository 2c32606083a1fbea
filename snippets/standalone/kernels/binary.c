/* ADD and MUL, int8 with numpy-style broadcasting (TFLite's AddFunc / MulElementwise applied
 * per element). Shapes are padded to 6 dims; a broadcast dimension has stride 0. */
typedef struct {
  int32_t shape[6];
  int32_t stride1[6], stride2[6];
  int32_t size;         /* output elements */
  int32_t broadcast;    /* 0: both inputs have the output's shape */
  int32_t in1_offset, in2_offset, out_offset, act_min, act_max;
  int32_t left_shift, mult1, shift1, mult2, shift2, out_mult, out_shift;  /* ADD */
} tm_binary_t;

TM_INLINE int8_t tm_add_one(const tm_binary_t *p, int32_t x, int32_t y) {
  const int32_t a = (int32_t)((uint32_t)(x + p->in1_offset) << p->left_shift);
  const int32_t b = (int32_t)((uint32_t)(y + p->in2_offset) << p->left_shift);
  const int32_t sa = tm_rdbpot(tm_srdhm(a, p->mult1), -p->shift1);
  const int32_t sb = tm_rdbpot(tm_srdhm(b, p->mult2), -p->shift2);
  int32_t v = tm_rdbpot(tm_srdhm(sa + sb, p->out_mult), -p->out_shift) + p->out_offset;
  v = v < p->act_min ? p->act_min : v;
  v = v > p->act_max ? p->act_max : v;
  return (int8_t)v;
}

TM_INLINE int8_t tm_mul_one(const tm_binary_t *p, int32_t x, int32_t y) {
  return tm_requant((x + p->in1_offset) * (y + p->in2_offset), p->out_mult, p->out_shift,
                    p->out_offset, p->act_min, p->act_max);
}

static void tm_binary(const tm_binary_t *p, const int8_t *a, const int8_t *b, int8_t *out,
                      int is_mul) {
  if (!p->broadcast) {
    for (int32_t i = 0; i < p->size; ++i)
      out[i] = is_mul ? tm_mul_one(p, a[i], b[i]) : tm_add_one(p, a[i], b[i]);
    return;
  }
  int32_t idx[6] = {0, 0, 0, 0, 0, 0};
  int32_t ia = 0, ib = 0;
  for (int32_t i = 0; i < p->size; ++i) {
    out[i] = is_mul ? tm_mul_one(p, a[ia], b[ib]) : tm_add_one(p, a[ia], b[ib]);
    for (int d = 5; d >= 0; --d) {  /* odometer over the output index */
      ia += p->stride1[d];
      ib += p->stride2[d];
      if (++idx[d] < p->shape[d]) break;
      ia -= p->stride1[d] * p->shape[d];
      ib -= p->stride2[d] * p->shape[d];
      idx[d] = 0;
    }
  }
}

TM_UNUSED static void tm_add(const tm_binary_t *p, const int8_t *a, const int8_t *b,
                             int8_t *out) {
  tm_binary(p, a, b, out, 0);
}

TM_UNUSED static void tm_mul(const tm_binary_t *p, const int8_t *a, const int8_t *b,
                             int8_t *out) {
  tm_binary(p, a, b, out, 1);
}
