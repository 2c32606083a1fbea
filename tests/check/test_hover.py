"""The model card on hover: from the model header's include, a .tflite path, and
platformio.ini's custom_tinyml_model; nothing elsewhere."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from tests.conftest import MODELS
from tinyml_lsp.check.hover import hover_markdown, model_at


def test_what_a_position_names(tmp_path: Path, exported: Callable[[str], Path]):
    for f in exported("hello_world_int8").iterdir():
        shutil.copy(f, tmp_path / f.name)
    shutil.copy(MODELS / "person_detect.tflite", tmp_path / "person.tflite")
    sketch = tmp_path / "main.ino"
    found = model_at(sketch, '#include "model_data.h"', 12)
    assert found is not None and found[1] == "model_data.h"
    assert found[0] == (MODELS / "hello_world_int8.tflite").read_bytes()
    assert model_at(sketch, '#include "other.h"', 12) is None
    assert model_at(sketch, '#include <TensorFlowLite.h>', 12) is None
    line = 'const char* kModel = "person.tflite";'
    assert model_at(sketch, line, line.index("person"))[1] == "person.tflite"
    assert model_at(sketch, line, 2) is None  # not on the string
    ini = tmp_path / "platformio.ini"
    assert model_at(ini, "custom_tinyml_model = person.tflite  ; the model", 25)[1] == \
        "person.tflite"
    assert model_at(ini, "board = nano33ble", 10) is None


def test_the_card_has_the_arena_and_the_fit_per_env(tmp_path: Path):
    shutil.copy(MODELS / "person_detect.tflite", tmp_path / "person.tflite")
    ini = "[env:nano]\nboard = nano33ble\n[env:bluepill]\nboard = bluepill\n[env:x]\nboard = x\n"
    text = asyncio.run(hover_markdown(tmp_path / "platformio.ini",
                                      "custom_tinyml_model = person.tflite", 25, ini))
    assert text is not None
    assert "CONV_2D" in text and "int8[1×96×96×1] scale=0.00784314 zero_point=-1" in text
    assert "**arena** 85,264 bytes measured" in text and "at least 70,280 on 32 bits" in text
    rows = [line for line in text.splitlines()
            if line.startswith("| ") and not line.startswith("| env |")]
    assert rows[0].startswith("| nano | Arduino Nano 33 BLE Sense |") and rows[0].endswith(
        "| fits |")
    assert rows[1].startswith("| bluepill |") and "DOES NOT FIT" in rows[1]
    assert rows[2] == "| x | x | unknown board | |"
    # the VS Code extension opens the report page from this link, on the hovered file
    link = next(line for line in text.splitlines() if line.startswith("[Open the model report]"))
    command, _, args = link.split("](command:")[1].rstrip(")").partition("?")
    assert command == "tinyml.showModelReport"
    assert json.loads(unquote(args)) == [(tmp_path / "person.tflite").as_uri()]
