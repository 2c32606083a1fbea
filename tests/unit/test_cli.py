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
    # a script sees exactly one line on stderr: no progress, no log, the error
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: "), proc.stderr
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
    assert fit[0]["footprint"]["ram_bytes"] == report["arena_bytes"] and fit[0]["fits"]


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
                          "256-byte arena is too small", "activations alone take",
                          "crashed (SIGSEGV)")


def test_verify_arena_speaks_of_32_bit_targets() -> None:
    # person_detect needs 85,264 bytes on this 64-bit host, 81,920 of them activations: a size
    # in between may work on a 32-bit MCU, and the check says so instead of "too small"
    model = MODELS / "person_detect.tflite"
    report = json.loads(tinyml("verify", model, "--arena", "84000", "--json").stdout)
    assert report["arena_checked"] == 84000
    assert "may still be enough" in report["arena_check"]
    assert "32-bit MCU" in report["arena_check"]
    assert report["arena_head_bytes"] <= 84000 < report["arena_bytes"]
    ok = json.loads(tinyml("verify", model, "--arena", "90000", "--json").stdout)
    assert ok["arena_check"] == "runs"


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


def test_every_command_explains_its_options_with_examples() -> None:
    from tinyml_lsp.cli.parser import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"inspect", "quantize", "verify", "export", "fit", "sketch", "validate", "build",
            "flash", "monitor", "stop", "devices", "serve"} <= set(commands)
    for name, sub in commands.items():
        assert sub.epilog and "examples:" in sub.epilog and f"tinyml {name}" in sub.epilog
        for action in sub._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"{name} {action.option_strings} has no help"
    text = " ".join(commands["quantize"].format_help().split())
    assert "(default: 300)" in text and "(default: 0.2)" in text and "(default: 0)" in text


def test_serve_refuses_json() -> None:
    proc = tinyml("serve", "--json")
    assert proc.returncode == 1 and "--json does not apply" in proc.stderr


def test_errors_name_paths_as_the_user_gave_them(tmp_path: Path) -> None:
    def run(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1
        return proc.stderr.strip().splitlines()[-1]

    for command in (["verify", "m.tflite"], ["build", "fw"], ["flash", "fw"],
                    ["monitor", "fw"], ["validate", "--on-board", "fw"]):
        line = run(*command)
        assert line.startswith(f"error: {command[-1]}: "), line
        assert str(tmp_path) not in line


def test_the_server_starts_without_numpy() -> None:
    """What `python -m tinyml_lsp` imports before it answers `initialize`: the start-up target
    (0.5 s, benchmarks/bench_lsp.py) leaves no room for numpy's ~0.15 s; tasks import it when
    they run."""
    code = ("import sys; from tinyml_lsp.cli.parser import serve_parser; serve_parser(); "
            "import tinyml_lsp.lsp.server; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('numpy', 'tensorflow', 'PIL')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
