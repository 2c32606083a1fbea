"""Fixtures of the Arduino tests: sketches for the emulated Nano 33 BLE Sense, built with
PlatformIO (`framework = arduino`) and run under QEMU.

The TFLite Micro library is ~200 files; the core keeps compiled objects in a build cache
(.state/arduino/build-cache), so the session fixture `tflm_hello_world` compiles it once per
machine and every later sketch that includes it links it from the cache.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import SilentContext
from tinyml_lsp.deploy import emulator, third_party
from tinyml_lsp.deploy.monitor import Monitor, MonitorEvent, Text, ends_run
from tinyml_lsp.deploy.platformio import build, upload

JOBS = 2
PLATFORMIO_INI = """\
[env:emulated]
platform = tinyml-qemu
board = tinyml-qemu-nano33ble
framework = arduino
"""


def write_project(path: Path, sources: dict[str, str]) -> Path:
    (path / "src").mkdir(parents=True, exist_ok=True)
    (path / "platformio.ini").write_text(PLATFORMIO_INI)
    for name, text in sources.items():
        (path / "src" / name).write_text(text)
    return path


async def run_sketch(project: Path, *, until: Callable[[MonitorEvent], bool] | None = None,
                     timeout: float = 60) -> list[MonitorEvent]:
    """Flash (build if needed, start QEMU) and read the board's events until `until` says so
    or the run ends."""
    await upload(project, SilentContext(), jobs=JOBS)
    events: list[MonitorEvent] = []
    async with Monitor(project) as monitor:
        async with asyncio.timeout(timeout):
            async for event in monitor:
                events.append(event)
                if ends_run(event) or (until is not None and until(event)):
                    break
    return events


def texts(events: list[MonitorEvent]) -> list[str]:
    return [e.line for e in events if isinstance(e, Text) and e.line]


@pytest.fixture
def projects(tmp_path: Path) -> Iterator[list[Path]]:
    """Project folders a test creates; their emulated boards are stopped afterwards."""
    made: list[Path] = []
    yield made
    for project in made:
        emulator.stop(project)


@pytest.fixture(scope="session")
def tflm_hello_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The TFLite Micro library's own hello_world example, unmodified, as a project — built
    once per session (and, through the core's build cache, compiled once per machine)."""
    example = third_party.require(third_party.TFLITE_MICRO) / "examples" / "hello_world"
    project = tmp_path_factory.mktemp("tflm") / "hello_world"
    shutil.copytree(example, project / "src")
    write_project(project, {})
    result = asyncio.run(build(project, SilentContext(), jobs=JOBS, timeout=1800))
    assert result.success, result
    return project
