"""TFLite Micro's interpreter in a child process: arena, missing ops, crashes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import flatbuffers
import numpy as np
import pytest

from tests.conftest import MODELS
from tests.support import SilentContext
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.micro import measure_arena, run_micro
from tinyml_lsp.model.tflite_file import schema
from tinyml_lsp.model.verify import verify_model


@pytest.mark.parametrize(("name", "arena"), [
    ("hello_world_float", 1936), ("hello_world_int8", 1936), ("micro_speech_quantized", 7584),
    ("person_detect", 85264), ("trained_lstm_int8", 4208),
])
def test_minimum_arena_is_exact(name: str, arena: int) -> None:
    report = asyncio.run(measure_arena(MODELS / f"{name}.tflite", SilentContext()))
    assert report.arena_bytes == arena
    assert report.missing_ops == ()


def test_one_byte_less_does_not_run() -> None:
    model = MODELS / "person_detect.tflite"
    zeros = np.zeros((1, 96, 96, 1), dtype=np.int8)
    out = asyncio.run(run_micro(model, zeros, 85264, SilentContext()))
    assert out.shape == (1, 2)
    with pytest.raises(TinymlError, match="cannot run"):
        asyncio.run(run_micro(model, zeros, 85263, SilentContext()))


def test_lstm_crash_with_a_tiny_arena_is_a_clear_error() -> None:
    with pytest.raises(TinymlError) as err:
        asyncio.run(verify_model(MODELS / "trained_lstm_int8.tflite", SilentContext(), arena=256))
    # in the user's terms: the activations alone exceed it, whatever the MCU; and the crash
    assert "256-byte arena is too small" in err.value.message
    assert "activations alone take 1,536 bytes" in err.value.message
    assert "crashed (SIGSEGV)" in err.value.message
    assert "4,208 bytes" in err.value.message


def _with_ops_replaced(src: Path, dest: Path, names: list[str]) -> Path:
    """A copy of a model whose first op codes are replaced by ops TFLite Micro lacks."""
    s = schema()
    model = s.ModelT.InitFromPackedBuf(src.read_bytes(), 0)
    for oc, name in zip(model.operatorCodes, names, strict=False):
        oc.builtinCode = oc.deprecatedBuiltinCode = getattr(s.BuiltinOperator, name)
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    dest.write_bytes(bytes(b.Output()))
    return dest


def test_every_missing_op_is_named(tmp_path: Path) -> None:
    model = _with_ops_replaced(MODELS / "micro_speech_quantized.tflite", tmp_path / "m.tflite",
                               ["LSH_PROJECTION", "SKIP_GRAM"])
    report = asyncio.run(verify_model(model, SilentContext()))
    assert set(report.missing_ops) == {"LSH_PROJECTION", "SKIP_GRAM"}
    assert not report.runs and report.arena_bytes is None
    assert "LSH_PROJECTION" not in report.supported_ops
    assert "SOFTMAX" in report.supported_ops


def test_verify_person_detect_on_the_shared_images() -> None:
    # the model's own input scale (1/127.5, zero point -1) maps pixels in -1..1
    report = asyncio.run(verify_model(MODELS / "person_detect.tflite", SilentContext(),
                                      data=MODELS.parent / "data" / "person.bmp",
                                      pixel_range="-1-1"))
    assert report.runs and report.samples == 1 and report.arena_bytes == 85264


@pytest.mark.parametrize(("image", "scores"), [("person", [-113, 113]),
                                               ("no_person", [57, -57])])
def test_person_detect_on_tflite_micro_example_images(image: str, scores: list[int]) -> None:
    # TFLite Micro's test images hold int8 inputs as pixel bytes; fed as they are, the
    # interpreter gives the figures its own example prints ([no_person, person] scores)
    from tinyml_lsp.model.datasets import load_dataset

    ds = load_dataset(MODELS.parent / "data" / f"{image}.bmp", (1, 96, 96, 1),
                      pixel_range="int8")
    assert ds.quantized
    out = asyncio.run(run_micro(MODELS / "person_detect.tflite", ds.x.astype(np.int8), 85264,
                                SilentContext()))
    assert out.tolist() == [scores]


def test_a_custom_op_is_listed_as_missing(tmp_path: Path) -> None:
    from tests.unit.test_structure import mutated

    def custom(m) -> None:
        oc = m.operatorCodes[m.subgraphs[0].operators[2].opcodeIndex]
        oc.builtinCode = oc.deprecatedBuiltinCode = schema().BuiltinOperator.CUSTOM
        oc.customCode = "MyFancyOp"

    path = tmp_path / "custom.tflite"
    path.write_bytes(mutated(custom))
    report = asyncio.run(measure_arena(path, SilentContext()))
    assert report.arena_bytes is None and report.missing_ops == ("MyFancyOp",)
    assert "no kernel for MyFancyOp" in report.message
