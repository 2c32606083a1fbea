/* x · four interleaved filters (fully connected units, or conv_lean.c's output channels):
 * for each group of 4 inputs, 4 bytes of each filter in turn. */
/* s[0..3] += x · (4 interleaved units) over n4 groups of 4 inputs (n4 >= 1). */
#if TM_DSP && defined(__OPTIMIZE__) && !defined(TM_NO_ASM)
/* The 16 weight bytes of a group in one LDM; 20 instructions per 16 multiply-accumulates,
 * the loop unrolled four times (entered so that the groups % 4 left over run first). */
#define TM_FC_UNIT(acc, wr)               \
  "sxtb16 r3, " wr "\n\t"                 \
  "smlad  " acc ", r8, r3, " acc "\n\t"   \
  "sxtb16 " wr ", " wr ", ror #8\n\t"     \
  "smlad  " acc ", r9, " wr ", " acc "\n\t"
#define TM_FC_GROUP                       \
  "ldr    r9, [r0], #4\n\t"               \
  "ldm    r1!, {r10, r11, r12, lr}\n\t"   \
  "sxtb16 r8, r9\n\t"                     \
  "sxtb16 r9, r9, ror #8\n\t"             \
  TM_FC_UNIT("r4", "r10")                 \
  TM_FC_UNIT("r5", "r11")                 \
  TM_FC_UNIT("r6", "r12")                 \
  TM_FC_UNIT("r7", "lr")
#define TM_FC_LOOP       /* r3 = groups % 4, r0 = x, r2 = x end */ \
  "cbz    r3, 2f\n\t"                                              \
  "cmp    r3, #2\n\t"                                              \
  "bhi    3f\n\t"                                                  \
  "beq    4f\n\t"                                                  \
  "b      5f\n"                                                     \
  "2:\n\t" TM_FC_GROUP                                            \
  "3:\n\t" TM_FC_GROUP                                            \
  "4:\n\t" TM_FC_GROUP                                            \
  "5:\n\t" TM_FC_GROUP                                            \
  "cmp    r0, r2\n\t"                                              \
  "bne    2b\n\t"
void tm_fc_1x4(const int8_t *x, const int8_t *w, int32_t n4, int32_t *s);
__asm__(
    "  .pushsection .text.tm_fc_1x4,\"ax\",%progbits\n"
    "  .syntax unified\n"
    "  .thumb\n"
    "  .p2align 2\n"
    "  .global tm_fc_1x4\n"
    "  .type tm_fc_1x4, %function\n"
    "  .thumb_func\n"
    "tm_fc_1x4:\n\t"
    "push   {r3-r11, lr}\n\t"
    "ldm    r3, {r4, r5, r6, r7}\n\t"
    "and    r3, r2, #3\n\t"
    "add    r2, r0, r2, lsl #2\n\t"
    TM_FC_LOOP
    "pop    {r3}\n\t"
    "stm    r3, {r4, r5, r6, r7}\n\t"
    "pop    {r4-r11, pc}\n"
    "  .size tm_fc_1x4, .-tm_fc_1x4\n"
    "  .popsection\n");

#endif

TM_ALWAYS_INLINE const int8_t *tm_dot4(const int8_t *x, const int8_t *w, int32_t n,
                                          int32_t *s) {
  int32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
  const int8_t *end = x + (n & ~3);
#if TM_DSP && defined(__OPTIMIZE__) && !defined(TM_NO_ASM)
  /* The loop in assembly: GCC keeps spilling the four sums inside big kernels. 11
   * registers; 23 instructions per 16 multiply-accumulates. */
  if (x < end) {
    uint32_t a, a02, v, t;
    __asm__ volatile(
        "1:\n\t"
        "ldr    %[a], [%[x]], #4\n\t"
        "sxtb16 %[a02], %[a]\n\t"
        "sxtb16 %[a], %[a], ror #8\n\t"
        "ldr    %[v], [%[w]], #4\n\t"
        "sxtb16 %[t], %[v]\n\t"
        "smlad  %[s0], %[a02], %[t], %[s0]\n\t"
        "sxtb16 %[v], %[v], ror #8\n\t"
        "smlad  %[s0], %[a], %[v], %[s0]\n\t"
        "ldr    %[v], [%[w]], #4\n\t"
        "sxtb16 %[t], %[v]\n\t"
        "smlad  %[s1], %[a02], %[t], %[s1]\n\t"
        "sxtb16 %[v], %[v], ror #8\n\t"
        "smlad  %[s1], %[a], %[v], %[s1]\n\t"
        "ldr    %[v], [%[w]], #4\n\t"
        "sxtb16 %[t], %[v]\n\t"
        "smlad  %[s2], %[a02], %[t], %[s2]\n\t"
        "sxtb16 %[v], %[v], ror #8\n\t"
        "smlad  %[s2], %[a], %[v], %[s2]\n\t"
        "ldr    %[v], [%[w]], #4\n\t"
        "sxtb16 %[t], %[v]\n\t"
        "smlad  %[s3], %[a02], %[t], %[s3]\n\t"
        "sxtb16 %[v], %[v], ror #8\n\t"
        "smlad  %[s3], %[a], %[v], %[s3]\n\t"
        "cmp    %[x], %[end]\n\t"
        "bne    1b"
        : [x] "+r"(x), [w] "+r"(w), [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2),
          [s3] "+r"(s3), [a] "=&r"(a), [a02] "=&r"(a02), [v] "=&r"(v), [t] "=&r"(t)
        : [end] "r"(end)
        : "cc", "memory");
  }
#elif TM_DSP
  for (; x < end; x += 4, w += 16) {
    const uint32_t a = tm_load32(x);
    const uint32_t a02 = __sxtb16(a), a13 = tm_sxtb16_ror8(a);
    uint32_t v = tm_load32(w);
    s0 = __smlad(a13, tm_sxtb16_ror8(v), __smlad(a02, __sxtb16(v), s0));
    v = tm_load32(w + 4);
    s1 = __smlad(a13, tm_sxtb16_ror8(v), __smlad(a02, __sxtb16(v), s1));
    v = tm_load32(w + 8);
    s2 = __smlad(a13, tm_sxtb16_ror8(v), __smlad(a02, __sxtb16(v), s2));
    v = tm_load32(w + 12);
    s3 = __smlad(a13, tm_sxtb16_ror8(v), __smlad(a02, __sxtb16(v), s3));
  }
#else
  for (; x < end; x += 4, w += 16) {
    for (int j = 0; j < 4; ++j) {
      const int32_t a = x[j];
      s0 += a * w[j];
      s1 += a * w[4 + j];
      s2 += a * w[8 + j];
      s3 += a * w[12 + j];
    }
  }
#endif
  for (int32_t k = n & 3; k > 0; --k, ++x, w += 4) {
    const int32_t a = *x;
    s0 += a * w[0];
    s1 += a * w[1];
    s2 += a * w[2];
    s3 += a * w[3];
  }
  s[0] = s0;
  s[1] = s1;
  s[2] = s2;
  s[3] = s3;
  return w;
}

#if !(TM_DSP && defined(__OPTIMIZE__) && !defined(TM_NO_ASM))
TM_UNUSED static void tm_fc_1x4(const int8_t *x, const int8_t *w, int32_t n4, int32_t *s) {
  tm_dot4(x, w, 4 * n4, s);
}
#endif
