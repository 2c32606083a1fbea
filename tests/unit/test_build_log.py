"""Build logs from anywhere placed on the workspace: foreign and Windows paths mapped by their
tail, ranges over the token at the column, colours stripped, RAM/flash summaries read."""

from __future__ import annotations

from pathlib import Path

from tinyml_lsp.deploy.build_log import column_index, map_path, read_build_log, token_end

SKETCH = """#include <TensorFlowLite.h>
void setup() {
  tflite::AllOpsResolver resolver;
  int value = undefined_thing + 1;
}
"""

PROJECT = "C:\\Users\\Jo Doe\\Documents\\PlatformIO\\Projects\\fruit"
CORE = "C:\\Users\\Jo Doe\\.platformio\\packages\\framework\\cores\\arduino"
WINDOWS_LOG = f"""\
Processing nano33ble (platform: nordicnrf52; board: nano33ble; framework: arduino)
Compiling .pio\\build\\nano33ble\\src\\main.cpp.o
{PROJECT}\\src\\main.cpp: In function 'void setup()':
{PROJECT}\\src\\main.cpp:3:11: \x1b[01;31merror: \x1b[m'AllOpsResolver' is not a member of 'tflite'
{PROJECT}\\src\\main.cpp:4:15: error: 'undefined_thing' was not declared in this scope
{CORE}\\Arduino.h:10:2: warning: something in the core
*** [.pio\\build\\nano33ble\\src\\main.cpp.o] Error 1
"""

SUCCESS_LOG = """\
Linking .pio/build/nano33ble/firmware.elf
Checking size .pio/build/nano33ble/firmware.elf
RAM:   [==        ]  17.3% (used 45412 bytes from 262144 bytes)
Flash: [=         ]  12.5% (used 131072 bytes from 983040 bytes)
========================= [SUCCESS] Took 20.31 seconds =========================
"""


def _workspace(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.cpp").write_text(SKETCH)
    return tmp_path


def test_a_windows_log_lands_on_the_workspace_file(tmp_path):
    root = _workspace(tmp_path)
    log = read_build_log(WINDOWS_LOG, root)
    placed = [d for d in log.diagnostics if d.file]
    assert [(Path(d.file).relative_to(root).as_posix(), d.line, d.col, d.end_col, d.severity)
            for d in placed] == [("src/main.cpp", 2, 10, 24, "error"),
                                 ("src/main.cpp", 3, 14, 29, "error")]
    lines = SKETCH.splitlines()
    assert lines[2][10:24] == "AllOpsResolver" and lines[3][14:29] == "undefined_thing"
    assert placed[0].message == "'AllOpsResolver' is not a member of 'tflite'"  # no colours
    assert placed[0].foreign is not None and placed[0].foreign.startswith("C:\\Users")
    assert log.errors == 2
    # the core's header is not in the workspace: kept, with no file
    assert [d.message for d in log.diagnostics if d.file is None] == [
        "C:\\Users\\Jo Doe\\.platformio\\packages\\framework\\cores\\arduino\\Arduino.h:10: "
        "something in the core"]


def test_sizes_from_platformio_and_the_arduino_ide(tmp_path):
    log = read_build_log(SUCCESS_LOG, _workspace(tmp_path))
    assert (log.ram_used, log.ram_total, log.flash_used, log.flash_total) == (
        45412, 262144, 131072, 983040)
    assert log.errors == 0 and log.diagnostics == ()
    ide = read_build_log(
        "Sketch uses 123456 bytes (12%) of program storage space. Maximum is 983040 bytes.\n"
        "Global variables use 45678 bytes (17%) of dynamic memory, leaving 216466 bytes for "
        "local variables. Maximum is 262144 bytes.\n", tmp_path)
    assert ide.summary == "flash 123,456 of 983,040 bytes, RAM 45,678 of 262,144 bytes"


def test_paths_map_by_their_longest_tail(tmp_path):
    for sub in ("a/src", "b/src", "b/lib"):
        (tmp_path / sub).mkdir(parents=True)
        (tmp_path / sub / "main.cpp").write_text("")
    assert map_path("/home/ci/b/lib/main.cpp", tmp_path) == tmp_path / "b/lib/main.cpp"
    assert map_path("/home/ci/a/src/main.cpp", tmp_path) == tmp_path / "a/src/main.cpp"
    assert map_path("/elsewhere/src/main.cpp", tmp_path) is None  # a/src or b/src: ambiguous
    assert map_path("/elsewhere/other.cpp", tmp_path) is None


def test_token_ranges():
    line = '  resolver.AddFullyConnected(); x->data.f[0] = "text";'
    assert line[2:token_end(line, 2)] == "resolver"
    assert line[33:token_end(line, 33)] == "->"
    assert line[47:token_end(line, 47)] == '"text"'
    assert token_end("", 5) == 6


TABBED = "void loop() {\n\tfloat t = 21.5; /* °C */ int v = undefined_thing;\n}\n"


def test_columns_of_gcc_11_and_later_count_tabs_to_8():
    """GCC 12 (the emulated board's, ESP32's) says column 35 for a token after a tab and a
    "°": on screen, the tab reaches column 9; an older GCC counts bytes."""
    line = TABBED.splitlines()[1]
    at = line.index("undefined_thing")
    display = 8 + len(line[1:at]) + 1  # 1-based, the tab 8 wide
    byte = len(line[:at].encode("utf-8")) + 1
    assert (column_index(line, display), column_index(line, byte, "byte")) == (at, at)
    assert column_index("\t\tx", 17) == 2 and column_index("漢字x", 5) == 2
    assert column_index("ab", 6) == 5  # past the end: as far past it


def test_the_log_says_how_its_compiler_counts_columns(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.cpp").write_text(TABBED)
    line = TABBED.splitlines()[1]
    at = line.index("undefined_thing")
    display = 8 + len(line[1:at]) + 1
    byte = len(line[:at].encode("utf-8")) + 1
    message = "error: 'undefined_thing' was not declared in this scope"
    new = read_build_log(f"src/main.cpp:2:{display}: {message}\n", tmp_path)
    old = read_build_log(
        "PACKAGES:\n - framework-arduino-mbed @ 4.1.5\n"
        " - toolchain-gccarmnoneeabi @ 1.70201.0 (7.2.1)\n"
        f"src/main.cpp:2:{byte}: {message}\n", tmp_path)
    for log in (new, old):
        (d,) = log.diagnostics
        assert line[d.col:d.end_col] == "undefined_thing"
