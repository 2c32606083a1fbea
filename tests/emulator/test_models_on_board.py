"""Real models on the emulated board, the user's way: `tinyml sketch`, `pio run`,
`pio run -t upload` (QEMU), the serial monitor — every on-board output equals TFLite Micro's
on the host, element by element."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DATA, MODELS
from tests.support import SilentContext
from tinyml_lsp.deploy import emulator
from tinyml_lsp.deploy.monitor import Inference, Monitor
from tinyml_lsp.deploy.platformio import build, upload
from tinyml_lsp.deploy.sketch import sketch_model
from tinyml_lsp.model.micro import measure_arena, run_micro

pytestmark = pytest.mark.emulator


def tflm_outputs(model: Path, vectors: np.ndarray) -> list[list[int]]:
    arena = asyncio.run(measure_arena(model, SilentContext())).arena_bytes
    shape = (len(vectors), *_input_shape(model))
    out = asyncio.run(run_micro(model, vectors.reshape(shape), arena, SilentContext()))
    return out.reshape(len(vectors), -1).tolist()


def _input_shape(model: Path) -> tuple[int, ...]:
    from tinyml_lsp.model.inspect import inspect_model

    return inspect_model(model).inputs[0].shape[1:]


def tinyml(*args: str | Path, timeout: float = 600, status: int = 0) -> str:
    proc = subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == status, proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
def test_fruit_through_the_cli(fruit_quantized, fruit_trained: Path, tmp_path: Path) -> None:
    model = Path(fruit_quantized.files["int8"])
    project = tmp_path / "fruit_firmware"
    holdout = fruit_trained / "fruit_holdout.csv"
    sketch = json.loads(tinyml("sketch", model, "--out", project, "--data", holdout,
                               "--vectors", "64", "--json"))
    assert sketch["labels"] == ["apple", "banana", "orange"] and sketch["vectors"] == 64
    # stratified: each class gets its share, and the rows taken are said
    assert sorted(sketch["truths"].count(c) for c in range(3)) == [21, 21, 22]
    assert len(set(sketch["rows"])) == 64 and sketch["source"] == str(holdout)
    sizes = sketch["sizes"]  # arm-none-eabi-gcc/-size on the generated C, and TFLite Micro
    assert sizes["ram_bytes"] == (sizes["arena_bytes"] + sizes["static_bytes"]
                                  + sizes["stack_bytes"] + sizes["data_bytes"])
    assert sizes["arena_bytes"] == sketch["arena_bytes"] < sizes["tflm_arena_bytes"]
    assert sizes["code_bytes"] > 0 and sizes["const_bytes"] >= sketch["weight_bytes"] > 0
    built = json.loads(tinyml("build", project, "--json"))  # pio run
    assert built["success"] and built["flash_used"] < built["flash_total"]
    try:
        flashed = json.loads(tinyml("flash", project, "--json"))  # pio run -t upload → QEMU
        assert flashed["emulated"] and flashed["port"]
        lines = tinyml("monitor", project, "--until-done", "--json", "--timeout", "120")
        events = [json.loads(line) for line in lines.splitlines()]
        # the on-board verdict: every output equals the host's, accuracy against the labels
        verdict = events[-1]["verdict"]
        assert events[-1]["event"] == "summary" and events[-1]["ok"]
        assert verdict["equal"] == verdict["vectors"] == 64 and verdict["ok"]
        assert verdict["accuracy"] == verdict["host_accuracy"] > 0.9
        # a board that disagrees with the host (here: the host's record tampered with) fails
        expected = project / "tinyml_expected.json"
        record = json.loads(expected.read_text())
        record["outputs"][3][0] += 1
        expected.write_text(json.dumps(record))
        text = tinyml("monitor", project, "--until-done", "--timeout", "120", status=1)
        assert "MISMATCH" in text and "inference 3: output[0]" in text
    finally:
        emulator.stop(project)
    board = [e for e in events if e["event"] == "inference"]
    assert [e["seq"] for e in board] == list(range(64))
    # the same 64 held-out rows, quantized the same way, in TFLite Micro on the host
    from tinyml_lsp.deploy.sketch import plan_sketch

    vectors = asyncio.run(plan_sketch(model, tmp_path / "again", SilentContext(), data=holdout,
                                      vectors=64)).inputs
    host = tflm_outputs(model, vectors)
    assert [e["output"] for e in board] == host
    assert [e["class"] for e in board] == [int(np.argmax(h)) for h in host]
    assert all(e["instructions"] > 0 for e in board)  # measured around each model_invoke()


def test_person_detect_on_the_board(tmp_path: Path) -> None:
    images = tmp_path / "images"
    for label in ("no_person", "person"):
        (images / label).mkdir(parents=True)
        shutil.copy(DATA / f"{label}.bmp", images / label / f"{label}.bmp")
    model = MODELS / "person_detect.tflite"
    project = tmp_path / "person_firmware"

    async def run() -> tuple[np.ndarray, list[Inference]]:
        sketch = await sketch_model(model, project, SilentContext(), data=images,
                                    pixel_range="int8")
        assert sketch.labels == ("no_person", "person")
        built = await build(project, SilentContext())
        assert built.success
        await upload(project, SilentContext())
        async with Monitor(project) as monitor:
            events = await monitor.until_done(120)
        return sketch.inputs, [e for e in events if isinstance(e, Inference)]

    try:
        vectors, board = asyncio.run(run())
    finally:
        emulator.stop(project)
    # TFLite Micro's example figures, read back from the board: [no_person, person] scores
    assert [e.output for e in board] == [(57, -57), (-113, 113)]
    assert [e.label for e in board] == ["no_person", "person"]
    assert [list(e.output) for e in board] == tflm_outputs(model, vectors)
    # below TFLite Micro's reference kernels (95,591,614) and CMSIS-NN (22,928,026)
    assert board[0].instructions < 22_928_026

