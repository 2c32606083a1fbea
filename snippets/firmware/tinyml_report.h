/*
 * tinyml_report.h: the serial line format of docs/firmware.md §2, for every firmware tinyml-lsp
 * generates (standalone runtime and TFLite Micro sketches alike), so one monitor reads them all.
 *
 * Needs, before it is included:
 *   TINYML_PUTC(c)      writes one character (default: putchar);
 *   TINYML_OUTPUT_KIND  what the output means, one of the TINYML_KIND_* below;
 *   MODEL_LABEL_COUNT and model_labels[] (test_vectors.h) for the class names.
 * Numbers are formatted here, without printf: Arduino cores and newlib-nano differ in what
 * printf supports (64-bit integers, floats).
 */
#ifndef TINYML_REPORT_H
#define TINYML_REPORT_H

#include <stdint.h>

#define TINYML_KIND_CLASS   0  /* a classifier: arg-max, its label and score */
#define TINYML_KIND_VALUE   1  /* a few real values (regression) */
#define TINYML_KIND_ANOMALY 2  /* an autoencoder: reconstruction error of the input */
#define TINYML_KIND_RAW     3  /* several or large outputs: the raw tensors */

#ifndef TINYML_PUTC
#include <stdio.h>
#define TINYML_PUTC(c) putchar(c)
#endif

/* outputs up to this many values go on the INFERENCE line, larger ones in OUTPUT lines */
#define TINYML_INLINE_VALUES 64
#define TINYML_VALUES_PER_LINE 32

static void tinyml_puts(const char *s)
{
    while (*s) {
        TINYML_PUTC(*s++);
    }
}

static void tinyml_put_u64(uint64_t value)
{
    char digits[21];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(value % 10u));
        value /= 10u;
    } while (value != 0u);
    while (n > 0) {
        TINYML_PUTC(digits[--n]);
    }
}

static void tinyml_put_int(int32_t value)
{
    if (value < 0) {
        TINYML_PUTC('-');
        tinyml_put_u64((uint64_t)(-(int64_t)value));
    } else {
        tinyml_put_u64((uint64_t)value);
    }
}

/* six decimals, like printf("%.6f") for the values a model gives */
static void tinyml_put_float(float value)
{
    if (value != value) {
        tinyml_puts("nan");
        return;
    }
    if (value < 0.0f) {
        TINYML_PUTC('-');
        value = -value;
    }
    if (value > 1e15f) {
        tinyml_puts("inf");
        return;
    }
    uint64_t micro = (uint64_t)((double)value * 1e6 + 0.5);
    tinyml_put_u64(micro / 1000000u);
    TINYML_PUTC('.');
    uint32_t frac = (uint32_t)(micro % 1000000u);
    for (uint32_t div = 100000u; div > 0u; div /= 10u) {
        TINYML_PUTC((char)('0' + (int)(frac / div % 10u)));
    }
}

typedef struct {
    const int8_t *data;
    uint32_t size;
    float scale;
    int32_t zero_point;
} tinyml_tensor_t;

static void tinyml_report_ready(const char *runtime, const char *model, uint32_t arena,
                                int inputs)
{
    tinyml_puts("TINYML READY runtime=");
    tinyml_puts(runtime);
    tinyml_puts(" model=");
    tinyml_puts(model);
    tinyml_puts(" arena=");
    tinyml_put_u64(arena);
    tinyml_puts(" inputs=");
    tinyml_put_int(inputs);
    TINYML_PUTC('\n');
}

static uint32_t tinyml_total(const tinyml_tensor_t *outputs, int count)
{
    uint32_t total = 0;
    for (int t = 0; t < count; t++) {
        total += outputs[t].size;
    }
    return total;
}

/* the outputs' raw int8 values, concatenated, from element `from` on, at most `max` of them */
static void tinyml_put_values(const tinyml_tensor_t *outputs, int count, uint32_t from,
                              uint32_t max)
{
    uint32_t index = 0, written = 0;
    for (int t = 0; t < count; t++) {
        for (uint32_t i = 0; i < outputs[t].size; i++, index++) {
            if (index < from || written == max) {
                continue;
            }
            if (written++) {
                TINYML_PUTC(',');
            }
            tinyml_put_int(outputs[t].data[i]);
        }
    }
}

static float tinyml_real(const tinyml_tensor_t *t, uint32_t i)
{
    return t->scale * (float)((int32_t)t->data[i] - t->zero_point);
}

__attribute__((unused))  /* used by classifiers only */
static void tinyml_put_label(int cls)
{
#if MODEL_LABEL_COUNT > 0
    if (cls < MODEL_LABEL_COUNT) {
        tinyml_puts(model_labels[cls]);
        return;
    }
#endif
    tinyml_puts("class");
    tinyml_put_int(cls);
}

/* One inference: OUTPUT lines first when the outputs are too large for one line, then the
 * INFERENCE line (so a reader has every value once it sees INFERENCE). `input` is the int8
 * input, used by the anomaly score. */
static void tinyml_report(int seq, const tinyml_tensor_t *outputs, int count,
                          const tinyml_tensor_t *input, uint64_t instructions, uint32_t time_us)
{
    const uint32_t total = tinyml_total(outputs, count);
    const int inline_values = total <= TINYML_INLINE_VALUES;
    if (!inline_values) {
        for (uint32_t from = 0; from < total; from += TINYML_VALUES_PER_LINE) {
            tinyml_puts("OUTPUT seq=");
            tinyml_put_int(seq);
            tinyml_puts(" offset=");
            tinyml_put_u64(from);
            tinyml_puts(" values=");
            tinyml_put_values(outputs, count, from, TINYML_VALUES_PER_LINE);
            TINYML_PUTC('\n');
        }
    }
    tinyml_puts("INFERENCE seq=");
    tinyml_put_int(seq);
#if TINYML_OUTPUT_KIND == TINYML_KIND_CLASS
    int cls = 0;
    for (uint32_t i = 1; i < outputs[0].size; i++) {
        if (outputs[0].data[i] > outputs[0].data[cls]) {
            cls = (int)i;
        }
    }
    tinyml_puts(" class=");
    tinyml_put_int(cls);
    tinyml_puts(" label=");
    tinyml_put_label(cls);
    tinyml_puts(" score=");
    tinyml_put_float(tinyml_real(&outputs[0], (uint32_t)cls));
#elif TINYML_OUTPUT_KIND == TINYML_KIND_VALUE
    tinyml_puts(" value=");
    for (uint32_t i = 0; i < outputs[0].size; i++) {
        if (i) {
            TINYML_PUTC(',');
        }
        tinyml_put_float(tinyml_real(&outputs[0], i));
    }
#elif TINYML_OUTPUT_KIND == TINYML_KIND_ANOMALY
    float error = 0.0f;
    for (uint32_t i = 0; i < outputs[0].size && i < input->size; i++) {
        const float d = tinyml_real(&outputs[0], i) - tinyml_real(input, i);
        error += d * d;
    }
    tinyml_puts(" anomaly=");
    tinyml_put_float(outputs[0].size ? error / (float)outputs[0].size : 0.0f);
#else
    tinyml_puts(" outputs=");
    tinyml_put_int(count);
#endif
    (void)input;
    tinyml_puts(" instructions=");
    tinyml_put_u64(instructions);
    tinyml_puts(" time_us=");
    tinyml_put_u64(time_us);
    if (inline_values) {
        tinyml_puts(" output=");
        tinyml_put_values(outputs, count, 0, total);
    }
    TINYML_PUTC('\n');
}

static void tinyml_report_done(int count)
{
    tinyml_puts("TINYML DONE count=");
    tinyml_put_int(count);
    TINYML_PUTC('\n');
}

#endif /* TINYML_REPORT_H */
