"""The emulated board: QEMU started with a firmware, found again, booted, stopped.

"Flashing" the emulated board starts `qemu-system-arm` with the ELF, detached from the caller
(its own session, parent gone) so the board keeps running after `pio run -t upload` returns:

- `-icount shift=0,sleep=off`: one guest instruction per nanosecond of virtual time, so the
  firmware's timer readings count instructions, identically from run to run;
- `-serial pty`: UART0 on a pseudo-terminal that any serial monitor opens like a real port;
- `-S` and QMP on a unix socket: the board starts halted. The monitor opens the pty first and
  then boots the board over QMP (`cont`, or `system_reset` when it is already running, like the
  auto-reset of an Arduino when its port opens). QEMU's pty discards what the guest writes while
  no one has the pty open, so this order is what makes the first line arrive.

Whose board is it when the one who flashed it ends? A QEMU started by a language-server job
(and its idle watchdog) belongs to that server: it is handed over to the server's reaper
(`process.hand_over`) and dies with the server, however the server ends, like every other child
of its jobs. Started from the command line (`tinyml flash`), it outlives the command
(`tinyml monitor` reads it next) until `tinyml stop`, the next flash or the watchdog.

The board's state (pid, pty, QMP socket, ELF) is kept in `<project>/.pio/tinyml-qemu/state.json`;
one emulated board per project, and a new upload stops the previous one. Every running board is
also listed in the state folder (`running_boards`, for `tinyml devices`), and a watchdog stops a
board nobody has monitored for $TINYML_EMULATOR_IDLE seconds (15 minutes by default), so boards
do not pile up.
`python -m tinyml_lsp.deploy.emulator start|stop|status` is the command line the platform's
upload step calls.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tinyml_lsp.deploy import replay
from tinyml_lsp.deploy.pio_setup import find_arm_gcc, state_dir
from tinyml_lsp.deploy.portlock import (
    UploadLock,
    attached_monitors,
    pid_alive,
    upload_in_progress,
)
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.runtime.process import find_tool, hand_over, run_tool_sync

QEMU = "qemu-system-arm"
IDLE_ENV = "TINYML_EMULATOR_IDLE"
DEFAULT_IDLE = 15 * 60.0  # seconds a board may run with no monitor attached
STATE_DIR = Path(".pio") / "tinyml-qemu"
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class EmulatorState:
    """A running emulated board, as recorded in the project's `.pio/`."""

    pid: int
    pty: str
    qmp: str
    elf: str
    machine: str
    log: str
    started: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def find_qemu() -> str:
    return find_tool(QEMU, what=f"{QEMU}, which runs the emulated board,")


def require_tools(*, qemu: bool = True) -> None:
    """A TinymlError naming the Debian packages to install if the toolchain or QEMU is missing."""
    find_arm_gcc()
    if qemu:
        find_qemu()


def state_file(project_dir: str | Path) -> Path:
    return Path(project_dir) / STATE_DIR / "state.json"


def read_state(project_dir: str | Path) -> EmulatorState | None:
    """The project's emulated board, or None when none was started (or the record is broken)."""
    try:
        data = json.loads(state_file(project_dir).read_text())
        return EmulatorState(**data)
    except (OSError, ValueError, TypeError):
        return None


def is_running(state: EmulatorState | None) -> bool:
    """True while the recorded QEMU process lives (and is still a QEMU: pids get reused)."""
    if state is None or not pid_alive(state.pid):
        return False
    try:
        cmdline = Path(f"/proc/{state.pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"qemu-system" in cmdline


def running_state(project_dir: str | Path) -> EmulatorState | None:
    state = read_state(project_dir)
    return state if is_running(state) else None


def _qmp_path(project_dir: Path) -> Path:
    # unix socket paths are limited to ~107 bytes: keep them short, out of the project
    digest = hashlib.sha1(str(project_dir.resolve()).encode()).hexdigest()[:16]
    base = Path(tempfile.gettempdir()) / f"tinyml-qemu-{os.getuid()}"
    if len(str(base)) > 60:
        base = Path("/tmp") / f"tinyml-qemu-{os.getuid()}"
    base.mkdir(mode=0o700, exist_ok=True)
    return base / f"{digest}.qmp"


class Qmp:
    """A minimal QMP client (QEMU's JSON control protocol) over a unix socket."""

    def __init__(self, path: str, timeout: float = 5.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
            self.file = self.sock.makefile("rwb")
            self._read()  # greeting
            self.command("qmp_capabilities")
        except (OSError, ValueError) as exc:
            self.sock.close()
            raise TinymlError(f"cannot talk to QEMU on {path}: {exc}") from None

    def _read(self) -> dict[str, Any]:
        line = self.file.readline()
        if not line:
            raise OSError("QEMU closed its control socket")
        return json.loads(line)

    def command(self, name: str, **arguments: Any) -> Any:
        message: dict[str, Any] = {"execute": name}
        if arguments:
            message["arguments"] = arguments
        self.file.write(json.dumps(message).encode() + b"\n")
        self.file.flush()
        while True:
            reply = self._read()
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise TinymlError(f"QEMU refused {name}: {reply['error'].get('desc')}")
            # anything else is an asynchronous event (RESUME, RESET, ...): skip it

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        self.sock.close()

    def __enter__(self) -> Qmp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def boot(state: EmulatorState, *, reset: bool = True) -> str:
    """Let the board run: `cont` a halted board, `system_reset` a running one if `reset`.

    Call it after opening the pty. Returns what was done ("started", "reset", "running").
    """
    try:
        with Qmp(state.qmp) as qmp:
            status = qmp.command("query-status").get("status")
            if status in ("prelaunch", "paused", "debug", "suspended"):
                qmp.command("cont")
                return "started"
            if reset:
                qmp.command("system_reset")
                return "reset"
            return "running"
    except OSError as exc:
        raise TinymlError(f"cannot boot the emulated board: {exc}") from None


def stop(project_dir: str | Path, timeout: float = 3.0) -> bool:
    """Stop the project's emulated board; True if one was running."""
    state = read_state(project_dir)
    was_running = is_running(state)
    if state is not None and was_running:
        with contextlib.suppress(OSError, TinymlError), Qmp(state.qmp, timeout=1.0) as qmp:
            qmp.command("quit")
        deadline = time.monotonic() + timeout
        while is_running(state) and time.monotonic() < deadline:
            time.sleep(0.02)
        if is_running(state):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(state.pid, signal.SIGKILL)
            while is_running(state) and time.monotonic() < deadline + 2:
                time.sleep(0.02)
    if state is not None:
        with contextlib.suppress(OSError):
            Path(state.qmp).unlink(missing_ok=True)
    state_file(project_dir).unlink(missing_ok=True)
    _registry_entry(Path(project_dir)).unlink(missing_ok=True)
    return was_running


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def start(project_dir: str | Path, elf: str | Path, *, machine: str = "mps2-an386",
          cpu: str = "cortex-m4", icount: str = "shift=0,sleep=off",
          timeout: float = START_TIMEOUT) -> EmulatorState:
    """Start QEMU with `elf`, halted, detached from the caller; stop the project's previous one.

    Blocking (a second or so): the platform's upload step runs it in its own process; async
    callers use `asyncio.to_thread`.
    """
    qemu = find_qemu()
    project = Path(project_dir).resolve()
    elf = Path(elf).resolve()
    if not elf.is_file():
        raise TinymlError("no firmware to run: build it first", elf)
    with UploadLock(project):
        stop(project)
        folder = project / STATE_DIR
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / "qemu.log"
        qmp = _qmp_path(project)
        qmp.unlink(missing_ok=True)
        args = [qemu, "-M", machine, "-cpu", cpu, "-kernel", str(elf), "-icount", icount,
                "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "pty",
                "-qmp", f"unix:{qmp},server=on,wait=off", "-S", *replay.loader_args(project)]
        pid = _detach(args, log, timeout)

        deadline = time.monotonic() + timeout
        pty = None
        while pty is None:
            if not pid_alive(pid):
                raise TinymlError(f"{QEMU} exited at start: {_tail(log)}", elf)
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                raise TinymlError(f"{QEMU} did not come up within {timeout:.0f} s", elf)
            if qmp.exists():
                with contextlib.suppress(TinymlError, OSError), Qmp(str(qmp)) as q:
                    for dev in q.command("query-chardev"):
                        if dev.get("label") == "serial0" and dev.get("filename", "").startswith(
                                "pty:"):
                            pty = dev["filename"][4:]
            if pty is None:
                time.sleep(0.02)

        state = EmulatorState(pid=pid, pty=pty, qmp=str(qmp), elf=str(elf), machine=machine,
                              log=str(log), started=time.time())
        _write_json(state_file(project), state.to_json())
        _write_json(_registry_entry(project), {"project": str(project), **state.to_json()})
        if (idle := idle_limit()) > 0:
            _detach([sys.executable, "-m", "tinyml_lsp.deploy.emulator", "idle",
                     "--project-dir", project, "--pid", str(pid), "--after", str(idle)],
                    folder / "idle.log", timeout)
        return state


def _detach(args: list[Any], log: Path, timeout: float) -> int:
    """Start `args` with no parent of ours (no zombie, not killed with our process group:
    `sh -c '... &'`), its output to `log`; its pid. It is handed over to the language server
    whose job this is, if any (see above)."""
    launcher = run_tool_sync(
        ["sh", "-c", 'log="$1"; shift; "$@" </dev/null >"$log" 2>&1 & echo $!', "sh", log,
         *args], f"the launcher of {Path(str(args[0])).name}", timeout=timeout, check=False)
    try:
        pid = int(launcher.stdout.decode().strip())
    except ValueError:
        raise TinymlError(f"could not start {args[0]}: "
                          f"{launcher.stderr.decode(errors='replace').strip()}") from None
    hand_over(pid)
    return pid


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


# --- every running board, and the idle watchdog -------------------------------------------


def idle_limit() -> float:
    """Seconds an emulated board may run unmonitored ($TINYML_EMULATOR_IDLE; 0: forever)."""
    text = os.environ.get(IDLE_ENV, "")
    try:
        return max(float(text), 0.0) if text else DEFAULT_IDLE
    except ValueError:
        return DEFAULT_IDLE


def _registry_entry(project: Path) -> Path:
    digest = hashlib.sha1(str(project.resolve()).encode()).hexdigest()[:16]
    return state_dir() / "emulated-boards" / f"{digest}.json"


def running_boards() -> list[tuple[Path, EmulatorState]]:
    """Every emulated board running on this machine (for this tinyml-lsp state folder), with
    its project; records of boards that are gone are removed."""
    found = []
    folder = state_dir() / "emulated-boards"
    for entry in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            data = json.loads(entry.read_text())
            project = Path(data.pop("project"))
            state = EmulatorState(**data)
        except (OSError, ValueError, TypeError, KeyError):
            entry.unlink(missing_ok=True)
            continue
        current = read_state(project)
        if current is not None and current.pid == state.pid and is_running(state):
            found.append((project, state))
        else:
            entry.unlink(missing_ok=True)
    return found


def stop_when_idle(project_dir: str | Path, pid: int, after: float, poll: float = 5.0) -> bool:
    """Stop the project's board (QEMU `pid`) once no monitor has watched it and no upload has
    touched it for `after` seconds; True if it was stopped. Returns when the board goes."""
    project = Path(project_dir)
    poll = min(poll, max(after / 4, 0.05))
    last_active = time.monotonic()
    while True:
        state = read_state(project)
        if state is None or state.pid != pid or not is_running(state):
            return False  # stopped, or replaced by a new upload (which has its own watchdog)
        if attached_monitors(project) or upload_in_progress(project):
            last_active = time.monotonic()
        elif time.monotonic() - last_active >= after:
            return stop(project)
        time.sleep(poll)


# --- command line (the platform's upload step) ---------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinyml_lsp.deploy.emulator",
                                     description="Run tinyml-lsp's emulated board under QEMU.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_start = sub.add_parser("start", help="start QEMU with a firmware (halted until a monitor "
                                           "attaches)")
    p_start.add_argument("elf")
    p_start.add_argument("--project-dir", default=".")
    p_start.add_argument("--machine", default="mps2-an386")
    p_start.add_argument("--cpu", default="cortex-m4")
    p_start.add_argument("--icount", default="shift=0,sleep=off")
    for name in ("stop", "status"):
        sub.add_parser(name).add_argument("--project-dir", default=".")
    p_idle = sub.add_parser("idle", help="stop the board once nobody monitors it")
    p_idle.add_argument("--project-dir", default=".")
    p_idle.add_argument("--pid", type=int, required=True)
    p_idle.add_argument("--after", type=float, default=DEFAULT_IDLE)
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            state = start(args.project_dir, args.elf, machine=args.machine, cpu=args.cpu,
                          icount=args.icount)
            print(f"QEMU {args.machine} running {Path(state.elf).name} (pid {state.pid}), "
                  f"halted until a serial monitor opens {state.pty}")
        elif args.command == "stop":
            print("stopped" if stop(args.project_dir) else "no emulated board was running")
        elif args.command == "idle":
            if stop_when_idle(args.project_dir, args.pid, args.after):
                print(f"stopped the board after {args.after:.0f} s without a monitor")
        else:
            running = running_state(args.project_dir)
            print(json.dumps(running.to_json() if running else None))
            return 0 if running else 3
    except TinymlError as exc:
        print(f"Error: {exc}" + (f" ({exc.hint})" if exc.hint else ""), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
