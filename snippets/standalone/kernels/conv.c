/* CONV_2D, int8 NHWC, per-channel requantization (TFLite's ConvPerChannel).
 * `bias` already holds bias + input_offset·Σw (folded at generation time), and taps outside
 * the image read the input zero point, which contributes (zp + input_offset)·w = 0 exactly
 * as TFLite's "skip the tap" does.
 *
 * Each output pixel is computed against four output channels at a time (tm_dot_1x4; the
 * generator interleaves the filters of each group of four, see common.h; the last out_c % 4
 * filters follow one after the other). A pixel's window is k_h runs of k_w·in_c bytes: read
 * in place when the window lies inside the image, else gathered into `scratch` with the
 * zero point for the outside taps. With `im2col`, every window is gathered into one run of
 * `w_stride` bytes (the filters are zero-padded to a multiple of 4 at generation time, so the
 * padding bytes of the run, whatever they hold, add nothing). */
typedef struct {
  int16_t batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, groups;
  int16_t stride_h, stride_w, dil_h, dil_w, pad_t, pad_l;
  int32_t in_zp, out_offset, act_min, act_max;
  const int8_t *w;      /* interleaved by 4 as above; [out_c][k_h][k_w][in_c / groups] for the
                           generic path (groups > 1 or k_h > TM_CONV_MAX_ROWS) */
  int32_t w_stride;     /* weights per output channel (k_h · k_w · in_c, padded with im2col) */
  const int32_t *bias;  /* folded */
  const int32_t *rq;    /* (multiplier, shift) per output channel */
  int32_t fast;         /* the fast requantization is exact (see common.h) */
  int32_t im2col;       /* gather every window into one run */
  int8_t *scratch;      /* one window of w_stride bytes, or 0 if never needed */
  const int8_t *zp_row; /* in_c bytes of the input zero point */
} tm_conv_t;

#define TM_CONV_MAX_ROWS 16

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
          *out++ = tm_rq(&q, acc, oc, 0, 0);
        }
      }
    }
  }
}

/* The runs of the window at output (oy, ox); gathered into `dst` when needed. */
TM_INLINE void tm_conv_window(const tm_conv_t *TM_RESTRICT p, const int8_t *img, int oy,
                              int ox, int8_t *dst, const int8_t **runs) {
  const int iy0 = oy * p->stride_h - p->pad_t, ix0 = ox * p->stride_w - p->pad_l;
  const int c = p->in_c;
  if (!p->im2col && iy0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < p->in_h && ix0 >= 0 &&
      ix0 + (p->k_w - 1) * p->dil_w < p->in_w) {
    const int8_t *src = img + ((int32_t)iy0 * p->in_w + ix0) * c;
    const int32_t row = (int32_t)p->dil_h * p->in_w * c;
    for (int ky = 0; ky < p->k_h; ++ky, src += row) runs[ky] = src;
    return;
  }
  runs[0] = dst;
  const int cols_in = p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w;
  for (int ky = 0; ky < p->k_h; ++ky) {
    const int iy = iy0 + ky * p->dil_h;
    if (!p->im2col) runs[ky] = dst;
    if (cols_in && iy >= 0 && iy < p->in_h) {  /* the whole kernel row: one run to copy */
      const int8_t *src = img + ((int32_t)iy * p->in_w + ix0) * c;
      for (int32_t i = 0, n = (int32_t)p->k_w * c; i < n; ++i) *dst++ = src[i];
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

TM_ALWAYS_INLINE void tm_conv_body(const tm_conv_t *TM_RESTRICT p, const int8_t *in,
                                   int8_t *out, const int fast, const int full) {
  const tm_rq_t q = TM_RQ_INIT(p);
  const int nruns = p->im2col ? 1 : p->k_h;
  const int32_t len = p->im2col ? p->w_stride : (int32_t)p->k_w * p->in_c;
  const int32_t stride = p->w_stride;
  const int oc_n = p->out_c, groups4 = oc_n / 4;
  const int8_t *runs[TM_CONV_MAX_ROWS];
  for (int b = 0; b < p->batches; ++b) {
    const int8_t *img = in + (int32_t)b * p->in_h * p->in_w * p->in_c;
    for (int oy = 0; oy < p->out_h; ++oy) {
      for (int ox = 0; ox < p->out_w; ++ox, out += oc_n) {
        tm_conv_window(p, img, oy, ox, p->scratch, runs);
        const int8_t *w = p->w;
        int oc = 0;
        for (int g = 0; g < groups4; ++g, oc += 4) {
          int32_t s[4] = {p->bias[oc], p->bias[oc + 1], p->bias[oc + 2], p->bias[oc + 3]};
          for (int r = 0; r < nruns; ++r) w = tm_dot_1x4(runs[r], w, len, s);
          out[oc] = tm_rq(&q, s[0], oc, fast, full);
          out[oc + 1] = tm_rq(&q, s[1], oc + 1, fast, full);
          out[oc + 2] = tm_rq(&q, s[2], oc + 2, fast, full);
          out[oc + 3] = tm_rq(&q, s[3], oc + 3, fast, full);
        }
        for (; oc < oc_n; ++oc, w += stride) {
          int32_t acc = p->bias[oc];
          for (int r = 0; r < nruns; ++r) acc = tm_dot_1x1(runs[r], w + r * len, len, acc);
          out[oc] = tm_rq(&q, acc, oc, fast, full);
        }
      }
    }
  }
}

static void tm_conv(const tm_conv_t *TM_RESTRICT p, const int8_t *in, int8_t *out) {
  if (p->groups != 1 || p->k_h > TM_CONV_MAX_ROWS)
    tm_conv_generic(p, in, out);
  else if (p->fast && TM_FULL_RANGE(p))
    tm_conv_body(p, in, out, 1, 1);
  else
    tm_conv_body(p, in, out, p->fast, 0);
}
