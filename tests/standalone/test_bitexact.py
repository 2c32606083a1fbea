"""The generated C, built with the host gcc, gives exactly TFLite Micro's int8 outputs."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from tests.standalone import zoo
from tests.standalone.helpers import (
    person_images,
    standalone_outputs,
    tflm_outputs,
    wide_convs,
)
from tests.standalone.zoo import Builder
from tinyml_lsp.codegen.standalone import quantization as qz
from tinyml_lsp.codegen.standalone.emit import generate
from tinyml_lsp.codegen.standalone.host import HOST_CFLAGS, compiler
from tinyml_lsp.errors import TinymlError


def _compare(model, x, tmp_path, flash_budget=None):
    gen, ours = standalone_outputs(model, x, tmp_path, flash_budget=flash_budget)
    ref = tflm_outputs([model.read_bytes()], [x])[0]
    assert not isinstance(ref, str), ref
    ref = ref.reshape(len(x), -1)
    assert ours.shape == ref.shape
    mismatches = np.argwhere(ours != ref)
    assert mismatches.size == 0, f"{len(mismatches)} elements differ, first at {mismatches[0]}"
    return gen, ours


def test_hello_world_every_input_value(model_path, tmp_path):
    x = np.arange(-128, 128, dtype=np.int8).reshape(256, 1, 1)
    gen, ours = _compare(model_path("hello_world_int8"), x, tmp_path)
    assert gen.ops == ("FULLY_CONNECTED",) * 3
    assert len(set(ours.reshape(-1).tolist())) > 100  # a sine, not a constant


def test_micro_speech_random_inputs(model_path, tmp_path):
    x = np.random.default_rng(1).integers(-128, 128, size=(40, 1, 1960), dtype=np.int8)
    gen, ours = _compare(model_path("micro_speech_quantized"), x, tmp_path)
    assert gen.ops == ("DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX")
    assert ours.shape == (40, 4)


def test_person_detect_images(model_path, tmp_path):
    x = person_images()
    _, ours = _compare(model_path("person_detect"), x, tmp_path)
    # output = [no person, person]; the values TFLite Micro's example gives
    assert ours.tolist() == [[-113, 113], [57, -57]]
    assert ours[0, 1] > ours[1, 1]  # person scores higher on person.bmp


def test_person_detect_random_inputs(model_path, tmp_path):
    x = np.random.default_rng(2).integers(-128, 128, size=(3, 1, 96, 96, 1), dtype=np.int8)
    _compare(model_path("person_detect"), x, tmp_path)


def test_lstm_is_refused_naming_the_op(model_path):
    with pytest.raises(TinymlError) as err:
        generate(model_path("trained_lstm_int8"))
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in err.value.message
    assert "FULLY_CONNECTED" not in err.value.message.split("(")[0]  # only the missing op
    assert "TFLite Micro" in err.value.hint


def test_float_model_asks_to_quantize_first(model_path):
    with pytest.raises(TinymlError) as err:
        generate(model_path("hello_world_float"))
    assert "quantize first" in err.value.message
    assert "float32" in err.value.message


def _one_unit_fc(xs: float, ws: float, ys: float, bias: int) -> bytes:
    """FULLY_CONNECTED with one weight of 1: output = requantize(bias + x - zp)."""
    b = Builder(np.random.default_rng(0))
    x = b.tensor((1, 1), "int8", xs, 0)
    w = b.tensor((1, 1), "int8", ws, 0, data=np.array([[1]], np.int8))
    bt = b.tensor((1,), "int32", float(np.float32(xs) * np.float32(ws)), 0,
                  data=np.array([bias], np.int32))
    y = b.tensor((1, 1), "int8", ys, 0)
    b.op("FULLY_CONNECTED", [x, w, bt], [y], "FullyConnectedOptions")
    return b.finish([x], [y])


def test_fully_connected_multiplier_is_taken_in_double(tmp_path):
    """Scales for which a float32 input·filter product would change one output value."""
    rng = np.random.default_rng(5)
    accs = np.arange(-2_000_000, 2_000_000)
    for _ in range(5000):
        xs, ws, ys = (float(np.float32(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
                      for lo, hi in ((0.005, 0.2), (0.002, 0.05), (1e-3, 1e-1)))
        double = qz.fully_connected_multiplier(xs, ws, ys)
        single = qz.quantize_multiplier(qz.f32(np.float32(xs) * np.float32(ws)) / ys)
        if double == single or double[1] != single[1] or double[1] > 0:
            continue
        a, b = (_np_mbqm(accs, *m) for m in (double, single))
        hit = np.nonzero((a != b) & (np.abs(a) < 100))[0]
        if hit.size:
            acc = int(accs[hit[0]])
            break
    else:
        pytest.fail("no distinguishing scales found")
    path = tmp_path / "fc.tflite"
    path.write_bytes(_one_unit_fc(xs, ws, ys, acc))
    x = np.zeros((1, 1, 1), np.int8)
    _, ours = _compare(path, x, tmp_path / "c")
    assert ours[0, 0] == qz.multiply_by_quantized_multiplier(acc, *double)
    assert ours[0, 0] != qz.multiply_by_quantized_multiplier(acc, *single)


def _np_mbqm(x: np.ndarray, mult: int, shift: int) -> np.ndarray:
    hi = (x.astype(np.int64) * mult + (1 << 30)) >> 31
    mask = (1 << -shift) - 1
    return (hi >> -shift) + ((hi & mask) > (mask >> 1) + (hi < 0))


def test_float_input_is_quantized_half_away_from_zero(tmp_path):
    """A float-I/O model: model_quantize_input() rounds as TFLite Micro's QUANTIZE does."""
    b = Builder(np.random.default_rng(0))
    xf = b.tensor((1, 8), "float32")
    x = b.tensor((1, 8), "int8", 0.5, 0)
    b.op("QUANTIZE", [xf], [x], "QuantizeOptions")
    yf = b.tensor((1, 8), "float32")
    b.op("DEQUANTIZE", [x], [yf], "DequantizeOptions")
    path = tmp_path / "q.tflite"
    path.write_bytes(b.finish([xf], [yf]))
    inputs = np.array([[[-1.25, -0.75, -0.25, 0.25, 0.75, 1.25, -100.0, 100.0]]], np.float32)
    gen, ours = _compare(path, inputs, tmp_path / "c")
    assert gen.inputs[0].is_float and gen.outputs[0].is_float
    assert ours.tolist() == [[-1.5, -1.0, -0.5, 0.5, 1.0, 1.5, -64.0, 63.5]]


@pytest.mark.parametrize("name", ["vww_mobilenet", "kws_dscnn", "ic_resnet8", "ad_autoencoder"])
def test_benchmark_twins_random_inputs(twins, name, tmp_path):
    """The MLPerf Tiny architectures (Keras, converted by TensorFlow Lite) on the host."""
    path = twins[name]
    x = zoo.random_inputs(path.read_bytes(), 4, seed=3)
    _compare(path, x, tmp_path)


@pytest.mark.parametrize(("name", "kernel"), [
    ("vww_mobilenet", "tm_conv"), ("kws_dscnn", "tm_conv"), ("ic_resnet8", "tm_conv"),
    ("ad_autoencoder", "tm_conv_lean")])
def test_twins_with_int16_weights(twins, name, kernel, tmp_path):
    """`--weights-budget 2.1` on the host: the int16 forms — conv.c's pairs of channels, the
    lean kernel's blocks of 4 (also for dense layers) — give the same bytes, within the
    budget."""
    path = twins[name]
    gen, _ = _compare(path, zoo.random_inputs(path.read_bytes(), 3, seed=4), tmp_path, 2.1)
    assert wide_convs(path, 2.1).get(kernel, 0) >= 2
    assert gen.model_filter_bytes < gen.filter_bytes <= 2.1 * gen.model_filter_bytes


def test_weights_budget_must_be_a_sane_ratio(twins):
    for bad in (0.5, 9.0, float("nan")):
        with pytest.raises(TinymlError, match="weights budget is a ratio from 1"):
            generate(twins["kws_dscnn"], flash_budget=bad)


def test_weights_in_flash_stay_within_the_budget(twins, model_path):
    """Default builds keep the int8 weights in flash at most 1.05× the model's (padding and
    the int16 weights bought with the slack included), and ResNet-8 spends the slack."""
    from tinyml_lsp.codegen.standalone.emit import FLASH_BUDGET

    paths = {**twins, **{n: model_path(n) for n in ("person_detect", "micro_speech_quantized")}}
    for name, path in paths.items():
        gen = generate(path)
        assert gen.filter_bytes <= FLASH_BUDGET * gen.model_filter_bytes, name
    resnet = generate(twins["ic_resnet8"])
    assert resnet.filter_bytes > resnet.model_filter_bytes


# each sample twice: model_invoke() on the caller's buffer, then model_invoke_all() with the
# sample written into model_input_buffer(0) (inputs[0] null)
API_MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "model.h"
int main(void) {
  static int8_t x[MODEL_INPUT_SIZE], a[MODEL_OUTPUT_SIZE], b[MODEL_OUTPUT_SIZE];
  const int8_t *ins[1] = {0};
  int8_t *outs[1] = {b};
  while (fread(x, 1, sizeof x, stdin) == sizeof x) {
    if (model_invoke(x, a) != 0) return 1;
    memcpy(model_input_buffer(0), x, sizeof x);
    if (model_invoke_all(ins, outs) != 0) return 2;
    fwrite(a, 1, sizeof a, stdout);
    fwrite(b, 1, sizeof b, stdout);
  }
  return 0;
}
"""


def test_first_conv_reads_the_input_in_place_or_from_the_input_buffer(tmp_path):
    """A model whose input only convolutions read takes it from the caller's buffer (no copy
    into the arena); written into model_input_buffer(0) instead, it gives the same bytes."""
    _, model, _ = zoo.case("CONV_3X3X3", 1)
    path = tmp_path / "conv.tflite"
    path.write_bytes(model)
    gen = generate(path)
    assert "const int8_t *in0 = inputs[0] ? inputs[0] : (ARENA + " in gen.source
    assert "tm_conv(&op0_p, in0, " in gen.source
    (tmp_path / "model.h").write_text(gen.header)
    (tmp_path / "model.c").write_text(gen.source)
    (tmp_path / "main.c").write_text(API_MAIN)
    subprocess.run([compiler(), *HOST_CFLAGS, "-fsanitize=address,undefined",
                    "-fno-sanitize-recover=all", "-o", "api", "model.c", "main.c"],
                   cwd=tmp_path, check=True, timeout=300)
    x = zoo.random_inputs(model, 4, seed=1)
    run = subprocess.run([str(tmp_path / "api")], input=x.tobytes(), capture_output=True,
                         check=True, timeout=60)
    ours = np.frombuffer(run.stdout, dtype=np.int8).reshape(len(x), 2, -1)
    ref = tflm_outputs([model], [x])[0].reshape(len(x), -1)
    assert np.array_equal(ours[:, 0], ref) and np.array_equal(ours[:, 1], ref)
