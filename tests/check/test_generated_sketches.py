"""The TFLite Micro sketches `tinyml sketch --runtime tflm` generates are clean under
`tinyml check`, for every board it writes them for and each shared model that fits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tests.support import SilentContext
from tinyml_lsp.check.task import check_path, render_check
from tinyml_lsp.deploy.boards import BOARDS, EMULATED_BOARD
from tinyml_lsp.deploy.sketch import plan_sketch, write_sketch
from tinyml_lsp.errors import TinymlError

TFLM_BOARDS = [b.id for b in BOARDS if b.pio_platform and b.id != EMULATED_BOARD]
MODELS_CHECKED = ("hello_world_int8", "micro_speech_quantized", "person_detect")


def test_there_are_boards_to_check():
    assert len(TFLM_BOARDS) >= 5


@pytest.mark.parametrize("model", MODELS_CHECKED)
@pytest.mark.parametrize("board", TFLM_BOARDS)
def test_generated_sketch_is_clean(board: str, model: str, tmp_path: Path):
    try:
        sketch = asyncio.run(plan_sketch(MODELS / f"{model}.tflite", tmp_path / "fw",
                                         SilentContext(), board=board, runtime="tflm"))
    except TinymlError as exc:  # the generator refuses a model that does not fit: no sketch
        assert "does not fit" in exc.message or "RAM" in exc.message, exc.message
        pytest.skip(f"{model} is refused for {board}: {exc.message}")
    project = Path(write_sketch(sketch).project)
    report = asyncio.run(check_path(project, SilentContext()))
    assert report.files and any(r.model for r in report.files)  # the model was found
    assert report.findings == [], render_check(report)
