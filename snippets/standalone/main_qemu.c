/*
 * main.c: tinyml-lsp firmware for the emulated board tinyml-qemu-m4 (standalone C runtime).
 *
 * Runs the model on every test vector of test_vectors.h (docs/firmware.md §3) and prints one
 * line per inference in the serial line format of docs/firmware.md §2:
 *
 *   TINYML READY runtime=standalone model=<name> arena=<bytes> inputs=<count>
 *   INFERENCE seq=<n> class=<i> label=<label> score=<float> instructions=<n> time_us=<n> output=<q0>,...
 *   TINYML DONE count=<n>
 *
 * `instructions` is measured with the board's 25 MHz timer around model_invoke(): under QEMU's
 * `-icount shift=0` one instruction takes one nanosecond, so one tick is 40 instructions and
 * the figure is the same on every run. `time_us` is the same interval in virtual time.
 */
#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "test_vectors.h"
#include "tinyml_board.h"

#ifndef MODEL_NAME
#define MODEL_NAME "model"
#endif

static int8_t output[MODEL_OUTPUT_SIZE];

static int arg_max(const int8_t *values, int count)
{
    int best = 0;
    for (int i = 1; i < count; i++) {
        if (values[i] > values[best]) {
            best = i;
        }
    }
    return best;
}

/* newlib-nano's printf has no 64-bit integers */
static void print_u64(uint64_t value)
{
    char digits[21];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    while (n > 0) {
        putchar(digits[--n]);
    }
}

static void print_label(int cls)
{
#if MODEL_LABEL_COUNT > 0
    if (cls < MODEL_LABEL_COUNT) {
        fputs(model_labels[cls], stdout);
        return;
    }
#endif
    printf("class%d", cls);
}

int main(void)
{
    board_init();
    printf("TINYML READY runtime=standalone model=%s arena=%lu inputs=%d\n", MODEL_NAME,
           (unsigned long)MODEL_ARENA_SIZE, (int)TEST_VECTOR_COUNT);

    for (int seq = 0; seq < TEST_VECTOR_COUNT; seq++) {
        uint32_t start = board_ticks();
        int status = model_invoke(test_vectors[seq], output);
        uint32_t ticks = board_ticks() - start;
        if (status != 0) {
            printf("TINYML ERROR model_invoke returned %d on input %d\n", status, seq);
            board_exit(1);
        }

        int cls = arg_max(output, MODEL_OUTPUT_SIZE);
        float score = (float)(output[cls] - model_output_zero_point) * model_output_scale;
        printf("INFERENCE seq=%d class=%d label=", seq, cls);
        print_label(cls);
        printf(" score=%.6f instructions=", (double)score);
        print_u64(board_ticks_to_instructions(ticks));
        printf(" time_us=%lu output=", (unsigned long)board_ticks_to_us(ticks));
        for (int i = 0; i < MODEL_OUTPUT_SIZE; i++) {
            printf(i ? ",%d" : "%d", output[i]);
        }
        putchar('\n');
    }

    printf("TINYML DONE count=%d\n", (int)TEST_VECTOR_COUNT);
    board_exit(0);
}
