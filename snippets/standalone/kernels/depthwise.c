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
  int32_t blocked;      /* depth multiplier 1 and the blocked weight layout; 2: and the
                         * 3×3 kernel applies (tm_depthwise_3x3) */
  int32_t band;         /* its rows per band, safe when the output starts band_gap bytes or */
  int32_t band_gap;     /* more before the input (or the two do not overlap) */
  const int8_t *zp_row; /* in_c bytes of the input zero point */
  int8_t *padded;       /* scratch for the input with its border (tm_depthwise_3x3), or 0 */
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

#if TM_DW_ASM
/* 3×3 kernels (any stride, dilation, padding) with depth multiplier 1 and the fast
 * full-range requantization: blocks of 4 channels outside, output pixels inside, so that a
 * block's weights are widened once per group of pixels, not once per pixel. The groups are
 * rectangles of pixels whose windows have the same taps inside the image (the interior, each
 * border). For a group and a block, the "area" holds what every pixel needs, read with LDM:
 * per pair of taps their two byte offsets and, per channel, their two weights as int16
 * halves (SMLAD does 2 MACs), the first pair followed by the 4 sums' start (one LDM: twice
 * the bias, plus zero point × weight of each outside tap, whose weight is then 0 and whose
 * offset that of an inside tap); the ninth
 * tap's offset and weights (channels 0, 2 and 1, 3); the requantization triples (those of
 * channels 2 and 3 after the area's own address: the LDM that reads them sets the area
 * pointer back for the next pixel, one instruction less per pixel). The sums
 * are kept doubled (weights and bias ×2, exact as |sum| < 2^30 with `fast`): the fast
 * requantization starts from that. 13 instructions per 2 taps and 4 channels. */
#define TM_DW3_AREA 44
/* The preparation around tm_dw3_rq (but tm_dw3_fill, once per group and block) is not where
 * the time goes: small code. */
#define TM_DW3_SETUP __attribute__((optimize("Os")))
typedef struct {
  int32_t area[TM_DW3_AREA];
  /* after the area in the order the kernel reads them with LDM: the pixel steps and the
   * current row's output end with the last requantization triples, then at the end of a
   * row the steps to the next and where the rows end (no stack frame) */
  int32_t in_step, out_step;
  int8_t *row_end;  /* the first row's, moved on by the kernel */
  int32_t in_row_step, out_row_step, out_row;
  int8_t *last_end;  /* the row end after the last row */
  uintptr_t base;  /* the first pixel's window origin + channel (may lie outside the image) */
  int8_t *out;
} tm_dw3_t;
void tm_dw3_rq(const tm_dw3_t *a);
#define TM_DW3_PAIR                           \
  "ldm    r2!, {r3, r4, r6, r7, r8, r9}\n\t"  \
  TM_DW3_MACS
#define TM_DW3_MACS                           \
  "ldr    r3, [r0, r3]\n\t"                   \
  "ldr    r4, [r0, r4]\n\t"                   \
  "pkhbt  r5, r3, r4, lsl #16\n\t"            \
  "pkhtb  r4, r4, r3, asr #16\n\t"            \
  "sxtb16 r3, r5\n\t"                         \
  "smlad  r10, r3, r6, r10\n\t"               \
  "sxtb16 r5, r5, ror #8\n\t"                 \
  "smlad  r11, r5, r7, r11\n\t"               \
  "sxtb16 r3, r4\n\t"                         \
  "smlad  r12, r3, r8, r12\n\t"               \
  "sxtb16 r4, r4, ror #8\n\t"                 \
  "smlad  lr, r4, r9, lr\n\t"
/* Two doubled sums a, b requantized (triples in r3-r8) and stored at out + i, i + 1. */
#define TM_DW3_RQ2(a, b, i, j)                  \
  "smmlar r5, " a ", r3, r5\n\t"                \
  "add    r5, r5, " a ", asr #31\n\t"           \
  "asrs   r5, r5, r4\n\t"                       \
  "ssat   r5, #8, r5\n\t"                       \
  "smmlar r8, " b ", r6, r8\n\t"                \
  "add    r8, r8, " b ", asr #31\n\t"           \
  "asrs   r8, r8, r7\n\t"                       \
  "ssat   r8, #8, r8\n\t"                       \
  "strb   r5, [r1, #" i "]\n\t"                 \
  "strb   r8, [r1, #" j "]\n\t"
__asm__(
    "  .pushsection .text.tm_dw3_rq,\"ax\",%progbits\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .p2align 2\n"
    "  .global tm_dw3_rq\n"
    "  .type tm_dw3_rq, %function\n"
    "  .thumb_func\n"
    "tm_dw3_rq:\n\t"
    "push   {r4-r11, lr}\n\t"
    "mov    r2, r0\n\t"                         /* the area at every pixel's start */
    "str    r2, [r2, #148]\n\t"                 /* its own address in it */
    "ldrd   r0, r1, [r2, #204]\n"                /* base, out */
    "2:\n\t"
    "ldm    r2!, {r3, r4, r6, r7, r8, r9, r10, r11, r12, lr}\n\t"  /* and the sums */
    TM_DW3_MACS TM_DW3_PAIR TM_DW3_PAIR TM_DW3_PAIR
    "ldm    r2!, {r3, r6, r7}\n\t"               /* the ninth tap */
    "ldr    r3, [r0, r3]\n\t"
    "sxtb16 r4, r3\n\t"
    "smlabb r10, r4, r6, r10\n\t"
    "smlatt r12, r4, r6, r12\n\t"
    "sxtb16 r3, r3, ror #8\n\t"
    "smlabb r11, r3, r7, r11\n\t"
    "smlatt lr, r3, r7, lr\n\t"
    "ldm    r2!, {r3, r4, r5, r6, r7, r8}\n\t"
    TM_DW3_RQ2("r10", "r11", "0", "1")
    "ldm    r2, {r2, r3, r4, r5, r6, r7, r8, r9, r10, r11}\n\t"  /* area, steps, row_end */
    TM_DW3_RQ2("r12", "lr", "2", "3")
    "add    r0, r0, r9\n\t"
    "add    r1, r1, r10\n\t"
    "cmp    r1, r11\n\t"
    "bne    2b\n\t"
    "ldrd   r3, r4, [r2, #188]\n\t"            /* row steps */
    "ldrd   r5, r6, [r2, #196]\n\t"            /* out_row, last_end */
    "add    r0, r0, r3\n\t"
    "add    r1, r1, r4\n\t"
    "add    r11, r11, r5\n\t"
    "str    r11, [r2, #184]\n\t"               /* the next row's end */
    "cmp    r11, r6\n\t"
    "bne    2b\n\t"
    "pop    {r4-r11, pc}\n"
    "  .size tm_dw3_rq, .-tm_dw3_rq\n"
    "  .popsection\n");

/* Runs of output rows (or columns) whose 3 taps inside the image are the same: starts, ends
 * and tap masks; at most 7 runs (each tap enters and leaves once). */
typedef struct {
  int16_t start[8], end[8];
  uint8_t mask[8];
  int n;
} tm_dw3_runs_t;

TM_DW3_SETUP static void tm_dw3_runs(tm_dw3_runs_t *r, int out, int stride, int pad, int dil, int in) {
  r->n = 0;
  for (int o = 0; o < out; ++o) {
    int m = 0;
    for (int k = 0, i = o * stride - pad; k < 3; ++k, i += dil) m |= (i >= 0 && i < in) << k;
    if (r->n && r->mask[r->n - 1] == m) {
      r->end[r->n - 1] = (int16_t)(o + 1);
    } else {
      r->start[r->n] = (int16_t)o;
      r->end[r->n] = (int16_t)(o + 1);
      r->mask[r->n++] = (uint8_t)m;
    }
  }
}

/* The geometry the kernel reads its input with: height, width, top and left padding; those of
 * the copy with its border when there is one (`padded`: every window inside). */
TM_ALWAYS_INLINE int32_t tm_dw3_geo(const tm_depthwise_t *TM_RESTRICT p, const int k,
                                    const int padded) {
  if (!padded) return k == 0 ? p->in_h : k == 1 ? p->in_w : k == 2 ? p->pad_t : p->pad_l;
  return k == 0 ? (p->out_h - 1) * p->stride_h + 2 * p->dil_h + 1
       : k == 1 ? (p->out_w - 1) * p->stride_w + 2 * p->dil_w + 1 : 0;
}

/* One output channel of row oy, the plain way (the in_c % 4 channels after the blocks). */
TM_DW3_SETUP static void tm_dw3_channel(const tm_depthwise_t *TM_RESTRICT p, const int8_t *img, int8_t *o,
                           int c, int oy, int padded) {
  const int32_t in_h = tm_dw3_geo(p, 0, padded), in_w = tm_dw3_geo(p, 1, padded);
  const tm_rq_t q = TM_RQ_INIT(p);
  const int blocks = p->in_c / 4;
  const int8_t *w0 = p->w + 36 * blocks + 9 * (c - blocks * 4);
  const int iy0 = oy * p->stride_h - tm_dw3_geo(p, 2, padded);
  for (int ox = 0; ox < p->out_w; ++ox, o += p->in_c) {
    const int ix0 = ox * p->stride_w - tm_dw3_geo(p, 3, padded);
    const int8_t *w = w0;
    int32_t acc = p->bias[c];
    for (int ky = 0; ky < 3; ++ky) {
      const int iy = iy0 + ky * p->dil_h;
      for (int kx = 0; kx < 3; ++kx) {
        const int ix = ix0 + kx * p->dil_w;
        acc += *w++ * (iy >= 0 && iy < in_h && ix >= 0 && ix < in_w
                       ? img[((int32_t)iy * in_w + ix) * p->in_c + c] : p->in_zp);
      }
    }
    *o = tm_rq(&q, acc, c, 1, 1);
  }
}

/* n words from s to d (both aligned), or of the value v when s is 0: 32 bytes per LDM/STM. */
TM_DW3_SETUP static void tm_dw3_words(uint32_t *d, const uint32_t *s, uint32_t v, int32_t n) {
  for (; n & 7; --n) *d++ = s ? *s++ : v;
  if (!n) return;
  n >>= 3;
  if (s) {
    __asm__ volatile(
        "1:\n\t"
        "ldm    %[s]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
        "stm    %[d]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b"
        : [s] "+r"(s), [d] "+r"(d), [n] "+r"(n)
        :
        : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "cc", "memory");
  } else {
    __asm__ volatile(
        "mov    r4, %[v]\n\t"
        "mov    r5, %[v]\n\t"
        "mov    r6, %[v]\n\t"
        "mov    r7, %[v]\n\t"
        "mov    r8, %[v]\n\t"
        "mov    r9, %[v]\n\t"
        "mov    r10, %[v]\n\t"
        "mov    r11, %[v]\n"
        "1:\n\t"
        "stm    %[d]!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b"
        : [d] "+r"(d), [n] "+r"(n)
        : [v] "r"(v)
        : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "cc", "memory");
  }
}

/* The (single) input image into `d` with its border of zero points: ph rows of pw pixels,
 * the image's pixel (0, 0) at (pad_t, pad_l); rows and columns beyond pw, ph left out. */
TM_DW3_SETUP TM_NOINLINE void tm_dw3_pad(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in,
                                    int8_t *d, int32_t ph, int32_t pw) {
  const int32_t c_n = p->in_c, left = TM_MIN(p->pad_l, pw);
  const int32_t n = TM_MAX(TM_MIN(p->in_w, pw - left), 0), right = pw - left - n;
  const uint32_t zpw = (uint8_t)p->in_zp * 0x01010101u;
  const int words = !(c_n & 3) && !(((uintptr_t)in | (uintptr_t)d) & 3);
  for (int32_t r = 0; r < ph; ++r) {
    const int32_t iy = r - p->pad_t;
    const int8_t *s = in + iy * p->in_w * c_n;
    const int inside = iy >= 0 && iy < p->in_h;
    const int32_t parts[3] = {inside ? left * c_n : pw * c_n, inside ? n * c_n : 0,
                              inside ? right * c_n : 0};
    for (int k = 0; k < 3; ++k) {
      if (words) {
        tm_dw3_words((uint32_t *)(void *)d, k == 1 ? (const uint32_t *)(const void *)s : 0,
                     zpw, parts[k] >> 2);
      } else {
        for (int32_t i = 0; i < parts[k]; ++i) d[i] = k == 1 ? s[i] : (int8_t)p->in_zp;
      }
      d += parts[k];
    }
  }
}

/* The area's weights and sums' start for the block of 4 channels at `wb` (its weights,
 * 4 per tap), `bias` and `rq`: the taps kept (halves of `keep`, per pair; keep[4] the ninth)
 * with their weights, the others' zero point × weight into the sums' start. Per pair of taps,
 * their two weights of each channel as int16 halves (PKHBT/PKHTB, SXTB16), doubled; the
 * zero-point sums only where a pair has a tap outside: 19 instructions per pair, ~110 per
 * block with every tap inside (it runs once per group of pixels and block). */
void tm_dw3_fill(int32_t *area, const int8_t *wb, const uint32_t *keep, const int32_t *bias,
                 const int32_t *rq, uint32_t zpp);
__asm__(
    "  .pushsection .text.tm_dw3_fill,\"ax\",%progbits\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .p2align 2\n"
    "  .global tm_dw3_fill\n"
    "  .type tm_dw3_fill, %function\n"
    "  .thumb_func\n"
    "tm_dw3_fill:\n\t"
    "push   {r4-r11, lr}\n\t"
    "ldm    r3, {r4, r5, r6, r7}\n\t"      /* the sums' start: twice the bias */
    "ldr    lr, [sp, #40]\n\t"              /* zpp */
    "add    r4, r4, r4\n\t"
    "add    r5, r5, r5\n\t"
    "add    r6, r6, r6\n\t"
    "add    r7, r7, r7\n\t"
    "movs   r3, #4\n"
    "1:\n\t"
    "ldrd   r8, r9, [r1], #8\n\t"           /* taps 2k, 2k + 1 of the 4 channels */
    "ldr    r12, [r2], #4\n\t"
    "pkhbt  r10, r8, r9, lsl #16\n\t"
    "pkhtb  r11, r9, r8, asr #16\n\t"
    "sxtb16 r8, r10\n\t"
    "sxtb16 r9, r10, ror #8\n\t"
    "sxtb16 r10, r11\n\t"
    "sxtb16 r11, r11, ror #8\n\t"
    "sadd16 r8, r8, r8\n\t"
    "sadd16 r9, r9, r9\n\t"
    "sadd16 r10, r10, r10\n\t"
    "sadd16 r11, r11, r11\n\t"
    "cmn    r12, #1\n\t"
    "beq    2f\n\t"                         /* both taps inside */
    "push   {r3}\n\t"
    "bic    r3, r8, r12\n\t"
    "smlad  r4, r3, lr, r4\n\t"
    "bic    r3, r9, r12\n\t"
    "smlad  r5, r3, lr, r5\n\t"
    "bic    r3, r10, r12\n\t"
    "smlad  r6, r3, lr, r6\n\t"
    "bic    r3, r11, r12\n\t"
    "smlad  r7, r3, lr, r7\n\t"
    "pop    {r3}\n\t"
    "and    r8, r8, r12\n\t"
    "and    r9, r9, r12\n\t"
    "and    r10, r10, r12\n\t"
    "and    r11, r11, r12\n"
    "2:\n\t"
    "strd   r8, r9, [r0, #24]\n\t"
    "strd   r10, r11, [r0, #32]\n\t"
    "adds   r0, r0, #24\n\t"
    "subs   r3, r3, #1\n\t"
    "bne    1b\n\t"
    "ldr    r8, [r1]\n\t"                   /* the ninth tap: channels 0, 2 and 1, 3 */
    "ldr    r12, [r2]\n\t"
    "sxtb16 r9, r8\n\t"
    "sxtb16 r10, r8, ror #8\n\t"
    "sadd16 r9, r9, r9\n\t"
    "sadd16 r10, r10, r10\n\t"
    "bic    r8, r9, r12\n\t"
    "bic    r11, r10, r12\n\t"
    "and    r9, r9, r12\n\t"
    "and    r10, r10, r12\n\t"
    "strd   r9, r10, [r0, #20]\n\t"         /* area[29], area[30] */
    "smlabb r4, r8, lr, r4\n\t"
    "smlatt r6, r8, lr, r6\n\t"
    "smlabb r5, r11, lr, r5\n\t"
    "smlatt r7, r11, lr, r7\n\t"
    "sub    r3, r0, #72\n\t"               /* the first pair's weights to area[2..5], */
    "ldm    r3, {r8, r9, r10, r11}\n\t"
    "stm    r3, {r4, r5, r6, r7}\n\t"       /* the sums' start to area[6..9] */
    "sub    r3, r3, #16\n\t"
    "stm    r3, {r8, r9, r10, r11}\n\t"
    "ldr    r1, [sp, #36]\n\t"              /* the 4 requantization triples to area[31..36] */
    "adds   r0, r0, #28\n\t"                /* and area[38..43] */
    "ldm    r1, {r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, lr}\n\t"
    "stm    r0!, {r2, r3, r4, r5, r6, r7}\n\t"
    "adds   r0, r0, #4\n\t"
    "stm    r0, {r8, r9, r10, r11, r12, lr}\n\t"
    "pop    {r4-r11, pc}\n"
    "  .size tm_dw3_fill, .-tm_dw3_fill\n"
    "  .popsection\n");

/* Bands of `band` output rows (counted over all images) one after the other, each wholly
 * written before the next is read: the generator's band_gap assumes that much. */
/* Where the output starts less than band_gap bytes before the input, with one image and
 * channels in blocks of 4 (`band` 0, "fitted"): bands end where their output would reach the
 * input they or later rows still read (input rows from TM_DW3_FIT on: a strided layer's
 * input runs ahead of its output); a row where no band fits goes alone. That is as safe as
 * the pixel-by-pixel kernel (the planner's in-place gap) when the output lies a whole number
 * of pixels before the input: an output byte then only ever overwrites input of its own
 * channel, which only its own block reads, in pixel order as there. Other offsets go pixel
 * by pixel (tm_depthwise_full). Decided from the call's constants alone, so that the
 * compiler leaves the forms no layer takes out of the firmware (person_detect's code is
 * bounded). */
#define TM_DW3_FIT(y) \
  (gap + TM_MAX((y) * p->stride_h - p->pad_t, 0) * (int32_t)p->in_w * p->in_c)
TM_ALWAYS_INLINE int tm_dw3_fitted(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in,
                                   const int8_t *out) {
  return p->batches == 1 && p->in_c % 4 == 0 && in >= out && (in - out) % p->in_c == 0;
}

TM_ALWAYS_INLINE void tm_depthwise_3x3_body(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in,
                                             int8_t *out, const int band, const int padded) {
  const tm_rq_t q = TM_RQ_INIT(p);
  const int c_n = p->in_c, blocks = c_n / 4, out_h = p->out_h;
  const int32_t in_h = tm_dw3_geo(p, 0, padded), in_w = tm_dw3_geo(p, 1, padded);
  const int32_t out_w = p->out_w, zp = p->in_zp;
  const int pad_t = tm_dw3_geo(p, 2, padded), pad_l = tm_dw3_geo(p, 3, padded);
  const intptr_t gap = (intptr_t)in - (intptr_t)out;  /* for TM_DW3_FIT */
  const int32_t orow = out_w * c_n;
  if (padded) {  /* the input with its border into scratch: one group, any overlap */
    tm_dw3_pad(p, in, p->padded, in_h, in_w);
    in = p->padded;
  }
  tm_dw3_runs_t rows, cols;
  tm_dw3_runs(&rows, out_h, p->stride_h, pad_t, p->dil_h, in_h);
  tm_dw3_runs(&cols, out_w, p->stride_w, pad_l, p->dil_w, in_w);
  static tm_dw3_t a;  /* static: the stack stays as small as before */
  int32_t *const area = a.area;
  a.in_step = p->stride_w * c_n;
  a.out_step = c_n;
  a.out_row = orow;
  const int32_t row_off = (int32_t)p->dil_h * in_w * c_n, col_off = p->dil_w * c_n;
  const uint32_t zpp = (uint16_t)zp | (uint32_t)zp << 16;
  for (int b = 0; b < p->batches; ++b) {
    const int8_t *img = in + (int32_t)b * in_h * in_w * c_n;
    int8_t *oimg = out + (int32_t)b * out_h * out_w * c_n;
    for (int ya = 0, yb; ya < out_h; ya = yb) {
      if (band) {
        yb = ya + band - ((int32_t)b * out_h + ya) % band;
        if (yb > out_h) yb = out_h;
      } else {  /* fitted: the rows whose output lies below the input they and later rows read */
        yb = TM_MIN(out_h, TM_DW3_FIT(ya) / orow);
        if (yb <= ya) yb = ya + 1;  /* none: this row alone (see tm_dw3_fitted) */
      }
      for (int ry = 0; ry < rows.n; ++ry) {
        const int oy0 = TM_MAX(rows.start[ry], ya), oy1 = TM_MIN(rows.end[ry], yb);
        if (oy0 >= oy1) continue;
        const int rm = rows.mask[ry];
        for (int rx = 0; rx < cols.n; ++rx) {
          const int cm = cols.mask[rx], ox0 = cols.start[rx], nc = cols.end[rx] - ox0;
          int8_t *o0 = oimg + ((int32_t)oy0 * out_w + ox0) * c_n;
          if (!rm || !cm) {  /* no tap inside: the zero point everywhere */
            for (int c = 0; c < blocks * 4; ++c) {
              int32_t acc = p->bias[c];
              for (int t = 0; t < 9; ++t) acc += zp * p->w[36 * (c / 4) + 4 * t + c % 4];
              const int8_t v = tm_rq(&q, acc, c, 1, 1);
              for (int y = 0; y < oy1 - oy0; ++y)
                for (int x = 0; x < nc; ++x) o0[((int32_t)y * out_w + x) * c_n + c] = v;
            }
            continue;
          }
          /* an outside tap reads the first inside row or column instead, with weight 0 */
          const int ky_in = rm & 1 ? 0 : rm & 2 ? 1 : 2, kx_in = cm & 1 ? 0 : cm & 2 ? 1 : 2;
          const int32_t r0 = (rm & 1 ? 0 : ky_in) * row_off,
                        r1 = (rm & 2 ? 1 : ky_in) * row_off,
                        r2 = (rm & 4 ? 2 : ky_in) * row_off;
          const int32_t x0 = (cm & 1 ? 0 : kx_in) * col_off,
                        x1 = (cm & 2 ? 1 : kx_in) * col_off,
                        x2 = (cm & 4 ? 2 : kx_in) * col_off;
          area[0] = r0 + x0;
          area[1] = r0 + x1;
          area[10] = r0 + x2;
          area[11] = r1 + x0;
          area[16] = r1 + x1;
          area[17] = r1 + x2;
          area[22] = r2 + x0;
          area[23] = r2 + x1;
          area[28] = r2 + x2;
#define TM_DW3_IN(ky, kx, half) ((rm >> (ky) & cm >> (kx) & 1) ? (half) : 0u)
          const uint32_t keep[5] = {
              TM_DW3_IN(0, 0, 0xffffu) | TM_DW3_IN(0, 1, 0xffff0000u),
              TM_DW3_IN(0, 2, 0xffffu) | TM_DW3_IN(1, 0, 0xffff0000u),
              TM_DW3_IN(1, 1, 0xffffu) | TM_DW3_IN(1, 2, 0xffff0000u),
              TM_DW3_IN(2, 0, 0xffffu) | TM_DW3_IN(2, 1, 0xffff0000u),
              TM_DW3_IN(2, 2, 0xffffffffu)};
#undef TM_DW3_IN
          a.base = (uintptr_t)img + (uintptr_t)(
              ((oy0 * p->stride_h - pad_t) * in_w + ox0 * p->stride_w - pad_l) * c_n);
          a.in_row_step = (p->stride_h * in_w - nc * p->stride_w) * c_n;
          a.out_row_step = (out_w - nc) * c_n;
          const int8_t *wb = p->w;
          for (int c = 0; c < blocks * 4; c += 4, wb += 36, a.base += 4) {
            tm_dw3_fill(area, wb, keep, p->bias + c, p->rq + 3 * c, zpp);
            a.out = o0 + c;
            a.row_end = a.out + nc * c_n;
            a.last_end = a.row_end + (oy1 - oy0) * orow;
            tm_dw3_rq(&a);
          }
        }
      }
      for (int oy = ya; oy < yb; ++oy)  /* the last in_c % 4 channels */
        for (int c = blocks * 4; c < c_n; ++c)
          tm_dw3_channel(p, img, oimg + (int32_t)oy * out_w * c_n + c, c, oy, padded);
    }
  }
}


/* `band` 0: p->band from the row tm_dw3_first on, the rows before being done. */
TM_DW3_SETUP TM_NOINLINE void tm_depthwise_3x3(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in,
                                                int8_t *out, const int band) {
  tm_depthwise_3x3_body(p, in, out, band, p->padded != 0);
}
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

#if TM_DW_ASM
/* The band tm_depthwise_3x3 may take with these buffers: all rows when they do not overlap,
 * p->band when the output starts early enough, else 0 (the planner only promised the
 * pixel-by-pixel kernel's gap). */
TM_ALWAYS_INLINE int tm_dw3_band(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in,
                                 const int8_t *out) {
  /* differences of pointers into the arena, not sums of addresses (which might wrap): the
   * compiler folds them, and leaves out the forms no layer takes */
  const ptrdiff_t ahead = in - out;
  const int32_t rows = (int32_t)p->batches * p->out_h;
  if (ahead >= (int32_t)rows * p->out_w * p->in_c ||
      -ahead >= (int32_t)p->batches * p->in_h * p->in_w * p->in_c)
    return rows;
  return ahead >= p->band_gap ? p->band : 0;
}

#endif

/* Inlined: with the call's constant parameters and buffers the choice is made when compiling,
 * and the forms no layer takes are left out of the firmware. */
TM_ALWAYS_INLINE void tm_depthwise(const tm_depthwise_t *TM_RESTRICT p, const int8_t *in,
                                   int8_t *out) {
  if (!p->blocked)
    tm_depthwise_generic(p, in, out);
#if TM_DW_ASM
  else if (p->blocked == 2 && p->padded)
    tm_depthwise_3x3(p, in, out, (int32_t)p->batches * p->out_h);
  else if (p->blocked == 2 && tm_dw3_band(p, in, out))
    tm_depthwise_3x3(p, in, out, tm_dw3_band(p, in, out));
  else if (p->blocked == 2 && tm_dw3_fitted(p, in, out))
    tm_depthwise_3x3(p, in, out, 0);
#endif
  else if (p->fast && TM_FULL_RANGE(p))
    tm_depthwise_full(p, in, out);
  else
    tm_depthwise_any(p, in, out);
}
