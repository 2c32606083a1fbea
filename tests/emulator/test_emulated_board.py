"""The emulated board end to end: `pio run`, `pio run -t upload` (QEMU), the serial monitor."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import pytest

from tests.emulator.stub_firmware import (
    LABELS,
    OUTPUT_SCALE,
    OUTPUT_ZERO_POINT,
    VECTORS,
    reference_outputs,
)
from tests.support import SilentContext
from tinyml_lsp.deploy import emulator
from tinyml_lsp.deploy.monitor import (
    Attached,
    BoardError,
    Disconnected,
    Done,
    Exited,
    Inference,
    Monitor,
    Ready,
    Released,
)
from tinyml_lsp.deploy.platformio import BuildFailed, build, upload
from tinyml_lsp.errors import TinymlError

pytestmark = pytest.mark.emulator
JOBS = 1  # the test machine is shared


async def run_once(project: Path) -> list:
    """Upload (start a fresh QEMU) and read one whole run."""
    result = await upload(project, SilentContext(), jobs=JOBS)
    assert result.emulated and result.port and result.emulator_pid
    async with Monitor(project) as monitor:
        return await monitor.until_done(timeout=20)


async def test_build_flash_monitor(stub_project):
    ctx = SilentContext()
    built = await build(stub_project.path, ctx, jobs=JOBS)
    assert built.success and built.elf and Path(built.elf).is_file()
    assert built.board == "tinyml-qemu-m4"
    assert 0 < built.flash_used < built.flash_total == 4 * 1024 * 1024
    assert 0 < built.ram_used < built.ram_total == 4 * 1024 * 1024
    assert any(kind == "progress" and value[0] == 1.0 for kind, value in ctx.events)
    assert any(kind == "log" and "Linking" in value for kind, value in ctx.events)

    first = await run_once(stub_project.path)
    assert isinstance(first[0], Attached) and first[0].emulated
    ready = first[1]
    assert ready == Ready("standalone", "stub", 64, len(VECTORS), ready.line)
    inferences = [e for e in first if isinstance(e, Inference)]
    assert [e.seq for e in inferences] == list(range(len(VECTORS)))
    for event, vector in zip(inferences, VECTORS, strict=True):
        expected = reference_outputs(vector)
        assert event.output == expected
        assert event.cls == expected.index(max(expected))
        assert event.label == LABELS[event.cls]
        score = (max(expected) - OUTPUT_ZERO_POINT) * OUTPUT_SCALE
        assert event.score == pytest.approx(score, abs=1e-6)
        assert event.instructions > 0 and event.instructions % 40 == 0
        assert event.time_us == event.instructions // 1000
    assert first[-1] == Done(len(VECTORS), first[-1].line)

    # a second upload replaces the first QEMU; the instruction counts do not move
    old_pid = emulator.read_state(stub_project.path).pid
    second = await run_once(stub_project.path)
    assert emulator.read_state(stub_project.path).pid != old_pid
    assert [e.instructions for e in second if isinstance(e, Inference)] == \
        [e.instructions for e in inferences]


async def test_monitor_reports_killed_emulator(stub_project):
    await upload(stub_project.path, SilentContext(), jobs=JOBS)
    state = emulator.read_state(stub_project.path)
    async with Monitor(stub_project.path) as monitor:
        events = await monitor.until_done(timeout=20)
        assert isinstance(events[-1], Done)
        # the program's end follows its DONE line, as an event of its own
        assert (await monitor.until_done(timeout=5))[-1] == Exited(0, "TINYML EXIT status=0")
        os.kill(state.pid, signal.SIGKILL)
        after = await monitor.until_done(timeout=5)
    assert isinstance(after[-1], Disconnected)
    assert f"QEMU pid {state.pid}" in after[-1].reason


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
async def test_a_stopped_emulator_is_named_not_the_port(stub_project, sig):
    await upload(stub_project.path, SilentContext(), jobs=JOBS)
    state = emulator.read_state(stub_project.path)
    async with Monitor(stub_project.path) as monitor:
        await monitor.until_done(timeout=20)
        os.kill(state.pid, sig)
        after = [e async for e in monitor]
    assert isinstance(after[-1], Disconnected)
    assert after[-1].reason == f"the emulator stopped (QEMU pid {state.pid} is gone)"


async def test_a_firmware_that_stops_early_ends_the_run(stub_project, tmp_path):
    """main() returning before TINYML DONE used to leave the monitor waiting forever."""
    from tinyml_lsp.deploy.session import watch

    main = stub_project.path / "src" / "main.c"
    main.write_text(main.read_text().replace("for (int seq = 0;", "return 3;\n    for (int "
                                             "seq = 0;", 1))
    await upload(stub_project.path, SilentContext(), jobs=JOBS)
    summary = await watch(stub_project.path, SilentContext())
    assert not summary.ok and summary.inferences == 0
    assert summary.end == "the firmware stopped (exit status 3) before TINYML DONE"


async def test_monitor_follows_an_upload(stub_project):
    """An open monitor lets go of the board for an upload and reads the new run."""
    await upload(stub_project.path, SilentContext(), jobs=JOBS)
    async with Monitor(stub_project.path) as monitor:
        first = await monitor.until_done(timeout=20)
        await upload(stub_project.path, SilentContext(), jobs=JOBS)
        end_of_first = await monitor.until_done(timeout=20)
        second = await monitor.until_done(timeout=20)
    assert isinstance(first[-1], Done) and [type(e) for e in end_of_first] == [Exited]
    kinds = [type(e) for e in second]
    # the port let go for the upload and taken back, then the new run
    assert kinds[:3] == [Released, Attached, Ready] and kinds[-1] is Done


async def test_compiler_errors_have_file_and_line(stub_project):
    broken = stub_project.add_source("broken.c", "int broken(void)\n{\n    return x;\n}\n")
    with pytest.raises(BuildFailed) as caught:
        await build(stub_project.path, SilentContext(), jobs=JOBS)
    errors = caught.value.result.errors
    assert errors[0].file == str(broken.resolve()) and errors[0].line == 3
    assert "'x' undeclared" in errors[0].message
    # one line names the first error; every error, with its whole path, comes with it
    assert "src/broken.c:3:" in str(caught.value)
    assert caught.value.details[0].startswith(f"{broken.resolve()}:3:")


async def test_too_big_for_the_board_is_a_link_error(stub_project):
    stub_project.add_source("big.c", "#include <stdint.h>\nvolatile uint8_t big[5u << 20];\n"
                                     "uint8_t *use_big(void) { return (uint8_t *)big; }\n")
    (stub_project.path / "src" / "main.c").write_text(
        (stub_project.path / "src" / "main.c").read_text().replace(
            "board_init();", "board_init(); extern uint8_t *use_big(void); use_big()[0] = 1;"))
    with pytest.raises(BuildFailed) as caught:
        await build(stub_project.path, SilentContext(), jobs=JOBS)
    messages = " ".join(d.message for d in caught.value.result.errors)
    assert "RAM" in messages


async def test_missing_qemu_or_toolchain_says_what_to_install(stub_project, monkeypatch,
                                                              tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # neither arm-none-eabi-gcc nor QEMU
    with pytest.raises(TinymlError) as caught:
        await build(stub_project.path, SilentContext())
    assert "gcc-arm-none-eabi libnewlib-arm-none-eabi" in caught.value.hint

    gcc = Path("/usr/bin/arm-none-eabi-gcc")
    if gcc.exists():  # a PATH with the toolchain but without QEMU
        (tmp_path / gcc.name).symlink_to(gcc)
        with pytest.raises(TinymlError) as caught:
            await upload(stub_project.path, SilentContext())
        assert "qemu-system-arm" in caught.value.hint


async def test_a_fault_is_reported_not_silent(stub_project):
    (stub_project.path / "src" / "main.c").write_text(
        '#include <stdint.h>\n#include <stdio.h>\n'
        'int main(void)\n{\n    printf("TINYML READY runtime=standalone model=f arena=0 '
        'inputs=1\\n");\n    return (int)*(volatile uint32_t *)0x30000000u;\n}\n')
    await upload(stub_project.path, SilentContext(), jobs=JOBS)
    async with Monitor(stub_project.path) as monitor:
        events = await monitor.until_done(timeout=20)
    assert isinstance(events[-1], BoardError)
    assert events[-1].message.startswith("hard fault")


def _processes_in(folder: Path) -> list[int]:
    """Pids of processes whose working directory is `folder` (PlatformIO runs there)."""
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and Path(os.readlink(proc / "cwd")) == folder:
                found.append(int(proc.name))
    return found


async def test_cancelling_a_build_kills_platformio(stub_project):
    project = stub_project.path.resolve()
    started = asyncio.Event()

    class Ctx(SilentContext):
        def log(self, line: str) -> None:
            super().log(line)
            started.set()

    task = asyncio.create_task(build(project, Ctx(), jobs=JOBS))
    await asyncio.wait_for(started.wait(), 30)
    assert _processes_in(project)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _processes_in(project) == []


async def test_a_firmware_that_loops_is_a_bounded_wait(stub_project):
    from tinyml_lsp.deploy.session import watch

    main = stub_project.path / "src" / "main.c"
    main.write_text(main.read_text().replace("tinyml_report_done(", "for (;;) {}\n    "
                                             "tinyml_report_done(", 1))
    await upload(stub_project.path, SilentContext(), jobs=JOBS)
    with pytest.raises(TinymlError, match="did not end its run within 2 s"):
        await watch(stub_project.path, SilentContext(), timeout=2)
