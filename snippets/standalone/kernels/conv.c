/* CONV_2D, int8 NHWC, per-channel requantization (TFLite's ConvPerChannel).
 * `bias` already holds bias + input_offset·Σw (folded at generation time), and taps outside
 * the image read the input zero point, which contributes (zp + input_offset)·w = 0 exactly
 * as TFLite's "skip the tap" does.
 *
 * Output pixels are computed two at a time against two output channels at a time
 * (tm_mac_2x2 in gemm.c): each pixel's window is widened once to int16 into `scratch`, read
 * from the image as k_h runs of k_w·in_c bytes, or first gathered when it reaches outside the
 * image (the zero point for the outside taps) or is dilated (`im2col`). The filters are rows of
 * `w_stride` bytes (each kernel row in whole groups of 4, see tm_conv_widen; with `im2col`,
 * k_h·k_w·in_c zero-padded to a multiple of 4), interleaved as gemm.c says.
 * Scratch: the accumulators of one pair of channels (16 bytes) and the widened pair of
 * windows (4·w_stride bytes); the gathered window (w_stride bytes, when needed) apart in
 * `gather`. */
typedef struct {
  int16_t batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, groups;
  int16_t stride_h, stride_w, dil_h, dil_w, pad_t, pad_l;
  int32_t in_zp, out_offset, act_min, act_max;
  const int8_t *w;      /* interleaved as above; [out_c][k_h][k_w][in_c / groups] for the
                           generic path (groups > 1 or k_h > TM_CONV_MAX_ROWS) */
  const int16_t *w16;   /* or the weights as int16 (gemm.c's tm_mac16_2x2_rq, or the lean
                           kernel's, conv_lean.c), else 0 */
  int32_t w_stride;     /* weights per output channel */
  const int32_t *bias;  /* folded */
  const int32_t *rq;    /* requantization per output channel (see common.h) */
  int32_t fast;         /* the fast requantization is exact (see common.h) */
  int32_t im2col;       /* gather every window (dilated kernels) */
  int8_t *scratch;      /* as above, or 0 for the generic path and the lean kernel */
  int8_t *gather;       /* the gathered window, or 0 when no window needs gathering */
  const int8_t *zp_row; /* in_c bytes of the input zero point */
} tm_conv_t;

#define TM_CONV_MAX_ROWS 16

/* The generator says which forms its steps take (see emit.py): code for the others is left
 * out. GENERIC: groups or tall kernels; FULL: int8 weights, the fast requantization to the full
 * int8 range; ANY: int8 weights otherwise; INT16: int16 weights (always fast, full range). */
#ifndef TM_CONV_GENERIC
#define TM_CONV_GENERIC 1
#endif
#ifndef TM_CONV_FULL
#define TM_CONV_FULL 1
#endif
#ifndef TM_CONV_ANY
#define TM_CONV_ANY 1
#endif
#ifndef TM_CONV_INT16
#define TM_CONV_INT16 1
#endif

#if TM_CONV_GENERIC
/* Scalar path: grouped convolutions and kernels taller than TM_CONV_MAX_ROWS. */
static void tm_conv_generic(const tm_conv_t *TM_RESTRICT p, const int8_t *in, int8_t *out) {
  const tm_rq_t q = TM_RQ_INIT(p);
  const int cpg = p->in_c / p->groups;
  const int opg = p->out_c / p->groups;
  for (int b = 0; b < p->batches; ++b) {
    const int8_t *img = in + (int32_t)b * p->in_h * p->in_w * p->in_c;
    for (int oy = 0; oy < p->out_h; ++oy) {
      const int iy0 = oy * p->stride_h - p->pad_t;
      for (int ox = 0; ox < p->out_w; ++ox) {
        const int ix0 = ox * p->stride_w - p->pad_l;
        for (int oc = 0; oc < p->out_c; ++oc) {
          const int g = oc / opg;
          const int8_t *w = p->w + (int32_t)oc * p->w_stride;
          int32_t acc = p->bias[oc];
          for (int ky = 0; ky < p->k_h; ++ky) {
            const int iy = iy0 + ky * p->dil_h;
            for (int kx = 0; kx < p->k_w; ++kx, w += cpg) {
              const int ix = ix0 + kx * p->dil_w;
              const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
              const int8_t *x = inside ? img + ((int32_t)iy * p->in_w + ix) * p->in_c + g * cpg
                                       : p->zp_row;
              for (int c = 0; c < cpg; ++c) acc += w[c] * x[c];
            }
          }
          *out++ = tm_rq(&q, acc, oc, p->fast, 0);
        }
      }
    }
  }
}

#endif

/* Is the window at input origin (iy0, ix0) inside the image (read in place)? */
TM_INLINE int tm_conv_inside(const tm_conv_t *TM_RESTRICT p, int iy0, int ix0) {
  return !p->im2col && iy0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < p->in_h && ix0 >= 0 &&
         ix0 + (p->k_w - 1) * p->dil_w < p->in_w;
}

/* n bytes copied from src by words (unaligned loads and stores on Cortex-M4); returns where
 * dst ends. TM_OPAQUE keeps GCC from making such loops calls of memcpy or memset (the runtime
 * needs nothing from libc). */
#if defined(__GNUC__)
#define TM_OPAQUE(x) __asm__("" : "+r"(x))
#else
#define TM_OPAQUE(x) (void)0
#endif
TM_INLINE int8_t *tm_put_run(int8_t *dst, const int8_t *src, int32_t n) {
  for (; n >= 4; n -= 4, dst += 4, src += 4) {
    tm_store32(dst, tm_load32(src));
    TM_OPAQUE(dst);
  }
  for (; n > 0; --n) {
    *dst++ = *src++;
    TM_OPAQUE(dst);
  }
  return dst;
}

/* Gather the window at input origin (iy0, ix0) into `dst` (k_h·k_w·in_c bytes, the zero point
 * for taps outside the image): undilated kernel rows inside the image as runs, tap by tap only
 * rows outside it or dilated ones. All in one function: a call for the edges would deepen the
 * stack. */
static void tm_conv_gather(const tm_conv_t *TM_RESTRICT p, const int8_t *img, int iy0,
                           int ix0, int8_t *dst) {
  const int c = p->in_c;
  const int cols_in = p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w;
  for (int ky = 0; ky < p->k_h; ++ky) {
    const int iy = iy0 + ky * p->dil_h;
    if (cols_in && iy >= 0 && iy < p->in_h) {  /* the whole kernel row: one run to copy */
      dst = tm_put_run(dst, img + ((int32_t)iy * p->in_w + ix0) * c, (int32_t)p->k_w * c);
      continue;
    }
    if (iy < 0 || iy >= p->in_h) {  /* a row above or below the image: the zero point */
      const uint32_t zp4 = (uint8_t)p->in_zp * 0x01010101u;
      int32_t n = (int32_t)p->k_w * c;
      for (; n >= 4; n -= 4, dst += 4) {
        tm_store32(dst, zp4);
        TM_OPAQUE(dst);
      }
      for (; n > 0; --n) {
        *dst++ = (int8_t)zp4;
        TM_OPAQUE(dst);
      }
      continue;
    }
    if (p->dil_w == 1) {  /* the inside taps as one run */
      const int lo = ix0 < 0 ? TM_MIN(-ix0, p->k_w) : 0;
      const int hi = TM_MAX(TM_MIN(p->in_w - ix0, p->k_w), lo);
      for (int32_t i = 0, n = (int32_t)lo * c; i < n; ++i) {
        *dst++ = (int8_t)p->in_zp;
        TM_OPAQUE(dst);
      }
      dst = tm_put_run(dst, img + ((int32_t)iy * p->in_w + ix0 + lo) * c, (int32_t)(hi - lo) * c);
      for (int32_t i = 0, n = (int32_t)(p->k_w - hi) * c; i < n; ++i) {
        *dst++ = (int8_t)p->in_zp;
        TM_OPAQUE(dst);
      }
      continue;
    }
    for (int kx = 0; kx < p->k_w; ++kx, dst += c) {
      const int ix = ix0 + kx * p->dil_w;
      const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
      const int8_t *src = inside ? img + ((int32_t)iy * p->in_w + ix) * c : p->zp_row;
      for (int i = 0; i < c; ++i) dst[i] = src[i];
    }
  }
}

/* Widen the window of output pixel `pix` into lane `dst` of the pair buffer: with `im2col`,
 * the window gathered as one run (zero-padded to w_stride); else its k_h rows, in place or
 * gathered first, each as whole groups of 4: a row of len bytes (len % 4 != 0, len > 4) ends
 * with the group of its last 4 bytes, which overlaps the one before (the generator zeroes the
 * weights of the overlap): widening a word costs as much as a single byte. */
static void tm_conv_widen(const tm_conv_t *TM_RESTRICT p, const int8_t *img, int32_t pix,
                          int8_t *gather, int16_t *dst) {
  const int iy0 = (int)(pix / p->out_w) * p->stride_h - p->pad_t;
  const int ix0 = (int)(pix % p->out_w) * p->stride_w - p->pad_l;
  const int32_t len = (int32_t)p->k_w * p->in_c;
  if (p->im2col) {
    const int32_t k = (int32_t)p->k_h * len;
    static const int8_t zeros[4] = {0, 0, 0, 0};
    tm_conv_gather(p, img, iy0, ix0, gather);
    tm_widen(dst, 0, gather, k);
    if (p->w_stride > k) tm_widen(dst, k, zeros, p->w_stride - k);  /* the padding (weights 0) */
    return;
  }
  const int8_t *src = gather;
  int32_t step = len;
  if (tm_conv_inside(p, iy0, ix0)) {
    src = img + ((int32_t)iy0 * p->in_w + ix0) * p->in_c;
    step = (int32_t)p->dil_h * p->in_w * p->in_c;
  } else {
    tm_conv_gather(p, img, iy0, ix0, gather);
  }
  for (int r = 0; r < p->k_h; ++r, src += step) dst = tm_widen_run(dst, src, len);
}

TM_ALWAYS_INLINE void tm_conv_body(const tm_conv_t *TM_RESTRICT p, const int8_t *in,
                                   int8_t *out, const int fast, const int full,
                                   const int wide) {
  const tm_rq_t q = TM_RQ_INIT(p);
  const int32_t n4 = p->w_stride >> 2, oc_n = p->out_c, pairs = oc_n >> 1;
  const int32_t pixels = (int32_t)p->out_h * p->out_w;
  int32_t *acc = (int32_t *)(void *)p->scratch;  /* one pair of channels */
  int16_t *xb = (int16_t *)(void *)(acc + 4);
  int8_t *gather = p->gather;
  const int16_t *w16 = p->w16;  /* with `wide` (even out_c), doubled, as the bias */
  for (int b = 0; b < p->batches; ++b) {
    const int8_t *img = in + (int32_t)b * p->in_h * p->in_w * p->in_c;
    for (int32_t px = 0; px < pixels; px += 2) {
      const int two = px + 1 < pixels;
      int8_t *pb = two ? out + oc_n : out;  /* a lone last pixel: B repeats A */
      tm_conv_widen(p, img, px, gather, xb);
      tm_conv_widen(p, img, two ? px + 1 : px, gather, xb + 4);
#if TM_MAC_RQ_ASM
      if (fast && full && (pairs || wide)) {  /* requantized in the assembly loop */
        static tm_mac_rq_t args;  /* static: the stack stays as small as before */
        args = (tm_mac_rq_t){xb, wide ? (const int8_t *)(const void *)w16 : p->w, p->bias,
                             p->rq, out, (int32_t)(pb - out), n4, pairs};
        if (wide)
          tm_mac16_2x2_rq(&args);
        else
          tm_mac_2x2_rq(&args);
      } else
#endif
      {
        const int8_t *w = p->w;
        for (int32_t i = 0; i < pairs; ++i, w += 8 * n4) {
          if (wide)
            tm_mac16_2x2(xb, w16 + 8 * n4 * i, p->bias + 2 * i, acc, n4, 1);
          else
            tm_mac_2x2(xb, w, p->bias + 2 * i, acc, n4, 1);
          out[2 * i] = tm_rq(&q, acc[0], 2 * i, fast, full);
          out[2 * i + 1] = tm_rq(&q, acc[1], 2 * i + 1, fast, full);
          pb[2 * i] = tm_rq(&q, acc[2], 2 * i, fast, full);
          pb[2 * i + 1] = tm_rq(&q, acc[3], 2 * i + 1, fast, full);
        }
      }
      if (oc_n & 1) {
        tm_mac_2x1(xb, p->w + pairs * 2 * p->w_stride, p->bias[oc_n - 1], acc, n4);
        out[oc_n - 1] = tm_rq(&q, acc[0], oc_n - 1, fast, full);
        pb[oc_n - 1] = tm_rq(&q, acc[1], oc_n - 1, fast, full);
      }
      out += two ? 2 * oc_n : oc_n;
    }
  }
}

TM_UNUSED static void tm_conv(const tm_conv_t *TM_RESTRICT p, const int8_t *in,
                              int8_t *out) {
#if TM_CONV_GENERIC
  if (p->groups != 1 || p->k_h > TM_CONV_MAX_ROWS) {
    tm_conv_generic(p, in, out);
    return;
  }
#endif
#if TM_CONV_INT16
  if (p->w16) {  /* the generator gives int16 weights to fast, full-range steps only */
    tm_conv_body(p, in, out, 1, 1, 1);
    return;
  }
#endif
#if TM_CONV_FULL
  if (p->fast && TM_FULL_RANGE(p)) {
    tm_conv_body(p, in, out, 1, 1, 0);
    return;
  }
#endif
#if TM_CONV_ANY
  tm_conv_body(p, in, out, p->fast, 0, 0);
#endif
  (void)in;
  (void)out;
}
