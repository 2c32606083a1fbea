/* Integer arithmetic shared by the kernels: the same operations, with the same rounding, as
 * TFLite Micro's reference kernels (gemmlowp's fixed-point primitives, double-rounding
 * MultiplyByQuantizedMultiplier), so that every output byte matches the interpreter's. */

/* The inner loops need -O2 register allocation to avoid spills; size-optimised (-Os)
 * firmware builds keep it for this file (define TM_NO_O2 to opt out). */
#if defined(__GNUC__) && !defined(__clang__) && !defined(TM_NO_O2)
#pragma GCC optimize("O2")
#endif

#define TM_INLINE static inline
/* The parameter structs are never written: `restrict` lets the compiler keep their fields in
 * registers across the int8 output stores (which may otherwise alias anything). */
#define TM_RESTRICT restrict
#if defined(__GNUC__)
#define TM_UNUSED __attribute__((unused))
#define TM_ALIGN4 __attribute__((aligned(4))) /* the DSP loops read weights with LDM */
#else
#define TM_UNUSED
#define TM_ALIGN4
#endif
#define TM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TM_MAX(a, b) ((a) > (b) ? (a) : (b))

/* gemmlowp SaturatingRoundingDoublingHighMul. Its "nudge, then divide truncating toward
 * zero" equals "add 2^30, then shift right (floor)" for every product, so the 64-bit
 * add-and-shift below is exact. */
TM_INLINE int32_t tm_srdhm(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  return (int32_t)(((int64_t)a * b + ((int64_t)1 << 30)) >> 31);
}

/* gemmlowp RoundingDivideByPOT: divide by 2^e, halfway cases away from zero. */
TM_INLINE int32_t tm_rdbpot(int32_t x, int e) {
  const int32_t mask = (int32_t)(((int64_t)1 << e) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0);
  return (x >> e) + (remainder > threshold);
}

/* tflite::MultiplyByQuantizedMultiplier (double rounding, TFLite Micro's default build).
 * The left shift wraps like TFLite's int32 multiply by (1 << shift). */
TM_INLINE int32_t tm_mbqm(int32_t x, int32_t mult, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return tm_rdbpot(tm_srdhm((int32_t)((uint32_t)x << left), mult), right);
}

/* Requantize an int32 accumulator to int8 with output offset and activation clamp. */
TM_INLINE int8_t tm_requant(int32_t acc, int32_t mult, int shift, int32_t out_offset,
                            int32_t act_min, int32_t act_max) {
  int32_t v = tm_mbqm(acc, mult, shift) + out_offset;
  v = v < act_min ? act_min : v;
  v = v > act_max ? act_max : v;
  return (int8_t)v;
}

/* Buffers apart (a model's input into the arena) go by words, 16 bytes a turn: unaligned LDR
 * and STR on Cortex-M4; the empty asm keeps GCC from making the loop a call of memcpy (the
 * runtime needs nothing from libc). Out of line: inlined into model_invoke_all() (its only
 * caller where the input is read in place) it would deepen the frame under every kernel. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
TM_UNUSED static void tm_copy(int8_t *dst, const int8_t *src, int32_t n) {
  if (dst == src) return;
#if defined(__GNUC__)
  if (dst + n <= src || src + n <= dst) {
    for (; n >= 16; n -= 16, dst += 16, src += 16) {
      uint32_t a, b, c, d;
      __builtin_memcpy(&a, src, 4);
      __builtin_memcpy(&b, src + 4, 4);
      __builtin_memcpy(&c, src + 8, 4);
      __builtin_memcpy(&d, src + 12, 4);
      __builtin_memcpy(dst, &a, 4);
      __builtin_memcpy(dst + 4, &b, 4);
      __builtin_memcpy(dst + 8, &c, 4);
      __builtin_memcpy(dst + 12, &d, 4);
      __asm__("" : "+r"(dst));
    }
  }
#endif
  if (dst < src) {
    for (int32_t i = 0; i < n; ++i) dst[i] = src[i];
  } else {
    for (int32_t i = n - 1; i >= 0; --i) dst[i] = src[i];
  }
}

TM_UNUSED static void tm_fill(int8_t *dst, int8_t value, int32_t n) {
  for (int32_t i = 0; i < n; ++i) dst[i] = value;
}

/* ---- fast paths ------------------------------------------------------------------------
 * The generator sets a kernel's `fast` flag only when, for every channel, the shift is
 * negative (e = -shift <= 22) and |accumulator| < 2^30 for any input (checked from the
 * weights). Then SaturatingRoundingDoublingHighMul(acc, m) == (2·acc · m + 2^31) >> 32 (SMMULR)
 * and the rounding divide by 2^e, plus the output offset, == (v + (v < 0 ? -1 : 0) + R) >> e
 * with R = 2^(e-1) + offset·2^e (|R| < 2^30): the same bits in fewer steps. */
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
#define TM_DSP 1
#include <arm_acle.h>
#endif


/* Per-channel requantization of conv, depthwise and fully connected kernels: `rq` holds
 * (multiplier, shift, unused) triples, or with `fast` (multiplier, e, R) as said above. Kernel bodies take `fast` and `full` as constants so the
 * compiler specialises them: `full` means the activation range is all of int8, so one SSAT
 * does the clamp. */
#if defined(__GNUC__)
#define TM_ALWAYS_INLINE static inline __attribute__((always_inline))
#define TM_NOINLINE static __attribute__((noinline)) /* keeps a big frame off a call path */
#else
#define TM_ALWAYS_INLINE static inline
#define TM_NOINLINE static
#endif

typedef struct {
  const int32_t *rq;
  int32_t out_offset, act_min, act_max;
} tm_rq_t;

TM_ALWAYS_INLINE int8_t tm_rq(const tm_rq_t *q, int32_t acc, int ch, const int fast,
                              const int full) {
  const int32_t *t = q->rq + 3u * (uint32_t)ch;
  int32_t v;
  if (!fast) {
    v = tm_mbqm(acc, t[0], t[1]) + q->out_offset;
  } else {
#if TM_DSP
    const int32_t a2 = (int32_t)((uint32_t)acc << 1);  /* as TM_RQ_ASM below */
    __asm__("smmlar %0, %1, %2, %3" : "=r"(v) : "r"(a2), "r"(t[0]), "r"(t[2]));
    v = (v + (a2 >> 31)) >> t[1];
#else
    v = (int32_t)(((int64_t)acc * t[0] + ((int64_t)1 << 30)) >> 31);
    v = (v + (v >> 31) + t[2]) >> t[1];
#endif
  }
#if TM_DSP
  if (full) return (int8_t)__ssat(v, 8);
#endif
  v = v < q->act_min ? q->act_min : v;
  v = v > q->act_max ? q->act_max : v;
  (void)full;
  return (int8_t)v;
}

#if TM_DSP
/* The fast, full-range requantization in assembly (acc in place; m, e, r registers; t a
 * scratch register). SMMLAR adds R to the rounded high word for free (R·2^32 is a whole
 * number of units of the high word), and the rounding correction takes the accumulator's
 * sign instead of the product's: they differ only when the product rounds to 0 from below,
 * and then (R - 1) >> e == R >> e == offset (R = 2^(e-1) + offset·2^e, e >= 1). */
#define TM_RQ_ASM(acc, m, e, r, t)                  \
  "lsls   " t ", " acc ", #1\n\t"                   \
  "smmlar " acc ", " t ", " m ", " r "\n\t"         \
  "add    " acc ", " acc ", " t ", asr #31\n\t"     \
  "asrs   " acc ", " acc ", " e "\n\t"              \
  "ssat   " acc ", #8, " acc "\n\t"
/* The same with the result in r (r is used up; acc keeps twice the accumulator). */
#define TM_RQ_ASM_R(acc, m, e, r)                   \
  "lsls   " acc ", " acc ", #1\n\t"                 \
  "smmlar " r ", " acc ", " m ", " r "\n\t"         \
  "add    " r ", " r ", " acc ", asr #31\n\t"       \
  "asrs   " r ", " r ", " e "\n\t"                  \
  "ssat   " r ", #8, " r "\n\t"
#endif

#define TM_RQ_INIT(p) {(p)->rq, (p)->out_offset, (p)->act_min, (p)->act_max}
#define TM_FULL_RANGE(p) ((p)->act_min == -128 && (p)->act_max == 127)

#if TM_DSP
/* SXTB16 of bytes 1 and 3 in one instruction (GCC does not fold a rotate into it) */
TM_ALWAYS_INLINE uint32_t tm_sxtb16_ror8(uint32_t x) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}
#endif

TM_ALWAYS_INLINE uint32_t tm_load32(const int8_t *p) {
#if defined(__GNUC__)
  uint32_t v;
  __builtin_memcpy(&v, p, 4); /* an unaligned LDR on Cortex-M4 */
  return v;
#else
  return (uint32_t)(uint8_t)p[0] | (uint32_t)(uint8_t)p[1] << 8 |
         (uint32_t)(uint8_t)p[2] << 16 | (uint32_t)(uint8_t)p[3] << 24;
#endif
}

TM_ALWAYS_INLINE void tm_store32(int8_t *p, uint32_t v) {
#if defined(__GNUC__)
  __builtin_memcpy(p, &v, 4); /* an unaligned STR on Cortex-M4 */
#else
  p[0] = (int8_t)v;
  p[1] = (int8_t)(v >> 8);
  p[2] = (int8_t)(v >> 16);
  p[3] = (int8_t)(v >> 24);
#endif
}
