"""Every child process the product starts is started here.

Compilers, `arm-none-eabi-size`, PlatformIO, QEMU's launcher and our Python workers all run
as children in their own session, under a timeout, and are killed with everything they started
when the task ends for any reason (done, failed, timed out or cancelled). A program that is
missing is a TinymlError that says how to install it; a program that dies by a signal is
reported as such ("crashed (SIGSEGV)").

- `find_tool`: a program on PATH, or the error saying how to get it;
- `run_tool`: run a program to completion and capture its output (async);
- `stream_tool`: run a program and hand each output line to a callback as it comes (async);
- `run_tool_sync`: the same as `run_tool` for the few synchronous callers (PlatformIO's
  set-up, the emulated board's upload step, which run outside any event loop);
- `start` + `supervise`: the two halves the others are built on (the worker protocol uses
  them too).

Every child started here is registered until it is reaped. A process that must not leave
children behind even when it is killed (the language server) calls
`bind_children_to_this_process`: a reaper process (`reaper`) then kills the registered groups
when this process dies, however it dies; `kill_children` does it at once for an orderly end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.runtime.reaper import REAPER_ENV, kill_tree, start_time

T = TypeVar("T")
StrPath = str | Path

APT_ARM_TOOLCHAIN = "gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib"
# How to install each program the product runs (Debian's package names).
INSTALL_HINTS = {
    "arm-none-eabi-gcc": f"sudo apt-get install {APT_ARM_TOOLCHAIN}",
    "arm-none-eabi-size": f"sudo apt-get install {APT_ARM_TOOLCHAIN}",
    "arm-none-eabi-nm": f"sudo apt-get install {APT_ARM_TOOLCHAIN}",
    "qemu-system-arm": "sudo apt-get install qemu-system-arm",
    "gcc": "install gcc (Debian: apt-get install gcc)",
}
MAX_LINES = 100_000  # of a streamed program's output kept in memory


@dataclass(frozen=True)
class ToolOutput:
    returncode: int
    stdout: bytes
    stderr: bytes


def find_tool(name: str, *, what: str | None = None, hint: str | None = None,
              path: str | None = None) -> str:
    """The program `name` on PATH (or `path`), or a TinymlError saying how to install it.

    `what` names it for people ("the Arm cross-compiler arm-none-eabi-gcc"); `hint` replaces
    the install hint of INSTALL_HINTS.
    """
    found = shutil.which(name, path=path)
    if found is None:
        raise TinymlError(f"{what or name} is not installed",
                          hint=hint or INSTALL_HINTS.get(Path(name).name))
    return found


def signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


# --- the children of this process, and the reaper that kills them if it dies ---------------

_children: dict[int, int | None] = {}  # leader PID → start time, of groups not yet reaped
_lock = threading.Lock()  # run_tool_sync may run in threads
_reaper: subprocess.Popen[bytes] | None = None


def _tell_reaper(line: str) -> None:
    if _reaper is None or _reaper.stdin is None:
        return
    with contextlib.suppress(OSError):  # a reaper that died cannot be told; the rest goes on
        os.write(_reaper.stdin.fileno(), line.encode() + b"\n")


def _registration(pid: int, started: int | None) -> str:
    return f"+{pid}" if started is None else f"+{pid} {started}"


def _track(pid: int) -> None:
    started = start_time(pid)
    with _lock:
        _children[pid] = started
        _tell_reaper(_registration(pid, started))


def _untrack(pid: int) -> None:
    with _lock:
        if _children.pop(pid, ...) is not ...:
            _tell_reaper(f"-{pid}")


def bind_children_to_this_process() -> None:
    """From now on, the children of this process and everything they start die with it, also
    when it is killed by SIGKILL. Descendants may hand over a process that leaves their group
    on purpose (`hand_over`). Idempotent."""
    global _reaper
    if _reaper is not None:
        return
    fifo = Path(tempfile.mkdtemp(prefix="tinyml-reaper-")) / "handover"
    os.mkfifo(fifo, 0o600)
    # the pipe's write end stays here alone (not inherited): it closes when this process ends
    _reaper = subprocess.Popen([sys.executable, "-m", "tinyml_lsp.runtime.reaper", str(fifo)],
                               stdin=subprocess.PIPE, start_new_session=True)
    os.environ[REAPER_ENV] = str(fifo)
    with _lock:
        for pid, started in _children.items():
            _tell_reaper(_registration(pid, started))


def hand_over(pid: int) -> bool:
    """Give `pid`, which left its starter's group on purpose (the emulated board outlives the
    upload that started it), to the reaper of the process this one works for, if it has one:
    it then dies with that process. False when there is none (the command line: the board runs
    on until it is stopped)."""
    fifo = os.environ.get(REAPER_ENV)
    if not fifo:
        return False
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # the reaper is gone: so is its owner
        return False
    try:
        os.write(fd, _registration(pid, start_time(pid)).encode() + b"\n")
    finally:
        os.close(fd)
    return True


def kill_children() -> None:
    """Kill every child group this process started and has not reaped yet (an orderly exit's
    last step; the reaper does the same if this process is killed)."""
    with _lock:
        children = dict(_children)
    for pid, started in children.items():
        kill_tree(pid, started)


def kill_group(proc: asyncio.subprocess.Process) -> None:
    """Kill a child started by `start` (its own session) and everything it started."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


async def start(args: Sequence[StrPath], *, stdin: bool = False, cwd: StrPath | None = None,
                env: dict[str, str] | None = None,
                limit: int = 1024 * 1024) -> asyncio.subprocess.Process:
    """Start `args` in its own session with stdout/stderr piped (and stdin when asked).

    The caller must `supervise` it: that is what guarantees the child does not outlive the task.
    """
    try:
        proc = await asyncio.create_subprocess_exec(
            *[str(a) for a in args],
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=str(cwd) if cwd is not None else None, env=env, start_new_session=True,
            limit=limit)
    except OSError as exc:
        raise TinymlError(f"cannot start {args[0]}: {exc.strerror or exc}") from None
    _track(proc.pid)
    return proc


async def supervise(proc: asyncio.subprocess.Process, work: Awaitable[T], *,
                    timeout: float, what: str, path: StrPath | None = None) -> T:
    """Await `work` (reading the child's output, usually) and the child's exit, within
    `timeout`. Whatever happens — done, timeout, error or cancellation — the child's whole
    process group is gone afterwards."""
    try:
        async with asyncio.timeout(timeout):
            result = await work
            await proc.wait()
            return result
    except TimeoutError:
        raise TinymlError(f"{what} did not finish within {timeout:.0f} s and was stopped",
                          path) from None
    finally:
        kill_group(proc)
        with contextlib.suppress(ProcessLookupError):
            await proc.wait()
        _untrack(proc.pid)


def _failure(what: str, returncode: int, stderr: bytes, path: StrPath | None) -> TinymlError:
    text = stderr.decode(errors="replace").strip()
    if returncode < 0:
        return TinymlError(f"{what} crashed ({signal_name(returncode)})", path,
                           hint=text[-500:] or None)
    return TinymlError(f"{what} failed (exit status {returncode})", path,
                       hint=text[-2000:] or None)


async def run_tool(args: Sequence[StrPath], what: str, *, timeout: float,
                   stdin: bytes | None = None, cwd: StrPath | None = None,
                   env: dict[str, str] | None = None, path: StrPath | None = None,
                   check: bool = True) -> ToolOutput:
    """Run a program to completion; with `check`, a non-zero exit is a TinymlError whose hint
    is the end of what the program printed on stderr."""
    proc = await start(args, stdin=stdin is not None, cwd=cwd, env=env)
    out, err = await supervise(proc, proc.communicate(stdin), timeout=timeout, what=what,
                               path=path)
    returncode = proc.returncode if proc.returncode is not None else -signal.SIGKILL
    if check and returncode != 0:
        raise _failure(what, returncode, err, path)
    return ToolOutput(returncode, out, err)


async def stream_tool(args: Sequence[StrPath], what: str, *, timeout: float,
                      on_line: Callable[[str], None], cwd: StrPath | None = None,
                      env: dict[str, str] | None = None,
                      path: StrPath | None = None) -> tuple[int, list[str]]:
    """Run a program, handing each line of its stdout and stderr to `on_line` as it comes;
    (exit status, the lines). The exit status is the caller's to judge."""
    proc = await start(args, cwd=cwd, env=env)
    lines: list[str] = []

    async def pump(stream: asyncio.StreamReader | None) -> None:
        assert stream is not None
        async for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip()
            if len(lines) < MAX_LINES:
                lines.append(line)
            on_line(line)

    await supervise(proc, asyncio.gather(pump(proc.stdout), pump(proc.stderr)),
                    timeout=timeout, what=what, path=path)
    assert proc.returncode is not None
    return proc.returncode, lines


def run_tool_sync(args: Sequence[StrPath], what: str, *, timeout: float,
                  path: StrPath | None = None, check: bool = True,
                  **popen: Any) -> ToolOutput:
    """`run_tool` for synchronous code: the child runs in its own session and its group is
    killed on a timeout."""
    try:
        proc = subprocess.Popen([str(a) for a in args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True, **popen)
    except OSError as exc:
        raise TinymlError(f"cannot start {args[0]}: {exc.strerror or exc}", path) from None
    _track(proc.pid)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TinymlError(f"{what} did not finish within {timeout:.0f} s and was stopped",
                          path) from None
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        _untrack(proc.pid)
    if check and proc.returncode != 0:
        raise _failure(what, proc.returncode, err, path)
    return ToolOutput(proc.returncode, out, err)
