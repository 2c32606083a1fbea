"""PlatformIO that works offline, from the project's own files.

PlatformIO normally downloads its build engine (the `tool-scons` core package), platforms and
toolchains from its registry, into `~/.platformio`. Here the registry is unreachable, so
`ensure()` assembles a private PLATFORMIO_CORE_DIR in the project's state folder:

- `packages/tool-scons/`: a `scons.py` launcher over the installed `scons` wheel, with the
  version and `.piopm` owner (`platformio`) that PlatformIO's `get_core_package_dir` looks for;
- `packages/toolchain-gccarmnoneeabi/`: `bin/` symlinks to Debian's `arm-none-eabi-*`;
- `platforms/tinyml-qemu.pio-link`: PlatformIO's own symlink record for our platform folder,
  so a project says `platform = tinyml-qemu` and carries no absolute path;
- `appstate.json`: the PlatformIO version already "seen", so its upgrade step never runs.

A stamp records what the set-up was made from; when nothing changed, `ensure()` costs a few
`stat` calls. `python -m tinyml_lsp.deploy.pio_setup` runs it (the Makefile does).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.resources import platform_dir
from tinyml_lsp.runtime.process import APT_ARM_TOOLCHAIN, find_tool, run_tool_sync

SETUP_VERSION = 1  # bump when the layout written below changes
PLATFORM = "tinyml-qemu"
TOOLCHAIN = "toolchain-gccarmnoneeabi"
TOOLCHAIN_OWNER = "tinyml"
_STAMP = "tinyml-setup.json"
_REPO = Path(__file__).resolve().parents[3]


def state_dir() -> Path:
    """The project's ignored state folder: $TINYML_STATE_DIR, else `<checkout>/.state`.

    An installed wheel (no checkout around it) falls back to the XDG state directory.
    """
    if os.environ.get("TINYML_STATE_DIR"):
        return Path(os.environ["TINYML_STATE_DIR"]).expanduser().resolve()
    if (_REPO / "pyproject.toml").is_file() and (_REPO / "server" / "tinyml_lsp").is_dir():
        return _REPO / ".state"
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "tinyml-lsp"


def core_dir() -> Path:
    return state_dir() / "platformio"


def pio_env(core: Path | None = None) -> dict[str, str]:
    """Environment for a `pio` child: our core dir, no telemetry, no update checks, no colour."""
    env = dict(os.environ)
    env.update({
        "PLATFORMIO_CORE_DIR": str(core or core_dir()),
        "PLATFORMIO_SETTING_ENABLE_TELEMETRY": "No",
        "PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL": "3650",
        "PLATFORMIO_DISABLE_UPGRADE_CHECK": "true",
        "PLATFORMIO_NO_ANSI": "true",
        "PLATFORMIO_DISABLE_PROGRESSBAR": "true",
        "PYTHONUNBUFFERED": "1",
    })
    # The platform's upload step runs `python -m tinyml_lsp.deploy.emulator` in PlatformIO's
    # Python: make a source checkout importable there too.
    package_parent = str(Path(__file__).resolve().parents[2])
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if package_parent not in paths:
        env["PYTHONPATH"] = os.pathsep.join([package_parent, *paths])
    return env


def pio_command() -> list[str]:
    """How to run PlatformIO: the `platformio` package of this Python, so that PlatformIO's
    Python can import tinyml_lsp as well."""
    try:
        importlib.metadata.version("platformio")
    except importlib.metadata.PackageNotFoundError:
        raise TinymlError("PlatformIO is not installed in this Python",
                          hint=f"{sys.executable} -m pip install platformio scons") from None
    return [sys.executable, "-m", "platformio"]


@dataclass(frozen=True)
class PioSetup:
    core_dir: str
    platform_dir: str
    toolchain_bin: str  # the directory the toolchain package's bin/ points at
    gcc_version: str
    scons_version: str
    platformio_version: str
    changed: bool  # False when everything was already in place

    def env(self) -> dict[str, str]:
        return pio_env(Path(self.core_dir))

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def find_arm_gcc() -> Path:
    """Debian's `arm-none-eabi-gcc` on PATH (not the symlink our own package puts there)."""
    ours = str(core_dir() / "packages" / TOOLCHAIN / "bin")
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and os.path.abspath(p) != ours)
    return Path(find_tool("arm-none-eabi-gcc", path=path,
                          what="the Arm cross-compiler arm-none-eabi-gcc"))


def _semver_code(version: str) -> int:
    """PlatformIO's package numbering: 12.2.1 → 120201, 4.11.1 → 41101."""
    parts = [int("".join(ch for ch in p if ch.isdigit()) or 0) for p in version.split(".")[:3]]
    parts += [0] * (3 - len(parts))
    return parts[0] * 10000 + parts[1] * 100 + parts[2]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)


def _piopm(name: str, version: str, owner: str) -> dict[str, Any]:
    """PlatformIO's installed-package record (`PackageMetadata.as_dict()`)."""
    return {"type": "tool", "name": name, "version": version,
            "spec": {"owner": owner, "id": None, "name": name, "requirements": None,
                     "uri": None}}


def _fresh_dir(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def _inputs(toolchain: bool) -> dict[str, Any]:
    """What the set-up is made from; any change makes `ensure()` rebuild it."""
    try:
        gcc: Path | None = find_arm_gcc()
    except TinymlError:
        if toolchain:
            raise
        gcc = None
    try:
        scons = importlib.metadata.distribution("scons")
        pio_version = importlib.metadata.version("platformio")
    except importlib.metadata.PackageNotFoundError as exc:
        raise TinymlError(f"the Python package {exc.name} is not installed",
                          hint=f"{sys.executable} -m pip install platformio scons") from None
    return {
        "setup": SETUP_VERSION,
        "gcc": str(gcc) if gcc else None,
        "gcc_mtime": gcc.resolve().stat().st_mtime_ns if gcc else None,
        "scons": scons.version,
        "scons_dir": str(Path(str(scons.locate_file("SCons"))).resolve()),
        "platformio": pio_version,
        "platform": str(platform_dir(PLATFORM)),
    }


def _install_scons(packages: Path, inputs: dict[str, Any]) -> str:
    from platformio.dependencies import get_core_dependencies  # only when (re)building
    from semantic_version import SimpleSpec, Version

    version = f"{inputs['scons'].split('.')[0]}.{_semver_code(inputs['scons'])}.0"
    wanted = get_core_dependencies()["tool-scons"]
    if Version(version) not in SimpleSpec(wanted):
        raise TinymlError(
            f"PlatformIO {inputs['platformio']} wants SCons {wanted} (PlatformIO numbering); "
            f"the installed scons {inputs['scons']} is {version}",
            hint=f"{sys.executable} -m pip install 'scons=={_scons_for(wanted)}'")
    pkg = packages / "tool-scons"
    _fresh_dir(pkg)
    (pkg / "SCons").symlink_to(inputs["scons_dir"], target_is_directory=True)
    (pkg / "scons.py").write_text(
        "# PlatformIO runs `python scons.py ...`: start the SCons of the installed wheel,\n"
        "# linked beside this file (written by tinyml_lsp.deploy.pio_setup).\n"
        "import sys\n\n"
        "from SCons.Script.Main import main\n\n"
        "if __name__ == '__main__':\n"
        "    sys.exit(main())\n")
    _write_json(pkg / "package.json", {
        "name": "tool-scons", "version": version,
        "description": f"SCons {inputs['scons']} from the installed scons wheel",
        "homepage": "https://scons.org"})
    _write_json(pkg / ".piopm", _piopm("tool-scons", version, "platformio"))
    return version


def _scons_for(requirement: str) -> str:
    """`~4.41101.0` → `4.11.1`, for the hint."""
    code = int(requirement.lstrip("~^=<>!").split(".")[1])
    return f"{requirement.lstrip('~^=<>!').split('.')[0]}.{code // 100 % 100}.{code % 100}"


def _install_toolchain(packages: Path, gcc: Path) -> str:
    try:
        run = run_tool_sync([gcc, "-dumpfullversion"], str(gcc), timeout=30)
    except TinymlError as exc:
        raise TinymlError(f"{gcc} does not run: {exc.message}",
                          hint=f"sudo apt-get install --reinstall {APT_ARM_TOOLCHAIN}") from None
    out = run.stdout.decode(errors="replace").strip()
    version = f"1.{_semver_code(out)}.0"
    pkg = packages / TOOLCHAIN
    _fresh_dir(pkg)
    (pkg / "bin").mkdir()
    for tool in sorted(gcc.parent.glob("arm-none-eabi-*")):
        (pkg / "bin" / tool.name).symlink_to(tool)
    _write_json(pkg / "package.json", {
        "name": TOOLCHAIN, "version": version,
        "description": f"GNU Arm Embedded toolchain {out} of the system ({gcc.parent})",
        "keywords": ["toolchain", "build tools", "compiler", "assembler", "linker"]})
    _write_json(pkg / ".piopm", _piopm(TOOLCHAIN, version, TOOLCHAIN_OWNER))
    return out


def _link_platform(core: Path, platform: str) -> None:
    # the record PlatformIO writes for `pio pkg install -g -p symlink://...`
    _write_json(core / "platforms" / f"{PLATFORM}.pio-link", {
        "cwd": platform,
        "spec": {"owner": None, "id": None, "name": PLATFORM, "requirements": None,
                 "uri": f"symlink://{platform}"}})


def _mark_version_seen(core: Path, version: str) -> None:
    # A new version in appstate.json makes PlatformIO run its upgrade step (which goes online).
    state = _read_json(core / "appstate.json")
    if state.get("last_version") != version:
        state["last_version"] = version
        _write_json(core / "appstate.json", state)


def ensure(*, force: bool = False, toolchain: bool = True) -> PioSetup:
    """Make the private PlatformIO core dir ready (idempotent; a few stat calls when done).

    `toolchain=False` tolerates a missing arm-none-eabi-gcc (projects for other platforms).
    """
    core = core_dir()
    inputs = _inputs(toolchain)
    stamp = _read_json(core / _STAMP)
    packages = core / "packages"
    gcc = Path(inputs["gcc"]) if inputs["gcc"] else None
    in_place = (stamp.get("inputs") == inputs
                and (packages / "tool-scons" / ".piopm").is_file()
                and (gcc is None or (packages / TOOLCHAIN / ".piopm").is_file())
                and (core / "platforms" / f"{PLATFORM}.pio-link").is_file())
    changed = force or not in_place
    if changed:
        core.mkdir(parents=True, exist_ok=True)
        _install_scons(packages, inputs)
        gcc_version = _install_toolchain(packages, gcc) if gcc else ""
        _link_platform(core, inputs["platform"])
        _write_json(core / _STAMP, {"inputs": inputs, "gcc_version": gcc_version})
    else:
        gcc_version = stamp.get("gcc_version", "")
    _mark_version_seen(core, inputs["platformio"])
    return PioSetup(str(core), inputs["platform"], str(gcc.parent) if gcc else "", gcc_version,
                    inputs["scons"], inputs["platformio"], changed=changed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tinyml_lsp.deploy.pio_setup",
        description="Prepare PlatformIO to build and run tinyml-lsp's emulated board offline.")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--print-env", action="store_true",
                        help="print `export PLATFORMIO_CORE_DIR=...` for a shell")
    args = parser.parse_args(argv)
    try:
        setup = ensure(force=args.force)
    except TinymlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return 1
    if args.print_env:
        print(f"export PLATFORMIO_CORE_DIR={shlex.quote(setup.core_dir)}")
        return 0
    what = "ready" if setup.changed else "already up to date"
    print(f"PlatformIO core dir {setup.core_dir}: {what}\n"
          f"  platform {PLATFORM} -> {setup.platform_dir}\n"
          f"  {TOOLCHAIN} -> {setup.toolchain_bin} (gcc {setup.gcc_version})\n"
          f"  tool-scons -> SCons {setup.scons_version} (PlatformIO {setup.platformio_version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
