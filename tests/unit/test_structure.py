"""Malformed models are refused with the reason by every command, before any code is
generated (issue: `sketch` accepted models that `validate` or TFLite Micro reject)."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flatbuffers
import numpy as np
import pytest

from tests.conftest import MODELS
from tests.standalone.zoo import Builder
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.inspect import inspect_model
from tinyml_lsp.model.structure import load_model
from tinyml_lsp.model.tflite_file import schema


def small_model() -> bytes:
    """input → CONV_2D → SOFTMAX-free FC → output: a valid model to break."""
    b = Builder(np.random.default_rng(3))
    x = b.act((1, 4, 4, 2))
    w, ws = b.weights((3, 3, 3, 2), 0, True)
    y = b.act((1, 4, 4, 3), b.out_scale_for(b.scale_of(x), ws, 18))
    b.op("CONV_2D", [x, w, b.bias(3, b.scale_of(x), ws)], [y], "Conv2DOptions", padding=0,
         strideH=1, strideW=1, dilationHFactor=1, dilationWFactor=1)
    z = b.act((1, 48), b.scale_of(y), b.zp_of(y))
    b.op("RESHAPE", [y], [z])
    p = b.act((1, 48), 1 / 256, -128)
    b.op("SOFTMAX", [z], [p], "SoftmaxOptions", beta=1.0)
    return b.finish([x], [p])


def mutated(change: Callable[[Any], None]) -> bytes:
    model = schema().ModelT.InitFromPackedBuf(small_model(), 0)
    change(model)
    builder = flatbuffers.Builder(4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _ops(m: Any) -> list[Any]:
    return m.subgraphs[0].operators


def _tensor(m: Any, name: str) -> Any:
    return next(t for t in m.subgraphs[0].tensors if t.name.decode() == name)


def _own_output(m: Any) -> None:
    _ops(m)[2].inputs = _ops(m)[2].outputs


def _out_of_order(m: Any) -> None:
    ops = _ops(m)
    ops[0], ops[1] = ops[1], ops[0]


def _no_options(m: Any) -> None:
    _ops(m)[0].builtinOptionsType = 0
    _ops(m)[0].builtinOptions = None


def _negative_scale(m: Any) -> None:
    q = m.subgraphs[0].tensors[_ops(m)[0].inputs[1]].quantization
    q.scale = [-abs(s) for s in q.scale]


def _beta_zero(m: Any) -> None:
    _ops(m)[2].builtinOptions.beta = 0.0


def _bad_axis(m: Any) -> None:
    m.subgraphs[0].tensors[_ops(m)[0].inputs[1]].quantization.quantizedDimension = 5


def _empty_dimension(m: Any) -> None:
    m.subgraphs[0].tensors[_ops(m)[1].outputs[0]].shape = np.array([1, 0], dtype=np.int32)


def _nan_scale(m: Any) -> None:
    m.subgraphs[0].tensors[_ops(m)[0].outputs[0]].quantization.scale = [math.nan]


def _zero_point_300(m: Any) -> None:
    m.subgraphs[0].tensors[_ops(m)[0].outputs[0]].quantization.zeroPoint = [300]


def _short_weights(m: Any) -> None:
    buf = m.buffers[m.subgraphs[0].tensors[_ops(m)[0].inputs[1]].buffer]
    buf.data = buf.data[:-5]


CASES = {
    "own output": (_own_output, "reads its own output"),
    "out of order": (_out_of_order, "before any op writes it"),
    "no options": (_no_options, "lacks its Conv2DOptions"),
    "negative scale": (_negative_scale, "not a positive finite number"),
    "beta 0": (_beta_zero, "beta 0.0"),
    "axis out of range": (_bad_axis, "per-channel scales on axis 5"),
    "0-sized dimension": (_empty_dimension, "dimensions must be ≥ 1"),
    "NaN scale": (_nan_scale, "not a positive finite number"),
    "zero point 300": (_zero_point_300, "zero point outside the int8 range"),
    "weights too short": (_short_weights,
                          "holds 49 bytes of data, its shape [3, 3, 3, 2] of int8 needs 54"),
}


def test_the_valid_model_and_the_shared_ones_pass() -> None:
    for path in MODELS.glob("*.tflite"):
        load_model(path)


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_malformed_models_are_refused(case: str, tmp_path: Path) -> None:
    change, reason = CASES[case]
    path = tmp_path / "broken.tflite"
    path.write_bytes(mutated(change))
    with pytest.raises(TinymlError, match="the model is malformed") as err:
        inspect_model(path)
    assert reason in err.value.message
    # and the commands that generate or run code refuse it the same way, writing nothing
    for args in (["sketch", path, "--out", tmp_path / "fw"], ["validate", path],
                 ["verify", path]):
        proc = subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", *map(str, args)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, (args, proc.stdout)
        assert proc.stderr.strip().splitlines()[-1].startswith(f"error: {path}: the model is "
                                                               "malformed")
    assert not (tmp_path / "fw").exists()


def test_requantization_out_of_int32_range_is_refused(tmp_path: Path) -> None:
    # a corrupt output scale makes the convolution rescale by ~1e17: a shift no int32 kernel
    # can do without undefined behaviour (the fuzzer's "shift of 105")
    def tiny_scale(m: Any) -> None:
        m.subgraphs[0].tensors[_ops(m)[0].outputs[0]].quantization.scale = [1e-20]

    path = tmp_path / "extreme.tflite"
    path.write_bytes(mutated(tiny_scale))
    proc = subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", "sketch", str(path), "--out",
                           str(tmp_path / "fw")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "op #0 CONV_2D" in proc.stderr and "int32 arithmetic" in proc.stderr


def test_undefined_behaviour_in_generated_c_fails_validation(tmp_path: Path) -> None:
    import asyncio
    from dataclasses import replace

    from tinyml_lsp.codegen.standalone.emit import generate
    from tinyml_lsp.codegen.standalone.validate import _sanitized

    gen = generate(MODELS / "hello_world_int8.tflite")
    entry = "int model_invoke_all(const int8_t *const *inputs, int8_t *const *outputs) {"
    assert entry in gen.source
    ub = entry + "\n  volatile int s = 40;\n  if ((1 << s) == 3) return 1;"
    broken = replace(gen, source=gen.source.replace(entry, ub))
    x = np.zeros((2, 1), dtype=np.int8)
    run, report = asyncio.run(_sanitized(broken, tmp_path / "ub", [x], []))
    assert run is None and report is not None
    assert "runtime error: shift exponent 40" in report
    run, report = asyncio.run(_sanitized(gen, tmp_path / "ok", [x], []))
    assert run is not None and report is None


def test_a_buffer_beyond_the_file_is_refused(tmp_path: Path) -> None:
    # the fuzzer's "2,000,000,404 weight bytes in a 2.7 KB file"
    def far_away(m: Any) -> None:
        buf = m.buffers[m.subgraphs[0].tensors[_ops(m)[0].inputs[1]].buffer]
        buf.data, buf.offset, buf.size = None, 2_000_000_000, 404

    path = tmp_path / "far.tflite"
    path.write_bytes(mutated(far_away))
    with pytest.raises(TinymlError, match="lies outside the file"):
        inspect_model(path)
