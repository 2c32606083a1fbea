"""The server driven by a real Neovim 0.7 (Debian 12's, headless; `make test-deps` installs it):
quitting during a job leaves no process behind, Neovim's `$/cancelRequest` stops a quantize
before it writes anything, and "Generate inference sketch" puts the project on disk.

The editor's side is nvim_client.lua; the steps it cannot see (a worker process running) the
test watches and signals to it through a file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.wire import TAG_ENV, tagged, wait_untagged

pytestmark = pytest.mark.slow
LUA = Path(__file__).with_name("nvim_client.lua")
WORKER = "tinyml_lsp.model.convert_worker"


@pytest.fixture(scope="session")
def nvim() -> str:
    found = shutil.which("nvim")
    if found is None:
        pytest.fail("Neovim is not installed: run `make test-deps` (Debian's neovim package)")
    version = subprocess.run([found, "--version"], capture_output=True, text=True).stdout
    assert version.startswith("NVIM v0.7."), version.splitlines()[0]
    return found


def _has_worker(tag: str) -> bool:
    for pid in tagged(tag):
        try:
            if WORKER.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def run_neovim(nvim: str, scenario: str, script: Path, tmp_path: Path,
               timeout: float = 300, defect: Path | None = None) -> tuple[dict, str]:
    """Run the scenario in a headless Neovim; what it saw, and the tag of its processes (the
    server's and its children's). The go-ahead file is created once a worker runs."""
    tag, out, go = uuid.uuid4().hex, tmp_path / "seen.json", tmp_path / "go"
    env = {**os.environ, TAG_ENV: tag, "TINYML_PYTHON": sys.executable,
           "TINYML_SCRIPT": str(script), "TINYML_SCENARIO": scenario, "TINYML_GO": str(go),
           "TINYML_OUT": str(out), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"),
           **({"TINYML_DEFECT": str(defect)} if defect else {})}
    editor = subprocess.Popen([nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n",
                               "-c", f"luafile {LUA}"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while editor.poll() is None and time.monotonic() < deadline:
            if not go.exists() and _has_worker(tag):
                go.touch()
            time.sleep(0.05)
        assert editor.poll() is not None, f"Neovim did not finish {scenario} in {timeout} s"
    finally:
        if editor.poll() is None:
            editor.kill()
        editor.wait()
    seen = json.loads(out.read_text())
    assert "failure" not in seen, seen
    return seen, tag


# An Arduino sketch for the fruit classifier (Dense layers and a softmax) that registers only
# the fully connected op: "Didn't find op for builtin opcode 'SOFTMAX'" on the board.
DEFECT_INI = """[env:nano33ble]
platform = nordicnrf52
board = nano33ble
framework = arduino
monitor_speed = 115200
lib_deps = https://github.com/tensorflow/tflite-micro-arduino-examples.git
custom_tinyml_model = ../fruit_model_int8.tflite
"""
DEFECT_SKETCH = """#include <TensorFlowLite.h>
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

extern const unsigned char g_model[];
alignas(16) static uint8_t tensor_arena[8 * 1024];
static tflite::MicroInterpreter *interpreter;

void setup() {
  Serial.begin(115200);
  static tflite::MicroMutableOpResolver<2> resolver;
  resolver.AddFullyConnected();
  static tflite::MicroInterpreter static_interpreter(tflite::GetModel(g_model), resolver,
                                                     tensor_arena, sizeof(tensor_arena));
  interpreter = &static_interpreter;
  interpreter->AllocateTensors();
}

void loop() {
  interpreter->Invoke();
  Serial.println(interpreter->output(0)->data.int8[0]);
  delay(1000);
}
"""


def _quantized_files(project: Path) -> list[str]:
    return sorted(p.name for p in project.iterdir()
                  if p.suffix == ".tflite" or "_quantize_report" in p.name)


async def test_quitting_during_a_quantize_leaves_no_process(nvim, fruit_trained, fresh_copy,
                                                            tmp_path):
    project = fresh_copy(fruit_trained)
    for f in _quantized_files(project):
        (project / f).unlink()
    seen, tag = run_neovim(nvim, "quit", project / "train.py", tmp_path)
    assert [p["kind"] for p in seen["progress"]][:1] == ["begin"]
    # at once: the TensorFlow worker would otherwise live on until it next writes
    assert wait_untagged(tag, timeout=1.0) == []  # server, reaper, TensorFlow worker: all gone
    assert _quantized_files(project) == []


async def test_cancel_request_stops_the_quantize(nvim, fruit_trained, fresh_copy, tmp_path):
    project = fresh_copy(fruit_trained)
    for f in _quantized_files(project):
        (project / f).unlink()
    seen, tag = run_neovim(nvim, "cancel", project / "train.py", tmp_path)
    assert seen["progress"][-1] == {"kind": "end", "message": "cancelled"}
    assert "answered" not in seen  # Neovim mutes RequestCancelled: the server did send it
    assert wait_untagged(tag, timeout=5) == []
    assert _quantized_files(project) == []  # the worker was killed: nothing comes later
    assert not list(project.glob(".tinyml-staging-*"))


async def test_generate_inference_sketch_writes_the_project(nvim, fruit_quantized,
                                                            fruit_trained, fresh_copy, tmp_path):
    project = fresh_copy(fruit_trained)
    seen, tag = run_neovim(nvim, "sketch", project / "train.py", tmp_path)
    firmware = project / "fruit_model_firmware"
    assert seen.get("error") is None and seen["result"]["applied"]
    (question,) = seen["questions"]
    files = ["platformio.ini", "src/main.c", "src/model.c", "src/model.h", "src/test_vectors.h",
             "src/tinyml_report.h", "tinyml_expected.json"]
    assert f"write {len(files)} files to {firmware}" in question
    for f in files:  # on disk, whole, each ending in exactly one newline
        text = (firmware / f).read_text()
        assert len(text) > 100 and text.endswith("\n") and not text.endswith("\n\n"), f
    assert '"apple", "banana", "orange"' in (firmware / "src" / "test_vectors.h").read_text()
    assert any(m.startswith(f"Inference sketch in {firmware}") for m in seen["messages"])
    assert wait_untagged(tag, timeout=5) == []


async def test_the_lifecycle_from_neovim_with_its_own_apply_workspace_edit(
        nvim, fruit_trained, fresh_copy, tmp_path):
    """Open the training script, list its code actions, run "Quantize this model" to its
    result, then take "Generate inference sketch" as a WorkspaceEdit (the user's config
    declares change annotations) applied by Neovim's own apply_workspace_edit; then open an
    Arduino sketch for the new model that forgets to register an op, read the diagnostic and
    apply its quick fix."""
    project = fresh_copy(fruit_trained)
    for f in _quantized_files(project):
        (project / f).unlink()
    defect = project / "classifier" / "src" / "classifier.ino"
    defect.parent.mkdir(parents=True)
    (project / "classifier" / "platformio.ini").write_text(DEFECT_INI)
    defect.write_text(DEFECT_SKETCH)
    seen, tag = run_neovim(nvim, "lifecycle", project / "train.py", tmp_path, defect=defect)
    # before quantizing, only the quantize action; after it, the sketch too
    assert "Quantize this model (int8)" in seen["titles"]["before"]
    assert "Generate inference sketch (emulated board)" not in seen["titles"]["before"]
    assert "Generate inference sketch (emulated board)" in seen["titles"]["after"]
    assert seen.get("quantize_error") is None, seen["quantize_error"]
    assert Path(seen["quantize"]["files"]["int8"]) == project / "fruit_model_int8.tflite"
    assert (project / "fruit_model_int8.tflite").is_file()
    # the sketch came as an edit (no question asked) and Neovim wrote every file of it
    assert seen["edits"] == 1 and seen["questions"] == []
    assert seen.get("error") is None and seen["result"]["applied"], seen
    assert seen["result"]["unsaved"] == []
    firmware = project / "fruit_model_firmware"
    for f in seen["result"]["files"]:
        text = (firmware / f).read_text()
        assert len(text) > 100 and text.endswith("\n"), f
    assert '"apple", "banana", "orange"' in (firmware / "src" / "test_vectors.h").read_text()
    assert any(m.startswith(f"Inference sketch in {firmware}") for m in seen["messages"])
    # the defect: SOFTMAX is not registered; the fix adds it and the diagnostic goes away
    assert "SOFTMAX" in seen["diagnostic"]["message"], seen["diagnostic"]
    assert seen["diagnostic"]["severity"] == 1  # an error
    assert DEFECT_SKETCH.splitlines()[seen["diagnostic"]["line"]].lstrip().startswith(
        "static tflite::MicroMutableOpResolver")
    assert "AddSoftmax()" in seen["fixed"] and "AddSoftmax()" in defect.read_text()
    assert wait_untagged(tag, timeout=5) == []
