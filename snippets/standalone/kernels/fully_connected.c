/* FULLY_CONNECTED, int8 (TFLite's FullyConnected / FullyConnectedPerChannel).
 * `bias` is bias + input_offset·Σw per unit; per-tensor models repeat one multiplier.
 * Four units at a time (tm_dot_1x4, the generator interleaves their weights by 4, see
 * common.h; the last units % 4 rows follow one after the other). */
typedef struct {
  int32_t batches, depth, units;
  int32_t out_offset, act_min, act_max;
  const int8_t *w;      /* interleaved by 4 units, then the remaining rows */
  const int32_t *bias;  /* folded */
  const int32_t *rq;    /* (multiplier, shift) per unit */
  int32_t fast;         /* the fast requantization is exact (see common.h) */
} tm_fully_connected_t;

TM_ALWAYS_INLINE void tm_fully_connected_body(const tm_fully_connected_t *TM_RESTRICT p,
                                              const int8_t *in, int8_t *out, const int fast,
                                              const int full) {
  const tm_rq_t q = TM_RQ_INIT(p);
  const int32_t depth = p->depth, units = p->units, groups4 = units / 4;
  for (int32_t b = 0; b < p->batches; ++b, out += units) {
    const int8_t *x = in + b * depth;
    const int8_t *w = p->w;
    int32_t u = 0;
    for (int32_t g = 0; g < groups4; ++g, u += 4) {
      int32_t s[4] = {p->bias[u], p->bias[u + 1], p->bias[u + 2], p->bias[u + 3]};
      w = tm_dot_1x4(x, w, depth, s);
      out[u] = tm_rq(&q, s[0], u, fast, full);
      out[u + 1] = tm_rq(&q, s[1], u + 1, fast, full);
      out[u + 2] = tm_rq(&q, s[2], u + 2, fast, full);
      out[u + 3] = tm_rq(&q, s[3], u + 3, fast, full);
    }
    for (; u < units; ++u, w += depth)
      out[u] = tm_rq(&q, tm_dot_1x1(x, w, depth, p->bias[u]), u, fast, full);
  }
}

static void tm_fully_connected(const tm_fully_connected_t *TM_RESTRICT p, const int8_t *in,
                               int8_t *out) {
  if (p->fast && TM_FULL_RANGE(p))
    tm_fully_connected_body(p, in, out, 1, 1);
  else
    tm_fully_connected_body(p, in, out, p->fast, 0);
}
