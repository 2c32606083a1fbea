"""TFLite Micro sketches on the emulated board: the `emulated` env of each generated project
built, flashed and run, its int8 outputs equal to TFLite Micro's interpreter on the host for
the test vectors, element by element (the on-board verdict against tinyml_expected.json).

One project, build and run per model, shared by its tests. The TFLite Micro library comes
from the core's build cache (compiled once per machine; tests/arduino usually did it first).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tests.support import SilentContext
from tinyml_lsp.deploy import emulator, replay
from tinyml_lsp.deploy.arduino_ini import EMULATED_ENV
from tinyml_lsp.deploy.board_run import BoardRun, flash_and_read
from tinyml_lsp.deploy.platformio import build
from tinyml_lsp.deploy.sketch import Sketch, plan_sketch, write_sketch
from tinyml_lsp.deploy.tflm_on_board import STACK_LINE, stack_used

pytestmark = pytest.mark.emulator

FIRST_BUILD = 1800  # seconds: an empty cache compiles the whole library
VECTORS = {"hello_world_int8": 16, "micro_speech_quantized": 6, "person_detect": 2}


@dataclass(frozen=True)
class OnBoard:
    sketch: Sketch
    run: BoardRun


_RUNS: dict[str, OnBoard] = {}


@pytest.fixture(scope="session")
def on_board(tmp_path_factory: pytest.TempPathFactory):
    """Generate, build and run a model's sketch once per session: `on_board(key, model,
    replay=CSV, **plan_options)`."""

    def run(key: str, model: Path, replay_csv: Path | None = None, **options) -> OnBoard:
        if key not in _RUNS:
            project = tmp_path_factory.mktemp("tflm") / key
            sketch = write_sketch(asyncio.run(plan_sketch(
                model, project, SilentContext(), board="nano33ble", **options)))
            asyncio.run(build(project, SilentContext(), env=EMULATED_ENV, timeout=FIRST_BUILD))
            replay.prepare(project, [str(replay_csv)] if replay_csv else [])
            try:
                board = asyncio.run(flash_and_read(project, SilentContext(), env=EMULATED_ENV))
            finally:
                emulator.stop(project)
            _RUNS[key] = OnBoard(sketch, board)
        return _RUNS[key]

    return run


def assert_equals_host(r: OnBoard) -> None:
    v, run, sketch = r.run.verdict, r.run, r.sketch
    assert v is not None, "the project records the host's outputs"
    width = len(sketch.expected.outputs[0])
    assert (v.vectors, v.received, v.equal) == (len(sketch.vectors),) * 3, v.mismatches
    assert (v.compared_elements, v.mismatched_elements) == (len(sketch.vectors) * width, 0)
    assert [i.output for i in run.inferences] == [tuple(o) for o in sketch.expected.outputs]
    # TFLite Micro itself said how much of the arena it used: within what the sketch reserved
    assert run.ready is not None and run.ready.runtime == "tflm"
    assert 0 < run.ready.arena <= sketch.arena_bytes
    assert all(i.instructions > 0 for i in run.inferences)


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_shared_model_sketch_runs_on_the_emulated_board(name: str, on_board) -> None:
    r = on_board(name, MODELS / f"{name}.tflite", vectors=VECTORS[name])
    assert_equals_host(r)
    assert r.run.ready is not None and r.run.ready.model == name
    # the emulated board measured the stack the run used: some, and within the reserve
    assert 0 < stack_used(r.run, Path(r.sketch.project)) < 64 * 1024
    assert sum(line.startswith(STACK_LINE) for line in r.run.lines) == 1


@pytest.mark.slow
def test_fruit_example_sketch_on_its_held_out_rows(on_board, fruit_per_tensor,
                                                   fruit_trained: Path) -> None:
    r = on_board("fruit", Path(fruit_per_tensor.files["int8"]),
                 data=fruit_trained / "fruit_holdout.csv", vectors=24)
    assert_equals_host(r)
    v = r.run.verdict
    assert v is not None and v.accuracy == v.host_accuracy and v.accuracy > 0.9
    assert {i.label for i in r.run.inferences} == {"apple", "banana", "orange"}


@pytest.mark.slow
def test_shapes_example_sketch_on_its_images(on_board, shapes_trained: Path,
                                             tmp_path: Path) -> None:
    from tinyml_lsp.model.quantize import quantize_model

    q = asyncio.run(quantize_model(shapes_trained / "shapes_model.keras", SilentContext(),
                                   data=shapes_trained / "data", per_tensor_dense=True,
                                   out_dir=tmp_path / "int8"))
    r = on_board("shapes", Path(q.files["int8"]), data=shapes_trained / "data", vectors=6)
    assert_equals_host(r)
    assert {"CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED"} <= set(r.sketch.ops)


@pytest.mark.slow
def test_fruit_sensor_sketch_on_replayed_readings(on_board, fruit_per_tensor,
                                                  fruit_trained: Path) -> None:
    """--input apds9960: the board reads each held-out reading from the emulated APDS-9960
    (replayed), computes the features like the training and classifies them as the host."""
    readings = fruit_trained / "fruit_holdout_readings.csv"
    r = on_board("fruit-apds9960", Path(fruit_per_tensor.files["int8"]), replay_csv=readings,
                 input="apds9960", data=readings)
    assert_equals_host(r)
    v = r.run.verdict
    assert v is not None and v.vectors == len(readings.read_text().splitlines()) - 1
    assert v.accuracy == v.host_accuracy and v.accuracy > 0.9
