"""Per-channel dense weights against the pinned TensorFlow Lite Micro: the sketch would run and
print other results than the host (the library applies the first channel's scale to every
output), so `tinyml check` says so where the sketch registers the kernel."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support import SilentContext
from tinyml_lsp.check.task import check_path

pytestmark = pytest.mark.slow  # trains and quantizes the fruit example

SKETCH = """#include <TensorFlowLite.h>
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

extern const unsigned char g_model[];
alignas(16) static uint8_t tensor_arena[8 * 1024];

void setup() {
  static tflite::MicroMutableOpResolver<2> resolver;
  resolver.AddFullyConnected();
  resolver.AddSoftmax();
  static tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver,
                                              tensor_arena, sizeof(tensor_arena));
  interpreter.AllocateTensors();
}

void loop() {}
"""


def _codes(model: str, tmp_path: Path) -> list[tuple[str, int, int, str]]:
    sketch = tmp_path / "classifier.ino"
    sketch.write_text(SKETCH)
    report = asyncio.run(check_path(sketch, SilentContext(), model=model))
    return [(f.code, f.range.line, f.range.col, f.message) for f in report.findings]


def test_per_channel_dense_weights_are_an_error(fruit_quantized, tmp_path: Path):
    found = [f for f in _codes(fruit_quantized.files["int8"], tmp_path)
             if f[0] == "tinyml/per-channel-dense"]
    assert len(found) == 1, found
    _, line, col, message = found[0]
    assert SKETCH.splitlines()[line][col:].startswith("AddFullyConnected")
    assert "--per-tensor-dense" in message and "scales" in message


def test_per_tensor_dense_weights_are_clean(fruit_trained: Path, tmp_path: Path):
    # quantized here, into this test's folder: the shared trained project stays as the editor
    # tests expect it (one int8 model)
    from tinyml_lsp.model.quantize import quantize_model

    result = asyncio.run(quantize_model(fruit_trained / "fruit_model.keras", SilentContext(),
                                        data=fruit_trained / "fruit.csv",
                                        per_tensor_dense=True, out_dir=tmp_path / "model"))
    codes = [f[0] for f in _codes(result.files["int8"], tmp_path)]
    assert "tinyml/per-channel-dense" not in codes and codes == [], codes
