"""`tinyml export`: the model as C source that compiles and holds exactly the model's bytes."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tests.support import SilentContext
from tinyml_lsp.codegen.c_array import export_model
from tinyml_lsp.errors import TinymlError

MAIN = r"""
#include <cstdio>
#include <cstdint>
#include "model_data.h"
int main() {
  if (reinterpret_cast<uintptr_t>(g_model) % 16 != 0) return 3;
  std::fwrite(g_model, 1, g_model_len, stdout);
  std::fprintf(stderr, "%zu", g_model_arena_size);
  return 0;
}
"""


def _export(model: Path, out: Path, **kw) -> object:
    return asyncio.run(export_model(model, out, SilentContext(), **kw))


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
def test_export_compiles_and_round_trips(tmp_path: Path) -> None:
    model = MODELS / "micro_speech_quantized.tflite"
    result = _export(model, tmp_path)
    header = Path(result.header).read_text()
    assert "DEPTHWISE_CONV_2D" in header and "scale=0.101716 zero_point=-128" in header
    assert "7,584 bytes" in header and result.arena_bytes == 7584
    (tmp_path / "main.cc").write_text(MAIN)
    subprocess.run(["g++", "-std=c++17", "-O0", "-o", str(tmp_path / "dump"),
                    str(tmp_path / "main.cc"), result.source], check=True, cwd=tmp_path,
                   capture_output=True)
    proc = subprocess.run([str(tmp_path / "dump")], capture_output=True, timeout=30)
    assert proc.returncode == 0  # 3 would mean the array is not 16-byte aligned
    assert proc.stdout == model.read_bytes()
    assert proc.stderr == b"7584"


def test_export_is_deterministic(tmp_path: Path) -> None:
    model = MODELS / "hello_world_int8.tflite"
    a = _export(model, tmp_path / "a")
    b = _export(model, tmp_path / "b")
    assert Path(a.header).read_bytes() == Path(b.header).read_bytes()
    assert Path(a.source).read_bytes() == Path(b.source).read_bytes()


def test_export_names_and_errors(tmp_path: Path) -> None:
    r = _export(MODELS / "hello_world_int8.tflite", tmp_path, name="g_sine")
    assert "extern const unsigned char g_sine[];" in Path(r.header).read_text()
    with pytest.raises(TinymlError, match="not a C identifier"):
        _export(MODELS / "hello_world_int8.tflite", tmp_path, name="9 lives")
    bad = tmp_path / "bad.tflite"
    bad.write_text("hello")
    with pytest.raises(TinymlError, match="text file"):
        _export(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written for a bad model


def test_any_file_name_gives_c_that_compiles_and_an_ini_that_parses(tmp_path: Path) -> None:
    import configparser
    import shutil
    import subprocess
    import sys

    from tinyml_lsp.deploy.project_ini import scan_ini

    odd = tmp_path / "we%ird name\n2.tflite"
    shutil.copy(MODELS / "hello_world_int8.tflite", odd)
    _export(odd, tmp_path / "out")
    gcc = subprocess.run(["g++", "-fsyntax-only", "-x", "c++", tmp_path / "out" / "model_data.cc"],
                         capture_output=True, text=True)
    assert gcc.returncode == 0, gcc.stderr
    # platformio.ini cannot hold a line break: refused, with the name as given
    cli = [sys.executable, "-m", "tinyml_lsp.cli", "sketch"]
    refused = subprocess.run([*cli, odd, "--out", tmp_path / "fw"], capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 1 and "line break" in refused.stderr
    assert not (tmp_path / "fw").exists()
    percent = tmp_path / "we%ird.tflite"
    shutil.copy(MODELS / "hello_world_int8.tflite", percent)
    made = subprocess.run([*cli, percent, "--out", tmp_path / "fw"], capture_output=True,
                          text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    ini = tmp_path / "fw" / "platformio.ini"
    parser = configparser.ConfigParser()  # PlatformIO reads it with %-interpolation
    parser.read(ini)
    assert parser.get("env:tinyml-qemu-m4", "custom_tinyml_model") == "../we%ird.tflite"
    assert scan_ini(ini.read_text())[0].model == "../we%ird.tflite"
