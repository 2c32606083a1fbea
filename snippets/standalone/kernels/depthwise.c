/* DEPTHWISE_CONV_2D, int8 NHWC with depth multiplier (TFLite's DepthwiseConvPerChannel).
 * Same folding as conv: `bias` includes input_offset·Σw, outside taps read the zero point.
 *
 * With depth multiplier 1 (`blocked`), each output pixel first finds its taps (an input
 * pixel, or the zero-point row), then runs over the channels four at a time; the generator
 * lays the weights out for that: for each block of 4 channels, the 4 weights of every tap in
 * turn, then, for each remaining channel, its weight of every tap. With DSP, one load brings
 * four channels, SXTB16 widens them and SMLABB/SMLATT accumulate. */
typedef struct {
  int16_t batches, in_h, in_w, in_c, out_h, out_w, mult_c, k_h, k_w;
  int16_t stride_h, stride_w, dil_h, dil_w, pad_t, pad_l;
  int32_t in_zp, out_offset, act_min, act_max;
  const int8_t *w;      /* blocked as above, or [k_h][k_w][in_c * mult_c] */
  const int32_t *bias;  /* folded */
  const int32_t *rq;    /* requantization per output channel (see common.h) */
  int32_t fast;         /* the fast requantization is exact (see common.h) */
  int32_t blocked;      /* depth multiplier 1 and the blocked weight layout */
  const int8_t *zp_row; /* in_c bytes of the input zero point */
} tm_depthwise_t;

#define TM_DW_MAX_TAPS 64

TM_NOINLINE void tm_depthwise_generic(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in,
                                 int8_t *out) {
  const tm_rq_t q = TM_RQ_INIT(p);
  const int out_c = p->in_c * p->mult_c;
  for (int b = 0; b < p->batches; ++b) {
    const int8_t *img = in + (int32_t)b * p->in_h * p->in_w * p->in_c;
    for (int oy = 0; oy < p->out_h; ++oy) {
      const int iy0 = oy * p->stride_h - p->pad_t;
      for (int ox = 0; ox < p->out_w; ++ox) {
        const int ix0 = ox * p->stride_w - p->pad_l;
        for (int ic = 0; ic < p->in_c; ++ic) {
          for (int m = 0; m < p->mult_c; ++m) {
            const int oc = ic * p->mult_c + m;
            int32_t acc = p->bias[oc];
            for (int ky = 0; ky < p->k_h; ++ky) {
              const int iy = iy0 + ky * p->dil_h;
              for (int kx = 0; kx < p->k_w; ++kx) {
                const int ix = ix0 + kx * p->dil_w;
                const int32_t wv = p->w[(ky * p->k_w + kx) * out_c + oc];
                const int32_t xv = (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w)
                    ? p->in_zp : img[((int32_t)iy * p->in_w + ix) * p->in_c + ic];
                acc += wv * xv;
              }
            }
            *out++ = tm_rq(&q, acc, oc, p->fast, 0);
          }
        }
      }
    }
  }
}

#if TM_DSP && defined(__OPTIMIZE__) && !defined(TM_NO_ASM)
#define TM_DW_ASM 1
/* Every whole block of 4 channels of one output pixel, requantized in place (the fast
 * requantization with the full int8 range, see common.h). Taps are byte offsets from `base`
 * (`offs` to `oend`); the tap loop is unrolled three times, entered so that taps % 3 run
 * first, or nine times for 3×3 kernels (`rem` 3). 11 instructions per tap and 4 channels;
 * bias, requantization and output stay in registers (r12, lr and the stack) from block to
 * block. */
typedef struct {
  const int8_t *base;
  const int32_t *offs, *oend;
  const int8_t *w;
  const int32_t *bias, *rq;
  int8_t *out;
  int32_t blocks, rem;
} tm_dw_rq_t;
void tm_dw_4_rq(const tm_dw_rq_t *a);
#define TM_DW_TAP                         \
  "ldr    r8, [r1], #4\n\t"               \
  "ldr    r8, [r0, r8]\n\t"               \
  "ldr    r10, [r2], #4\n\t"              \
  "sxtb16 r9, r8\n\t"                     \
  "sxtb16 r11, r10\n\t"                   \
  "smlabb r4, r9, r11, r4\n\t"            \
  "smlatt r6, r9, r11, r6\n\t"            \
  "sxtb16 r8, r8, ror #8\n\t"             \
  "sxtb16 r10, r10, ror #8\n\t"           \
  "smlabb r5, r8, r10, r5\n\t"            \
  "smlatt r7, r8, r10, r7\n\t"
/* Requantize the block's four sums, store them, move on to the next block (flags: more). */
#define TM_DW_RQ_STORE                                                    \
    "ldm    lr!, {r1, r3, r8, r9, r10, r11}\n\t"                          \
    TM_RQ_ASM_R("r4", "r1", "r3", "r8")     /* channel 0 in r8 */          \
    TM_RQ_ASM_R("r5", "r9", "r10", "r11")   /* channel 1 in r11 */         \
    "ldm    lr!, {r1, r3, r4, r5, r9, r10}\n\t"                           \
    TM_RQ_ASM_R("r6", "r1", "r3", "r4")     /* channel 2 in r4 */          \
    TM_RQ_ASM_R("r7", "r5", "r9", "r10")    /* channel 3 in r10 */         \
    "ldr    r1, [sp, #12]\n\t"                                            \
    "strb   r8, [r1], #1\n\t"                                             \
    "strb   r11, [r1], #1\n\t"                                            \
    "strb   r4, [r1], #1\n\t"                                             \
    "strb   r10, [r1], #1\n\t"                                            \
    "str    r1, [sp, #12]\n\t"                                            \
    "adds   r0, r0, #4\n\t"                                               \
    "ldr    r3, [sp, #16]\n\t"                                            \
    "cmp    r0, r3\n\t"
/* Two taps whose weights come in one LDM (r3 is free in the nine-tap loop). */
#define TM_DW_TAP2                        \
  "ldm    r2!, {r3, r10}\n\t"             \
  "ldr    r8, [r1], #4\n\t"               \
  "ldr    r8, [r0, r8]\n\t"               \
  "sxtb16 r9, r8\n\t"                     \
  "sxtb16 r11, r3\n\t"                    \
  "smlabb r4, r9, r11, r4\n\t"            \
  "smlatt r6, r9, r11, r6\n\t"            \
  "sxtb16 r8, r8, ror #8\n\t"             \
  "sxtb16 r3, r3, ror #8\n\t"             \
  "smlabb r5, r8, r3, r5\n\t"             \
  "smlatt r7, r8, r3, r7\n\t"             \
  "ldr    r8, [r1], #4\n\t"               \
  "ldr    r8, [r0, r8]\n\t"               \
  "sxtb16 r9, r8\n\t"                     \
  "sxtb16 r11, r10\n\t"                   \
  "smlabb r4, r9, r11, r4\n\t"            \
  "smlatt r6, r9, r11, r6\n\t"            \
  "sxtb16 r8, r8, ror #8\n\t"             \
  "sxtb16 r10, r10, ror #8\n\t"           \
  "smlabb r5, r8, r10, r5\n\t"            \
  "smlatt r7, r8, r10, r7\n\t"
__asm__(
    "  .pushsection .text.tm_dw_4_rq,\"ax\",%progbits\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .p2align 2\n"
    "  .global tm_dw_4_rq\n"
    "  .type tm_dw_4_rq, %function\n"
    "  .thumb_func\n"
    "tm_dw_4_rq:\n\t"
    "push   {r4-r11, lr}\n\t"
    "sub    sp, sp, #20\n\t"
    "ldm    r0, {r0, r1, r2, r3, r4, r5, r6, r7, r8}\n\t"
    "strd   r1, r2, [sp, #0]\n\t"     /* offs, oend */
    "str    r8, [sp, #8]\n\t"         /* taps % 3, or 3: nine taps */
    "str    r6, [sp, #12]\n\t"        /* out */
    "add    r7, r0, r7, lsl #2\n\t"
    "str    r7, [sp, #16]\n\t"        /* base + 4 · blocks */
    "mov    r2, r3\n\t"               /* w */
    "mov    r12, r4\n\t"              /* bias */
    "mov    lr, r5\n\t"                /* rq */
    "cmp    r8, #3\n\t"
    "beq    6f\n"
    "1:\n\t"
    "ldm    r12!, {r4, r5, r6, r7}\n\t"
    "ldrd   r1, r3, [sp, #0]\n\t"
    "ldr    r8, [sp, #8]\n\t"
    "cmp    r8, #1\n\t"
    "beq    5f\n\t"
    "bhi    4f\n"
    "3:\n\t" TM_DW_TAP
    "4:\n\t" TM_DW_TAP
    "5:\n\t" TM_DW_TAP
    "cmp    r1, r3\n\t"
    "bne    3b\n\t"
    TM_DW_RQ_STORE
    "bne    1b\n\t"
    "b      7f\n"
    "6:\n\t"                          /* nine taps, unrolled */
    "ldm    r12!, {r4, r5, r6, r7}\n\t"
    "ldr    r1, [sp, #0]\n\t"
    TM_DW_TAP2 TM_DW_TAP2 TM_DW_TAP2 TM_DW_TAP2 TM_DW_TAP
    TM_DW_RQ_STORE
    "bne    6b\n"
    "7:\n\t"
    "add    sp, sp, #20\n\t"
    "pop    {r4-r11, pc}\n"
    "  .size tm_dw_4_rq, .-tm_dw_4_rq\n"
    "  .popsection\n");
#endif

TM_ALWAYS_INLINE void tm_depthwise_body(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in,
                                        int8_t *out, const int fast, const int full) {
  const tm_rq_t q = TM_RQ_INIT(p);
  const int taps = p->k_h * p->k_w;
  const int c_n = p->in_c, blocks = c_n / 4;
  const int32_t in_w = p->in_w, in_h = p->in_h;
#if TM_DW_ASM
  /* Taps as byte offsets from a base pointer: the same offsets for every window inside the
   * image; windows at the border get their own, the zero-point row as an offset too. One
   * table (the stack stays small): the inner offsets are written again after a border. */
  int32_t offs[TM_DW_MAX_TAPS];
  int inner = 0;  /* offs holds the inner offsets */
#else
  const int8_t *tap[TM_DW_MAX_TAPS];
#endif
  for (int b = 0; b < p->batches; ++b) {
    const int8_t *img = in + (int32_t)b * in_h * in_w * c_n;
    for (int oy = 0; oy < p->out_h; ++oy) {
      const int iy0 = oy * p->stride_h - p->pad_t;
      const int rows_in = iy0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < in_h;
      for (int ox = 0; ox < p->out_w; ++ox, out += c_n) {
        const int ix0 = ox * p->stride_w - p->pad_l;
#if TM_DW_ASM
        const int8_t *base = img;
        if (rows_in && ix0 >= 0 && ix0 + (p->k_w - 1) * p->dil_w < in_w) {
          base = img + ((int32_t)iy0 * in_w + ix0) * c_n;
          if (!inner) {
            for (int ky = 0, t = 0; ky < p->k_h; ++ky)
              for (int kx = 0; kx < p->k_w; ++kx, ++t)
                offs[t] = ((int32_t)ky * p->dil_h * in_w + kx * p->dil_w) * c_n;
            inner = 1;
          }
        } else {
          const int32_t zp_off = (int32_t)((uintptr_t)p->zp_row - (uintptr_t)img);
          for (int ky = 0, t = 0; ky < p->k_h; ++ky) {
            const int iy = iy0 + ky * p->dil_h;
            for (int kx = 0; kx < p->k_w; ++kx, ++t) {
              const int ix = ix0 + kx * p->dil_w;
              offs[t] = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w
                  ? ((int32_t)iy * in_w + ix) * c_n : zp_off;
            }
          }
          inner = 0;
        }
#else
        for (int ky = 0, t = 0; ky < p->k_h; ++ky) {
          const int iy = iy0 + ky * p->dil_h;
          const int row_ok = iy >= 0 && iy < in_h;
          const int8_t *row = img + (int32_t)iy * in_w * c_n;
          for (int kx = 0; kx < p->k_w; ++kx, ++t) {
            const int ix = ix0 + kx * p->dil_w;
            tap[t] = row_ok && ix >= 0 && ix < in_w ? row + ix * c_n : p->zp_row;
          }
        }
        (void)rows_in;
#endif
        const int8_t *w = p->w;
        int blk = 0;
#if TM_DW_ASM
        if (fast && full && blocks) {
          static tm_dw_rq_t args;  /* static: the stack stays as small as before */
          args = (tm_dw_rq_t){base, offs, offs + taps, w, p->bias, p->rq, out, blocks,
                              taps == 9 ? 3 : taps % 3};
          tm_dw_4_rq(&args);
          blk = blocks;
          w += 4 * taps * blocks;
        }
#endif
        for (int c = 4 * blk; blk < blocks; ++blk, c += 4) {
          int32_t a0 = p->bias[c], a1 = p->bias[c + 1], a2 = p->bias[c + 2],
                  a3 = p->bias[c + 3];
#if TM_DW_ASM
          {
            /* 14 instructions per tap and 4 channels, the four sums kept in registers */
            const int32_t *op = offs, *oend = offs + taps;
            const int8_t *bc = base + c;
            uint32_t xv, wv, x02, w02;
            __asm__ volatile(
                "1:\n\t"
                "ldr    %[xv], [%[op]], #4\n\t"
                "ldr    %[xv], [%[bc], %[xv]]\n\t"
                "ldr    %[wv], [%[w]], #4\n\t"
                "sxtb16 %[x02], %[xv]\n\t"
                "sxtb16 %[w02], %[wv]\n\t"
                "smlabb %[a0], %[x02], %[w02], %[a0]\n\t"
                "smlatt %[a2], %[x02], %[w02], %[a2]\n\t"
                "sxtb16 %[xv], %[xv], ror #8\n\t"
                "sxtb16 %[wv], %[wv], ror #8\n\t"
                "smlabb %[a1], %[xv], %[wv], %[a1]\n\t"
                "smlatt %[a3], %[xv], %[wv], %[a3]\n\t"
                "cmp    %[op], %[oend]\n\t"
                "bne    1b"
                : [op] "+r"(op), [w] "+r"(w), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2),
                  [a3] "+r"(a3), [xv] "=&r"(xv), [wv] "=&r"(wv), [x02] "=&r"(x02),
                  [w02] "=&r"(w02)
                : [oend] "r"(oend), [bc] "r"(bc)
                : "cc", "memory");
          }
#else
          for (int t = 0; t < taps; ++t, w += 4) {
            const int8_t *x = tap[t] + c;
#if TM_DSP
            const uint32_t xv = tm_load32(x), wv = tm_load32(w);
            const uint32_t x02 = __sxtb16(xv), x13 = tm_sxtb16_ror8(xv);
            const uint32_t w02 = __sxtb16(wv), w13 = tm_sxtb16_ror8(wv);
            a0 = __smlabb(x02, w02, a0);
            a2 = __smlatt(x02, w02, a2);
            a1 = __smlabb(x13, w13, a1);
            a3 = __smlatt(x13, w13, a3);
#else
            a0 += x[0] * w[0];
            a1 += x[1] * w[1];
            a2 += x[2] * w[2];
            a3 += x[3] * w[3];
#endif
          }
#endif
          out[c] = tm_rq(&q, a0, c, fast, full);
          out[c + 1] = tm_rq(&q, a1, c + 1, fast, full);
          out[c + 2] = tm_rq(&q, a2, c + 2, fast, full);
          out[c + 3] = tm_rq(&q, a3, c + 3, fast, full);
        }
        for (int c = blocks * 4; c < c_n; ++c) {
          int32_t acc = p->bias[c];
#if TM_DW_ASM
          for (int t = 0; t < taps; ++t)  /* an offset may lead to the zero-point row */
            acc += *(const int8_t *)((uintptr_t)base + (uintptr_t)(offs[t] + c)) * *w++;
#else
          for (int t = 0; t < taps; ++t) acc += tap[t][c] * *w++;
#endif
          out[c] = tm_rq(&q, acc, c, fast, full);
        }
      }
    }
  }
}

/* Each form its own function: their frames (the tap tables) side by side, not summed. */
TM_NOINLINE void tm_depthwise_full(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in,
                                   int8_t *out) {
  tm_depthwise_body(p, in, out, 1, 1);
}

TM_NOINLINE void tm_depthwise_any(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in,
                                  int8_t *out) {
  tm_depthwise_body(p, in, out, p->fast, 0);
}

static void tm_depthwise(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in, int8_t *out) {
  if (!p->blocked)
    tm_depthwise_generic(p, in, out);
  else if (p->fast && TM_FULL_RANGE(p))
    tm_depthwise_full(p, in, out);
  else
    tm_depthwise_any(p, in, out);
}
