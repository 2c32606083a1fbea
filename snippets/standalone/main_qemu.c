/*
 * main.c: tinyml-lsp firmware for the emulated board tinyml-qemu-m4 (standalone C runtime).
 *
 * Runs the model on every test vector of test_vectors.h (docs/firmware.md §3) and prints one
 * line per inference in the serial line format of docs/firmware.md §2 (tinyml_report.h):
 *
 *   TINYML READY runtime=standalone model=<name> arena=<bytes> inputs=<count>
 *   INFERENCE seq=<n> class=<i> label=<label> score=<float> instructions=<n> time_us=<n> output=<q0>,...
 *   TINYML DONE count=<n>
 *
 * (the INFERENCE line of a model that is not a classifier says what its output means instead;
 * large outputs come in OUTPUT lines first.) The host checks the outputs against its own.
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
#include "tinyml_report.h"

#ifndef MODEL_NAME
#define MODEL_NAME "model"
#endif

static int8_t output0[MODEL_OUTPUT_SIZE];

int main(void)
{
    board_init();
    tinyml_report_ready("standalone", MODEL_NAME, MODEL_ARENA_SIZE, TEST_VECTOR_COUNT);

    for (int seq = 0; seq < TEST_VECTOR_COUNT; seq++) {
        const int8_t *inputs[MODEL_INPUT_COUNT] = {test_vectors[seq]};
        int8_t *outputs[MODEL_OUTPUT_COUNT] = {output0};
        uint32_t start = board_ticks();
        int status = model_invoke_all(inputs, outputs);
        uint32_t ticks = board_ticks() - start;
        if (status != 0) {
            printf("TINYML ERROR model_invoke returned %d on input %d\n", status, seq);
            board_exit(1);
        }

        /* output 0 was copied out; the others stay in the arena until the next call */
        tinyml_tensor_t results[MODEL_OUTPUT_COUNT];
        for (int i = 0; i < MODEL_OUTPUT_COUNT; i++) {
            results[i].data = i ? model_output_buffer(i) : output0;
            results[i].size = model_output_sizes[i];
            results[i].scale = model_output_scales[i];
            results[i].zero_point = model_output_zero_points[i];
        }
        const tinyml_tensor_t input = {test_vectors[seq], MODEL_INPUT_SIZE, model_input_scale,
                                       model_input_zero_point};
        tinyml_report(seq, results, MODEL_OUTPUT_COUNT, &input,
                      board_ticks_to_instructions(ticks), board_ticks_to_us(ticks));
    }

    tinyml_report_done(TEST_VECTOR_COUNT);
    board_exit(0);
}
