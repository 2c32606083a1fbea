/*
 * main.c of the profiling firmware (tinyml-lsp, emulated board tinyml-qemu-m4): model.c is
 * built with -DTM_PROFILE, so model_invoke() calls tm_profile_step(k) after its k-th kernel
 * call; the timer is read there. Prints, per test vector,
 *
 *   PROFILE seq=<n> step=<k> instructions=<n>     (one line per kernel call)
 *   PROFILE seq=<n> total=<n>                    (the whole model_invoke())
 *
 * between the usual TINYML READY and TINYML DONE lines. Under QEMU's -icount shift=0 a timer
 * tick is 40 instructions; the hook re-reads the timer after its own bookkeeping, so a step's
 * figure is its kernel's instructions to within one tick.
 */
#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "test_vectors.h"
#include "tinyml_board.h"

static int8_t output[MODEL_OUTPUT_SIZE];
static uint32_t step_ticks[MODEL_STEP_COUNT];
static uint32_t mark;

void tm_profile_step(int step);

void tm_profile_step(int step)
{
    step_ticks[step] = board_ticks() - mark;
    mark = board_ticks();
}

int main(void)
{
    board_init();
    printf("TINYML READY runtime=standalone model=%s arena=%lu inputs=%d\n", MODEL_NAME,
           (unsigned long)MODEL_ARENA_SIZE, (int)TEST_VECTOR_COUNT);
    for (int seq = 0; seq < TEST_VECTOR_COUNT; seq++) {
        const uint32_t start = board_ticks();
        mark = start;
        const int status = model_invoke(test_vectors[seq], output);
        const uint32_t total = board_ticks() - start;
        if (status != 0) {
            printf("TINYML ERROR model_invoke returned %d on input %d\n", status, seq);
            board_exit(1);
        }
        for (int k = 0; k < MODEL_STEP_COUNT; k++) {
            printf("PROFILE seq=%d step=%d instructions=%lu\n", seq, k,
                   (unsigned long)board_ticks_to_instructions(step_ticks[k]));
        }
        printf("PROFILE seq=%d total=%lu\n", seq,
               (unsigned long)board_ticks_to_instructions(total));
    }
    printf("TINYML DONE count=%d\n", (int)TEST_VECTOR_COUNT);
    board_exit(0);
}
