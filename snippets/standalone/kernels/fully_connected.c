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

#if TM_DSP && defined(__OPTIMIZE__) && !defined(TM_NO_ASM)
/* Every group of 4 units of one input row (depth a multiple of 4), requantized in place
 * (the fast requantization with the full int8 range, see common.h). */
typedef struct {
  const int8_t *x, *w;
  const int32_t *bias, *rq;
  int8_t *out;
  int32_t n4, quads;
} tm_fc_rq_t;
void tm_fc_4_rq(const tm_fc_rq_t *a);
__asm__(
    "  .pushsection .text.tm_fc_4_rq,\"ax\",%progbits\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .p2align 2\n"
    "  .global tm_fc_4_rq\n"
    "  .type tm_fc_4_rq, %function\n"
    "  .thumb_func\n"
    "tm_fc_4_rq:\n\t"
    "push   {r4-r11, lr}\n\t"
    "sub    sp, sp, #28\n\t"
    "ldm    r0, {r2, r3, r4, r5, r6, r7, r8}\n\t"
    "str    r2, [sp, #0]\n\t"        /* x start */
    "add    r9, r2, r7, lsl #2\n\t"
    "str    r9, [sp, #4]\n\t"        /* x end */
    "str    r4, [sp, #8]\n\t"        /* bias */
    "str    r5, [sp, #12]\n\t"       /* rq */
    "str    r6, [sp, #16]\n\t"       /* out */
    "and    r7, r7, #3\n\t"
    "str    r7, [sp, #20]\n\t"       /* groups % 4 */
    "str    r8, [sp, #24]\n\t"       /* quads left */
    "mov    r1, r3\n"
    "1:\n\t"
    "ldr    r3, [sp, #8]\n\t"
    "ldm    r3!, {r4, r5, r6, r7}\n\t"
    "str    r3, [sp, #8]\n\t"
    "ldr    r0, [sp, #0]\n\t"
    "ldr    r2, [sp, #4]\n\t"
    "ldr    r3, [sp, #20]\n\t"
    TM_FC_LOOP
    "ldr    r3, [sp, #12]\n\t"
    "ldm    r3!, {r8, r9, r10, r11, r12, lr}\n\t"
    TM_RQ_ASM("r4", "r8", "r9", "r10", "r0")
    TM_RQ_ASM("r5", "r11", "r12", "lr", "r0")
    "ldm    r3!, {r8, r9, r10, r11, r12, lr}\n\t"
    TM_RQ_ASM("r6", "r8", "r9", "r10", "r0")
    TM_RQ_ASM("r7", "r11", "r12", "lr", "r0")
    "str    r3, [sp, #12]\n\t"
    "ldr    r0, [sp, #16]\n\t"
    "strb   r4, [r0, #0]\n\t"
    "strb   r5, [r0, #1]\n\t"
    "strb   r6, [r0, #2]\n\t"
    "strb   r7, [r0, #3]\n\t"
    "adds   r0, r0, #4\n\t"
    "str    r0, [sp, #16]\n\t"
    "ldr    r3, [sp, #24]\n\t"
    "subs   r3, r3, #1\n\t"
    "str    r3, [sp, #24]\n\t"
    "bne    1b\n\t"
    "add    sp, sp, #28\n\t"
    "pop    {r4-r11, pc}\n"
    "  .size tm_fc_4_rq, .-tm_fc_4_rq\n"
    "  .popsection\n");
#define TM_FC_RQ_ASM 1
#else
#define TM_FC_RQ_ASM 0
#endif

TM_ALWAYS_INLINE void tm_fully_connected_body(const tm_fully_connected_t *TM_RESTRICT p,
                                              const int8_t *in, int8_t *out, const int fast,
                                              const int full) {
  const tm_rq_t q = TM_RQ_INIT(p);
  const int32_t depth = p->depth, units = p->units, quads = units >> 2;
  for (int32_t b = 0; b < p->batches; ++b, out += units) {
    const int8_t *x = in + b * depth;
    const int8_t *w = p->w;
    for (int32_t g = 0; g < quads; ++g) {
      const int32_t u = 4 * g;
      int32_t s[4] = {p->bias[u], p->bias[u + 1], p->bias[u + 2], p->bias[u + 3]};
      w = tm_dot4(x, w, depth, s);
      out[u] = tm_rq(&q, s[0], u, fast, full);
      out[u + 1] = tm_rq(&q, s[1], u + 1, fast, full);
      out[u + 2] = tm_rq(&q, s[2], u + 2, fast, full);
      out[u + 3] = tm_rq(&q, s[3], u + 3, fast, full);
    }
    /* the remaining rows; a loop counted from 0 (not `for (; u < units; ...)`), so that GCC
     * cannot assume an iteration that would overflow the index */
    for (int32_t r = 0; r < (units & 3); ++r, w += depth) {
      const int32_t u = 4 * quads + r;
      int32_t acc = p->bias[u];
      for (int32_t k = 0; k < depth; ++k) acc += x[k] * w[k];
      out[u] = tm_rq(&q, acc, u, fast, full);
    }
  }
}

TM_NOINLINE void tm_fully_connected_full(const tm_fully_connected_t *TM_RESTRICT p,
                                        const int8_t *in, int8_t *out) {
  tm_fully_connected_body(p, in, out, 1, 1);
}

TM_NOINLINE void tm_fully_connected_any(const tm_fully_connected_t *TM_RESTRICT p,
                                       const int8_t *in, int8_t *out) {
  tm_fully_connected_body(p, in, out, p->fast, 0);
}

#if TM_FC_RQ_ASM
/* Every row through the assembly loop, requantized there. */
TM_NOINLINE void tm_fully_connected_asm(const tm_fully_connected_t *TM_RESTRICT p,
                                       const int8_t *in, int8_t *out) {
  static tm_fc_rq_t args;  /* static: the stack stays as small as before */
  for (int32_t b = 0; b < p->batches; ++b) {
    args = (tm_fc_rq_t){in + b * p->depth, p->w, p->bias, p->rq, out + b * p->units,
                        p->depth >> 2, p->units >> 2};
    tm_fc_4_rq(&args);
  }
}
#endif

static void tm_fully_connected(const tm_fully_connected_t *TM_RESTRICT p, const int8_t *in,
                               int8_t *out) {
#if TM_FC_RQ_ASM
  if (p->fast && TM_FULL_RANGE(p) && !(p->depth & 3) && !(p->units & 3) && p->depth)
    tm_fully_connected_asm(p, in, out);
  else
#endif
  if (p->fast && TM_FULL_RANGE(p))
    tm_fully_connected_full(p, in, out);
  else
    tm_fully_connected_any(p, in, out);
}
