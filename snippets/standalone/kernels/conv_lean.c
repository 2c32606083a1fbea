/* CONV_2D without widened windows (tm_conv_t of conv.c), for layers where the widened pair
 * of windows would grow the arena (the generator decides): each output pixel against four
 * output channels at a time (tm_dot_1x4), reading the window's runs as int8, in place when
 * inside the image, else gathered into `gather` (with `im2col`, the whole window as one
 * run of w_stride bytes, the filters zero-padded to a multiple of 4). Filters are interleaved by 4 per run: for each 4-byte
 * chunk, 4 bytes of each filter, then one byte of each per trailing element; the last
 * out_c % 4 filters follow one after the other. */
/* One int8 vector x against four filters at once (n elements), accumulated into s[0..3].
 * The generator interleaves the four filters: for each 4-byte chunk of x, 4 bytes of each
 * filter in turn, then, for each trailing element, one byte of each filter. With DSP, four
 * values per load, widened by SXTB16 and multiplied in pairs by SMLAD; the same lanes are
 * widened on both sides, so the products pair up without reordering. Returns the filters'
 * position after these n elements. */
#define TM_DOT_CALL 32  /* from this length on, the call pays for itself */
/* x against four interleaved filters: long runs through the LDM loop of dot4.c. */
TM_ALWAYS_INLINE const int8_t *tm_dot_1x4(const int8_t *x, const int8_t *w, int32_t n,
                                          int32_t *s) {
  if (n >= TM_DOT_CALL) {
    tm_fc_1x4(x, w, n >> 2, s);
    w += 16 * (n >> 2);
    x += n & ~3;
    n &= 3;
  }
  return tm_dot4(x, w, n, s);
}

/* One int8 vector against one filter (contiguous), n elements. */
TM_ALWAYS_INLINE int32_t tm_dot_1x1(const int8_t *x, const int8_t *w, int32_t n, int32_t s) {
  int32_t k = 0;
#if TM_DSP
  for (; k + 4 <= n; k += 4) {
    const uint32_t a = tm_load32(x + k), v = tm_load32(w + k);
    s = __smlad(__sxtb16(a), __sxtb16(v), s);
    s = __smlad(tm_sxtb16_ror8(a), tm_sxtb16_ror8(v), s);
  }
#endif
  for (; k < n; ++k) s += x[k] * w[k];
  return s;
}

/* The runs of the window at output (oy, ox): in place, or gathered into `gather`. */
TM_INLINE void tm_conv_lean_window(const tm_conv_t *TM_RESTRICT p, const int8_t *img, int oy,
                                   int ox, const int8_t **runs) {
  const int iy0 = oy * p->stride_h - p->pad_t, ix0 = ox * p->stride_w - p->pad_l;
  const int32_t len = (int32_t)p->k_w * p->in_c;
  const int8_t *src = p->gather;
  int32_t step = len;
  if (tm_conv_inside(p, iy0, ix0)) {
    src = img + ((int32_t)iy0 * p->in_w + ix0) * p->in_c;
    step = (int32_t)p->dil_h * p->in_w * p->in_c;
  } else {
    tm_conv_gather(p, img, iy0, ix0, p->gather);
  }
  for (int ky = 0; ky < p->k_h; ++ky, src += step) runs[ky] = src;
}

TM_ALWAYS_INLINE void tm_conv_lean_body(const tm_conv_t *TM_RESTRICT p, const int8_t *in,
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
        tm_conv_lean_window(p, img, oy, ox, runs);
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
        for (int i = 0; i < (oc_n & 3); ++i, w += stride) {  /* counted: see FC's rows */
          const int c = 4 * groups4 + i;
          int32_t acc = p->bias[c];
          for (int r = 0; r < nruns; ++r) acc = tm_dot_1x1(runs[r], w + r * len, len, acc);
          out[c] = tm_rq(&q, acc, c, fast, full);
        }
      }
    }
  }
}

TM_UNUSED TM_NOINLINE void tm_conv_lean(const tm_conv_t *TM_RESTRICT p, const int8_t *in,
                                   int8_t *out) {
  if (p->fast && TM_FULL_RANGE(p))  /* (the generator uses it for groups 1 only) */
    tm_conv_lean_body(p, in, out, 1, 1);
  else
    tm_conv_lean_body(p, in, out, p->fast, 0);
}
