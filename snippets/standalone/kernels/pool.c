/* AVERAGE_POOL_2D and MAX_POOL_2D, int8 NHWC (TFLite's integer_ops::AveragePool/MaxPool):
 * the window is clipped to the image, the average rounds half away from zero. */
typedef struct {
  int16_t batches, in_h, in_w, channels, out_h, out_w, f_h, f_w;
  int16_t stride_h, stride_w, pad_t, pad_l;
  int32_t act_min, act_max;
} tm_pool_t;

static void tm_pool(const tm_pool_t *p, const int8_t *in, int8_t *out, int is_max) {
  for (int b = 0; b < p->batches; ++b) {
    const int8_t *img = in + (int32_t)b * p->in_h * p->in_w * p->channels;
    for (int oy = 0; oy < p->out_h; ++oy) {
      const int iy0 = oy * p->stride_h - p->pad_t;
      const int fy0 = TM_MAX(0, -iy0), fy1 = TM_MIN(p->f_h, p->in_h - iy0);
      for (int ox = 0; ox < p->out_w; ++ox) {
        const int ix0 = ox * p->stride_w - p->pad_l;
        const int fx0 = TM_MAX(0, -ix0), fx1 = TM_MIN(p->f_w, p->in_w - ix0);
        const int32_t count = (int32_t)(fy1 - fy0) * (fx1 - fx0);
        int c = 0;
#if TM_DSP
        /* averages four channels at a time: two 16-bit sums per register (SADD16), exact
         * for up to 256 values of -128..127 */
        if (!is_max && count <= 256)
          for (; c + 4 <= p->channels; c += 4, out += 4) {
            int32_t s02 = 0, s13 = 0;
            for (int fy = fy0; fy < fy1; ++fy) {
              const int8_t *row = img + ((int32_t)(iy0 + fy) * p->in_w + ix0) * p->channels + c;
              for (int fx = fx0; fx < fx1; ++fx) {
                const uint32_t v = tm_load32(row + fx * p->channels);
                s02 = (int32_t)__sadd16(s02, __sxtb16(v));
                s13 = (int32_t)__sadd16(s13, tm_sxtb16_ror8(v));
              }
            }
            const int32_t sums[4] = {(int16_t)s02, (int16_t)s13, (int16_t)(s02 >> 16),
                                     (int16_t)(s13 >> 16)};
            for (int j = 0; j < 4; ++j) {
              int32_t acc = sums[j];
              if (count > 0)
                acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
              acc = acc < p->act_min ? p->act_min : acc;
              out[j] = (int8_t)(acc > p->act_max ? p->act_max : acc);
            }
          }
#endif
        for (; c < p->channels; ++c) {
          int32_t acc = is_max ? -128 : 0;
          for (int fy = fy0; fy < fy1; ++fy) {
            const int8_t *row = img + ((int32_t)(iy0 + fy) * p->in_w + ix0) * p->channels + c;
            for (int fx = fx0; fx < fx1; ++fx) {
              const int32_t v = row[fx * p->channels];
              if (is_max) acc = v > acc ? v : acc;
              else acc += v;
            }
          }
          if (!is_max && count > 0)
            acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
          acc = acc < p->act_min ? p->act_min : acc;
          acc = acc > p->act_max ? p->act_max : acc;
          *out++ = (int8_t)acc;
        }
      }
    }
  }
}

TM_UNUSED static void tm_avg_pool(const tm_pool_t *p, const int8_t *in, int8_t *out) {
  tm_pool(p, in, out, 0);
}

TM_UNUSED static void tm_max_pool(const tm_pool_t *p, const int8_t *in, int8_t *out) {
  tm_pool(p, in, out, 1);
}
