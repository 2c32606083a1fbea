"""`tinyml fit`: the board table and the verdicts, with measured arenas."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from tests.conftest import MODELS
from tests.support import SilentContext
from tinyml_lsp.deploy.boards import BOARDS, board_by_id
from tinyml_lsp.deploy.fit import fit_model
from tinyml_lsp.errors import TinymlError


def test_board_table() -> None:
    real = [b for b in BOARDS if not b.emulated]
    assert len(real) >= 10
    for b in BOARDS:
        assert b.flash_bytes > 0 and b.ram_bytes > 0 and b.core and b.fpu in {
            "none", "single", "double"}
    ids = {b.id for b in BOARDS}
    assert {"nano33ble", "esp32", "esp32s3", "pico", "nucleo_f446re", "portenta_h7",
            "xiao_esp32s3", "sparkfun_edge", "uno", "tinyml-qemu-m4"} <= ids
    nano = board_by_id("nano33ble")
    assert (nano.flash_bytes, nano.ram_bytes, nano.core, nano.fpu) == (
        1024 * 1024, 256 * 1024, "Cortex-M4F", "single")
    assert board_by_id("esp32dev").id == "esp32"  # PlatformIO ids work too
    with pytest.raises(TinymlError, match="unknown board"):
        board_by_id("nope")


def test_person_detect_fit_verdicts() -> None:
    boards = [board_by_id(i) for i in ("nano33ble", "nucleo_f446re", "bluepill", "uno")]
    reports = {r.board.id: r for r in asyncio.run(
        fit_model(MODELS / "person_detect.tflite", boards, SilentContext()))}
    nano = reports["nano33ble"]
    f = nano.footprint
    assert nano.fits and f.ram_bytes == 85264 and f.model_bytes == 300568 and not f.measured
    # the Arduino core of the board (Mbed OS) counts too
    assert nano.ram_margin == 256 * 1024 - 85264 - f.extra_ram_bytes - 45 * 1024
    assert nano.flash_margin == 1024 * 1024 - 300568 - f.code_bytes - 80 * 1024
    assert reports["nucleo_f446re"].fits  # 128 KB of RAM is enough for 85 KB of arena
    blue = reports["bluepill"]
    assert not blue.fits and blue.flash_margin < 0 and blue.ram_margin < 0
    assert any("32-bit" in p for p in reports["uno"].problems)


def test_fit_cli_exit_status_and_json() -> None:
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", "fit", *args],
                              capture_output=True, text=True, timeout=120)

    ok = run(str(MODELS / "hello_world_int8.tflite"), "--board", "pico", "--json")
    assert ok.returncode == 0
    assert json.loads(ok.stdout)[0]["fits"] is True
    bad = run(str(MODELS / "person_detect.tflite"), "--board", "bluepill")
    assert bad.returncode == 1
    assert "DOES NOT FIT" in bad.stdout
    assert bad.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "does not fit STM32 Blue Pill" in bad.stderr
    # any board asked about that does not fit fails the command, and each is named
    two = run(str(MODELS / "person_detect.tflite"), "--board", "nano33ble", "--board", "uno")
    assert two.returncode == 1 and "Arduino Uno" in two.stderr and "Nano" not in two.stderr
    # without --board, the table of every board is an overview
    assert run(str(MODELS / "person_detect.tflite")).returncode == 0


def test_the_standalone_runtime_is_measured() -> None:
    nano = board_by_id("nano33ble")
    tflm, = asyncio.run(fit_model(MODELS / "person_detect.tflite", [nano], SilentContext()))
    ours, = asyncio.run(fit_model(MODELS / "person_detect.tflite", [nano], SilentContext(),
                                  runtime="standalone"))
    f = ours.footprint
    assert f.measured and f.runtime == "standalone" and f.code_bytes > 0
    # the generated C holds the weights, not the flatbuffer; its arena is below TFLite Micro's
    assert f.model_bytes < tflm.footprint.model_bytes
    assert f.ram_bytes < tflm.footprint.ram_bytes
    assert ours.ram_needed < tflm.ram_needed
