"""The TFLite Micro sketches `tinyml sketch --runtime tflm` generates are clean under
`tinyml check` for every board it writes them for — read as one program with the headers they
include, so the check does see their resolver, arena and accessors — and when broken the way
users break them, the check finds it and its fixes give back the generated text."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tests.support import SilentContext
from tinyml_lsp.check.sketch import parse_sketch
from tinyml_lsp.check.task import check_path, fix_files, local_headers, render_check
from tinyml_lsp.deploy.boards import BOARDS, EMULATED_BOARD
from tinyml_lsp.deploy.sketch import Sketch, plan_sketch, write_sketch
from tinyml_lsp.model.inspect import inspect_model

TFLM_BOARDS = [b.id for b in BOARDS if b.pio_platform and b.id != EMULATED_BOARD]
CASES = [(board, "hello_world_int8") for board in TFLM_BOARDS] + [
    ("nano33ble", "micro_speech_quantized"), ("nano33ble", "person_detect")]
_PLANS: dict[tuple[str, str], Sketch] = {}


def _project(board: str, model: str, folder: Path) -> Path:
    if (board, model) not in _PLANS:
        _PLANS[(board, model)] = asyncio.run(plan_sketch(
            MODELS / f"{model}.tflite", folder / "fw", SilentContext(), board=board,
            runtime="tflm"))
    plan = _PLANS[(board, model)]
    return Path(write_sketch(Sketch(**{**plan.__dict__, "project": str(folder / "fw")})).project)


def test_there_are_boards_to_check():
    assert len(TFLM_BOARDS) >= 5


@pytest.mark.parametrize(("board", "model"), CASES, ids=[f"{b}-{m}" for b, m in CASES])
def test_generated_sketch_is_clean(board: str, model: str, tmp_path: Path):
    project = _project(board, model, tmp_path)
    main = project / "src" / "main.cpp"
    sk = parse_sketch(main.read_text(), str(main), local_headers(main, main.read_text()))
    ops = {op.name for op in inspect_model(MODELS / f"{model}.tflite").ops}
    assert sk.resolver is not None and sk.resolver.size == len(ops) == len(sk.adds)
    assert sk.arena is not None and sk.evaluate(sk.arena[1]) == _PLANS[(board, model)].arena_bytes
    assert {(r.kind, r.accessor) for r in sk.accessors} >= {("input", "int8")}
    report = asyncio.run(check_path(project, SilentContext()))
    assert any(r.model for r in report.files)  # the model was found
    assert report.findings == [], render_check(report)


def test_a_broken_generated_sketch_is_found_and_fixed_back(tmp_path: Path):
    project = _project("nano33ble", "micro_speech_quantized", tmp_path)
    header = project / "src" / "tinyml_model.h"
    generated = header.read_text()
    arena = _PLANS[("nano33ble", "micro_speech_quantized")].arena_bytes
    broken = (generated.replace("kTinymlOpCount = 4", "kTinymlOpCount = 3")
              .replace(f"kTinymlArenaSize = {arena}", "kTinymlArenaSize = 4000")
              .replace("tensor->data.int8[i] = q[i];", "tensor->data.f[i] = q[i];"))
    assert broken.count("data.f[i] = q[i]") == 2
    header.write_text(broken)
    report = asyncio.run(check_path(project, SilentContext()))
    assert sorted(f.code for f in report.findings) == [
        "tinyml/accessor-type", "tinyml/accessor-type", "tinyml/arena-too-small",
        "tinyml/resolver-size"]
    assert {f.file for f in report.findings} == {str(header)}
    fix_files(report)
    assert header.read_text() == generated
