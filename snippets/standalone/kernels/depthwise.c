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

static void tm_depthwise_generic(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in,
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
#endif

TM_ALWAYS_INLINE void tm_depthwise_body(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in,
                                        int8_t *out, const int fast, const int full) {
  const tm_rq_t q = TM_RQ_INIT(p);
  const int taps = p->k_h * p->k_w;
  const int c_n = p->in_c, blocks = c_n / 4;
  const int32_t in_w = p->in_w, in_h = p->in_h;
#if TM_DW_ASM
  /* Taps as byte offsets from a base pointer: the same offsets for every window inside the
   * image; windows at the border get their own, the zero-point row as an offset too. */
  int32_t inner[TM_DW_MAX_TAPS], border[TM_DW_MAX_TAPS];
  for (int ky = 0, t = 0; ky < p->k_h; ++ky)
    for (int kx = 0; kx < p->k_w; ++kx, ++t)
      inner[t] = ((int32_t)ky * p->dil_h * in_w + kx * p->dil_w) * c_n;
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
        const int32_t *offs = border;
        if (rows_in && ix0 >= 0 && ix0 + (p->k_w - 1) * p->dil_w < in_w) {
          base = img + ((int32_t)iy0 * in_w + ix0) * c_n;
          offs = inner;
        } else {
          const int32_t zp_off = (int32_t)((uintptr_t)p->zp_row - (uintptr_t)img);
          for (int ky = 0, t = 0; ky < p->k_h; ++ky) {
            const int iy = iy0 + ky * p->dil_h;
            for (int kx = 0; kx < p->k_w; ++kx, ++t) {
              const int ix = ix0 + kx * p->dil_w;
              border[t] = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w
                  ? ((int32_t)iy * in_w + ix) * c_n : zp_off;
            }
          }
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
        for (int blk = 0, c = 0; blk < blocks; ++blk, c += 4) {
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

static void tm_depthwise(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in, int8_t *out) {
  if (!p->blocked)
    tm_depthwise_generic(p, in, out);
  else if (p->fast && TM_FULL_RANGE(p))
    tm_depthwise_body(p, in, out, 1, 1);
  else
    tm_depthwise_body(p, in, out, p->fast, 0);
}
