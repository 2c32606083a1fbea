"""`tinyml check` from the command line (the printed line format, --json, --fix, the exit
status) and on bad input: half-typed code cut anywhere, binary data, huge files, headers with
no array — clear messages or nothing, never an exception."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.check.cases import CORPUS, Case, load_cases
from tests.support import SilentContext
from tinyml_lsp.check.task import check_text

CASES = {c.name: c for c in load_cases()}


def _tinyml(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", "check", *args],
                          capture_output=True, text=True, timeout=300)


def test_cli_prints_findings_with_fixes_and_exits_1_on_an_error(
        materialize: Callable[[Case], Path]):
    sketch = materialize(CASES["d06_arena_too_small.ino"])
    proc = _tinyml(str(sketch))
    assert proc.returncode == 1, proc.stderr
    first, fix = proc.stdout.splitlines()[:2]
    assert first.startswith(f"{sketch}:7:34: error: tensor_arena is 512 bytes; the model needs "
                            "at least 768 on any 32-bit board and 1,936 measured on the host")
    assert first.endswith("[tinyml/arena-too-small]")
    assert fix.strip() == "fix: Set the arena to 2,448 bytes (measured 1,936 + margin)"
    data = json.loads(_tinyml(str(sketch), "--json").stdout)
    assert data["errors"] == 1 and data["files"][0]["findings"][0]["fix"]["edits"][0][
        "new_text"] == "2448"
    fixed = _tinyml(str(sketch), "--fix")
    assert fixed.returncode == 0 and "no findings" in fixed.stdout
    assert "constexpr int kTensorArenaSize = 2448;" in sketch.read_text()


def test_a_hint_alone_exits_0(materialize: Callable[[Case], Path]):
    proc = _tinyml(str(materialize(CASES["d05_unused_op.ino"])))
    assert proc.returncode == 0 and "hint:" in proc.stdout


def test_cli_errors_are_one_line(tmp_path: Path):
    proc = _tinyml(str(tmp_path / "missing.ino"))
    assert proc.returncode == 1 and proc.stderr.startswith("error: ")
    proc = _tinyml(str(CORPUS / "c01_hello_world_arduino.ino"), "--board", "nosuchboard")
    assert proc.returncode == 1 and "unknown board 'nosuchboard'" in proc.stderr


def _check(path: Path, text: str):
    return asyncio.run(check_text(path, text, SilentContext()))


def test_half_typed_code_never_raises(materialize: Callable[[Case], Path]):
    rng = random.Random(12)
    for name in ("d01_missing_op_speech.ino", "d20_error_reporter_argument.ino",
                 "d14_accessor_in_macro.ino", "c08_odd_formatting.ino",
                 "d16_input_alias_divided.cpp"):
        sketch = materialize(CASES[name])
        text = sketch.read_text()
        for cut in sorted(rng.sample(range(len(text)), 12)):
            report = _check(sketch, text[:cut])  # no exception, whatever is left
            for f in report.findings:
                assert f.range.line <= text[:cut].count("\n")
        noisy = "".join(c if rng.random() > 0.03 else rng.choice("{}();<>*&") for c in text)
        _check(sketch, noisy)


def test_binary_huge_and_arrayless_input(tmp_path: Path):
    blob = tmp_path / "blob.ino"
    assert [f.code for f in _check(blob, "\x00\x01\xff" * 100).findings] == [
        "tinyml/not-checked"]
    huge = tmp_path / "huge.cpp"
    assert [f.code for f in _check(huge, "// x\n" * 1_000_000).findings] == [
        "tinyml/not-checked"]
    shutil.copy(CORPUS / "d06_arena_too_small.ino", tmp_path / "s.ino")
    (tmp_path / "model_data.h").write_text("extern const unsigned char g_model[];\n")
    report = _check(tmp_path / "s.ino", (tmp_path / "s.ino").read_text())
    assert [f.code for f in report.findings] == ["tinyml/no-model"]
    assert "model_data.h declares g_model but neither it nor a source file" in \
        report.findings[0].message
    # an array that is no model: no model, said once
    (tmp_path / "model_data.cc").write_text("const unsigned char g_model[] = {1, 2, 3};\n")
    report = _check(tmp_path / "s.ino", (tmp_path / "s.ino").read_text())
    assert [f.code for f in report.findings] == ["tinyml/no-model"]
    # no TFLite Micro at all: nothing to say
    assert _check(tmp_path / "plain.cpp", "int main() { return 0; }\n").findings == ()
