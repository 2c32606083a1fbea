"""Models TFLite Micro cannot run, or runs with other I/O types: what the tools say of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.standalone.zoo import Builder
from tinyml_lsp.model.inspect import inspect_model, render_card
from tinyml_lsp.model.tflite_file import schema


def tinyml(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def hybrid_model(path: Path) -> Path:
    """A dynamic-range model: float activations, int8 weights (TFLite's hybrid kernels)."""
    b = Builder(np.random.default_rng(1))
    x = b.tensor((1, 6), "float32")
    w = b.const_int8((3, 6), 0.02)
    y = b.tensor((1, 3), "float32")
    b.op("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnectedOptions")
    path.write_bytes(b.finish([x], [y]))
    return path


def uint8_io_model(path: Path) -> Path:
    """int8 inside, uint8 input and output (QUANTIZE at both ends), as older converters made."""
    b = Builder(np.random.default_rng(2))
    uint8 = schema().TensorType.UINT8
    x = b.tensor((1, 4), "int8", 0.05, 0)
    b.tensors[x].type = uint8
    xi = b.act((1, 4), 0.05, -128)
    b.op("QUANTIZE", [x], [xi], "QuantizeOptions")
    yi = b.act((1, 4), 0.05, -128)
    b.op("RELU", [xi], [yi])
    y = b.tensor((1, 4), "int8", 0.05, 0)
    b.tensors[y].type = uint8
    b.op("QUANTIZE", [yi], [y], "QuantizeOptions")
    path.write_bytes(b.finish([x], [y]))
    return path


def test_hybrid_models_are_named_and_explained(tmp_path: Path) -> None:
    model = hybrid_model(tmp_path / "hybrid.tflite")
    assert inspect_model(model).quantization == "hybrid"
    verify = tinyml("verify", model)
    assert verify.returncode == 1
    error = verify.stderr.strip().splitlines()[-1]
    assert "hybrid (dynamic-range)" in error and "tinyml quantize" in error
    assert "failed to prepare" not in verify.stderr  # no interpreter text
    fit = json.loads(tinyml("fit", model, "--board", "nano33ble", "--json").stdout)
    assert not fit[0]["fits"] and "hybrid" in fit[0]["problems"][0]
    # its bytes export like any valid model's; the header says why there is no arena
    export = tinyml("export", model, "--out", tmp_path / "out", "--json")
    assert export.returncode == 0, export.stderr
    assert json.loads(export.stdout)["arena_bytes"] is None
    assert "hybrid" in (tmp_path / "out" / "model_data.h").read_text()


def test_uint8_io_is_said(tmp_path: Path) -> None:
    card = inspect_model(uint8_io_model(tmp_path / "u8.tflite"))
    assert card.quantization == "full-integer"
    assert "full-integer (int8 inside, int8/uint8 input/output)" not in render_card(card)
    assert "full-integer (int8 inside, uint8 input/output)" in render_card(card)
