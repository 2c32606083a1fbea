"""What can be monitored on this machine: running emulated boards and serial ports."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from serial.tools import list_ports

from tinyml_lsp.deploy import emulator


@dataclass(frozen=True)
class EmulatedBoard:
    project: str
    pid: int
    pty: str
    elf: str
    uptime: float  # seconds


@dataclass(frozen=True)
class SerialPort:
    device: str
    description: str
    hwid: str


@dataclass(frozen=True)
class Devices:
    boards: tuple[EmulatedBoard, ...]
    ports: tuple[SerialPort, ...]

    def to_json(self) -> dict[str, Any]:
        return {"boards": [asdict(b) for b in self.boards],
                "ports": [asdict(p) for p in self.ports]}


def list_devices() -> Devices:
    now = time.time()
    boards = tuple(EmulatedBoard(str(project), s.pid, s.pty, s.elf, round(now - s.started, 1))
                   for project, s in emulator.running_boards())
    ports = tuple(SerialPort(p.device, p.description or "", p.hwid or "")
                  for p in sorted(list_ports.comports(), key=lambda p: p.device))
    return Devices(boards, ports)


def render_devices(d: Devices) -> str:
    lines = ["emulated boards" + ("" if d.boards else ": none running")]
    lines += [f"  {b.project}  (QEMU pid {b.pid}, UART {b.pty}, up {b.uptime:.0f} s)"
              for b in d.boards]
    lines.append("serial ports" + ("" if d.ports else ": none found"))
    lines += [f"  {p.device}  {p.description}" + (f"  [{p.hwid}]" if p.hwid != "n/a" else "")
              for p in d.ports]
    return "\n".join(lines)
