"""The serial monitor: a board's UART lines as values (docs/firmware.md §2).

`parse_line` turns one line into an event (`Ready`, `Inference`, `Done`, `BoardError`, or
`Text` for lines the format does not cover). `Monitor` reads a port with pyserial — a real
board's port, the emulated board's pty, or a pyserial URL such as `loop://` — in a thread (serial
reads block), and hands the events to asyncio code:

    async with Monitor(project_dir) as monitor:
        async for event in monitor:
            ...

It never hangs on a dead board and never raises mid-stream: a vanished port or a killed
emulator ends the stream with a `Disconnected` event. Around an upload it lets go of the port and
comes back (`Released`, then `Attached`), either on request (`pause()` / `resume()`) or when it
sees another process's upload lock (see `portlock`). Opening the emulated board's pty boots the
board, like the auto-reset of an Arduino when its port opens, so a monitor always sees a whole
run from `TINYML READY` on.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import serial

from tinyml_lsp.deploy import emulator
from tinyml_lsp.deploy.portlock import MonitorRecord, upload_in_progress
from tinyml_lsp.errors import TinymlError

BAUDRATE = 115200
POLL = 0.1  # seconds between checks of the port, the pause flag and the upload lock
REATTACH_TIMEOUT = 30.0  # after an upload, how long to wait for the board to come back


# --- events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    runtime: str
    model: str
    arena: int
    inputs: int
    line: str

    def to_json(self) -> dict[str, Any]:
        return {"event": "ready", **asdict(self)}


@dataclass(frozen=True)
class Inference:
    """One inference. What the output means depends on `kind` (docs/firmware.md §2): a
    classifier's `cls`/`label`/`score`, a regression's `values`, an autoencoder's `anomaly`
    score, or just the raw tensors. `output` holds the raw int8 values of every output,
    concatenated (gathered from the OUTPUT lines that precede the line when they are many)."""

    seq: int
    kind: str
    instructions: int
    time_us: int
    output: tuple[int, ...]
    line: str
    cls: int | None = None
    label: str | None = None
    score: float | None = None
    values: tuple[float, ...] = ()
    anomaly: float | None = None

    def summary(self) -> str:
        """What the board concluded, in a few words."""
        if self.kind == "class":
            return f"{self.label} {self.score:.3f}"
        if self.kind == "value":
            return ", ".join(f"{v:.4g}" for v in self.values)
        if self.kind == "anomaly":
            return f"anomaly score {self.anomaly:.4g}"
        return f"{len(self.output)} output values"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["class"] = data.pop("cls")
        data["output"] = list(self.output)
        data["values"] = list(self.values)
        return {"event": "inference", **data}


@dataclass(frozen=True)
class OutputChunk:
    """Part of a large output, printed before its INFERENCE line."""

    seq: int
    offset: int
    values: tuple[int, ...]
    line: str

    def to_json(self) -> dict[str, Any]:
        return {"event": "output", **asdict(self), "values": list(self.values)}


@dataclass(frozen=True)
class Done:
    count: int
    line: str

    def to_json(self) -> dict[str, Any]:
        return {"event": "done", **asdict(self)}


@dataclass(frozen=True)
class Exited:
    """The firmware's program ended (`board_exit`, or returning from main)."""

    status: int
    line: str

    def to_json(self) -> dict[str, Any]:
        return {"event": "exit", **asdict(self)}


@dataclass(frozen=True)
class ReplayEnd:
    """The emulated board replayed the last reading of its sensor data (`--replay`): the
    run is over, successfully (docs/firmware.md §5)."""

    device: str
    readings: int
    line: str

    def to_json(self) -> dict[str, Any]:
        return {"event": "replay_end", **asdict(self)}


@dataclass(frozen=True)
class BoardError:
    message: str
    line: str

    def to_json(self) -> dict[str, Any]:
        return {"event": "error", **asdict(self)}


@dataclass(frozen=True)
class Text:
    """A line the format does not cover (boot messages, the user's own prints)."""

    line: str

    def to_json(self) -> dict[str, Any]:
        return {"event": "text", **asdict(self)}


@dataclass(frozen=True)
class Attached:
    port: str
    emulated: bool

    def to_json(self) -> dict[str, Any]:
        return {"event": "attached", **asdict(self)}


@dataclass(frozen=True)
class Released:
    port: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"event": "released", **asdict(self)}


@dataclass(frozen=True)
class Disconnected:
    """The end of a monitor's stream: the port or the board went away."""

    port: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"event": "disconnected", **asdict(self)}


LineEvent = Ready | Inference | OutputChunk | Done | ReplayEnd | Exited | BoardError | Text
MonitorEvent = LineEvent | Attached | Released | Disconnected


def ends_run(event: MonitorEvent) -> bool:
    """The firmware's run is over: it said DONE, its replayed sensor data ran out, it reported
    an error, its program ended, or the board went."""
    return isinstance(event, Done | ReplayEnd | BoardError | Exited | Disconnected)


def is_failure(event: MonitorEvent) -> bool:
    return isinstance(event, BoardError | Disconnected)


# --- the line format ---------------------------------------------------------------------


def _fields(words: list[str]) -> dict[str, str]:
    fields = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise ValueError(word)
        fields[key] = value
    return fields


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(",") if v != "")


def _inference(f: dict[str, str], line: str) -> Inference:
    common: dict[str, Any] = {"seq": int(f["seq"]), "instructions": int(f["instructions"]),
                              "time_us": int(f["time_us"]), "output": _ints(f.get("output", "")),
                              "line": line}
    if "class" in f:
        return Inference(kind="class", cls=int(f["class"]), label=f["label"],
                         score=float(f["score"]), **common)
    if "value" in f:
        return Inference(kind="value", values=tuple(float(v) for v in f["value"].split(",")),
                         **common)
    if "anomaly" in f:
        return Inference(kind="anomaly", anomaly=float(f["anomaly"]), **common)
    if "outputs" in f:
        return Inference(kind="raw", **common)
    raise KeyError("kind")


class Assembler:
    """Gives each Inference the values of the OUTPUT lines printed before it."""

    def __init__(self) -> None:
        self._chunks: dict[int, dict[int, tuple[int, ...]]] = {}

    def feed(self, event: LineEvent) -> LineEvent:
        if isinstance(event, OutputChunk):
            self._chunks.setdefault(event.seq, {})[event.offset] = event.values
        elif isinstance(event, Inference) and not event.output and event.seq in self._chunks:
            chunks = self._chunks.pop(event.seq)
            values = tuple(v for offset in sorted(chunks) for v in chunks[offset])
            return replace(event, output=values)
        elif isinstance(event, Ready):
            self._chunks.clear()
        return event


# Lines a board prints for people that carry no event: the stack high-water mark of a TFLite
# Micro sketch (docs/firmware.md §4) and the Arduino core's LED changes (§5). They start with
# TINYML but are part of the format, not lines that break it.
STACK_LINE = "TINYML STACK used="
INFO_PREFIXES = (STACK_LINE, "TINYML LED ")


def is_info(line: str) -> bool:
    return line.startswith(INFO_PREFIXES)


def parse_line(line: str) -> LineEvent:
    """One line of a board's output as an event; anything malformed is `Text`."""
    line = line.strip("\r\n\x00")
    words = line.split()
    try:
        if words[:2] == ["TINYML", "READY"]:
            f = _fields(words[2:])
            return Ready(f["runtime"], f["model"], int(f["arena"]), int(f["inputs"]), line)
        if words[:1] == ["INFERENCE"]:
            return _inference(_fields(words[1:]), line)
        if words[:1] == ["OUTPUT"]:
            f = _fields(words[1:])
            return OutputChunk(int(f["seq"]), int(f["offset"]), _ints(f["values"]), line)
        if words[:2] == ["TINYML", "DONE"]:
            return Done(int(_fields(words[2:])["count"]), line)
        if words[:3] == ["TINYML", "REPLAY", "END"]:
            f = _fields(words[3:])
            return ReplayEnd(f["device"], int(f["readings"]), line)
        if words[:2] == ["TINYML", "EXIT"]:
            return Exited(int(_fields(words[2:])["status"]), line)
        if words[:2] == ["TINYML", "ERROR"]:
            return BoardError(line.split("ERROR", 1)[1].strip(), line)
    except (KeyError, ValueError, IndexError):
        pass
    return Text(line)


# --- the monitor -----------------------------------------------------------------------------


class Monitor:
    """Reads a board's serial port in a thread and yields `MonitorEvent`s.

    `project_dir` alone means the project's emulated board (its pty, from `.pio/`); `port` is a
    device path or pyserial URL. With both, the project's upload lock is honoured for `port`.
    `reset`: boot the emulated board afresh when attaching (False joins a running board).
    """

    def __init__(self, project_dir: str | Path | None = None, *, port: str | None = None,
                 baudrate: int = BAUDRATE, reset: bool = True) -> None:
        if project_dir is None and port is None:
            raise TinymlError("a monitor needs a project folder or a port")
        self.project_dir = Path(project_dir) if project_dir is not None else None
        self.port = port
        self.baudrate = baudrate
        self.reset = reset
        self._queue: asyncio.Queue[MonitorEvent | None] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._serial: serial.SerialBase | None = None
        self._state: emulator.EmulatorState | None = None
        self._pause = threading.Event()
        self._stop = threading.Event()
        self._released = threading.Event()
        self._record = MonitorRecord(self.project_dir) if self.project_dir else None
        self._assembler = Assembler()
        self._ended = False

    # -- asyncio side --

    async def open(self) -> Monitor:
        """Open the port and start reading; a TinymlError if there is nothing to read."""
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._attach)
        self._thread = threading.Thread(target=self._run, name="tinyml-monitor", daemon=True)
        self._thread.start()
        return self

    async def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 2 * POLL + 1)
        self._close_port()
        if self._record is not None:
            self._record.remove()

    async def pause(self, timeout: float = 3.0) -> None:
        """Release the port (e.g. for an upload) and wait until it is released."""
        self._pause.set()
        if self._thread is not None and self._thread.is_alive():
            await asyncio.to_thread(self._released.wait, timeout)

    async def resume(self) -> None:
        """Reattach after `pause()`, to the board as it is now (a new emulator after upload)."""
        self._pause.clear()

    async def write(self, data: bytes) -> None:
        """Send bytes to the board (its UART RX); a TinymlError while the port is released."""
        port = self._serial
        if port is None:
            raise TinymlError("the serial port is released", self._port_name())
        try:
            await asyncio.to_thread(port.write, data)
        except (serial.SerialException, OSError) as exc:
            raise TinymlError(f"cannot write to the board: {exc}", self._port_name()) from None

    async def until_done(self, timeout: float) -> list[MonitorEvent]:
        """Events up to `Done`, `BoardError` or `Disconnected` (included), or a TimeoutError."""
        events: list[MonitorEvent] = []
        async with asyncio.timeout(timeout):
            async for event in self:
                events.append(event)
                if ends_run(event):
                    break
        return events

    async def __aenter__(self) -> Monitor:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[MonitorEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[MonitorEvent]:
        while not self._ended:
            event = await self._queue.get()
            if event is None:
                self._ended = True
                return
            yield event

    # -- reader thread --

    def _emit(self, event: MonitorEvent | None) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop closed under us: nobody listens
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)

    def _port_name(self) -> str:
        if self.port is not None:
            return self.port
        return self._state.pty if self._state is not None else "(no port)"

    def _attach(self) -> None:
        """Open the port (and boot the emulated board); raises TinymlError."""
        if self.port is None:
            assert self.project_dir is not None
            state = emulator.running_state(self.project_dir)
            if state is None:
                raise TinymlError("no emulated board is running for this project",
                                  self.project_dir, hint="flash it first: tinyml flash DIR")
            self._state = state
        name = self._port_name()
        try:
            if "://" in name:
                port = serial.serial_for_url(name, baudrate=self.baudrate, timeout=POLL)
            else:
                port = serial.Serial(name, self.baudrate, timeout=POLL, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TinymlError(f"cannot open the serial port: {exc}", name,
                              hint="is another monitor or an upload using it?") from None
        self._serial = port
        self._released.clear()
        if self._state is not None:
            try:
                emulator.boot(self._state, reset=self.reset)
            except TinymlError:
                self._close_port()
                raise
        if self._record is not None:
            self._record.set("attached", name)
        self._emit(Attached(name, self._state is not None))

    def _close_port(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(Exception):
                self._serial.close()
            self._serial = None

    def _release(self, reason: str) -> None:
        name = self._port_name()
        self._close_port()
        if self._record is not None:
            self._record.set("released")
        self._released.set()
        self._emit(Released(name, reason))

    def _upload_running(self) -> bool:
        return self.project_dir is not None and upload_in_progress(self.project_dir)

    def _why_gone(self, exc: Exception) -> str:
        """Why the port failed: an emulator that was stopped or killed closes its pty a moment
        before its process is gone, so give it that moment before blaming the port."""
        for _ in range(20):
            if (gone := self._board_gone()) is not None:
                return gone
            if self._state is None:
                break
            time.sleep(0.05)
        return f"the port went away: {exc}"

    def _board_gone(self) -> str | None:
        """Why the emulated board is gone, or None if it runs (always None for real ports)."""
        if self._state is None or emulator.is_running(self._state):
            return None
        return f"the emulator stopped (QEMU pid {self._state.pid} is gone)"

    def _run(self) -> None:
        try:
            self._read_loop()
        except Exception as exc:  # a bug must still end the stream, not hang it
            self._emit(Disconnected(self._port_name(), f"monitor failed: {exc!r}"))
        finally:
            self._close_port()
            self._released.set()
            self._emit(None)

    def _read_loop(self) -> None:
        buffer = b""
        last_check = 0.0
        while not self._stop.is_set():
            if self._serial is None:  # released: wait for the pause and the upload to end
                if not self._wait_to_reattach():
                    return
                buffer = b""
                continue
            if self._pause.is_set() or self._upload_running():
                self._release("paused" if self._pause.is_set() else "upload in progress")
                continue
            try:
                chunk = self._serial.read(self._serial.in_waiting or 1)
            except (serial.SerialException, OSError) as exc:
                if self._upload_running() or self._pause.is_set():
                    self._release("upload in progress")
                    continue
                self._flush_partial(buffer)
                self._emit(Disconnected(self._port_name(), self._why_gone(exc)))
                return
            if chunk:
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for raw in lines:
                    self._emit(self._assembler.feed(
                        parse_line(raw.decode("utf-8", errors="replace"))))
            now = time.monotonic()
            if now - last_check > 5 * POLL:  # a hung pty reports nothing: ask about QEMU
                last_check = now
                gone = self._board_gone()
                if gone and not self._upload_running():
                    self._flush_partial(buffer)
                    self._emit(Disconnected(self._port_name(), gone))
                    return

    def _flush_partial(self, buffer: bytes) -> None:
        text = buffer.decode("utf-8", errors="replace").strip()
        if text:
            self._emit(self._assembler.feed(parse_line(text)))

    def _wait_to_reattach(self) -> bool:
        """Reattach once neither paused nor uploading; False (stream ended) if impossible."""
        deadline = None
        while not self._stop.is_set():
            if self._pause.is_set() or self._upload_running():
                deadline = None
                time.sleep(POLL)
                continue
            deadline = deadline or time.monotonic() + REATTACH_TIMEOUT
            try:
                self._attach()
                return True
            except TinymlError as exc:
                if time.monotonic() > deadline:
                    self._emit(Disconnected(self._port_name(),
                                            f"the board did not come back: {exc}"))
                    return False
                time.sleep(POLL)
        return False
