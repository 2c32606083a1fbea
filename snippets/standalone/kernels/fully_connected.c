/* FULLY_CONNECTED, int8 (TFLite's FullyConnected / FullyConnectedPerChannel).
 * `bias` is bias + input_offset·Σw per unit; per-tensor models repeat one multiplier.
 * Four units at a time: the generator interleaves their weights, for each group of 4 inputs
 * 4 bytes of each unit in turn, then for each trailing input (depth % 4) one byte of each;
 * the last units % 4 rows follow one after the other. */
typedef struct {
  int32_t batches, depth, units;
  int32_t out_offset, act_min, act_max;
  const int8_t *w;      /* interleaved by 4 units, then the remaining rows */
  const int32_t *bias;  /* folded */
  const int32_t *rq;    /* requantization per unit (see common.h) */
  int32_t fast;         /* the fast requantization is exact (see common.h) */
} tm_fully_connected_t;

/* s[0..3] += x · (4 interleaved units) over n4 groups of 4 inputs (n4 >= 1). */
#if TM_DSP && defined(__OPTIMIZE__) && !defined(TM_NO_ASM)
void tm_fc_1x4(const int8_t *x, const int8_t *w, int32_t n4, int32_t *s);
/* The 16 weight bytes of a group in one LDM; 20 instructions per 16 multiply-accumulates,
 * the loop unrolled twice (an odd count of groups enters at the second half). */
#define TM_FC_UNIT(acc, wr)               \
  "sxtb16 r3, " wr "\n\t"                 \
  "smlad  " acc ", r8, r3, " acc "\n\t"   \
  "sxtb16 " wr ", " wr ", ror #8\n\t"     \
  "smlad  " acc ", r9, " wr ", " acc "\n\t"
#define TM_FC_GROUP                       \
  "ldr    r9, [r0], #4\n\t"               \
  "ldm    r1!, {r10, r11, r12, lr}\n\t"   \
  "sxtb16 r8, r9\n\t"                     \
  "sxtb16 r9, r9, ror #8\n\t"             \
  TM_FC_UNIT("r4", "r10")                 \
  TM_FC_UNIT("r5", "r11")                 \
  TM_FC_UNIT("r6", "r12")                 \
  TM_FC_UNIT("r7", "lr")
__asm__(
    "  .pushsection .text.tm_fc_1x4,\"ax\",%progbits\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .p2align 2\n"
    "  .global tm_fc_1x4\n"
    "  .type tm_fc_1x4, %function\n"
    "  .thumb_func\n"
    "tm_fc_1x4:\n\t"
    "push   {r3-r11, lr}\n\t"
    "ldm    r3, {r4, r5, r6, r7}\n\t"
    "lsls   r3, r2, #31\n\t"
    "add    r2, r0, r2, lsl #2\n\t"
    "bne    2f\n"
    "1:\n\t"
    TM_FC_GROUP
    "2:\n\t"
    TM_FC_GROUP
    "cmp    r0, r2\n\t"
    "bne    1b\n\t"
    "pop    {r3}\n\t"
    "stm    r3, {r4, r5, r6, r7}\n\t"
    "pop    {r4-r11, pc}\n"
    "  .size tm_fc_1x4, .-tm_fc_1x4\n"
    "  .popsection\n");
#else
static void tm_fc_1x4(const int8_t *x, const int8_t *w, int32_t n4, int32_t *s) {
  int32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
  for (const int8_t *end = x + 4 * n4; x < end; x += 4, w += 16) {
#if TM_DSP
    const uint32_t a = tm_load32(x);
    const uint32_t a02 = __sxtb16(a), a13 = tm_sxtb16_ror8(a);
    uint32_t v = tm_load32(w);
    s0 = __smlad(a13, tm_sxtb16_ror8(v), __smlad(a02, __sxtb16(v), s0));
    v = tm_load32(w + 4);
    s1 = __smlad(a13, tm_sxtb16_ror8(v), __smlad(a02, __sxtb16(v), s1));
    v = tm_load32(w + 8);
    s2 = __smlad(a13, tm_sxtb16_ror8(v), __smlad(a02, __sxtb16(v), s2));
    v = tm_load32(w + 12);
    s3 = __smlad(a13, tm_sxtb16_ror8(v), __smlad(a02, __sxtb16(v), s3));
#else
    for (int j = 0; j < 4; ++j) {
      const int32_t a = x[j];
      s0 += a * w[j];
      s1 += a * w[4 + j];
      s2 += a * w[8 + j];
      s3 += a * w[12 + j];
    }
#endif
  }
  s[0] = s0;
  s[1] = s1;
  s[2] = s2;
  s[3] = s3;
}
#endif

TM_ALWAYS_INLINE void tm_fully_connected_body(const tm_fully_connected_t *TM_RESTRICT p,
                                              const int8_t *in, int8_t *out, const int fast,
                                              const int full) {
  const tm_rq_t q = TM_RQ_INIT(p);
  const int32_t depth = p->depth, units = p->units, n4 = depth >> 2;
  const int32_t quads = units >> 2;
  for (int32_t b = 0; b < p->batches; ++b, out += units) {
    const int8_t *x = in + b * depth;
    const int8_t *w = p->w;
    for (int32_t g = 0; g < quads; ++g) {
      const int32_t u = 4 * g;
      int32_t s[4] = {p->bias[u], p->bias[u + 1], p->bias[u + 2], p->bias[u + 3]};
      if (n4) tm_fc_1x4(x, w, n4, s);
      w += 16 * n4;
      for (int32_t k = 4 * n4; k < depth; ++k, w += 4) {
        const int32_t a = x[k];
        s[0] += a * w[0];
        s[1] += a * w[1];
        s[2] += a * w[2];
        s[3] += a * w[3];
      }
      out[u] = tm_rq(&q, s[0], u, fast, full);
      out[u + 1] = tm_rq(&q, s[1], u + 1, fast, full);
      out[u + 2] = tm_rq(&q, s[2], u + 2, fast, full);
      out[u + 3] = tm_rq(&q, s[3], u + 3, fast, full);
    }
    for (int32_t r = 0; r < (units & 3); ++r, w += depth) {  /* the remaining rows */
      const int32_t u = 4 * quads + r;
      int32_t acc = p->bias[u];
      for (int32_t k = 0; k < depth; ++k) acc += x[k] * w[k];
      out[u] = tm_rq(&q, acc, u, fast, full);
    }
  }
}

static void tm_fully_connected(const tm_fully_connected_t *TM_RESTRICT p, const int8_t *in,
                               int8_t *out) {
  if (p->fast && TM_FULL_RANGE(p))
    tm_fully_connected_body(p, in, out, 1, 1);
  else
    tm_fully_connected_body(p, in, out, p->fast, 0);
}
