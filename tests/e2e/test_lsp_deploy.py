"""Build, flash and monitor from the editor, on the emulated board (a stand-in firmware)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import actions_at, execute, line_of, open_document
from tests.emulator.stub_firmware import VECTORS, write_project
from tinyml_lsp.deploy import emulator

pytestmark = pytest.mark.emulator


@pytest.fixture
def project(tmp_path: Path):
    path = tmp_path / "stub"
    write_project(path)
    yield path
    emulator.stop(path)


async def test_flash_and_monitor_from_platformio_ini(client: LanguageClient, project: Path):
    ini = project / "platformio.ini"
    uri = open_document(client, ini)
    actions = await actions_at(client, uri, line_of(ini, "custom_tinyml_model"))
    assert [a.title for a in actions] == ["Build firmware", "Flash to board",
                                          "Open serial monitor"]
    # a comment line above the first environment belongs to it too; a file without a model
    # reference gets nothing
    assert await actions_at(client, uri, 0)
    flash, monitor = actions[1], actions[2]

    flashed = await execute(client, flash)
    assert flashed["emulated"] and flashed["port"].startswith("/dev/pts/")
    result = await execute(client, monitor)
    assert result["inferences"] == len(VECTORS)
    assert result["end"].startswith("TINYML DONE")
    logged = [m.message for m in client.log_messages]
    assert any(m.startswith("TINYML READY") for m in logged)
    assert sum(m.startswith("INFERENCE ") for m in logged) == len(VECTORS)
    assert any("Flashed firmware.elf" in m.message for m in client.messages)


async def test_build_errors_become_diagnostics(client: LanguageClient, project: Path):
    broken = project / "src" / "broken.c"
    broken.write_text("int f(void) {\n  return undefined_name;\n}\n")
    ini = project / "platformio.ini"
    uri = open_document(client, ini)
    build = (await actions_at(client, uri, line_of(ini, "custom_tinyml_model")))[0]
    assert await execute(client, build) is None
    assert any(m.type == types.MessageType.Error and "broken.c:2" in m.message
               for m in client.messages)
    diagnostics = client.diagnostics.get(broken.as_uri())
    assert diagnostics and diagnostics[0].range.start.line == 1
    assert "undefined_name" in diagnostics[0].message
    # fixed: the next build clears them
    broken.write_text("int f(void) {\n  return 0;\n}\n")
    assert (await execute(client, build))["success"]
    assert len(client.diagnostics[broken.as_uri()]) == 0  # published empty, not forgotten


async def test_no_actions_without_a_model(client: LanguageClient, tmp_path: Path):
    ini = tmp_path / "platformio.ini"
    ini.write_text("[env:uno]\nplatform = atmelavr\nboard = uno\n")
    uri = open_document(client, ini)
    assert await actions_at(client, uri, 0) == []


ENDLESS_MAIN = """
#include <stdio.h>
#include "tinyml_board.h"
int main(void) {
    board_init();
    printf("TINYML READY runtime=standalone model=endless arena=0 inputs=0\\n");
    for (unsigned n = 0;; n++) {
        printf("tick %u\\n", n);
        for (volatile int i = 0; i < 200000; i++) {
        }
    }
}
"""


async def test_emulator_killed_mid_run(client: LanguageClient, project: Path):
    import asyncio
    import os
    import signal

    (project / "src" / "main.c").write_text(ENDLESS_MAIN)
    ini = project / "platformio.ini"
    uri = open_document(client, ini)
    _build, flash, monitor = await actions_at(client, uri, line_of(ini, "custom_tinyml_model"))
    assert (await execute(client, flash))["emulated"]
    reading = asyncio.ensure_future(execute(client, monitor))
    for _ in range(200):  # until the board is printing
        await asyncio.sleep(0.05)
        if any(m.message.startswith("tick ") for m in client.log_messages):
            break
    os.kill(emulator.read_state(project).pid, signal.SIGKILL)
    result = await asyncio.wait_for(reading, 30)
    assert "the emulator stopped" in result["end"]
    assert any("Serial monitor closed" in m.message for m in client.messages)
    # the server is still there
    assert len(await actions_at(client, uri, 0)) == 3


async def test_the_board_a_job_started_dies_with_the_server(project: Path):
    """QEMU outlives the flash job (the monitor boots it later) but not the server."""
    import asyncio
    import signal

    from tests.wire import WireServer, wait_untagged
    from tinyml_lsp.deploy.portlock import pid_alive

    server = await WireServer.start()
    answering = asyncio.ensure_future(server.answer_requests())
    try:
        await server.initialize()
        flashed = await server.call("workspace/executeCommand", {
            "command": "tinyml.flash", "arguments": [{"project": str(project)}]}, timeout=300)
        qemu = flashed["emulator_pid"]
        assert pid_alive(qemu)
        server.proc.send_signal(signal.SIGKILL)
        await server.proc.wait()
        assert wait_untagged(server.tag, timeout=5) == []
        assert not pid_alive(qemu)
    finally:
        answering.cancel()
        await server.close()


async def test_a_bad_replay_file_stops_the_flash_before_any_build(client: LanguageClient,
                                                                  project: Path):
    readings = project / "readings.csv"
    readings.write_text("red,green,blue,clear\n10,20,30,40\n1,2,3\n")
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="tinyml.flash", arguments=[{"project": str(project),
                                            "replay": [str(readings)]}]))
    assert result is None
    shown = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert any("readings.csv" in m and "row 3" in m for m in shown), shown
    assert not (project / ".pio" / "build").exists()  # nothing was built
