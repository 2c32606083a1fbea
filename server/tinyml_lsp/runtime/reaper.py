"""The reaper: a small process that kills an owner's children when the owner dies, however it
dies (SIGKILL included, when the owner itself can do nothing).

`process.bind_children_to_this_process` starts it with a pipe on its stdin whose write end only
the owner holds: the pipe closes exactly when the owner dies. Lines on that pipe (and on a FIFO
whose path the owner's descendants find in `REAPER_ENV`) name the process groups to kill then:

    +PID START   a child (the leader of its own session) or a process handed over, with its
                 start time from /proc (so a PID the kernel has since reused is left alone)
    -PID         that one is gone; forget it

The reaper runs in its own session, ignores the terminal's signals, and on the end of its
stdin (or a SIGTERM of its own) kills every group it knows of, then exits.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import sys
from pathlib import Path

REAPER_ENV = "TINYML_REAPER"  # the FIFO through which descendants hand processes over


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or
    None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: count after the last ')'
    return int(stat[stat.rindex(b")") + 2:].split()[19])


def kill_tree(pid: int, started: int | None) -> None:
    """SIGKILL the group `pid` leads and `pid` itself, unless the PID now names another process.

    A dead leader's group may still have members; its PGID cannot be reused while it does, so
    the group is killed all the same.
    """
    now = start_time(pid)
    if now is not None and started is not None and now != started:
        return
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def _apply(line: bytes, registry: dict[int, int | None]) -> None:
    fields = line.split()
    try:
        if fields and fields[0].startswith(b"+"):
            registry[int(fields[0][1:])] = int(fields[1]) if len(fields) > 1 else None
        elif fields and fields[0].startswith(b"-"):
            registry.pop(int(fields[0][1:]), None)
    except ValueError:
        print(f"tinyml reaper: ignored {line!r}", file=sys.stderr)


def watch(owner_fd: int, fifo_fd: int | None, registry: dict[int, int | None]) -> None:
    """Keep `registry` up to date until the owner's pipe closes."""
    pending = {owner_fd: b"", **({fifo_fd: b""} if fifo_fd is not None else {})}
    while True:
        ready, _, _ = select.select(list(pending), [], [])
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk and fd == owner_fd:
                return
            *lines, pending[fd] = (pending[fd] + chunk).split(b"\n")
            for line in lines:
                _apply(line, registry)


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main(argv: list[str]) -> int:
    for name in ("SIGINT", "SIGHUP", "SIGPIPE"):  # not ours: only the owner's end counts
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    fifo = Path(argv[0]) if argv else None
    registry: dict[int, int | None] = {}
    try:
        # read and write, so that the FIFO never reads as ended while no descendant has it open
        fifo_fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK) if fifo else None
        watch(0, fifo_fd, registry)
    finally:
        for pid, started in registry.items():
            kill_tree(pid, started)
        if fifo is not None:
            shutil.rmtree(fifo.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
