/* The fixed-point transcendental functions TFLite's int8 SOFTMAX and LOGISTIC use (gemmlowp
 * fixedpoint: exp on negative values, 1/(1+x), logistic), on raw int32 values. A value with
 * `ib` integer bits has 31 - ib fractional bits. */

/* gemmlowp SaturatingRoundingMultiplyByPOT<e> for e > 0 (saturating left shift). */
TM_INLINE int32_t tm_sat_shl(int32_t x, int e) {
  const int32_t threshold = (int32_t)(((int32_t)1 << (31 - e)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << e);
}

/* exp(x) for x in [-1/4, 0), Q0.31 in and out. */
static int32_t tm_exp_quarter(int32_t a) {
  const int32_t constant_term = 1895147668;     /* exp(-1/8) */
  const int32_t constant_1_over_3 = 715827883;
  const int32_t x = a + ((int32_t)1 << 28);     /* a + 1/8 */
  const int32_t x2 = tm_srdhm(x, x);
  const int32_t x3 = tm_srdhm(x2, x);
  const int32_t x4 = tm_srdhm(x2, x2);
  const int32_t x4_over_4 = tm_rdbpot(x4, 2);
  const int32_t poly = tm_rdbpot(tm_srdhm(x4_over_4 + x3, constant_1_over_3) + x2, 1);
  return constant_term + tm_srdhm(constant_term, x + poly);
}

/* exp(a) for a <= 0 with `ib` integer bits; result Q0.31. */
static int32_t tm_exp_on_negative_values(int32_t a, int ib) {
  static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                         39332535, 720401, 242};  /* exp(-2^e), e=-2..4 */
  const int fractional = 31 - ib;
  const int32_t one_quarter = (int32_t)1 << (fractional - 2);
  const int32_t a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter;
  int32_t result = tm_exp_quarter(ib > 0 ? tm_sat_shl(a_mod_quarter_minus_one_quarter, ib)
                                         : a_mod_quarter_minus_one_quarter);
  const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
  for (int e = -2; e <= 4; ++e) {
    if (ib > e && (remainder & ((int32_t)1 << (fractional + e)))) {
      result = tm_srdhm(result, multipliers[e + 2]);
    }
  }
  if (ib > 5 && a < -((int32_t)1 << (36 - ib))) result = 0;  /* below -32 */
  return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out (Newton-Raphson, as gemmlowp). */
static int32_t tm_one_over_one_plus_x(int32_t a) {
  const int64_t sum = (int64_t)a + INT32_MAX;
  const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  const int32_t constant_48_over_17 = 1515870810;   /* Q2.29 */
  const int32_t constant_neg_32_over_17 = -1010580540;
  int32_t x = constant_48_over_17 + tm_srdhm(half_denominator, constant_neg_32_over_17);
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = tm_srdhm(half_denominator, x);
    const int32_t one_minus = ((int32_t)1 << 29) - half_denominator_times_x;
    x = x + tm_sat_shl(tm_srdhm(x, one_minus), 2);
  }
  return tm_sat_shl(x, 1);
}

TM_INLINE int tm_clz32(uint32_t x) {
#if defined(__GNUC__)
  return x ? __builtin_clz(x) : 32;
#else
  int n = 0;
  if (!x) return 32;
  while (!(x & 0x80000000u)) { x <<= 1; ++n; }
  return n;
#endif
}
