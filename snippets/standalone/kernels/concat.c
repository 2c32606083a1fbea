/* CONCATENATION: raw bytes, as TFLite Micro's int8 concatenation copies without
 * requantizing. */
typedef struct {
  int32_t outer, count;
  const int32_t *chunk;       /* bytes each input contributes per outer step */
  const int8_t *const *inputs;
} tm_concat_t;

static void tm_concat(const tm_concat_t *p, int8_t *out) {
  for (int32_t o = 0; o < p->outer; ++o) {
    for (int32_t i = 0; i < p->count; ++i) {
      tm_copy(out, p->inputs[i] + o * p->chunk[i], p->chunk[i]);
      out += p->chunk[i];
    }
  }
}
