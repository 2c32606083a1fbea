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

/* The generator says which forms its lean steps take (int8 or int16 weights, see emit.py):
 * code for the others is left out. */
#ifndef TM_LEAN_INT8
#define TM_LEAN_INT8 1
#endif
#ifndef TM_LEAN_INT16
#define TM_LEAN_INT16 1
#endif
#if TM_DSP && defined(__OPTIMIZE__) && !defined(TM_NO_ASM)
/* Every group of 4 output channels of one pixel: each run of the window through the LDM loop
 * of dot4.c, requantized in place (the fast requantization with the full int8 range, see
 * common.h). Runs of whole words only (len % 4 == 0). */
typedef struct {
  const int8_t *const *runs, *const *runs_end;
  int32_t len, rem;  /* bytes per run, (len / 4) % 4 */
  const int8_t *w;
  const int32_t *bias, *rq;
  int8_t *out;
  int32_t quads;
} tm_lean_rq_t;
void tm_lean_4_rq(const tm_lean_rq_t *a);
/* The same with int16 weights (conv_lean_wide below): per group of 4 inputs, for each of
 * the 4 filters the halfwords w0, w2, w1, w3 (SXTB16's lanes of x); 13 instructions per 16
 * multiply-accumulates instead of 20, no weight to widen. */
typedef struct {  /* as tm_lean_rq_t, and the next run: the routine keeps its state here */
  const int8_t *const *runs, *const *runs_end;
  int32_t len, rem;
  const int8_t *w;
  const int32_t *bias, *rq;
  int8_t *out;
  int32_t quads;
  const int8_t *const *next;
} tm_lean16_rq_t;
void tm_lean16_4_rq(tm_lean16_rq_t *a);
#define TM_LEAN16_GROUP                   \
  "ldr    r3, [r0], #4\n\t"               \
  "ldm    r1!, {r8, r9, r10, r11}\n\t"    \
  "sxtb16 r12, r3\n\t"                   \
  "sxtb16 r3, r3, ror #8\n\t"            \
  "smlad  r4, r12, r8, r4\n\t"           \
  "smlad  r4, r3, r9, r4\n\t"            \
  "smlad  r5, r12, r10, r5\n\t"          \
  "smlad  r5, r3, r11, r5\n\t"           \
  "ldm    r1!, {r8, r9, r10, r11}\n\t"    \
  "smlad  r6, r12, r8, r6\n\t"           \
  "smlad  r6, r3, r9, r6\n\t"            \
  "smlad  r7, r12, r10, r7\n\t"          \
  "smlad  r7, r3, r11, r7\n\t"
#define TM_LEAN16_LOOP                    \
  "cbz    r3, 2f\n\t"                     \
  "cmp    r3, #2\n\t"                     \
  "bhi    3f\n\t"                         \
  "beq    4f\n\t"                         \
  "b      5f\n"                            \
  "2:\n\t" TM_LEAN16_GROUP               \
  "3:\n\t" TM_LEAN16_GROUP               \
  "4:\n\t" TM_LEAN16_GROUP               \
  "5:\n\t" TM_LEAN16_GROUP               \
  "cmp    r0, r2\n\t"                     \
  "bne    2b\n\t"
#define TM_LEAN_BODY(loop) \
    "ldm    r0, {r0, r1, r2, r3, r4, r5, r6, r7, r8}\n\t" \
    "stm    sp, {r0, r1, r2, r3}\n\t"  /* runs, runs end, len, groups % 4 */ \
    "str    r5, [sp, #16]\n\t"         /* bias */ \
    "str    r6, [sp, #20]\n\t"         /* rq */ \
    "str    r7, [sp, #24]\n\t"         /* out */ \
    "str    r8, [sp, #28]\n\t"         /* quads left */ \
    "mov    r1, r4\n" \
    "6:\n\t" \
    "ldr    r3, [sp, #16]\n\t" \
    "ldm    r3!, {r4, r5, r6, r7}\n\t" \
    "str    r3, [sp, #16]\n\t" \
    "ldr    r3, [sp, #0]\n\t" \
    "str    r3, [sp, #32]\n"            /* the next run */ \
    "7:\n\t" \
    "ldr    r3, [sp, #32]\n\t" \
    "ldr    r0, [r3], #4\n\t" \
    "str    r3, [sp, #32]\n\t" \
    "ldr    r2, [sp, #8]\n\t" \
    "add    r2, r0, r2\n\t" \
    "ldr    r3, [sp, #12]\n\t" \
    loop \
    "ldr    r3, [sp, #32]\n\t" \
    "ldr    r2, [sp, #4]\n\t" \
    "cmp    r3, r2\n\t" \
    "bne    7b\n\t" \
    "ldr    r3, [sp, #20]\n\t" \
    "ldm    r3!, {r8, r9, r10, r11, r12, lr}\n\t" \
    TM_RQ_ASM("r4", "r8", "r9", "r10", "r0") \
    TM_RQ_ASM("r5", "r11", "r12", "lr", "r0") \
    "ldm    r3!, {r8, r9, r10, r11, r12, lr}\n\t" \
    TM_RQ_ASM("r6", "r8", "r9", "r10", "r0") \
    TM_RQ_ASM("r7", "r11", "r12", "lr", "r0") \
    "str    r3, [sp, #20]\n\t" \
    "ldr    r0, [sp, #24]\n\t" \
    "strb   r4, [r0], #1\n\t" \
    "strb   r5, [r0], #1\n\t" \
    "strb   r6, [r0], #1\n\t" \
    "strb   r7, [r0], #1\n\t" \
    "str    r0, [sp, #24]\n\t" \
    "ldr    r3, [sp, #28]\n\t" \
    "subs   r3, r3, #1\n\t" \
    "str    r3, [sp, #28]\n\t" \
    "bne    6b\n\t" \
    "add    sp, sp, #36\n\t" \
    "pop    {r4-r11, pc}\n"
#if TM_LEAN_INT8
__asm__(
    "  .pushsection .text.tm_lean_4_rq,\"ax\",%progbits\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .p2align 2\n"
    "  .global tm_lean_4_rq\n"
    "  .type tm_lean_4_rq, %function\n"
    "  .thumb_func\n"
    "tm_lean_4_rq:\n\t"
    "push   {r4-r11, lr}\n\t"
    "sub    sp, sp, #36\n\t"
    TM_LEAN_BODY(TM_FC_LOOP)
    "  .size tm_lean_4_rq, .-tm_lean_4_rq\n"
    "  .popsection\n");
#endif
#if TM_LEAN_INT16
__asm__(
    "  .pushsection .text.tm_lean16_4_rq,\"ax\",%progbits\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .p2align 2\n"
    "  .global tm_lean16_4_rq\n"
    "  .type tm_lean16_4_rq, %function\n"
    "  .thumb_func\n"
    "tm_lean16_4_rq:\n\t"
    "push   {r4-r11, lr}\n\t"
    "mov    lr, r0\n\t"               /* the loop state stays in *a: no frame */
    "ldr    r1, [lr, #16]\n"
    "6:\n\t"
    "ldr    r3, [lr, #20]\n\t"
    "ldm    r3!, {r4, r5, r6, r7}\n\t"
    "str    r3, [lr, #20]\n\t"
    "ldr    r3, [lr, #0]\n\t"
    "str    r3, [lr, #36]\n"
    "7:\n\t"
    "ldr    r3, [lr, #36]\n\t"
    "ldr    r0, [r3], #4\n\t"
    "str    r3, [lr, #36]\n\t"
    "ldr    r2, [lr, #8]\n\t"
    "add    r2, r0, r2\n\t"
    "ldr    r3, [lr, #12]\n\t"
    TM_LEAN16_LOOP
    "ldr    r3, [lr, #36]\n\t"
    "ldr    r2, [lr, #4]\n\t"
    "cmp    r3, r2\n\t"
    "bne    7b\n\t"
    "ldr    r3, [lr, #24]\n\t"
    "ldm    r3!, {r2, r8, r9, r10, r11, r12}\n\t"
    TM_RQ_ASM("r4", "r2", "r8", "r9", "r0")
    TM_RQ_ASM("r5", "r10", "r11", "r12", "r0")
    "ldm    r3!, {r2, r8, r9, r10, r11, r12}\n\t"
    TM_RQ_ASM("r6", "r2", "r8", "r9", "r0")
    TM_RQ_ASM("r7", "r10", "r11", "r12", "r0")
    "str    r3, [lr, #24]\n\t"
    "ldr    r0, [lr, #28]\n\t"
    "strb   r4, [r0], #1\n\t"
    "strb   r5, [r0], #1\n\t"
    "strb   r6, [r0], #1\n\t"
    "strb   r7, [r0], #1\n\t"
    "str    r0, [lr, #28]\n\t"
    "ldr    r3, [lr, #32]\n\t"
    "subs   r3, r3, #1\n\t"
    "str    r3, [lr, #32]\n\t"
    "bne    6b\n\t"
    "pop    {r4-r11, pc}\n"
    "  .size tm_lean16_4_rq, .-tm_lean16_4_rq\n"
    "  .popsection\n");
#endif
#if TM_LEAN_INT16
/* A 1x1 convolution of 8 input channels, stride 1 (every pixel's input is 8 contiguous bytes),
 * the generator's `brq` form (kernels.py, k8_stream): the pixel's 8 inputs widened once into 4
 * registers, then per output channel one LDM of its doubled bias, its 4 words of doubled int16
 * weights (SXTB16's lanes) and its requantization, 4 SMLADs, TM_RQ2_ASM and a store: 10
 * instructions per output. */
typedef struct {
  const int8_t *x, *x_end;
  const int32_t *s, *s_end;
  int8_t *out;
} tm_lean16_k8_t;
void tm_lean16_k8_rq(const tm_lean16_k8_t *a);
#define TM_LEAN16_K8_CH                   \
  "ldm    r12!, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t" \
  "smlad  r4, r0, r5, r4\n\t"             \
  "smlad  r4, r1, r6, r4\n\t"             \
  "smlad  r4, r2, r7, r4\n\t"             \
  "smlad  r4, r3, r8, r4\n\t"             \
  TM_RQ2_ASM("r4", "r9", "r10", "r11", "r5") \
  "strb   r4, [lr], #1\n\t"
__asm__(
    "  .pushsection .text.tm_lean16_k8_rq,\"ax\",%progbits\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .p2align 2\n"
    "  .global tm_lean16_k8_rq\n"
    "  .type tm_lean16_k8_rq, %function\n"
    "  .thumb_func\n"
    "tm_lean16_k8_rq:\n\t"
    "push   {r4-r11, lr}\n\t"
    "sub    sp, sp, #4\n\t"
    "str    r0, [sp]\n\t"               /* the arguments */
    "ldr    lr, [r0, #16]\n"             /* out */
    "1:\n\t"
    "ldr    r5, [sp]\n\t"
    "ldr    r4, [r5]\n\t"
    "ldrd   r1, r3, [r4], #8\n\t"        /* the pixel's 8 inputs */
    "str    r4, [r5]\n\t"
    "ldr    r12, [r5, #8]\n\t"          /* the stream's start */
    "sxtb16 r0, r1\n\t"
    "sxtb16 r1, r1, ror #8\n\t"
    "sxtb16 r2, r3\n\t"
    "sxtb16 r3, r3, ror #8\n"
    "2:\n\t"
    TM_LEAN16_K8_CH TM_LEAN16_K8_CH TM_LEAN16_K8_CH TM_LEAN16_K8_CH
    "ldr    r5, [sp]\n\t"
    "ldr    r4, [r5, #12]\n\t"
    "cmp    r12, r4\n\t"
    "bne    2b\n\t"
    "ldrd   r6, r7, [r5]\n\t"
    "cmp    r6, r7\n\t"
    "bne    1b\n\t"
    "add    sp, sp, #4\n\t"
    "pop    {r4-r11, pc}\n"
    "  .size tm_lean16_k8_rq, .-tm_lean16_k8_rq\n"
    "  .popsection\n");
#endif
#define TM_LEAN_RQ_ASM 1
#else
#define TM_LEAN_RQ_ASM 0
#endif

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
        int oc = 0, g = 0;
#if TM_LEAN_RQ_ASM && TM_LEAN_INT8
        if (fast && full && !(len & 3) && groups4) {
          static tm_lean_rq_t args;  /* static: the stack stays small */
          args = (tm_lean_rq_t){runs, runs + nruns, len, (len >> 2) & 3, w, p->bias, p->rq,
                                out, groups4};
          tm_lean_4_rq(&args);
          g = groups4;
          oc = 4 * groups4;
          w += (int32_t)groups4 * nruns * len * 4;
        }
#endif
        for (; g < groups4; ++g, oc += 4) {
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

/* The lean kernel with int16 weights (`w16`; out_c % 4 == 0, runs of whole words): the
 * generator spends on it what the flash budget leaves (kernels.py, widen_lean). */
TM_ALWAYS_INLINE void tm_conv_lean_wide_body(const tm_conv_t *TM_RESTRICT p, const int8_t *in,
                                             int8_t *out, const int fast, const int full) {
  const tm_rq_t q = TM_RQ_INIT(p);
  const int nruns = p->im2col ? 1 : p->k_h;
  const int32_t len = p->im2col ? p->w_stride : (int32_t)p->k_w * p->in_c;
  const int oc_n = p->out_c, groups4 = oc_n / 4;
  const int8_t *runs[TM_CONV_MAX_ROWS];
  for (int b = 0; b < p->batches; ++b) {
    const int8_t *img = in + (int32_t)b * p->in_h * p->in_w * p->in_c;
    for (int oy = 0; oy < p->out_h; ++oy) {
      for (int ox = 0; ox < p->out_w; ++ox, out += oc_n) {
        tm_conv_lean_window(p, img, oy, ox, runs);
#if TM_LEAN_RQ_ASM && TM_LEAN_INT16
        if (fast && full) {
          static tm_lean16_rq_t args;  /* static: the stack stays small */
          args = (tm_lean16_rq_t){runs, runs + nruns, len, (len >> 2) & 3,
                                  (const int8_t *)(const void *)p->w16, p->bias, p->rq, out,
                                  groups4, runs};
          tm_lean16_4_rq(&args);
          continue;
        }
#endif
        const int16_t *w = p->w16;
        for (int g = 0, oc = 0; g < groups4; ++g, oc += 4) {
          int32_t s0 = p->bias[oc], s1 = p->bias[oc + 1], s2 = p->bias[oc + 2],
                  s3 = p->bias[oc + 3];
          for (int r = 0; r < nruns; ++r) {
            const int8_t *x = runs[r];
            for (int32_t k = 0; k < len; k += 4, x += 4, w += 16) {
              const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
              s0 += x0 * w[0] + x2 * w[1] + x1 * w[2] + x3 * w[3];
              s1 += x0 * w[4] + x2 * w[5] + x1 * w[6] + x3 * w[7];
              s2 += x0 * w[8] + x2 * w[9] + x1 * w[10] + x3 * w[11];
              s3 += x0 * w[12] + x2 * w[13] + x1 * w[14] + x3 * w[15];
            }
          }
          out[oc] = tm_rq(&q, s0, oc, fast, full);
          out[oc + 1] = tm_rq(&q, s1, oc + 1, fast, full);
          out[oc + 2] = tm_rq(&q, s2, oc + 2, fast, full);
          out[oc + 3] = tm_rq(&q, s3, oc + 3, fast, full);
        }
      }
    }
  }
}

#if TM_LEAN_INT16
/* 1x1 over 8 input channels, stride 1, the stream of k8_stream (kernels.py). */
static void tm_conv_k8(const tm_conv_t *TM_RESTRICT p, const int8_t *in, int8_t *out) {
  const int32_t pixels = (int32_t)p->batches * p->out_h * p->out_w, oc = p->out_c;
#if TM_LEAN_RQ_ASM
  static tm_lean16_k8_t args;  /* static: the stack stays small */
  args = (tm_lean16_k8_t){in, in + 8 * pixels, p->brq, p->brq + 8 * oc, out};
  tm_lean16_k8_rq(&args);
#else
  static const uint8_t lane[4] = {0, 1, 4, 5};  /* the low halfword's input; the high's + 2 */
  for (int32_t i = 0; i < pixels; ++i, in += 8) {
    const int32_t *s = p->brq;
    for (int32_t c = 0; c < oc; ++c, s += 8) {
      int32_t acc = s[0];
      for (int k = 0; k < 4; ++k) {
        const uint32_t v = (uint32_t)s[1 + k];
        acc += in[lane[k]] * (int16_t)(uint16_t)v + in[lane[k] + 2] * (int16_t)(v >> 16);
      }
      const tm_rq_t q = {s + 5, 0, -128, 127};
      *out++ = tm_rq(&q, acc / 2, 0, 1, 1);  /* the exact, even sums */
    }
  }
#endif
}
#endif

TM_UNUSED TM_NOINLINE void tm_conv_lean(const tm_conv_t *TM_RESTRICT p, const int8_t *in,
                                   int8_t *out) {
#if TM_LEAN_INT16
  if (p->brq) {
    tm_conv_k8(p, in, out);
    return;
  }
  if (p->w16 && p->fast && TM_FULL_RANGE(p))
    tm_conv_lean_wide_body(p, in, out, 1, 1);
  else if (p->w16)
    tm_conv_lean_wide_body(p, in, out, p->fast, 0);
  else
#endif
  if (p->fast && TM_FULL_RANGE(p))  /* (the generator uses it for groups 1 only) */
    tm_conv_lean_body(p, in, out, 1, 1);
  else
    tm_conv_lean_body(p, in, out, p->fast, 0);
}
