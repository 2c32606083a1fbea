/* ADD and MUL, int8 with numpy-style broadcasting (TFLite's AddFunc / MulElementwise applied
 * per element). Shapes are padded to 6 dims; a broadcast dimension has stride 0. */
typedef struct {
  int32_t shape[6];
  int32_t stride1[6], stride2[6];
  int32_t size;         /* output elements */
  int32_t broadcast;    /* 0: both inputs have the output's shape */
  int32_t in1_offset, in2_offset, out_offset, act_min, act_max;
  int32_t left_shift, mult1, shift1, mult2, shift2, out_mult, out_shift;  /* ADD */
  int32_t fast[5];  /* ADD: the exact input (1, 2; 0: no fast path), e and r of the other
                       input, e and r of the output (kernels.py, _add_fast) */
} tm_binary_t;

/* SaturatingRoundingDoublingHighMul(a, b) for |a| < 2^30: SMMULR of 2a and b. */
TM_ALWAYS_INLINE int32_t tm_srdhm_small(int32_t a, int32_t b) {
#if TM_DSP
  int32_t v;
  __asm__("smmulr %0, %1, %2" : "=r"(v) : "r"(a * 2), "r"(b));
  return v;
#else
  return (int32_t)(((int64_t)a * b + ((int64_t)1 << 30)) >> 31);
#endif
}

/* The same ADD in fewer steps for inputs of the output's shape (see kernels.py, _add_fast):
 * x is the input rescaled exactly ((x + offset)·2^19), y the other. Parameters are kept in
 * locals: the int8 stores could alias the struct. */
TM_ALWAYS_INLINE void tm_add_fast_body(const tm_binary_t *TM_RESTRICT p, const int8_t *x,
                                       int32_t ox, const int8_t *y, int32_t oy, int32_t my,
                                       int8_t *out, const int full) {
  const int32_t cx = ox * (1 << 19), cy = oy * (1 << 20), mo = p->out_mult;
  const int32_t lo = p->act_min, hi = p->act_max;
  const int32_t e = p->fast[1], r = p->fast[2], eo = p->fast[3], ro = p->fast[4];
  for (int32_t i = 0, size = p->size; i < size; ++i) {
    int32_t b = tm_srdhm_small(y[i] * (1 << 20) + cy, my);
    b = (b + (b >> 31) + r) >> e;
    int32_t v = tm_srdhm_small(x[i] * (1 << 19) + cx + b, mo);
    v = (v + (v >> 31) + ro) >> eo;
#if TM_DSP
    if (full) {
      out[i] = (int8_t)__ssat(v, 8);
      continue;
    }
#endif
    v = v < lo ? lo : v;
    out[i] = (int8_t)(v > hi ? hi : v);
  }
  (void)full;
}

static void tm_add_fast(const tm_binary_t *TM_RESTRICT p, const int8_t *a, const int8_t *b,
                        int8_t *out) {
  const int8_t *x = p->fast[0] == 1 ? a : b, *y = p->fast[0] == 1 ? b : a;
  const int32_t ox = p->fast[0] == 1 ? p->in1_offset : p->in2_offset;
  const int32_t oy = p->fast[0] == 1 ? p->in2_offset : p->in1_offset;
  const int32_t my = p->fast[0] == 1 ? p->mult2 : p->mult1;
  if (TM_FULL_RANGE(p))
    tm_add_fast_body(p, x, ox, y, oy, my, out, 1);
  else
    tm_add_fast_body(p, x, ox, y, oy, my, out, 0);
}

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
  if (!is_mul && !p->broadcast && p->fast[0]) {
    tm_add_fast(p, a, b, out);
    return;
  }
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
