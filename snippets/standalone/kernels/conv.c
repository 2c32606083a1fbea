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
  const int32_t *brq;   /* tm_conv_k9's biases and requantization, or 0 (see there) */
  int32_t pix3;         /* the flat path takes 3 pixels at a time (scratch 16 + 6·in_c) */
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
#ifndef TM_CONV_K9
#define TM_CONV_K9 1
#endif
#ifndef TM_CONV_FLAT
#define TM_CONV_FLAT 1
#endif
#ifndef TM_CONV_FLAT3
#define TM_CONV_FLAT3 1
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
TM_UNUSED static void tm_conv_gather(const tm_conv_t *TM_RESTRICT p, const int8_t *img, int iy0,
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
TM_UNUSED static void tm_conv_widen(const tm_conv_t *TM_RESTRICT p, const int8_t *img, int32_t pix,
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

#if TM_MAC_RQ_ASM
/* The arguments of gemm.c's requantizing routines, shared by every caller here: static, so
 * the stack stays as small as before */
static tm_mac_rq_t tm_conv_args;
#endif

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
        tm_mac_rq_t *const args = &tm_conv_args;
        *args = (tm_mac_rq_t){xb, wide ? (const int8_t *)(const void *)w16 : p->w, p->bias,
                             p->rq, out, (int32_t)(pb - out), n4, pairs};
        if (wide)
          tm_mac16_2x2_rq(args);
        else
          tm_mac_2x2_rq(args);
      } else
#endif
      {
        const int8_t *w = p->w;
        for (int32_t i = 0; i < pairs; ++i, w += 8 * n4) {
          if (wide) {  /* one stream per pair (gemm.c): its own requantization */
            const tm_rq_t qs = {tm_mac16_2x2(xb, w16 + (16 + 8 * n4) * i, acc, n4),
                                q.out_offset, q.act_min, q.act_max};
            out[2 * i] = tm_rq(&qs, acc[0], 0, 1, 1);
            out[2 * i + 1] = tm_rq(&qs, acc[1], 1, 1, 1);
            pb[2 * i] = tm_rq(&qs, acc[2], 0, 1, 1);
            pb[2 * i + 1] = tm_rq(&qs, acc[3], 1, 1, 1);
            continue;
          }
#if TM_MAC_RQ_ASM && !defined(TM_MAC_2X2_ASM)
          (void)w;  /* only without pairs here (see gemm.c): the loop does not run */
#else
          tm_mac_2x2(xb, w, p->bias + 2 * i, acc, n4, 1);
#endif
          out[2 * i] = tm_rq(&q, acc[0], 2 * i, fast, full);
          out[2 * i + 1] = tm_rq(&q, acc[1], 2 * i + 1, fast, full);
          pb[2 * i] = tm_rq(&q, acc[2], 2 * i, fast, full);
          pb[2 * i + 1] = tm_rq(&q, acc[3], 2 * i + 1, fast, full);
        }
      }
      if (!wide && (oc_n & 1)) {  /* int16 weights come with even out_c only */
        tm_mac_2x1(xb, p->w + pairs * 2 * p->w_stride, p->bias[oc_n - 1], acc, n4);
        out[oc_n - 1] = tm_rq(&q, acc[0], oc_n - 1, fast, full);
        pb[oc_n - 1] = tm_rq(&q, acc[1], oc_n - 1, fast, full);
      }
      out += two ? 2 * oc_n : oc_n;
    }
  }
}

#if TM_CONV_K9
/* 3×3 kernels over 3 input channels (a first layer: kernel rows of 9 bytes, 27 taps), int16
 * weights, the fast requantization to the full int8 range: the generator's `brq` form
 * (kernels.py, k9_layout). Two output pixels A, B at a time, both windows widened straight from
 * the image into the scratch (160 bytes: the routine's state, then 112 for the windows): per
 * pixel 28 halfwords in K9_TAPS's order, the rows' last taps first, then each row's two words
 * as SXTB16 gives them, by groups of 2 words of A then 2 of B. Per pair of output channels, 7
 * groups of one LDM of 4 window words, one of 4 weight words (the pair's, doubled) and 8
 * SMLADs: 10 instructions per 16 multiply-accumulates, against 14 and 33 % padding for conv.c's
 * widened kernel rows. `brq` holds per pair of channels c, d the doubled biases c, d, c, d and
 * the requantization triples of c and d, then 4 words of padding (the routine reads the next
 * pair's biases ahead). Windows that reach outside the image are gathered (the zero point
 * outside) into a patch of the columns of both pixels, rows of 3·(stride_w + 3) bytes. */
typedef struct {
  const int8_t *a;      /* pixel A's window (top left byte), moves on by pstep per pair */
  int32_t rs, step, pstep, n;  /* bytes per image row, from A to B, to the next pair; pairs */
  const int16_t *w;
  const int32_t *brq;
  int8_t *out;          /* A's outputs; B's at out + out_b (0: B repeats A) */
  int32_t out_b, pairs; /* pairs of output channels */
  const int32_t *brq_at;
  int32_t left;         /* the routine's own */
} tm_k9_t;                /* at the start of the scratch; the widened windows follow it */

#if TM_DSP && defined(__OPTIMIZE__) && !defined(TM_NO_ASM)
void tm_conv_k9_rq(tm_k9_t *a);
#define TM_K9_ROW                         \
  "ldr    r3, [r0]\n\t"                   \
  "ldr    r5, [r12]\n\t"                  \
  "ldr    r7, [r0, #4]\n\t"               \
  "ldr    r10, [r12, #4]\n\t"             \
  "sxtb16 r2, r3\n\t"                     \
  "sxtb16 r3, r3, ror #8\n\t"             \
  "sxtb16 r4, r5\n\t"                     \
  "sxtb16 r5, r5, ror #8\n\t"             \
  "sxtb16 r6, r7\n\t"                     \
  "sxtb16 r7, r7, ror #8\n\t"             \
  "sxtb16 r8, r10\n\t"                    \
  "sxtb16 r10, r10, ror #8\n\t"           \
  "stm    lr!, {r2, r3, r4, r5, r6, r7, r8, r10}\n\t"
#define TM_K9_GROUP                       \
  "ldm    r0!, {r2, r3, r4, r5}\n\t"      \
  "ldm    r1!, {r6, r7, r8, r9}\n\t"      \
  "smlad  r10, r2, r6, r10\n\t"           \
  "smlad  r10, r3, r7, r10\n\t"           \
  "smlad  r11, r2, r8, r11\n\t"           \
  "smlad  r11, r3, r9, r11\n\t"           \
  "smlad  r12, r4, r6, r12\n\t"           \
  "smlad  r12, r5, r7, r12\n\t"           \
  "smlad  lr, r4, r8, lr\n\t"             \
  "smlad  lr, r5, r9, lr\n\t"
/* The state stays in *a (r9 between the loops): no frame but the pointer. */
__asm__(
    "  .pushsection .text.tm_conv_k9_rq,\"ax\",%progbits\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .p2align 2\n"
    "  .global tm_conv_k9_rq\n"
    "  .type tm_conv_k9_rq, %function\n"
    "  .thumb_func\n"
    "tm_conv_k9_rq:\n\t"
    "push   {r4-r11, lr}\n\t"
    "sub    sp, sp, #4\n\t"
    "str    r0, [sp]\n\t"
    "mov    r9, r0\n"
    "1:\n\t"
    "ldr    r0, [r9, #0]\n\t"           /* A */
    "ldr    r1, [r9, #4]\n\t"           /* bytes per row */
    "ldr    r12, [r9, #8]\n\t"
    "add    r12, r0, r12\n\t"           /* B */
    "add    lr, r9, #48\n\t"            /* the window buffer */
    "add    r10, r0, #8\n\t"
    "add    r11, r12, #8\n\t"
    "ldrsb  r2, [r10]\n\t"              /* the rows' last taps */
    "ldrsb  r6, [r10, r1]\n\t"
    "ldrsb  r3, [r10, r1, lsl #1]\n\t"
    "ldrsb  r4, [r11]\n\t"
    "ldrsb  r7, [r11, r1]\n\t"
    "ldrsb  r5, [r11, r1, lsl #1]\n\t"
    "pkhbt  r2, r2, r6, lsl #16\n\t"
    "pkhbt  r4, r4, r7, lsl #16\n\t"
    "stm    lr!, {r2, r3, r4, r5}\n\t"
    TM_K9_ROW
    "add    r0, r0, r1\n\t"
    "add    r12, r12, r1\n\t"
    TM_K9_ROW
    "add    r0, r0, r1\n\t"
    "add    r12, r12, r1\n\t"
    TM_K9_ROW
    "ldr    r1, [r9, #20]\n\t"          /* the weights */
    "ldr    r2, [r9, #24]\n\t"
    "ldm    r2!, {r10, r11, r12, lr}\n\t" /* the first pair's biases */
    "str    r2, [r9, #40]\n\t"
    "ldr    r3, [r9, #36]\n\t"
    "str    r3, [r9, #44]\n"
    "2:\n\t"
    "add    r0, r9, #48\n\t"
    TM_K9_GROUP TM_K9_GROUP TM_K9_GROUP TM_K9_GROUP TM_K9_GROUP TM_K9_GROUP TM_K9_GROUP
    "ldr    r9, [sp]\n\t"
    "ldr    r2, [r9, #40]\n\t"
    "ldm    r2!, {r3, r4, r5, r6, r7, r8}\n\t"
    TM_RQ2_ASM("r10", "r3", "r4", "r5", "r0")
    TM_RQ2_ASM("r12", "r3", "r4", "r5", "r0")
    TM_RQ2_ASM("r11", "r6", "r7", "r8", "r0")
    TM_RQ2_ASM("lr", "r6", "r7", "r8", "r0")
    "ldr    r3, [r9, #28]\n\t"
    "ldr    r4, [r9, #32]\n\t"
    "strb   r12, [r3, r4]\n\t"
    "strb   r10, [r3], #1\n\t"
    "strb   lr, [r3, r4]\n\t"
    "strb   r11, [r3], #1\n\t"
    "str    r3, [r9, #28]\n\t"
    "ldm    r2!, {r10, r11, r12, lr}\n\t" /* the next pair's biases */
    "str    r2, [r9, #40]\n\t"
    "ldr    r3, [r9, #44]\n\t"
    "subs   r3, r3, #1\n\t"
    "str    r3, [r9, #44]\n\t"
    "bne    2b\n\t"
    "ldr    r3, [r9, #28]\n\t"          /* past B's outputs */
    "ldr    r4, [r9, #32]\n\t"
    "add    r3, r3, r4\n\t"
    "str    r3, [r9, #28]\n\t"
    "ldr    r0, [r9, #0]\n\t"
    "ldr    r2, [r9, #12]\n\t"
    "add    r0, r0, r2\n\t"
    "str    r0, [r9, #0]\n\t"
    "ldr    r3, [r9, #16]\n\t"
    "subs   r3, r3, #1\n\t"
    "str    r3, [r9, #16]\n\t"
    "bne    1b\n\t"
    "add    sp, sp, #4\n\t"
    "pop    {r4-r11, pc}\n"
    "  .size tm_conv_k9_rq, .-tm_conv_k9_rq\n"
    "  .popsection\n");
#else
/* The same in C: window byte of each halfword of K9_TAPS (the don't-care's weight is 0). */
static void tm_conv_k9_rq(tm_k9_t *a) {
  static const uint8_t tap[28] = {8,  17, 26, 26, 0,  2,  1,  3,  4,  6,  5,  7,  9,  11,
                                  10, 12, 13, 15, 14, 16, 18, 20, 19, 21, 22, 24, 23, 25};
  int32_t at[28];
  for (int h = 0; h < 28; ++h) at[h] = tap[h] / 9 * a->rs + tap[h] % 9;
  for (; a->n > 0; --a->n, a->a += a->pstep) {
    for (int k = 0; k < 2; ++k) {  /* A, then B */
      const int8_t *img = a->a + k * a->step;
      int8_t *o = a->out + k * a->out_b;
      int32_t x[28];
      for (int h = 0; h < 28; ++h) x[h] = img[at[h]];
      const int16_t *w = a->w;
      const int32_t *b = a->brq;
      for (int32_t i = 0; i < a->pairs; ++i, w += 56, b += 10) {
        int32_t sc = b[0], sd = b[1];
        for (int g = 0; g < 7; ++g)
          for (int j = 0; j < 4; ++j) {
            sc += x[4 * g + j] * w[8 * g + j];
            sd += x[4 * g + j] * w[8 * g + 4 + j];
          }
        const tm_rq_t qc = {b + 4, 0, -128, 127}, qd = {b + 7, 0, -128, 127};
        o[2 * i] = tm_rq(&qc, sc / 2, 0, 1, 1);  /* the exact, even sums */
        o[2 * i + 1] = tm_rq(&qd, sd / 2, 0, 1, 1);
      }
    }
    a->out += a->pairs * 2 + a->out_b;
  }
}
#endif

/* The patch: rows iy0.. iy0 + 2, `cols` columns from ix0 on, the zero point outside. Apart:
 * the caller's frame stays small. */
TM_NOINLINE void tm_conv_k9_patch(const tm_conv_t *TM_RESTRICT p, const int8_t *img, int iy0,
                                  int ix0, int cols, int8_t *d) {
  for (int r = 0; r < 3; ++r) {
    const int iy = iy0 + r;
    for (int k = 0; k < cols; ++k, d += 3) {
      const int ix = ix0 + k;
      const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
      const int8_t *src = inside ? img + ((int32_t)iy * p->in_w + ix) * 3 : p->zp_row;
      d[0] = src[0];
      d[1] = src[1];
      d[2] = src[2];
    }
  }
}

/* The windows of output row oy: pairs inside the image in one call, the others through the
 * patch. */
static void tm_conv_k9(const tm_conv_t *TM_RESTRICT p, const int8_t *in, int8_t *out) {
  const int32_t rs = (int32_t)p->in_w * 3, oc = p->out_c;
  const int sw = p->stride_w;
  /* the state, then the windows, whose tail holds the patch: the routine widens row r of
   * the windows (bytes 16 + 32r to 48 + 32r) only once it has read the patch's rows up to r */
  tm_k9_t *a = (tm_k9_t *)(void *)p->scratch;
  int8_t *patch = p->scratch + 48 + 112 - 9 * (sw + 3);
  /* columns whose window is inside the image: ox_lo..ox_hi */
  const int ox_lo = (p->pad_l + sw - 1) / sw;
  const int ox_hi = p->in_w - 3 + p->pad_l < 0 ? -1 : (p->in_w - 3 + p->pad_l) / sw;
  for (int b = 0; b < p->batches; ++b) {
    const int8_t *img = in + (int32_t)b * p->in_h * rs;
    for (int oy = 0; oy < p->out_h; ++oy) {
      const int iy0 = oy * p->stride_h - p->pad_t;
      const int rows_in = iy0 >= 0 && iy0 + 3 <= p->in_h;
      for (int ox = 0; ox < p->out_w;) {
        const int ix0 = ox * sw - p->pad_l;
        const int32_t n = rows_in && ox >= ox_lo ? (TM_MIN(ox_hi, p->out_w - 1) - ox + 1) / 2 : 0;
        const int two = ox + 1 < p->out_w;
        a->rs = rs;
        a->step = 3 * sw;
        a->pstep = 6 * sw;
        a->n = n;
        a->w = p->w16;
        a->brq = p->brq;
        a->out = out;
        a->out_b = oc;
        a->pairs = oc / 2;
        if (n > 0) {
          a->a = img + (int32_t)iy0 * rs + ix0 * 3;
          ox += 2 * n;
        } else {  /* one pair (or a lone last pixel) through the patch */
          const int cols = two ? sw + 3 : 3;
          tm_conv_k9_patch(p, img, iy0, ix0, cols, patch);
          a->a = patch;
          a->rs = 3 * cols;
          a->step = two ? 3 * sw : 0;
          a->n = 1;
          a->out_b = two ? oc : 0;
          ox += 1 + two;
        }
        out += (int32_t)a->n * (oc + a->out_b);
        tm_conv_k9_rq(a);
      }
    }
  }
}
#endif

/* With the flat path below, the generator leaves out the body forms only flat steps take
 * (TM_CONV_INT16_BODY, TM_CONV_FULL_BODY); without the assembly, they take them. */
#if TM_MAC_RQ_ASM && TM_CONV_FLAT && defined(TM_CONV_INT16_BODY)
#define TM_CONV_INT16_FORMS TM_CONV_INT16_BODY
#define TM_CONV_FULL_FORMS TM_CONV_FULL_BODY
#else
#define TM_CONV_INT16_FORMS TM_CONV_INT16
#define TM_CONV_FULL_FORMS TM_CONV_FULL
#endif

#if TM_MAC_RQ_ASM && TM_CONV_FLAT
/* 1×1, stride 1, in_c whole words, even out_c, the fast requantization to the full range:
 * pixel i's input is in place at i·in_c (images one after the other), both pixels of a pair
 * widened in one loop, no window to place. */
TM_INLINE int tm_conv_flat(const tm_conv_t *TM_RESTRICT p) {
  return p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && !p->im2col &&
         p->in_c && !(p->in_c & 3) && p->out_c && !(p->out_c & 1) && p->fast &&
         TM_FULL_RANGE(p);
}

#if TM_CONV_FLAT3
/* Widen n4 groups of 4 values of pixels A, B, C at once into groups of 12 halfwords: A's even
 * lanes, B's, C's, then A's odd lanes, B's, C's (12 instructions per group). */
TM_ALWAYS_INLINE void tm_widen_triple(int16_t *d, const int8_t *a, int32_t c, int32_t n4) {
  __asm__ volatile(
      "1:\n\t"
      "ldr    r5, [%[a], %[c]]\n\t"
      "ldr    r6, [%[a], %[c], lsl #1]\n\t"
      "ldr    r4, [%[a]], #4\n\t"
      "sxtb16 r8, r5, ror #8\n\t"
      "sxtb16 r5, r5\n\t"
      "sxtb16 r9, r6, ror #8\n\t"
      "sxtb16 r6, r6\n\t"
      "sxtb16 r7, r4, ror #8\n\t"
      "sxtb16 r4, r4\n\t"
      "stm    %[d]!, {r4, r5, r6, r7, r8, r9}\n\t"
      "subs   %[n], %[n], #1\n\t"
      "bne    1b"
      : [a] "+r"(a), [d] "+r"(d), [n] "+r"(n4)
      : [c] "r"(c)
      : "r4", "r5", "r6", "r7", "r8", "r9", "cc", "memory");
}

/* Pixels A, B, C (groups of 12 halfwords, tm_widen_triple) against `pairs` pairs of channels
 * (int8 weights as for tm_mac_2x2_rq), requantized in place: A's outputs at out[0..1], B's at
 * out[out_b..], C's at out[2·out_b..]. 19 instructions per 24 multiply-accumulates instead of
 * 14 per 16: the x words of each half group in 3 registers, the weights' 2 in 2, one widened
 * weight at a time (14 registers). The loop is unrolled eight times (gemm.c's TM_LOOP8_GROUPS):
 * a 128-channel row runs 4 loop tests instead of 8. */
void tm_mac_3x2_rq(const tm_mac_rq_t *a);
#define TM_MAC_3X2_GROUP                  \
  "ldm    r0!, {r2, r3, r10}\n\t"         \
  "ldm    r1!, {r11, r12}\n\t"            \
  "sxtb16 lr, r11\n\t"                    \
  "smlad  r4, r2, lr, r4\n\t"             \
  "smlad  r6, r3, lr, r6\n\t"             \
  "smlad  r8, r10, lr, r8\n\t"            \
  "sxtb16 lr, r12\n\t"                    \
  "smlad  r5, r2, lr, r5\n\t"             \
  "smlad  r7, r3, lr, r7\n\t"             \
  "smlad  r9, r10, lr, r9\n\t"            \
  "ldm    r0!, {r2, r3, r10}\n\t"         \
  "sxtb16 r11, r11, ror #8\n\t"           \
  "smlad  r4, r2, r11, r4\n\t"            \
  "smlad  r6, r3, r11, r6\n\t"            \
  "smlad  r8, r10, r11, r8\n\t"           \
  "sxtb16 r12, r12, ror #8\n\t"           \
  "smlad  r5, r2, r12, r5\n\t"            \
  "smlad  r7, r3, r12, r7\n\t"            \
  "smlad  r9, r10, r12, r9\n\t"
__asm__(
    "  .pushsection .text.tm_mac_3x2_rq,\"ax\",%progbits\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .p2align 2\n"
    "  .global tm_mac_3x2_rq\n"
    "  .type tm_mac_3x2_rq, %function\n"
    "  .thumb_func\n"
    "tm_mac_3x2_rq:\n\t"
    "push   {r4-r11, lr}\n\t"
    "sub    sp, sp, #32\n\t"
    "ldm    r0, {r2, r3, r4, r5, r6, r7, r8, r9}\n\t"
    "str    r2, [sp, #0]\n\t"                /* x start */
    "add    r10, r8, r8, lsl #1\n\t"
    "add    r10, r2, r10, lsl #3\n\t"
    "str    r10, [sp, #4]\n\t"               /* x end */
    TM_LOOP8_ENTRY("r8", "r8", "r10", "r11")
    "str    r8, [sp, #8]\n\t"                /* loop entry */
    "str    r4, [sp, #12]\n\t"               /* bias */
    "str    r5, [sp, #16]\n\t"               /* rq */
    "strd   r6, r7, [sp, #20]\n\t"           /* out, out_b */
    "add    r9, r6, r9, lsl #1\n\t"
    "str    r9, [sp, #28]\n\t"               /* out end */
    "mov    r1, r3\n"
    "1:\n\t"
    "ldr    r3, [sp, #12]\n\t"
    "ldrd   r6, r7, [r3]\n\t"
    "ldrd   r8, r9, [r3]\n\t"
    "ldm    r3!, {r4, r5}\n\t"
    "str    r3, [sp, #12]\n\t"
    "ldm    sp, {r0, r2, pc}\n\t"
    TM_LOOP8_GROUPS(TM_MAC_3X2_GROUP)
    "ldr    r2, [sp, #4]\n\t"
    "cmp    r0, r2\n\t"
    "bne    20b\n\t"
    "ldr    r0, [sp, #16]\n\t"
    "ldm    r0!, {r2, r3, r10, r11, r12, lr}\n\t"
    "str    r0, [sp, #16]\n\t"
    TM_RQ_ASM("r4", "r2", "r3", "r10", "r0")
    TM_RQ_ASM("r6", "r2", "r3", "r10", "r0")
    TM_RQ_ASM("r8", "r2", "r3", "r10", "r0")
    TM_RQ_ASM("r5", "r11", "r12", "lr", "r0")
    TM_RQ_ASM("r7", "r11", "r12", "lr", "r0")
    TM_RQ_ASM("r9", "r11", "r12", "lr", "r0")
    "ldrd   r0, r2, [sp, #20]\n\t"
    "strb   r8, [r0, r2, lsl #1]\n\t"
    "strb   r6, [r0, r2]\n\t"
    "strb   r4, [r0], #1\n\t"
    "strb   r9, [r0, r2, lsl #1]\n\t"
    "strb   r7, [r0, r2]\n\t"
    "strb   r5, [r0], #1\n\t"
    "str    r0, [sp, #20]\n\t"
    "ldr    r3, [sp, #28]\n\t"
    "cmp    r0, r3\n\t"
    "bne    1b\n\t"
    "add    sp, sp, #32\n\t"
    "pop    {r4-r11, pc}\n"
    "  .size tm_mac_3x2_rq, .-tm_mac_3x2_rq\n"
    "  .popsection\n");
#endif

TM_NOINLINE void tm_conv_flat_body(const tm_conv_t *TM_RESTRICT p, const int8_t *in,
                                   int8_t *out) {
  const int32_t c = p->in_c, oc = p->out_c;
  const int32_t pixels = (int32_t)p->batches * p->out_h * p->out_w;
  int16_t *xb = (int16_t *)(void *)(p->scratch + 16);
  tm_mac_rq_t *const args = &tm_conv_args;
#if TM_CONV_FLAT3
  /* one loop for both forms (code size): 3 pixels at a time with int8 weights */
  for (int32_t px = 0, n; px < pixels; px += n, in += n * c, out += n * oc) {
    n = px + 1 < pixels ? 2 : 1;  /* a lone last pixel: B repeats A (out_b 0) */
    if (p->pix3 && px + 3 <= pixels) {
      n = 3;
      tm_widen_triple(xb, in, c, c >> 2);
    } else {
      tm_widen_pair(xb, in, in + (n - 1) * c, c >> 2);
    }
    *args = (tm_mac_rq_t){xb, p->w16 ? (const int8_t *)(const void *)p->w16 : p->w, p->bias,
                         p->rq, out, (n - 1) ? oc : 0, c >> 2, oc >> 1};
    if (n == 3)
      tm_mac_3x2_rq(args);
    else if (p->w16)
      tm_mac16_2x2_rq(args);
    else
      tm_mac_2x2_rq(args);
  }
#else
  for (int32_t px = 0; px < pixels; px += 2, in += 2 * c) {
    const int two = px + 1 < pixels;
    tm_widen_pair(xb, in, two ? in + c : in, c >> 2);
    *args = (tm_mac_rq_t){xb, p->w16 ? (const int8_t *)(const void *)p->w16 : p->w, p->bias,
                         p->rq, out, two ? oc : 0, c >> 2, oc >> 1};
    if (p->w16)
      tm_mac16_2x2_rq(args);
    else
      tm_mac_2x2_rq(args);
    out += two ? 2 * oc : oc;
  }
#endif
}
#endif

TM_UNUSED static void tm_conv(const tm_conv_t *TM_RESTRICT p, const int8_t *in,
                              int8_t *out) {
#if TM_MAC_RQ_ASM && TM_CONV_FLAT
  if (p->groups == 1 && !p->brq && tm_conv_flat(p)) {
    tm_conv_flat_body(p, in, out);
    return;
  }
#endif
#if TM_CONV_GENERIC
  if (p->groups != 1 || p->k_h > TM_CONV_MAX_ROWS) {
    tm_conv_generic(p, in, out);
    return;
  }
#endif
#if TM_CONV_K9
  if (p->brq) {
    tm_conv_k9(p, in, out);
    return;
  }
#endif
#if TM_CONV_INT16_FORMS
  if (p->w16) {  /* the generator gives int16 weights to fast, full-range steps only */
    tm_conv_body(p, in, out, 1, 1, 1);
    return;
  }
#endif
#if TM_CONV_FULL_FORMS
  if (p->fast && TM_FULL_RANGE(p)) {
    tm_conv_body(p, in, out, 1, 1, 0);
    return;
  }
#endif
#if TM_CONV_ANY
  tm_conv_body(p, in, out, p->fast, 0, 0);
#endif
  (void)p;  /* with lean steps alone, no form here */
  (void)in;
  (void)out;
}
