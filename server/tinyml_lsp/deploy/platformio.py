"""Build and upload PlatformIO projects: `pio run` as a child process, its outcome as values.

PlatformIO runs from this Python (`python -m platformio`) with the private core dir of
`pio_setup` (offline, no telemetry). Its output streams to `ctx.log` line by line and moves
`ctx.progress`; cancelling the task kills PlatformIO's whole process group. Sizes come from the
toolchain's `size` (flash = text + data, RAM = data + bss) and the board's totals from
PlatformIO's own size check. A failed build raises `BuildFailed`, which carries the compiler's
diagnostics (file, line, column, severity, message) for editors to show and click.
"""

from __future__ import annotations

import asyncio
import configparser
import functools
import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tinyml_lsp.deploy import emulator, pio_setup
from tinyml_lsp.deploy.portlock import HELD_ENV, UploadLock
from tinyml_lsp.deploy.project_ini import IniEnv, scan_ini
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.resources import platform_dir
from tinyml_lsp.runtime.context import JobContext
from tinyml_lsp.runtime.process import find_tool, run_tool, stream_tool

BUILD_TIMEOUT = 900.0
# `pio run -t upload` builds first: a cold TFLite Micro library takes minutes, as in a build
UPLOAD_TIMEOUT = BUILD_TIMEOUT
SOURCE_SUFFIXES = {".c", ".cc", ".cpp", ".cxx", ".S", ".s", ".ino"}


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnostic:
    """One compiler or linker message. `file` is absolute when the file exists."""

    file: str | None
    line: int | None
    column: int | None
    severity: str  # "error", "warning" or "note"
    message: str

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line, self.column) if p is not None)
        return f"{where}: {self.severity}: {self.message}" if where else \
            f"{self.severity}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BuildResult:
    success: bool
    project_dir: str
    env: str
    board: str | None
    elf: str | None
    flash_used: int | None  # text + data
    ram_used: int | None  # data + bss
    flash_total: int | None
    ram_total: int | None
    diagnostics: tuple[Diagnostic, ...]
    seconds: float

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["diagnostics"] = [d.to_json() for d in self.diagnostics]
        return data


@dataclass(frozen=True)
class UploadResult:
    project_dir: str
    env: str
    board: str | None
    elf: str | None
    emulated: bool
    port: str | None  # the emulated board's pty (a real board's port is PlatformIO's choice)
    emulator_pid: int | None
    seconds: float
    build: BuildResult

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["build"] = self.build.to_json()
        return data


class BuildFailed(TinymlError):
    """`pio run` failed; `result.diagnostics` holds what the compiler and linker said."""

    def __init__(self, result: BuildResult, what: str = "build", tail: list[str] | None = None,
                 path: str | Path | None = None, log: Path | None = None):
        errors = result.errors or result.diagnostics
        if errors:
            n = len(errors)
            message = (f"{what} failed with {n} error{'s' if n > 1 else ''}, the first: "
                       f"{_short(errors[0], result.project_dir)}")
        else:
            message = f"{what} failed: " + (" | ".join((tail or [])[-3:]) or "see the log")
        super().__init__(message, path if path is not None else result.project_dir,
                         hint=f"the full PlatformIO output: {log}" if log else None,
                         details=tuple(str(d) for d in errors))
        self.result = result

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "diagnostics": [d.to_json() for d in self.result.diagnostics]}


def _short(d: Diagnostic, project: str) -> str:
    """A diagnostic with its file relative to the project, for one line."""
    if d.file and d.file.startswith(project + "/"):
        return str(Diagnostic(d.file[len(project) + 1:], d.line, d.column, d.severity,
                              d.message))
    return str(d)


def save_log(project: Path, what: str, lines: list[str]) -> Path | None:
    """PlatformIO's whole output, for the user to read after a failure (None if the project
    folder cannot be written)."""
    path = project / ".pio" / f"tinyml-{what}.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    except OSError:
        return None
    return path


# --- the project -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectEnv:
    name: str
    board: str | None
    platform: str | None
    build_dir: Path
    envs: tuple[str, ...] = ()  # every environment of the project, in order
    runtime: str | None = None  # custom_tinyml_runtime: "tflm" or "standalone"

    @property
    def emulated(self) -> bool:
        return self.platform == pio_setup.PLATFORM or (
            self.board is not None
            and (platform_dir(pio_setup.PLATFORM) / "boards" / f"{self.board}.json").is_file())


def project_env(project_dir: str | Path, env: str | None = None) -> ProjectEnv:
    """The environment of platformio.ini to use: `env`, else the first default, else the first."""
    project = Path(project_dir)
    ini = project / "platformio.ini"
    if not ini.is_file():
        raise TinymlError("not a PlatformIO project (no platformio.ini)", project)
    parser = configparser.ConfigParser(interpolation=None, strict=False,
                                       inline_comment_prefixes=(";",))
    try:
        parser.read(ini)
    except configparser.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TinymlError(f"cannot read platformio.ini: {first}", ini) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise TinymlError(f"cannot read platformio.ini: it is not a text file ({exc})",
                          ini) from None
    envs = [s[4:] for s in parser.sections() if s.startswith("env:")]
    if not envs:
        raise TinymlError("platformio.ini has no [env:NAME] section", ini)
    if env is None:
        defaults = parser.get("platformio", "default_envs", fallback="").replace(",", " ").split()
        env = defaults[0] if defaults else envs[0]
    if env not in envs:
        raise TinymlError(f"platformio.ini has no environment {env!r}", ini,
                          hint="environments: " + ", ".join(envs))

    def option(name: str, section: str = f"env:{env}", depth: int = 0) -> str | None:
        if parser.has_option(section, name):
            return parser.get(section, name).strip()
        parent = parser.get(section, "extends", fallback="").split(",")[0].strip()
        if parent and depth < 5:
            return option(name, parent, depth + 1)
        return parser.get("env", name, fallback=None) if section != "env" else None

    build_dir = Path(parser.get("platformio", "build_dir", fallback=".pio/build"))
    if not build_dir.is_absolute():
        build_dir = project.resolve() / build_dir
    return ProjectEnv(env, option("board"), option("platform"), build_dir / env, tuple(envs),
                      option("custom_tinyml_runtime"))


def _count_sources(project: Path, emulated: bool) -> int:
    folders = [project / "src", project / "lib"]
    count = sum(1 for folder in folders if folder.is_dir() for p in folder.rglob("*")
                if p.suffix in SOURCE_SUFFIXES)
    if emulated:
        count += sum(1 for p in (platform_dir(pio_setup.PLATFORM) / "board").rglob("*")
                     if p.suffix in SOURCE_SUFFIXES)
    return max(count, 1)


# --- output ----------------------------------------------------------------------------------

# a file may start with a Windows drive (a log pasted from another machine)
_GCC = re.compile(r"^(?P<file>(?:[A-Za-z]:[\\/])?[^\s:][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)?\s*"
                  r"(?P<sev>fatal error|error|warning|note):\s*(?P<msg>.*)$")
_LD_REF = re.compile(r"^(?P<file>(?:[A-Za-z]:[\\/])?[^\s:][^:]*):(?:(?P<line>\d+)|\([^)]*\)):\s*"
                     r"(?P<msg>(?:undefined reference|multiple definition).*)$")
_LD = re.compile(r"(?:^|/)(?:arm-none-eabi-)?ld(?:\.bfd)?: (?P<msg>.*)$")
# PlatformIO's own failures: "Error: ..." and its exceptions (UnknownBoard, UserSideException)
_PIO_ERROR = re.compile(r"^(?:Error|Unknown[A-Za-z]+|[A-Z][A-Za-z]*(?:Error|Exception)): "
                        r"(?P<msg>.*)$")
_SIZE = re.compile(r"^(?P<what>RAM|Flash):\s+\[.*\]\s+[\d.]+%\s+\(used (?P<used>\d+) bytes "
                   r"from (?P<total>\d+) bytes\)")


def _resolve(project: Path, file: str) -> str:
    path = Path(file)
    if not path.is_absolute():
        for base in (project, project / "src"):
            if (base / path).is_file():
                return str((base / path).resolve())
        return file
    return str(path)


def parse_diagnostics(lines: list[str], project_dir: str | Path) -> tuple[Diagnostic, ...]:
    """Compiler, linker and PlatformIO errors in `pio run` output, in order, without repeats."""
    project = Path(project_dir)
    found: list[Diagnostic] = []
    for raw in lines:
        line = raw.rstrip()
        diag = None
        if m := _GCC.match(line):
            severity = "error" if m["sev"] == "fatal error" else m["sev"]
            diag = Diagnostic(_resolve(project, m["file"]), int(m["line"]),
                              int(m["col"]) if m["col"] else None, severity, m["msg"])
        elif m := _LD_REF.match(line):
            diag = Diagnostic(_resolve(project, m["file"]),
                              int(m["line"]) if m["line"] else None, None, "error", m["msg"])
        elif (m := _LD.search(line)) and not m["msg"].rstrip().endswith(":"):
            message = m["msg"]
            severity = "warning" if message.startswith("warning:") else "error"
            diag = Diagnostic(None, None, None, severity, message.removeprefix("warning: "))
        elif m := _PIO_ERROR.match(line):
            diag = Diagnostic(None, None, None, "error", m["msg"])
        if diag is not None and diag not in found:
            found.append(diag)
    return tuple(found)


class _Progress:
    """Maps PlatformIO's output lines to a fraction of the build."""

    def __init__(self, ctx: JobContext, total_sources: int, start: float, span: float) -> None:
        self.ctx, self.total, self.start, self.span = ctx, total_sources, start, span
        self.compiled = 0

    def __call__(self, line: str) -> None:
        if line.startswith("Compiling "):
            self.compiled += 1
            fraction = 0.05 + 0.8 * min(self.compiled / self.total, 1.0)
            self._report(fraction, f"compiling {Path(line[10:]).name}")
        elif line.startswith(("Archiving ", "Indexing ")):
            self._report(0.86, "archiving libraries")
        elif line.startswith("Linking "):
            self._report(0.9, "linking")
        elif line.startswith("Checking size "):
            self._report(0.95, "checking size")
        elif line.startswith("Processing "):
            self._report(0.02, "configuring PlatformIO")

    def _report(self, fraction: float, message: str) -> None:
        self.ctx.progress(self.start + self.span * fraction, message)


async def _run_pio(project: Path, args: list[str], ctx: JobContext, *, timeout: float,
                   on_line: Callable[[str], None], extra_env: dict[str, str] | None = None
                   ) -> tuple[int, list[str]]:
    """Run `pio ARGS` in `project`; stream lines to ctx.log; return (status, lines)."""
    env = pio_setup.pio_env()
    env.update(extra_env or {})

    def line(text: str) -> None:
        ctx.log(text)
        on_line(text)

    return await stream_tool([*pio_setup.pio_command(), *args], "PlatformIO", timeout=timeout,
                             on_line=line, cwd=project, env=env, path=project)


async def elf_sizes(elf: str | Path) -> tuple[int, int] | None:
    """(flash, RAM) bytes of an ELF from `arm-none-eabi-size -B -d`: (text+data, data+bss)."""
    try:
        out = await run_tool([find_tool("arm-none-eabi-size"), "-B", "-d", elf],
                             "arm-none-eabi-size", timeout=60, check=False)
    except TinymlError:  # the sizes are a bonus: PlatformIO's own figures remain
        return None
    rows = out.stdout.decode(errors="replace").splitlines()
    if out.returncode != 0 or len(rows) < 2:
        return None
    text, data, bss = (int(v) for v in rows[1].split()[:3])
    return text + data, data + bss


def _find_elf(penv: ProjectEnv) -> Path | None:
    elf = penv.build_dir / "firmware.elf"
    if elf.is_file():
        return elf
    candidates = sorted(penv.build_dir.glob("*.elf"), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


async def _result(project: Path, penv: ProjectEnv, status: int, lines: list[str],
                  started: float) -> BuildResult:
    diagnostics = parse_diagnostics(lines, project)
    totals: dict[str, tuple[int, int]] = {}
    for line in lines:
        if m := _SIZE.match(line):
            totals[m["what"]] = (int(m["used"]), int(m["total"]))
    elf = _find_elf(penv) if status == 0 else None
    sizes = await elf_sizes(elf) if elf is not None else None
    flash_used, ram_used = sizes if sizes else (totals.get("Flash", (None,))[0],
                                                totals.get("RAM", (None,))[0])
    return BuildResult(
        success=status == 0, project_dir=str(project), env=penv.name, board=penv.board,
        elf=str(elf) if elf else None, flash_used=flash_used, ram_used=ram_used,
        flash_total=totals["Flash"][1] if "Flash" in totals else None,
        ram_total=totals["RAM"][1] if "RAM" in totals else None,
        diagnostics=diagnostics, seconds=round(time.monotonic() - started, 2))


def _jobs_args(jobs: int | None) -> list[str]:
    jobs = jobs or int(os.environ.get("TINYML_BUILD_JOBS", "0") or 0)
    return ["-j", str(jobs)] if jobs > 0 else []


# --- the tasks -------------------------------------------------------------------------------


async def _prepare(project_dir: str | Path, env: str | None, ctx: JobContext, *,
                   qemu: bool) -> tuple[Path, ProjectEnv]:
    """The project and its environment, with the tools it needs checked and PlatformIO set up."""
    penv = project_env(project_dir, env)  # errors name the folder as the user gave it
    project = Path(project_dir).resolve()
    if penv.emulated:
        emulator.require_tools(qemu=qemu)
    else:
        await asyncio.to_thread(_require_platform, penv, project_dir)
    ctx.progress(0.0, "preparing PlatformIO")
    await asyncio.to_thread(functools.partial(pio_setup.ensure, toolchain=penv.emulated))
    return project, penv


REGISTRY = ("api.registry.platformio.org", 443)


def _require_platform(penv: ProjectEnv, project_dir: str | Path) -> None:
    """Refuse at once what PlatformIO could only get from its registry when the registry
    cannot be reached (PlatformIO itself would retry for a minute, then print an HTTP error)."""
    platform = (penv.platform or "").strip()
    if not platform:
        raise TinymlError(f"the environment {penv.name!r} names no platform", project_dir,
                          hint="add `platform = ...` to its [env:...] section")
    local = platform.startswith(("symlink://", "file://")) or Path(platform).is_dir()
    name = platform.split("@")[0].split("/")[-1]
    installed = (pio_setup.core_dir() / "platforms" / name).exists() or (
        pio_setup.core_dir() / "platforms" / f"{name}.pio-link").exists()
    if local or installed or registry_reachable():
        return
    others = [e.name for e in _ini_envs(project_dir) if e.name != penv.name]
    emulated = next((e for e in others if project_env(project_dir, e).emulated), None)
    raise TinymlError(
        f"the environment {penv.name!r} needs PlatformIO's platform {platform!r} (and its "
        "toolchain), which PlatformIO downloads from its registry, and this machine cannot "
        "reach the registry", project_dir,
        hint=f"on a machine with internet access run `pio pkg install -d {project_dir} -e "
        f"{penv.name}` once (then `pio run -d {project_dir} -e {penv.name} -t upload`); here, "
        + (f"build its env {emulated!r}: tinyml build {project_dir} --env {emulated}"
           if emulated else "build for the emulated board"))


def _ini_envs(project_dir: str | Path) -> list[IniEnv]:
    try:
        return scan_ini((Path(project_dir) / "platformio.ini").read_text(errors="replace"))
    except OSError:
        return []


def registry_reachable(timeout: float = 3.0) -> bool:
    try:
        socket.create_connection(REGISTRY, timeout=timeout).close()
    except OSError:
        return False
    return True


async def build(project_dir: str | Path, ctx: JobContext, *, env: str | None = None,
                jobs: int | None = None, timeout: float = BUILD_TIMEOUT) -> BuildResult:
    """`pio run`: compile and link the project; BuildFailed with diagnostics if it fails.

    `jobs`: parallel compile jobs (default: $TINYML_BUILD_JOBS, else PlatformIO's choice).
    """
    project, penv = await _prepare(project_dir, env, ctx, qemu=False)
    started = time.monotonic()
    progress = _Progress(ctx, _count_sources(project, penv.emulated), 0.0, 1.0)
    status, lines = await _run_pio(project, ["run", "-e", penv.name, *_jobs_args(jobs)], ctx,
                                   timeout=timeout, on_line=progress)
    result = await _result(project, penv, status, lines, started)
    if not result.success:
        raise BuildFailed(result, "build", lines, project_dir, save_log(project, "build", lines))
    ctx.progress(1.0, f"built {Path(result.elf or '').name}")
    return result


async def upload(project_dir: str | Path, ctx: JobContext, *, env: str | None = None,
                 jobs: int | None = None, timeout: float = UPLOAD_TIMEOUT) -> UploadResult:
    """`pio run -t upload`: build if needed, then flash. The emulated board's "flash" starts
    QEMU (halted until a monitor attaches, see `emulator`). Open monitors of the project let go
    of the port for the upload's duration and reattach after it."""
    project, penv = await _prepare(project_dir, env, ctx, qemu=True)
    started = time.monotonic()
    progress = _Progress(ctx, _count_sources(project, penv.emulated), 0.0, 0.8)

    def on_line(line: str) -> None:
        progress(line)
        if line.startswith(("Uploading ", "Configuring upload")):
            ctx.progress(0.85, "uploading")

    lock = UploadLock(project)
    lock.acquire(wait=False)  # a small file write; the wait for monitors goes to a thread
    try:
        await asyncio.to_thread(lock.wait_for_monitors)
        status, lines = await _run_pio(
            project, ["run", "-e", penv.name, "-t", "upload", *_jobs_args(jobs)], ctx,
            timeout=timeout, on_line=on_line, extra_env={HELD_ENV: str(project)})
    finally:
        lock.release()
    result = await _result(project, penv, status, lines, started)
    if not result.success:
        compile_errors = any(d.file for d in result.errors)
        what = "build" if compile_errors else "upload"
        raise BuildFailed(result, what, lines, project_dir, save_log(project, what, lines))
    state = emulator.running_state(project) if penv.emulated else None
    if penv.emulated and state is None:
        raise TinymlError("the upload finished but no emulated board is running", project,
                          hint=f"see {project / emulator.STATE_DIR / 'qemu.log'}")
    ctx.progress(1.0, f"running under QEMU, UART on {state.pty}" if state else "uploaded")
    return UploadResult(
        project_dir=str(project), env=penv.name, board=penv.board, elf=result.elf,
        emulated=penv.emulated, port=state.pty if state else None,
        emulator_pid=state.pid if state else None,
        seconds=round(time.monotonic() - started, 2), build=result)


# --- renderings ------------------------------------------------------------------------------


def render_build(r: BuildResult) -> str:
    warnings = sum(d.severity == "warning" for d in r.diagnostics)
    lines = [f"built {r.elf}" + (f" ({warnings} warning{'s' if warnings > 1 else ''})"
                                 if warnings else "")]
    if r.flash_used is not None and r.flash_total and r.ram_used is not None and r.ram_total:
        lines.append(f"flash {r.flash_used:,} of {r.flash_total:,} bytes "
                     f"({100 * r.flash_used / r.flash_total:.1f}%), RAM {r.ram_used:,} of "
                     f"{r.ram_total:,} bytes ({100 * r.ram_used / r.ram_total:.1f}%)")
    lines += [str(d) for d in r.diagnostics]  # warnings, as file:line:col, clickable
    return "\n".join(lines)


def render_upload(r: UploadResult, project: str | None = None) -> str:
    """`project`: the folder as the user named it (default: the resolved one)."""
    where = (f"running under QEMU (pid {r.emulator_pid}), UART on {r.port}" if r.emulated
             else "uploaded")
    return (f"{render_build(r.build)}\nflashed {Path(r.elf or '').name}: {where}\n"
            f"read it with: tinyml monitor {project or r.project_dir}")
