"""Models that are not classifiers, on the emulated board: an autoencoder prints its anomaly
score, a regression its values, a model with two outputs its raw tensors — each line bounded,
each parsed by the monitor, and each board output judged against the host's."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import MODELS
from tests.standalone.zoo import Builder
from tests.support import SilentContext
from tinyml_lsp.deploy import emulator
from tinyml_lsp.deploy.board_run import flash_and_read
from tinyml_lsp.deploy.monitor import OutputChunk, parse_line
from tinyml_lsp.deploy.sketch import sketch_model
from tinyml_lsp.model.inspect import inspect_model

pytestmark = pytest.mark.emulator
LONGEST_LINE = 320  # characters: a line a serial terminal shows whole


def _dense(b: Builder, x: int, units: int, relu: bool) -> int:
    depth = b.shape_of(x)[-1]
    w, ws = b.weights((units, depth), 0, False)
    y = b.act((1, units), b.out_scale_for(b.scale_of(x), ws, depth))
    b.op("FULLY_CONNECTED", [x, w, b.bias(units, b.scale_of(x), ws)], [y],
         "FullyConnectedOptions", fusedActivationFunction=1 if relu else 0)
    return y


def autoencoder(path: Path) -> Path:
    """80 inputs → 12 → 80 outputs: the output reconstructs the input."""
    b = Builder(np.random.default_rng(5))
    x = b.act((1, 80))
    y = _dense(b, _dense(b, x, 12, True), 80, False)
    path.write_bytes(b.finish([x], [y]))
    return path


def two_heads(path: Path) -> Path:
    """One input, two outputs (a detector's boxes and scores, in miniature)."""
    b = Builder(np.random.default_rng(6))
    x = b.act((1, 10))
    hidden = _dense(b, x, 8, True)
    path.write_bytes(b.finish([x], [_dense(b, hidden, 4, False), _dense(b, hidden, 3, False)]))
    return path


def run(model: Path, project: Path) -> tuple[list[str], object]:
    async def go():
        sketch = await sketch_model(model, project, SilentContext(), vectors=5, sizes=False)
        return sketch, await flash_and_read(project, SilentContext(), timeout=120)

    try:
        sketch, board = asyncio.run(go())
    finally:
        emulator.stop(project)
    assert board.verdict is not None and board.verdict.ok, board.verdict
    assert board.verdict.equal == 5
    return sketch, board


@pytest.mark.parametrize("make, kind", [(autoencoder, "anomaly"), (two_heads, "raw")])
def test_generated_models(make, kind: str, tmp_path: Path):
    sketch, board = run(make(tmp_path / f"{kind}.tflite"), tmp_path / kind)
    assert sketch.kind == kind
    assert all(i.kind == kind for i in board.inferences)
    if kind == "anomaly":
        # 80 values do not fit one line: they come in OUTPUT lines, gathered by the monitor
        assert all(len(i.output) == 80 and i.anomaly is not None and i.anomaly >= 0
                   for i in board.inferences)
        assert all(len(i.line) < LONGEST_LINE for i in board.inferences)
    else:
        assert all(len(i.output) == 7 for i in board.inferences)


def test_regression_prints_its_value(tmp_path: Path):
    model = MODELS / "hello_world_int8.tflite"
    _sketch, board = run(model, tmp_path / "sine")
    out = inspect_model(model).outputs[0]
    assert out.scale is not None and out.zero_point is not None
    # the value is the int8 output dequantized on the board, printed with 6 decimals
    for i in board.inferences:
        assert i.kind == "value" and len(i.values) == 1
        assert abs(i.values[0] - out.scale * (i.output[0] - out.zero_point)) < 1e-5


def test_output_chunks_are_bounded():
    line = "OUTPUT seq=0 offset=32 values=" + ",".join(["-128"] * 32)
    assert isinstance(parse_line(line), OutputChunk) and len(line) < LONGEST_LINE
