"""Reading `pio run` output: compiler and linker diagnostics, the project's environment."""

from __future__ import annotations

import pytest

from tinyml_lsp.deploy.platformio import (
    BuildFailed,
    BuildResult,
    Diagnostic,
    parse_diagnostics,
    project_env,
)
from tinyml_lsp.errors import TinymlError

OUTPUT = """\
Compiling .pio/build/qemu/src/main.o
src/main.c: In function 'main':
src/main.c:12:5: error: 'x' undeclared (first use in this function)
   12 |     x = 1;
      |     ^
src/main.c:12:5: note: each undeclared identifier is reported only once
In file included from src/main.c:3:
src/model.h:4:9: warning: "FOO" redefined
src/main.c:12:5: error: 'x' undeclared (first use in this function)
lib/fft/fft.c:40: warning: ignoring #pragma omp parallel
/usr/lib/gcc/arm-none-eabi/12.2.1/../../../arm-none-eabi/bin/ld: \
.pio/build/qemu/src/main.o: in function `main':
main.c:(.text.startup.main+0x8): undefined reference to `model_invoke'
/usr/bin/arm-none-eabi-ld: region `RAM' overflowed by 1048576 bytes
collect2: error: ld returned 1 exit status
*** [.pio/build/qemu/firmware.elf] Error 1
Error: The program size (5000000 bytes) is greater than maximum allowed (4194304 bytes)
UnknownBoard: Unknown board ID 'uno2'
"""


def test_diagnostics(tmp_path):
    (tmp_path / "src").mkdir()
    main = tmp_path / "src" / "main.c"
    main.write_text("")
    found = parse_diagnostics(OUTPUT.splitlines(), tmp_path)
    assert found == (
        Diagnostic(str(main), 12, 5, "error", "'x' undeclared (first use in this function)"),
        Diagnostic(str(main), 12, 5, "note",
                   "each undeclared identifier is reported only once"),
        Diagnostic("src/model.h", 4, 9, "warning", '"FOO" redefined'),
        Diagnostic("lib/fft/fft.c", 40, None, "warning", "ignoring #pragma omp parallel"),
        Diagnostic(str(main), None, None, "error", "undefined reference to `model_invoke'"),
        Diagnostic(None, None, None, "error", "region `RAM' overflowed by 1048576 bytes"),
        Diagnostic(None, None, None, "error", "The program size (5000000 bytes) is greater "
                   "than maximum allowed (4194304 bytes)"),
        Diagnostic(None, None, None, "error", "Unknown board ID 'uno2'"),
    )
    assert str(found[0]) == f"{main}:12:5: error: 'x' undeclared (first use in this function)"


def test_build_failed_lists_errors_with_file_and_line(tmp_path):
    diags = parse_diagnostics(OUTPUT.splitlines(), tmp_path)
    result = BuildResult(False, str(tmp_path), "qemu", "tinyml-qemu-m4", None, None, None, None,
                         None, diags, 1.0)
    exc = BuildFailed(result)
    # one line naming the first error; every error in the lines shown above it
    assert "build failed with 5 errors, the first: " in exc.message and "\n" not in exc.message
    assert "src/main.c:12:5: error: 'x' undeclared" in exc.message
    assert len(exc.details) == 5 and "'x' undeclared" in exc.details[0]
    assert exc.to_json()["diagnostics"][0]["line"] == 12


def test_project_env(tmp_path):
    (tmp_path / "platformio.ini").write_text(
        "[platformio]\ndefault_envs = b\n\n[env]\nboard = tinyml-qemu-m4\n\n"
        "[env:a]\nplatform = tinyml-qemu\n\n[env:b]\nextends = env:a  ; same board\n")
    env = project_env(tmp_path)
    assert (env.name, env.board, env.platform) == ("b", "tinyml-qemu-m4", "tinyml-qemu")
    assert env.emulated and env.build_dir == tmp_path / ".pio" / "build" / "b"
    with pytest.raises(TinymlError, match="no environment 'c'"):
        project_env(tmp_path, "c")
    with pytest.raises(TinymlError, match=r"no platformio\.ini"):
        project_env(tmp_path / "nowhere")


def test_a_platform_from_the_registry_is_refused_at_once_offline(tmp_path, monkeypatch):
    from tinyml_lsp.deploy import platformio

    (tmp_path / "platformio.ini").write_text(
        "[env:nano]\nplatform = nordicnrf52\nboard = nano33ble\nframework = arduino\n")
    penv = platformio.project_env(tmp_path)
    monkeypatch.setattr(platformio, "registry_reachable", lambda timeout=3.0: False)
    with pytest.raises(TinymlError, match="cannot reach the registry") as err:
        platformio._require_platform(penv, tmp_path)
    assert err.value.hint is not None and f"pio pkg install -d {tmp_path} -e nano" in err.value.hint
    monkeypatch.setattr(platformio, "registry_reachable", lambda timeout=3.0: True)
    platformio._require_platform(penv, tmp_path)  # online, PlatformIO fetches it itself


def test_a_binary_platformio_ini_is_a_clear_error(tmp_path):
    from tinyml_lsp.deploy import platformio

    (tmp_path / "platformio.ini").write_bytes(b"\xff\xfe\x00[env:x]\x00")
    with pytest.raises(TinymlError, match="not a text file"):
        platformio.project_env(tmp_path)


def test_the_build_summary_counts_warnings(tmp_path):
    from tinyml_lsp.deploy.platformio import Diagnostic, render_build

    warning = Diagnostic(str(tmp_path / "src" / "main.c"), 3, 5, "warning", "unused variable")
    result = BuildResult(True, str(tmp_path), "qemu", "tinyml-qemu-m4", "fw.elf", 100, 10,
                         1000, 100, (warning,), 1.0)
    text = render_build(result)
    assert text.splitlines()[0] == "built fw.elf (1 warning)"
    assert "main.c:3:5: warning: unused variable" in text
