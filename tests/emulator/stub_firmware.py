"""A tiny PlatformIO project for the emulated board, written into tmp_path.

The firmware is the real one (snippets/standalone/main_qemu.c) around a stand-in model: two
dense int8 layers whose weights are written here, so the test can compute on the host what the
board must print.
"""

from __future__ import annotations

import shutil
import string
from pathlib import Path

from tinyml_lsp.resources import data_dir

INPUTS, HIDDEN, OUTPUTS = 8, 16, 3
LABELS = ("down", "flat", "up")
W1 = [[(j * 7 + i * 3) % 11 - 5 for i in range(INPUTS)] for j in range(HIDDEN)]
W2 = [[(k * 5 + j * 2) % 9 - 4 for j in range(HIDDEN)] for k in range(OUTPUTS)]
VECTORS = [[(v * 53 + i * i * 11 + 7 * v * i) % 256 - 128 for i in range(INPUTS)] for v in range(4)]
OUTPUT_SCALE, OUTPUT_ZERO_POINT = 1 / 256, -128


def _c_rows(rows: list[list[int]]) -> str:
    return ",\n".join("    {" + ", ".join(str(v) for v in row) + "}" for row in rows)


MODEL_H = f"""#ifndef MODEL_H
#define MODEL_H
#include <stdint.h>
#define MODEL_INPUT_SIZE {INPUTS}
#define MODEL_OUTPUT_SIZE {OUTPUTS}
#define MODEL_ARENA_SIZE {HIDDEN * 4}
#define MODEL_INPUT_COUNT 1
#define MODEL_OUTPUT_COUNT 1
extern const float model_input_scale;
extern const int32_t model_input_zero_point;
extern const float model_output_scale;
extern const int32_t model_output_zero_point;
int model_invoke(const int8_t *input, int8_t *output);
void model_quantize_input(const float *x, int8_t *q);
void model_dequantize_output(const int8_t *q, float *y);
extern const uint32_t model_output_sizes[MODEL_OUTPUT_COUNT];
extern const float model_output_scales[MODEL_OUTPUT_COUNT];
extern const int32_t model_output_zero_points[MODEL_OUTPUT_COUNT];
int model_invoke_all(const int8_t *const *inputs, int8_t *const *outputs);
int8_t *model_output_buffer(int index);
#endif
"""

MODEL_C = f"""/* stand-in model for tests: out = clamp((W2 relu(W1 x)) >> 6) */
#include "model.h"
const float model_input_scale = 1.0f / 128;
const int32_t model_input_zero_point = 0;
const float model_output_scale = {OUTPUT_SCALE}f;
const int32_t model_output_zero_point = {OUTPUT_ZERO_POINT};
const uint32_t model_output_sizes[1] = {{{OUTPUTS}}};
const float model_output_scales[1] = {{{OUTPUT_SCALE}f}};
const int32_t model_output_zero_points[1] = {{{OUTPUT_ZERO_POINT}}};
static const int8_t w1[{HIDDEN}][{INPUTS}] = {{
{_c_rows(W1)}
}};
static const int8_t w2[{OUTPUTS}][{HIDDEN}] = {{
{_c_rows(W2)}
}};
static int32_t arena[{HIDDEN}];

static int8_t clamp8(int32_t v) {{ return v > 127 ? 127 : v < -128 ? -128 : (int8_t)v; }}

int model_invoke(const int8_t *input, int8_t *output)
{{
    for (int j = 0; j < {HIDDEN}; j++) {{
        int32_t acc = 0;
        for (int i = 0; i < {INPUTS}; i++) acc += w1[j][i] * input[i];
        arena[j] = acc > 0 ? acc : 0;
    }}
    for (int k = 0; k < {OUTPUTS}; k++) {{
        int32_t acc = 0;
        for (int j = 0; j < {HIDDEN}; j++) acc += w2[k][j] * arena[j];
        output[k] = clamp8(acc >> 6);
    }}
    return 0;
}}

int model_invoke_all(const int8_t *const *inputs, int8_t *const *outputs)
{{
    return model_invoke(inputs[0], outputs[0]);
}}

int8_t *model_output_buffer(int index) {{ (void)index; return 0; }}

void model_quantize_input(const float *x, int8_t *q)
{{
    for (int i = 0; i < MODEL_INPUT_SIZE; i++) q[i] = clamp8((int32_t)(x[i] * 128.0f));
}}

void model_dequantize_output(const int8_t *q, float *y)
{{
    for (int i = 0; i < MODEL_OUTPUT_SIZE; i++)
        y[i] = (q[i] - model_output_zero_point) * model_output_scale;
}}
"""

TEST_VECTORS_H = f"""#define MODEL_NAME "stub"
#define TEST_VECTOR_COUNT {len(VECTORS)}
#define TINYML_OUTPUT_KIND 0
static const int8_t test_vectors[TEST_VECTOR_COUNT][MODEL_INPUT_SIZE] = {{
{_c_rows(VECTORS)}
}};
#define MODEL_LABEL_COUNT {len(LABELS)}
static const char *const model_labels[MODEL_LABEL_COUNT] = {{
    {", ".join(f'"{label}"' for label in LABELS)}
}};
"""


def reference_outputs(vector: list[int]) -> tuple[int, ...]:
    """What the stand-in model computes, in Python (>> is arithmetic in both)."""
    hidden = [max(sum(w * x for w, x in zip(row, vector, strict=True)), 0) for row in W1]
    return tuple(max(-128, min(127, sum(w * h for w, h in zip(row, hidden, strict=True)) >> 6))
                 for row in W2)


def write_project(project: Path) -> None:
    """The stand-in firmware project: real main.c and platformio.ini template, stub model."""
    (project / "src").mkdir(parents=True)
    template = (data_dir("snippets") / "standalone" / "platformio.ini.tmpl").read_text()
    (project / "platformio.ini").write_text(
        string.Template(template).substitute(model_name="stub", model_file="stub.tflite"))
    shutil.copy(data_dir("snippets") / "standalone" / "main_qemu.c", project / "src" / "main.c")
    shutil.copy(data_dir("snippets") / "firmware" / "tinyml_report.h", project / "src")
    (project / "src" / "model.h").write_text(MODEL_H)
    (project / "src" / "model.c").write_text(MODEL_C)
    (project / "src" / "test_vectors.h").write_text(TEST_VECTORS_H)
