"""TFLite Micro sketches for real boards: every file checked against the model's own facts.

The facts come from elsewhere than the generator: op lists from the flatbuffer (inspect), the
minimum arenas measured by TFLite Micro's interpreter (the figures of tests/unit/test_micro.py),
the pinned library's resolver header, and PlatformIO's own reader of platformio.ini.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import flatbuffers
import pytest

from tests.conftest import MODELS
from tests.support import SilentContext
from tinyml_lsp.deploy import tflm_ops, third_party
from tinyml_lsp.deploy.boards import board_by_id
from tinyml_lsp.deploy.sketch import Sketch, plan_sketch, write_sketch
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.inspect import inspect_model
from tinyml_lsp.model.tflite_file import schema
from tinyml_lsp.resources import snippet

BOARDS = ("nano33ble", "esp32-s3", "esp32dev", "pico", "nucleo_f446re", "portenta_h7_m7")
# minimum arenas TFLite Micro's interpreter measures for the shared models (its README)
ARENAS = {"hello_world_int8": 1936, "micro_speech_quantized": 7584, "person_detect": 85264}
_PLANS: dict[tuple[str, str], Sketch] = {}


def plan(model: Path, board: str, project: Path, **options) -> Sketch:
    key = (str(model), board)
    if key not in _PLANS or options:
        result = asyncio.run(plan_sketch(model, project, SilentContext(), board=board,
                                         **options))
        if options:
            return result
        _PLANS[key] = result
    return _PLANS[key]


def text(sketch: Sketch, path: str) -> str:
    return next(f.text for f in sketch.files if f.path == path)


def pio_config(project: Path):
    from platformio.project.config import ProjectConfig

    return ProjectConfig(str(project / "platformio.ini"), parse_extra=False)


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("name", sorted(ARENAS))
def test_sketch_matches_the_model(name: str, board: str, tmp_path: Path) -> None:
    model = MODELS / f"{name}.tflite"
    sketch = write_sketch(plan(model, board, tmp_path / "fw"))
    project = Path(sketch.project)
    card = inspect_model(model)
    header = text(sketch, "src/tinyml_model.h")

    # the resolver: exactly the model's ops, N their count, methods of the pinned header
    ops = set(card.op_names)
    calls = re.findall(r"resolver\.(Add\w+)\(\)", header)
    assert sorted(calls) == sorted(tflm_ops.RESOLVER_METHODS[op] for op in ops)
    assert f"constexpr int kTinymlOpCount = {len(ops)};" in header
    assert "MicroMutableOpResolver<kTinymlOpCount>" in header

    # the arena: measured minimum + documented margin, 16-byte aligned
    arena = int(re.search(r"kTinymlArenaSize = (\d+);", header).group(1))
    measured = ARENAS[name]
    assert arena % 16 == 0 and arena == sketch.arena_bytes
    assert measured + max(512, measured // 10) <= arena < measured + max(512, measured // 10) + 16
    assert f"{measured:,} bytes measured" in header

    # the accessors: int8 models read and write data.int8 only
    assert "data.int8" in header and "data.f" not in header
    scale = card.inputs[0].scale
    assert f"kTinymlInputZeroPoint = {card.inputs[0].zero_point};" in header
    assert abs(float(re.search(r"kTinymlInputScale = ([\d.e-]+)f;", header).group(1))
               - scale) < 1e-9

    # only APIs of the pinned version, and the version written down
    main = text(sketch, "src/main.cpp")
    for source in (header, main):
        assert "AllOpsResolver" not in source and "ErrorReporter" not in source
    assert tflm_ops.VERSION in header and third_party.TFLITE_MICRO.commit in header

    # the serial format: the one reporter of every firmware
    assert text(sketch, "src/tinyml_report.h") == snippet("firmware/tinyml_report.h")
    assert 'tinyml_report_ready("tflm", MODEL_NAME, (uint32_t)interpreter->arena_used_bytes()' \
        in main
    vectors = text(sketch, "src/test_vectors.h")
    assert f"#define MODEL_NAME \"{name}\"" in vectors

    # what the host expects: one int8 row per vector, as wide as the outputs
    expected = json.loads((project / "tinyml_expected.json").read_text())
    assert len(expected["outputs"]) == len(sketch.vectors) > 0
    assert {len(o) for o in expected["outputs"]} == {sum(t.size for t in card.outputs)}

    # platformio.ini, read by PlatformIO itself
    config = pio_config(project)
    target = board_by_id(board)
    assert config.envs() == [target.platformio, "emulated"]
    assert config.get("platformio", "default_envs") == [target.platformio]
    real = f"env:{target.platformio}"
    assert config.get(real, "platform") == target.pio_platform
    assert config.get(real, "board") == target.platformio
    assert config.get("env:emulated", "platform") == "tinyml-qemu"
    assert config.get("env:emulated", "board") == "tinyml-qemu-m4"
    for env in (real, "env:emulated"):
        assert config.get(env, "framework") == ["arduino"]
        assert config.get(env, "monitor_speed") == 115200
        assert config.get(env, "lib_deps") == [third_party.TFLITE_MICRO.lib_dep]
        assert config.get(env, "custom_tinyml_runtime") == "tflm"
        assert (project / config.get(env, "custom_tinyml_model")).resolve() == model.resolve()
    assert config.get("env:emulated", "build_flags") == ["-Wall -D TINYML_EMULATED"]
    # boards other than the Nano 33 BLE leave the library's Nano-only peripherals/ out
    scripts = config.get(real, "extra_scripts")
    assert scripts == ([] if target.id == "nano33ble" else ["pre:tinyml_build.py"])
    assert (project / "tinyml_build.py").is_file()


def test_regenerating_keeps_the_users_files(tmp_path: Path) -> None:
    model = MODELS / "hello_world_int8.tflite"
    first = write_sketch(plan(model, "nano33ble", tmp_path / "fw"))
    main = Path(first.project) / "src" / "main.cpp"
    main.write_text(main.read_text() + "\n// mine\n")
    again = write_sketch(plan(model, "nano33ble", tmp_path / "fw"))
    assert set(again.kept) == {"platformio.ini", "src/main.cpp"}
    assert main.read_text().endswith("// mine\n")


def _with_op(src: Path, dest: Path, op: str) -> Path:
    s = schema()
    model = s.ModelT.InitFromPackedBuf(src.read_bytes(), 0)
    model.operatorCodes[0].builtinCode = model.operatorCodes[0].deprecatedBuiltinCode = \
        getattr(s.BuiltinOperator, op)
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    dest.write_bytes(bytes(b.Output()))
    return dest


def test_an_op_tflite_micro_lacks_is_refused(tmp_path: Path) -> None:
    model = _with_op(MODELS / "hello_world_int8.tflite", tmp_path / "odd.tflite", "LSH_PROJECTION")
    assert tflm_ops.missing_ops(inspect_model(model).op_names) == ["LSH_PROJECTION"]
    with pytest.raises(TinymlError) as error:
        plan(model, "nano33ble", tmp_path / "fw", vectors=2)
    assert "no kernel for LSH_PROJECTION" in error.value.message
    assert tflm_ops.VERSION in error.value.message
    assert not (tmp_path / "fw").exists()


def test_a_model_too_big_for_the_board_is_refused_with_numbers(tmp_path: Path) -> None:
    with pytest.raises(TinymlError) as error:
        plan(MODELS / "person_detect.tflite", "bluepill", tmp_path / "fw", vectors=2)
    message = error.value.message
    assert "does not fit the STM32 Blue Pill" in message
    assert "65,536" in message  # the board's flash, in bytes
    assert "85,264 measured" in message and "the board has 20,480" in message


def test_the_lstm_fixture_gets_its_resolver(tmp_path: Path) -> None:
    """UNIDIRECTIONAL_SEQUENCE_LSTM is in the pinned library: the sketch registers it."""
    sketch = plan(MODELS / "trained_lstm_int8.tflite", "nano33ble", tmp_path / "fw", vectors=2)
    assert "resolver.AddUnidirectionalSequenceLSTM()" in text(sketch, "src/tinyml_model.h")


@pytest.mark.parametrize(("board", "model", "wanted"), [
    ("tinyml-qemu-m4", "hello_world_int8", None),  # the standalone default, not an error
    ("uno", "hello_world_int8", "no Arduino project for the Arduino Uno"),
    ("nano33ble", "hello_world_float", "quantize"),
])
def test_unsupported_requests_are_explained(board: str, model: str, wanted: str | None,
                                            tmp_path: Path) -> None:
    if wanted is None:
        sketch = plan(MODELS / f"{model}.tflite", board, tmp_path / "fw", vectors=2)
        assert sketch.runtime == "standalone"
        with pytest.raises(TinymlError, match="name the real board"):
            plan(MODELS / f"{model}.tflite", board, tmp_path / "fw", vectors=2, runtime="tflm")
        return
    with pytest.raises(TinymlError, match=wanted):
        plan(MODELS / f"{model}.tflite", board, tmp_path / "fw", vectors=2)


def test_apds9960_input_needs_a_feature_definition(tmp_path: Path) -> None:
    with pytest.raises(TinymlError) as error:
        plan(MODELS / "hello_world_int8.tflite", "nano33ble", tmp_path / "fw",
             input="apds9960")
    assert "features.toml" in error.value.message and "--features" in (error.value.hint or "")
