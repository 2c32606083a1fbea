"""The corpus's Arduino sketches, with every quick fix applied, build for the emulated Nano 33
BLE Sense (the Arduino core of the emulated board, the pinned TFLite Micro library): the fixes
are code the compiler takes, not just text the checker stops flagging. Plain C++ cases with
their own `main()` build there too (the core's main() is weak), and a C++ fragment (a helper
file of a bigger program) builds beside an empty sketch. The standalone runtime's C case has no
TFLite Micro in it and is checked by the corpus tests only."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.check.cases import Case, load_cases
from tests.support import SilentContext
from tinyml_lsp.check.task import check_path, fix_files
from tinyml_lsp.deploy.platformio import build

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

EMULATED_INI = """\
[env:emulated]
platform = tinyml-qemu
board = tinyml-qemu-nano33ble
framework = arduino
"""
BUILT_SUFFIXES = (".ino", ".cpp", ".h", ".cc")


EMPTY_SKETCH = "void setup() {}\nvoid loop() {}\n"  # beside a fragment: the rest of a program


def _buildable(case: Case) -> bool:
    return any(f.suffix in (".ino", ".cpp") for f in case.files())


def _fragment(project: Path) -> bool:
    """C++ sources with neither a sketch nor a main() of their own."""
    sources = list((project / "src").iterdir())
    return not any(f.suffix == ".ino" or "int main(" in f.read_text() for f in sources
                   if f.suffix in (".ino", ".cpp"))


ARDUINO = [c for c in load_cases() if _buildable(c)]


@pytest.mark.parametrize("case", ARDUINO, ids=[c.name for c in ARDUINO])
def test_fixed_sketch_builds_on_the_emulated_board(case: Case,
                                                   materialize: Callable[[Case], Path],
                                                   tmp_path: Path):
    target = materialize(case)
    report = asyncio.run(check_path(target, SilentContext(), board=case.board))
    fix_files(report)
    project = tmp_path / "project"
    if case.folder:
        shutil.copytree(target / "src", project / "src")
    else:
        (project / "src").mkdir(parents=True)
        for f in target.parent.iterdir():
            if f.is_file() and f.suffix in BUILT_SUFFIXES:
                shutil.copy(f, project / "src" / f.name)
    if _fragment(project):
        (project / "src" / "sketch.ino").write_text(EMPTY_SKETCH)
    (project / "platformio.ini").write_text(EMULATED_INI)
    result = asyncio.run(build(project, SilentContext(), jobs=2, timeout=1800))
    assert result.success, "\n".join(str(d) for d in result.diagnostics)
