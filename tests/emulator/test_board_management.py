"""Emulated boards do not pile up: `tinyml devices` lists them, `tinyml stop` stops them, and a
board nobody monitors stops by itself; a failed build still gives scripts its diagnostics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tinyml_lsp.deploy import emulator

pytestmark = pytest.mark.emulator


def tinyml(*args: str | Path, env: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinyml_lsp.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_devices_and_stop(stub_project) -> None:
    project = stub_project.path
    assert tinyml("flash", project).returncode == 0
    devices = json.loads(tinyml("devices", "--json").stdout)
    mine = [b for b in devices["boards"] if b["project"] == str(project.resolve())]
    assert len(mine) == 1 and mine[0]["pty"].startswith("/dev/pts/")
    # a second flash replaces the board: still one per project
    assert tinyml("flash", project).returncode == 0
    devices = json.loads(tinyml("devices", "--json").stdout)
    assert sum(b["project"] == str(project.resolve()) for b in devices["boards"]) == 1
    stopped = json.loads(tinyml("stop", project, "--json").stdout)
    assert stopped["stopped"] == [str(project)]
    assert emulator.running_state(project) is None
    assert "no emulated board was running" in tinyml("stop", project).stdout


def test_an_unwatched_board_stops_by_itself(stub_project) -> None:
    project = stub_project.path
    flashed = tinyml("flash", project, env={emulator.IDLE_ENV: "2"})
    assert flashed.returncode == 0, flashed.stderr
    state = emulator.running_state(project)
    assert state is not None
    deadline = time.monotonic() + 20
    while emulator.is_running(state) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not emulator.is_running(state)


def test_validate_on_board_judges_the_run(stub_project) -> None:
    from tests.emulator.stub_firmware import VECTORS, reference_outputs
    from tinyml_lsp.deploy.verdict import Expected

    project: Path = stub_project.path
    outputs = tuple(reference_outputs(v) for v in VECTORS)
    record = Expected("stub.tflite", "class", ("down", "flat", "up"), "stub",
                      tuple(range(len(VECTORS))), (None,) * len(VECTORS), outputs)
    record.write(project)
    try:
        ok = tinyml("validate", "--on-board", project, "--json")
        assert ok.returncode == 0, ok.stderr
        assert json.loads(ok.stdout)["verdict"]["equal"] == len(VECTORS)
        wrong = list(outputs)
        wrong[1] = tuple(v + 1 for v in wrong[1])
        replace(record, outputs=tuple(wrong)).write(project)
        bad = tinyml("validate", "--on-board", project)
        assert bad.returncode == 1
        assert "1 of 4 inferences differ from the host" in bad.stderr
    finally:
        emulator.stop(project)


def test_a_failed_build_still_prints_its_result_as_json(stub_project) -> None:
    stub_project.add_source("broken.c", "int f(void) {\n  return undefined_name;\n}\n")
    proc = tinyml("build", stub_project.path, "--json")
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert not result["success"]
    assert any(d["file"].endswith("broken.c") and d["line"] == 2 for d in result["diagnostics"])


def test_a_failed_build_prints_its_diagnostics_and_one_error_line(stub_project) -> None:
    stub_project.add_source("broken.c", "int f(void) {\n  return undefined_name;\n}\n")
    proc = tinyml("build", stub_project.path)
    assert proc.returncode == 1
    *diagnostics, last = proc.stderr.strip().splitlines()
    assert diagnostics and all("broken.c:2:" in d for d in diagnostics)
    assert last.startswith(f"error: {stub_project.path}: build failed with 1 error, the first: "
                           "src/broken.c:2:")
    log = Path(last.split("the full PlatformIO output: ")[1].rstrip(")"))
    assert log.is_file() and "undefined_name" in log.read_text()
