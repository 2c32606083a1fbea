/* The multiply-accumulate core of CONV_2D (and of DEPTHWISE_CONV_2D with one input channel):
 * two output pixels against two output channels at a time, int8 activations widened once to
 * int16, int8 weights widened by SXTB16 in the inner loop, two products per SMLAD.
 *
 * Layouts. A pixel's window of K activations is widened (K padded to a multiple of 4) into
 * groups of 4: for bytes x0..x3 the halfwords x0, x2, x1, x3 (SXTB16's lanes: even bytes, then
 * odd ones); the groups of pixels A and B alternate (A's 4 halfwords, then B's). The generator
 * writes the weights to match: per pair of output channels c, d and per group of 4, c's 4
 * bytes then d's; the last channel of an odd count follows as one row of its own. */

/* Widen n int8 values into int16 window positions k..k+n-1 of a pixel's lane of the pair
 * buffer `dst` (groups of 4 halfwords, 8 halfwords apart). */
TM_UNUSED static void tm_widen(int16_t *dst, int32_t k, const int8_t *x, int32_t n) {
  static const uint8_t lane[4] = {0, 2, 1, 3};
  int32_t i = 0;
  for (; i < n && ((k + i) & 3); ++i) dst[((k + i) >> 2) * 8 + lane[(k + i) & 3]] = x[i];
  int16_t *d = dst + ((k + i) >> 2) * 8;
  const int32_t words = (n - i) >> 2;
#if TM_DSP && defined(__OPTIMIZE__) && !defined(TM_NO_ASM)
  if (words) {  /* 6 instructions per word */
    const int8_t *src = x + i, *end = x + i + 4 * words;
    uint32_t a, even;
    __asm__ volatile(
        "1:\n\t"
        "ldr    %[a], [%[src]], #4\n\t"
        "sxtb16 %[even], %[a]\n\t"
        "sxtb16 %[a], %[a], ror #8\n\t"
        "strd   %[even], %[a], [%[d]], #16\n\t"
        "cmp    %[src], %[end]\n\t"
        "bne    1b"
        : [src] "+r"(src), [d] "+r"(d), [a] "=&r"(a), [even] "=&r"(even)
        : [end] "r"(end)
        : "cc", "memory");
  }
#else
  for (int32_t j = 0; j < words; ++j, d += 8) {
    const int8_t *q = x + i + 4 * j;
#if TM_DSP
    const uint32_t a = tm_load32(q);
    const uint32_t even = __sxtb16(a), odd = tm_sxtb16_ror8(a);
    __builtin_memcpy(d, &even, 4);
    __builtin_memcpy(d + 2, &odd, 4);
#else
    d[0] = q[0];
    d[1] = q[2];
    d[2] = q[1];
    d[3] = q[3];
#endif
  }
#endif
  for (i += 4 * words; i < n; ++i) dst[((k + i) >> 2) * 8 + lane[(k + i) & 3]] = x[i];
}

/* Widen a run of len >= 4 int8 values into whole groups of a pixel's lane from group pointer
 * d on (8 halfwords apart); when len % 4 != 0 the last group holds the run's last 4 values,
 * overlapping the group before (see conv.c's tm_conv_widen). Inline: a call costs as much as
 * a short run. Returns the next group. */
TM_ALWAYS_INLINE int16_t *tm_widen_run(int16_t *d, const int8_t *x, int32_t len) {
#if TM_DSP && defined(__OPTIMIZE__) && !defined(TM_NO_ASM)
  const int8_t *end = x + (len & ~3);
  uint32_t a, even;
  __asm__ volatile(
      "1:\n\t"
      "ldr    %[a], [%[x]], #4\n\t"
      "sxtb16 %[even], %[a]\n\t"
      "sxtb16 %[a], %[a], ror #8\n\t"
      "strd   %[even], %[a], [%[d]], #16\n\t"
      "cmp    %[x], %[end]\n\t"
      "bne    1b"
      : [x] "+r"(x), [d] "+r"(d), [a] "=&r"(a), [even] "=&r"(even)
      : [end] "r"(end)
      : "cc", "memory");
  if (len & 3) {
    a = tm_load32(x + (len & 3) - 4);
    even = __sxtb16(a);
    a = tm_sxtb16_ror8(a);
    __builtin_memcpy(d, &even, 4);
    __builtin_memcpy(d + 2, &a, 4);
    d += 8;
  }
  return d;
#else
  const int32_t whole = len & ~3;
  tm_widen(d, 0, x, whole);
  if (len & 3) tm_widen(d, whole, x + len - 4, 4);
  return d + ((len + 3) >> 2) * 8;
#endif
}

/* Widen n4 groups of 4 values of pixels A (a) and B (b) into the pair buffer d at once (a 1×1
 * convolution's inputs: whole words in place): 9 instructions per group instead of 12. */
TM_ALWAYS_INLINE void tm_widen_pair(int16_t *d, const int8_t *a, const int8_t *b, int32_t n4) {
#if TM_DSP && defined(__OPTIMIZE__) && !defined(TM_NO_ASM)
  __asm__ volatile(
      "1:\n\t"
      "ldr    r4, [%[a]], #4\n\t"
      "ldr    r6, [%[b]], #4\n\t"
      "sxtb16 r5, r4, ror #8\n\t"
      "sxtb16 r4, r4\n\t"
      "sxtb16 r7, r6, ror #8\n\t"
      "sxtb16 r6, r6\n\t"
      "stm    %[d]!, {r4, r5, r6, r7}\n\t"
      "subs   %[n], %[n], #1\n\t"
      "bne    1b"
      : [a] "+r"(a), [b] "+r"(b), [d] "+r"(d), [n] "+r"(n4)
      :
      : "r4", "r5", "r6", "r7", "cc", "memory");
#else
  tm_widen_run(d, a, 4 * n4);
  tm_widen_run(d + 4, b, 4 * n4);
#endif
}

/* Pixels A, B (x: n4 groups of 8 halfwords) against `pairs` pairs of channels: for each pair,
 * acc gets A·c, A·d, B·c, B·d, starting from the pair's biases. */
#if TM_DSP && defined(__OPTIMIZE__) && !defined(TM_NO_ASM)
void tm_mac_2x2(const int16_t *x, const int8_t *w, const int32_t *bias, int32_t *acc,
                int32_t n4, int32_t pairs);
/* 14 registers, 14 instructions per 16 multiply-accumulates, the loop unrolled four times
 * (entered so that the groups % 4 left over run first: r3 holds groups % 4). Locals on the
 * stack: x start, x end, bias, acc, groups % 4, pairs left. */
#define TM_MAC_2X2_GROUP                  \
  "ldm    r0!, {r8, r9, r10, r11}\n\t"    \
  "ldm    r1!, {r3, r12}\n\t"             \
  "sxtb16 lr, r3\n\t"                     \
  "smlad  r4, r8, lr, r4\n\t"             \
  "smlad  r6, r10, lr, r6\n\t"            \
  "sxtb16 r3, r3, ror #8\n\t"             \
  "smlad  r4, r9, r3, r4\n\t"             \
  "smlad  r6, r11, r3, r6\n\t"            \
  "sxtb16 lr, r12\n\t"                    \
  "smlad  r5, r8, lr, r5\n\t"             \
  "smlad  r7, r10, lr, r7\n\t"            \
  "sxtb16 r12, r12, ror #8\n\t"           \
  "smlad  r5, r9, r12, r5\n\t"            \
  "smlad  r7, r11, r12, r7\n\t"
#define TM_MAC_2X2_LOOP                   \
  "cbz    r3, 2f\n\t"                    \
  "cmp    r3, #2\n\t"                    \
  "bhi    3f\n\t"                        \
  "beq    4f\n\t"                        \
  "b      5f\n"                           \
  "2:\n\t" TM_MAC_2X2_GROUP             \
  "3:\n\t" TM_MAC_2X2_GROUP             \
  "4:\n\t" TM_MAC_2X2_GROUP             \
  "5:\n\t" TM_MAC_2X2_GROUP             \
  "cmp    r0, r2\n\t"                    \
  "bne    2b\n\t"
/* conv.c calls it for pairs of channels only from the bodies without the requantizing loop
 * (TM_CONV_ANY): the generator leaves it out otherwise. */
#if !defined(TM_CONV_ANY) || TM_CONV_ANY
#define TM_MAC_2X2_ASM 1
__asm__(
    "  .pushsection .text.tm_mac_2x2,\"ax\",%progbits\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .p2align 2\n"
    "  .global tm_mac_2x2\n"
    "  .type tm_mac_2x2, %function\n"
    "  .thumb_func\n"
    "tm_mac_2x2:\n\t"
    "push   {r4-r11, lr}\n\t"
    "sub    sp, sp, #24\n\t"
    "ldr    r4, [sp, #60]\n\t"     /* n4 */
    "ldr    r5, [sp, #64]\n\t"     /* pairs */
    "str    r0, [sp, #0]\n\t"
    "add    r6, r0, r4, lsl #4\n\t"
    "str    r6, [sp, #4]\n\t"
    "str    r2, [sp, #8]\n\t"
    "str    r3, [sp, #12]\n\t"
    "and    r4, r4, #3\n\t"
    "str    r4, [sp, #16]\n\t"
    "str    r5, [sp, #20]\n"
    "1:\n\t"
    "ldr    r3, [sp, #8]\n\t"
    "ldm    r3!, {r4, r5}\n\t"
    "str    r3, [sp, #8]\n\t"
    "mov    r6, r4\n\t"
    "mov    r7, r5\n\t"
    "ldr    r0, [sp, #0]\n\t"
    "ldr    r2, [sp, #4]\n\t"
    "ldr    r3, [sp, #16]\n\t"
    TM_MAC_2X2_LOOP
    "ldr    r3, [sp, #12]\n\t"
    "stm    r3!, {r4, r5, r6, r7}\n\t"
    "str    r3, [sp, #12]\n\t"
    "ldr    r3, [sp, #20]\n\t"
    "subs   r3, r3, #1\n\t"
    "str    r3, [sp, #20]\n\t"
    "bne    1b\n\t"
    "add    sp, sp, #24\n\t"
    "pop    {r4-r11, pc}\n"
    "  .size tm_mac_2x2, .-tm_mac_2x2\n"
    "  .popsection\n");
#endif

/* The same, requantized in place (the fast requantization with the full int8 range, see
 * common.h): writes pixel A's two outputs at out[0..1], B's at out[out_b..out_b + 1] (out_b 0
 * when B repeats A), and moves on by 2 bytes per pair. */
typedef struct {
  const int16_t *x;
  const int8_t *w;
  const int32_t *bias, *rq;
  int8_t *out;
  int32_t out_b, n4, pairs;
} tm_mac_rq_t;
void tm_mac_2x2_rq(const tm_mac_rq_t *a);
/* The loop of a group macro unrolled eight times, for the requantizing routines below (r0 = x,
 * r2 = x end): entered at group 20 + (8 - groups % 8) % 8 so that the groups % 8 left over run
 * first; a long row runs half as many loop tests as with four. The routines keep the entry's
 * address (TM_LOOP8_ENTRY, once per call) next to x and its end on the stack and load all three
 * with one LDM into r0, r2 and pc: the branch into the loop costs no instruction of its own. */
#define TM_LOOP8_GROUPS(group)            \
  "20:\n\t" group                        \
  "21:\n\t" group                        \
  "22:\n\t" group                        \
  "23:\n\t" group                        \
  "24:\n\t" group                        \
  "25:\n\t" group                        \
  "26:\n\t" group                        \
  "27:\n\t" group
#define TM_LOOP8(group)                   \
  TM_LOOP8_GROUPS(group)                  \
  "cmp    r0, r2\n\t"                    \
  "bne    20b\n\t"
/* The entry's address (Thumb bit set) into t from n = groups, with u and v scratch. */
#define TM_LOOP8_ENTRY(t, n, u, v)        \
  "and    " n ", " n ", #7\n\t"           \
  "rsb    " n ", " n ", #8\n\t"           \
  "and    " n ", " n ", #7\n\t"           \
  "adr    " u ", 20f\n\t"                 \
  "adr    " v ", 21f\n\t"                 \
  "sub    " v ", " v ", " u "\n\t"         \
  "mla    " t ", " n ", " v ", " u "\n\t"  \
  "orr    " t ", " t ", #1\n\t"
/* Where the routines below take a pair's biases (into r4, r5 and r6, r7) and its requantization
 * triples (r8 to lr): from the arguments' arrays, or from the weights' stream (r1) around them. */
#define TM_BIAS_ARGS                      \
  "ldr    r3, [sp, #12]\n\t"             \
  "ldrd   r6, r7, [r3]\n\t"              \
  "ldm    r3!, {r4, r5}\n\t"             \
  "str    r3, [sp, #12]\n\t"
#define TM_RQS_ARGS                       \
  "ldr    r3, [sp, #16]\n\t"             \
  "ldm    r3!, {r8, r9, r10, r11, r12, lr}\n\t" \
  "str    r3, [sp, #16]\n\t"
#define TM_BIAS_STREAM                    \
  "ldrd   r6, r7, [r1]\n\t"              \
  "ldm    r1!, {r4, r5}\n\t"
#define TM_RQS_STREAM "ldm    r1!, {r8, r9, r10, r11, r12, lr}\n\t"
#define TM_MAC_2X2_RQ_FUNC(name, loop, rq, bias, rqs) \
    "  .pushsection .text." name ",\"ax\",%progbits\n" \
    "  .syntax unified\n"                              \
    "  .thumb\n"                                       \
    "  .p2align 2\n"                                   \
    "  .global " name "\n"                             \
    "  .type " name ", %function\n"                    \
    "  .thumb_func\n"                                  \
    name ":\n\t"                                       \
    "push   {r4-r11, lr}\n\t"                          \
    "sub    sp, sp, #32\n\t"                           \
    "ldm    r0, {r2, r3, r4, r5, r6, r7, r8, r9}\n\t"  \
    "str    r2, [sp, #0]\n\t"        /* x start */     \
    "add    r10, r2, r8, lsl #4\n\t"                   \
    "str    r10, [sp, #4]\n\t"       /* x end */       \
    TM_LOOP8_ENTRY("r8", "r8", "r10", "r11")           \
    "str    r8, [sp, #8]\n\t"        /* loop entry */  \
    "str    r4, [sp, #12]\n\t"       /* bias */        \
    "str    r5, [sp, #16]\n\t"       /* rq */          \
    "strd   r6, r7, [sp, #20]\n\t"   /* out, out_b */  \
    "add    r9, r6, r9, lsl #1\n\t"                    \
    "str    r9, [sp, #28]\n\t"       /* out end */     \
    "mov    r1, r3\n"                                  \
    "1:\n\t"                                           \
    bias                                               \
    "ldm    sp, {r0, r2, pc}\n\t"                      \
    loop                                               \
    rqs                                                \
    rq("r4", "r8", "r9", "r10", "r0")                  \
    rq("r6", "r8", "r9", "r10", "r0")                  \
    rq("r5", "r11", "r12", "lr", "r0")                 \
    rq("r7", "r11", "r12", "lr", "r0")                 \
    "ldrd   r0, r2, [sp, #20]\n\t"                     \
    "strb   r6, [r0, r2]\n\t"                          \
    "strb   r4, [r0], #1\n\t"                          \
    "strb   r7, [r0, r2]\n\t"                          \
    "strb   r5, [r0], #1\n\t"                          \
    "str    r0, [sp, #20]\n\t"                         \
    "ldr    r3, [sp, #28]\n\t"                         \
    "cmp    r0, r3\n\t"                                \
    "bne    1b\n\t"                                    \
    "add    sp, sp, #32\n\t"                           \
    "pop    {r4-r11, pc}\n"                            \
    "  .size " name ", .-" name "\n"                   \
    "  .popsection\n"
__asm__(TM_MAC_2X2_RQ_FUNC("tm_mac_2x2_rq", TM_LOOP8(TM_MAC_2X2_GROUP), TM_RQ_ASM,
                           TM_BIAS_ARGS, TM_RQS_ARGS));
/* The same with int16 weights (the generator's `wide` form, kernels.py widen_pairs): per pair
 * and per group of 4, c's halfwords w0, w2, w1, w3 (SXTB16's lanes of x), then d's; 11
 * instructions per 16 multiply-accumulates instead of 14, no weight to widen. The weights and
 * biases are doubled (|2w| <= 256 fits), so the sums are twice the accumulators, as the fast
 * requantization wants them: TM_RQ2_ASM is TM_RQ_ASM without its doubling. Each pair's weights
 * come in one stream with its biases before and its requantization after (kernels.py
 * pair_stream; a->bias and a->rq unused): read along, no pointers to keep on the stack. */
#define TM_RQ2_ASM(acc, m, e, r, t)                 \
  "smmlar " t ", " acc ", " m ", " r "\n\t"         \
  "add    " acc ", " t ", " acc ", asr #31\n\t"     \
  "asrs   " acc ", " acc ", " e "\n\t"              \
  "ssat   " acc ", #8, " acc "\n\t"
#define TM_MAC16_2X2_GROUP                \
  "ldm    r0!, {r8, r9, r10, r11}\n\t"    \
  "ldm    r1!, {r2, r3, r12, lr}\n\t"     \
  "smlad  r4, r8, r2, r4\n\t"             \
  "smlad  r4, r9, r3, r4\n\t"             \
  "smlad  r6, r10, r2, r6\n\t"            \
  "smlad  r6, r11, r3, r6\n\t"            \
  "smlad  r5, r8, r12, r5\n\t"            \
  "smlad  r5, r9, lr, r5\n\t"             \
  "smlad  r7, r10, r12, r7\n\t"           \
  "smlad  r7, r11, lr, r7\n\t"
/* Its weights take 4 registers, the x end's among them: reloaded for the test, once per 8
 * groups (10 instructions per 16 multiply-accumulates). */
#define TM_LOOP8_XEND(group)              \
  TM_LOOP8_GROUPS(group)                  \
  "ldr    r2, [sp, #4]\n\t"              \
  "cmp    r0, r2\n\t"                    \
  "bne    20b\n\t"
void tm_mac16_2x2_rq(const tm_mac_rq_t *a);
__asm__(TM_MAC_2X2_RQ_FUNC("tm_mac16_2x2_rq", TM_LOOP8_XEND(TM_MAC16_2X2_GROUP), TM_RQ2_ASM,
                           TM_BIAS_STREAM, TM_RQS_STREAM));
#define TM_MAC_RQ_ASM 1
#else
static void tm_mac_2x2(const int16_t *x, const int8_t *w, const int32_t *bias, int32_t *acc,
                       int32_t n4, int32_t pairs) {
  for (int32_t i = 0; i < pairs; ++i, bias += 2, acc += 4) {
    int32_t ac = bias[0], ad = bias[1], bc = bias[0], bd = bias[1];
    const int16_t *xp = x;
    for (int32_t g = 0; g < n4; ++g, xp += 8, w += 8) {
#if TM_DSP
      uint32_t a02, a13, b02, b13, c, d;
      __builtin_memcpy(&a02, xp, 4);
      __builtin_memcpy(&a13, xp + 2, 4);
      __builtin_memcpy(&b02, xp + 4, 4);
      __builtin_memcpy(&b13, xp + 6, 4);
      c = tm_load32(w);
      d = tm_load32(w + 4);
      ac = __smlad(a13, tm_sxtb16_ror8(c), __smlad(a02, __sxtb16(c), ac));
      bc = __smlad(b13, tm_sxtb16_ror8(c), __smlad(b02, __sxtb16(c), bc));
      ad = __smlad(a13, tm_sxtb16_ror8(d), __smlad(a02, __sxtb16(d), ad));
      bd = __smlad(b13, tm_sxtb16_ror8(d), __smlad(b02, __sxtb16(d), bd));
#else
      ac += xp[0] * w[0] + xp[1] * w[2] + xp[2] * w[1] + xp[3] * w[3];
      ad += xp[0] * w[4] + xp[1] * w[6] + xp[2] * w[5] + xp[3] * w[7];
      bc += xp[4] * w[0] + xp[5] * w[2] + xp[6] * w[1] + xp[7] * w[3];
      bd += xp[4] * w[4] + xp[5] * w[6] + xp[6] * w[5] + xp[7] * w[7];
#endif
    }
    acc[0] = ac;
    acc[1] = ad;
    acc[2] = bc;
    acc[3] = bd;
  }
}
#endif

#ifndef TM_MAC_RQ_ASM
#define TM_MAC_RQ_ASM 0
#endif

/* tm_mac_2x2 with int16 weights for one pair of channels, from its stream (as
 * tm_mac16_2x2_rq reads it: the doubled biases, the weights, the requantization): the portable
 * form. Returns the pair's requantization triples. */
TM_UNUSED static const int32_t *tm_mac16_2x2(const int16_t *x, const int16_t *s, int32_t *acc,
                                             int32_t n4) {
  int32_t bias[2];
  __builtin_memcpy(bias, s, 8);
  int32_t ac = bias[0], ad = bias[1], bc = bias[0], bd = bias[1];
  const int16_t *w = s + 4;
  for (int32_t g = 0; g < n4; ++g, x += 8, w += 8) {
    const int32_t a0 = x[0], a1 = x[1], a2 = x[2], a3 = x[3];
    const int32_t b0 = x[4], b1 = x[5], b2 = x[6], b3 = x[7];
    ac += a0 * w[0] + a1 * w[1] + a2 * w[2] + a3 * w[3];
    bc += b0 * w[0] + b1 * w[1] + b2 * w[2] + b3 * w[3];
    ad += a0 * w[4] + a1 * w[5] + a2 * w[6] + a3 * w[7];
    bd += b0 * w[4] + b1 * w[5] + b2 * w[6] + b3 * w[7];
  }
  acc[0] = ac / 2;  /* the exact, even sums of doubled weights and biases */
  acc[1] = ad / 2;
  acc[2] = bc / 2;
  acc[3] = bd / 2;
  return (const int32_t *)(const void *)w;
}

/* Pixels A, B against one channel (its weights one row of n4 groups): acc gets A·c, B·c. */
TM_UNUSED static void tm_mac_2x1(const int16_t *x, const int8_t *w, int32_t bias, int32_t *acc,
                       int32_t n4) {
  int32_t a = bias, b = bias;
  for (int32_t g = 0; g < n4; ++g, x += 8, w += 4) {
    a += x[0] * w[0] + x[1] * w[2] + x[2] * w[1] + x[3] * w[3];
    b += x[4] * w[0] + x[5] * w[2] + x[6] * w[1] + x[7] * w[3];
  }
  acc[0] = a;
  acc[1] = b;
}
