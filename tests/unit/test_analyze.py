"""`tinyml analyze`: the model layer by layer, and each int8 layer against the float one."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tests.support import SilentContext
from tinyml_lsp.codegen.analyze import analyze_model, layers_of, render_analyze, with_errors
from tinyml_lsp.model.inspect import inspect_model
from tinyml_lsp.model.messages import LayerError, LayerErrorResult


def test_layers_of_person_detect() -> None:
    model = MODELS / "person_detect.tflite"
    report = layers_of(model)
    card = inspect_model(model)
    assert len(report.layers) == 31 and report.macs == card.macs == 7_157_888
    assert report.layers[0].op == "DEPTHWISE_CONV_2D" and report.layers[0].shape == (1, 48, 48, 8)
    assert all(layer.live_bytes for layer in report.layers if layer.op != "RESHAPE")
    # the planned arena is at most what is ever alive at once: it reuses dead buffers
    assert report.arena_bytes is not None
    assert report.arena_bytes <= max(layer.live_bytes or 0 for layer in report.layers)
    text = render_analyze(report)
    assert "7,157,888 MACs" in text and "DEPTHWISE_CONV_2D" in text


def test_models_the_standalone_runtime_cannot_run_still_analyse() -> None:
    report = layers_of(MODELS / "trained_lstm_int8.tflite")
    assert report.layers and report.arena_bytes is None
    assert "standalone runtime" in report.notes[0]


def test_the_layers_that_lose_most_are_marked() -> None:
    report = layers_of(MODELS / "hello_world_int8.tflite")
    errors = LayerErrorResult(samples=10, unmatched=(), layers=tuple(
        LayerError(i, f"t{i}", rmse=0.1 * i, rmse_steps=i, cosine=c, matched="name")
        for i, c in enumerate((0.9999, 0.95, 0.98))))
    marked = with_errors(report, errors, "float.tflite")
    assert [layer.worst for layer in marked.layers] == [False, True, True]
    assert "◀" in render_analyze(marked)


def test_a_reference_needs_data() -> None:
    with pytest.raises(Exception, match="--reference and --data"):
        asyncio.run(analyze_model(MODELS / "hello_world_int8.tflite", SilentContext(),
                                  reference=MODELS / "hello_world_float.tflite"))


def test_per_layer_errors_against_the_float_model(tmp_path: Path) -> None:
    import numpy as np

    np.save(tmp_path / "x.npy", np.linspace(0, 6.2, 64, dtype=np.float32)[:, None])
    proc = subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", "analyze",
                           MODELS / "hello_world_int8.tflite", "--reference",
                           MODELS / "hello_world_float.tflite", "--data", tmp_path / "x.npy",
                           "--json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["samples"] == 64
    layers = report["layers"]
    assert all(layer["cosine"] is not None and layer["rmse"] >= 0 for layer in layers)
    # the two published sine models were trained apart: their outputs agree (as `verify`
    # measures), their hidden layers do not — and the analysis marks exactly those
    assert layers[-1]["cosine"] > 0.99 and not layers[-1]["worst"]
    assert [layer["worst"] for layer in layers[:-1]] == [True, True]


@pytest.mark.slow
def test_a_quantized_model_tracks_its_keras_source(fruit_quantized, fruit_trained: Path):
    report = asyncio.run(analyze_model(
        fruit_quantized.files["int8"], SilentContext(),
        reference=fruit_trained / "fruit_model.keras", data=fruit_trained / "fruit_holdout.csv"))
    assert report.samples == 200 and len(report.layers) == 4
    # every layer matched by name, and int8 keeps within a few steps of the float model
    assert all(layer.cosine is not None and layer.cosine > 0.99 for layer in report.layers)
    assert all(layer.rmse_steps is not None and layer.rmse_steps < 5 for layer in report.layers)
