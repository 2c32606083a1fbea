/* PAD (4-D, constant value). */
typedef struct {
  int16_t in_shape[4], out_shape[4], before[4];
  int32_t value;
} tm_pad_t;

static void tm_pad(const tm_pad_t *p, const int8_t *in, int8_t *out) {
  const int32_t oc = p->out_shape[3], ic = p->in_shape[3];
  for (int b = 0; b < p->out_shape[0]; ++b) {
    const int ib = b - p->before[0];
    for (int y = 0; y < p->out_shape[1]; ++y) {
      const int iy = y - p->before[1];
      for (int x = 0; x < p->out_shape[2]; ++x, out += oc) {
        const int ix = x - p->before[2];
        if (ib < 0 || ib >= p->in_shape[0] || iy < 0 || iy >= p->in_shape[1] || ix < 0 ||
            ix >= p->in_shape[2]) {
          tm_fill(out, (int8_t)p->value, oc);
          continue;
        }
        const int8_t *src = in + (((int32_t)ib * p->in_shape[1] + iy) * p->in_shape[2] + ix) * ic;
        /* front to back: the planner may place the output just before the input */
        tm_fill(out, (int8_t)p->value, p->before[3]);
        for (int32_t c = 0; c < ic; ++c) out[p->before[3] + c] = src[c];
        tm_fill(out + p->before[3] + ic, (int8_t)p->value, oc - ic - p->before[3]);
      }
    }
  }
}
