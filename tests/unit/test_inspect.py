"""The model card, read from the flatbuffer without TensorFlow, on real models."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.inspect import inspect_model, render_card


def test_person_detect_card() -> None:
    card = inspect_model(MODELS / "person_detect.tflite")
    assert card.op_names == ["AVERAGE_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "RESHAPE",
                             "SOFTMAX"]
    assert {(op.name, op.version, op.count) for op in card.ops} == {
        ("AVERAGE_POOL_2D", 2, 1), ("CONV_2D", 2, 14), ("DEPTHWISE_CONV_2D", 3, 14),
        ("RESHAPE", 1, 1), ("SOFTMAX", 2, 1)}
    assert card.quantization == "full-integer"
    assert card.size_bytes == (MODELS / "person_detect.tflite").stat().st_size == 300_568
    (inp,), (out,) = card.inputs, card.outputs
    assert (inp.shape, inp.dtype, inp.zero_point) == ((1, 96, 96, 1), "int8", -1)
    assert inp.scale == pytest.approx(1 / 127.5, rel=1e-6)
    assert (out.shape, out.dtype, out.scale, out.zero_point) == ((1, 2), "int8", 1 / 256, -128)
    assert 200_000 < card.weight_bytes < card.size_bytes
    assert len(card.subgraphs) == 1


@pytest.mark.parametrize(("name", "kind", "ops", "in_dtype", "in_shape"), [
    ("hello_world_int8", "full-integer", ["FULLY_CONNECTED"], "int8", (1, 1)),
    ("hello_world_float", "float", ["FULLY_CONNECTED"], "float32", (1, 1)),
    ("micro_speech_quantized", "full-integer",
     ["DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX"], "int8", (1, 1960)),
    ("trained_lstm_int8", "full-integer",
     ["FULLY_CONNECTED", "RESHAPE", "SOFTMAX", "UNIDIRECTIONAL_SEQUENCE_LSTM"], "int8",
     (1, 28, 28)),
])
def test_every_shared_model(name: str, kind: str, ops: list[str], in_dtype: str,
                            in_shape: tuple[int, ...]) -> None:
    card = inspect_model(MODELS / f"{name}.tflite")
    assert card.quantization == kind
    assert card.op_names == ops
    assert (card.inputs[0].dtype, card.inputs[0].shape) == (in_dtype, in_shape)
    assert card.inputs[0].quantized == (in_dtype == "int8")
    json.dumps(card.to_json())  # serialisable as is
    assert all(op.name in render_card(card) for op in card.ops)


def test_float_card_has_no_quantization() -> None:
    card = inspect_model(MODELS / "hello_world_float.tflite")
    assert card.inputs[0].scale is None and card.outputs[0].zero_point is None


def test_per_channel_weights_are_reported() -> None:
    # person_detect's conv weights are per-channel: the hybrid check must not mistake them
    card = inspect_model(MODELS / "person_detect.tflite")
    assert card.macs == 7_157_888


def test_cli_inspect_json_does_not_import_tensorflow(tmp_path: Path) -> None:
    code = ("import sys, json; from tinyml_lsp.cli import main; rc = main(['inspect', "
            f"{str(MODELS / 'micro_speech_quantized.tflite')!r}, '--json']); "
            "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["op_names"] == ["DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX"]
    assert data["inputs"][0]["shape"] == [1, 1960]


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = (MODELS / "person_detect.tflite").read_bytes()
    cases = {
        "truncated": (good[:1000], "truncated or corrupt"),
        "random": (bytes(range(256)) * 20, "lacks the TFL3 identifier"),
        "text": (b"this is not a model\nat all\n", "text file"),
        "empty": (b"", "empty"),
    }
    out = {}
    for name, (data, message) in cases.items():
        p = tmp_path / f"{name}.tflite"
        p.write_bytes(data)
        out[name] = (p, message)
    return out


def test_bad_models_give_clear_errors(tmp_path: Path) -> None:
    for path, message in _bad_files(tmp_path).values():
        with pytest.raises(TinymlError) as err:
            inspect_model(path)
        assert message in err.value.message and err.value.path == str(path)
    with pytest.raises(TinymlError, match="no such model file"):
        inspect_model(tmp_path / "missing.tflite")
    with pytest.raises(TinymlError, match="is a directory"):
        inspect_model(tmp_path)


def test_truncated_anywhere_never_escapes_as_a_bug(tmp_path: Path) -> None:
    good = (MODELS / "micro_speech_quantized.tflite").read_bytes()
    p = tmp_path / "cut.tflite"
    for cut in range(8, len(good), 997):
        p.write_bytes(good[:cut])
        with contextlib.suppress(TinymlError):  # a clear error is the only acceptable failure
            inspect_model(p)


@pytest.mark.parametrize("case", ["truncated", "random", "text"])
def test_cli_bad_model_one_line_on_stderr(tmp_path: Path, case: str) -> None:
    path, message = _bad_files(tmp_path)[case]
    proc = subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", "inspect", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: ") and message in lines[0]
    assert "Traceback" not in proc.stderr
