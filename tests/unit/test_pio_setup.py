"""The private, offline PlatformIO core dir."""

from __future__ import annotations

import json
import shutil

import pytest

from tinyml_lsp.deploy import pio_setup

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                                reason="needs Debian's gcc-arm-none-eabi")


def test_ensure_builds_the_core_dir_once(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYML_STATE_DIR", str(tmp_path))
    first = pio_setup.ensure()
    core = tmp_path / "platformio"
    assert first.changed and first.core_dir == str(core)

    scons = core / "packages" / "tool-scons"
    meta = json.loads((scons / ".piopm").read_text())
    assert meta["spec"]["owner"] == "platformio" and meta["version"].startswith("4.4")
    assert (scons / "scons.py").is_file() and (scons / "SCons" / "__init__.py").is_file()
    gcc = core / "packages" / "toolchain-gccarmnoneeabi" / "bin" / "arm-none-eabi-gcc"
    assert gcc.resolve() == pio_setup.find_arm_gcc().resolve()
    link = json.loads((core / "platforms" / "tinyml-qemu.pio-link").read_text())
    assert link["spec"]["uri"] == f"symlink://{first.platform_dir}"
    assert json.loads((core / "appstate.json").read_text())["last_version"]

    again = pio_setup.ensure()
    assert not again.changed and again.core_dir == first.core_dir
    assert again.env()["PLATFORMIO_CORE_DIR"] == str(core)
    assert again.env()["PLATFORMIO_SETTING_ENABLE_TELEMETRY"] == "No"


def test_missing_toolchain_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYML_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pio_setup.TinymlError) as caught:
        pio_setup.ensure()
    assert caught.value.hint == ("sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi "
                                 "libstdc++-arm-none-eabi-newlib")
