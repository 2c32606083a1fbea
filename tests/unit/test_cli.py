"""The CLI's contract: --json on stdout, one error line on stderr, exit status 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import MODELS

ALL_MODELS = sorted(MODELS.glob("*.tflite"))


def tinyml(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def assert_one_error_line(proc: subprocess.CompletedProcess, path: Path, *words: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith(f"error: {path}: ")
    for w in words:
        assert w in errors[0]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda p: p.stem)
def test_every_shared_model_through_every_quick_command(model: Path, tmp_path: Path) -> None:
    card = json.loads(tinyml("inspect", model, "--json").stdout)
    assert card["size_bytes"] == model.stat().st_size
    verify = tinyml("verify", model, "--json")
    assert verify.returncode == 0, verify.stderr
    report = json.loads(verify.stdout)
    assert report["runs"] and report["missing_ops"] == [] and report["arena_bytes"] > 0
    assert sorted(report["supported_ops"]) == card["op_names"]
    export = json.loads(tinyml("export", model, "--out", tmp_path, "--json").stdout)
    assert export["arena_bytes"] == report["arena_bytes"]
    assert f"{report['arena_bytes']};" in (tmp_path / "model_data.h").read_text()
    fit = json.loads(tinyml("fit", model, "--board", "nano33ble", "--json").stdout)
    assert fit[0]["arena_bytes"] == report["arena_bytes"] and fit[0]["fits"]


def test_verify_with_data_and_float_reference(tmp_path: Path) -> None:
    x = np.linspace(0, 2 * np.pi, 50, dtype=np.float32)[:, None]
    np.save(tmp_path / "x.npy", x)
    proc = tinyml("verify", MODELS / "hello_world_int8.tflite", "--data", tmp_path / "x.npy",
                  "--reference", MODELS / "hello_world_float.tflite", "--json")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["samples"] == 50
    # the two published sine models track each other; they differ most near 2π (0.115,
    # measured element by element with the interpreter outside this command)
    assert r["max_abs_error"] == pytest.approx(0.11495, abs=1e-3)


def test_verify_crash_is_one_line(tmp_path: Path) -> None:
    model = MODELS / "trained_lstm_int8.tflite"
    assert_one_error_line(tinyml("verify", model, "--arena", "256"), model,
                          "crashed (SIGSEGV)", "256-byte arena")


def test_bad_inputs_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.tflite"
    assert_one_error_line(tinyml("verify", missing), missing, "no such model file")
    text = tmp_path / "notes.tflite"
    text.write_text("just some notes\n")
    assert_one_error_line(tinyml("export", text, "--out", tmp_path / "o"), text, "text file")
    keras_file = tmp_path / "model.keras"
    keras_file.write_bytes(b"\x00" * 64)
    assert_one_error_line(tinyml("quantize", keras_file, "--data", tmp_path), keras_file,
                          "not a Keras model")
    assert_one_error_line(tinyml("quantize", keras_file, "--mode", "dynamic"), keras_file,
                          "TFLite Micro refuses hybrid models")
    np.save(tmp_path / "wrong.npy", np.zeros((3, 7)))
    assert_one_error_line(
        tinyml("verify", MODELS / "hello_world_int8.tflite", "--data", tmp_path / "wrong.npy"),
        tmp_path / "wrong.npy", "(N, 1)", "(3, 7)")


@pytest.mark.slow
def test_quantize_bad_data_is_one_line(fruit_trained: Path, tmp_path: Path) -> None:
    (tmp_path / "imgs" / "a").mkdir(parents=True)
    assert_one_error_line(tinyml("quantize", fruit_trained / "fruit_model.keras", "--data",
                                 tmp_path / "imgs", "--out", tmp_path), tmp_path / "imgs",
                          "no images found")


def test_sketch_refuses_what_cannot_run_before_any_build(tmp_path: Path) -> None:
    lstm = MODELS / "trained_lstm_int8.tflite"
    assert_one_error_line(tinyml("sketch", lstm, "--out", tmp_path / "a"), lstm,
                          "UNIDIRECTIONAL_SEQUENCE_LSTM")
    flt = MODELS / "hello_world_float.tflite"
    assert_one_error_line(tinyml("sketch", flt, "--out", tmp_path / "b"), flt, "quantize first")
    person = MODELS / "person_detect.tflite"
    too_big = tinyml("sketch", person, "--out", tmp_path / "c", "--board", "bluepill")
    assert_one_error_line(too_big, person, "does not fit the STM32 Blue Pill",
                          "the board has 65,536", "the board has 20,480")
    assert not any((tmp_path / d).exists() for d in "abc")  # nothing written


def test_validate_cli(tmp_path: Path) -> None:
    proc = tinyml("validate", MODELS / "hello_world_int8.tflite", "--random", "50", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] and report["mismatches"] == 0 and report["samples"] == 50
    assert report["arena_bytes"] < report["tflm_arena_bytes"] == 1936
