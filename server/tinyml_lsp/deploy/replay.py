"""Recorded sensor data for the emulated board's devices (`tinyml flash DIR --replay FILE`).

A replay file is a CSV of readings for one emulated device; it is checked here, before
anything is flashed, and turned into a blob that QEMU loads into the board's PSRAM (a
`-device loader`, reloaded on every reset) where the Arduino core's device models read it
(layout: platforms/tinyml-qemu/arduino/core/replay.h). The blob is staged in the project's
`.pio/tinyml-qemu/` by `stage()`; the emulator's start picks it up (`loader_args()`), and a
flash without `--replay` removes it, so a board never replays a file it was not given.
"""

from __future__ import annotations

import csv
import struct
from dataclasses import dataclass
from pathlib import Path

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.text import is_number

ADDRESS = 0x21000000  # the board's PSRAM (QEMU mps2-an386), unused by firmware otherwise
MAGIC = b"TMLREPL1"
BLOB = Path(".pio") / "tinyml-qemu" / "replay.bin"
MAX_BYTES = 16 * 1024 * 1024  # the PSRAM
# a readings file may carry each reading's true class (for `tinyml sketch --data`, which scores
# the board against it): the device does not replay it
LABEL_COLUMNS = ("label", "class", "target", "y")


@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...]
    low: int
    high: int
    default: int | None = None  # None: required


@dataclass(frozen=True)
class Device:
    """An emulated device that replays readings: its columns, in the order the firmware
    expects them."""

    name: str
    title: str
    columns: tuple[Column, ...]

    @property
    def required(self) -> int:
        return sum(c.default is None for c in self.columns)


APDS9960 = Device("apds9960", "APDS-9960 colour/proximity sensor (I2C 0x39)", (
    Column("red", ("r",), 0, 65535),
    Column("green", ("g",), 0, 65535),
    Column("blue", ("b",), 0, 65535),
    Column("clear", ("c", "ambient"), 0, 65535),
    # what readProximity() returns while the object is near (0: touching)
    Column("proximity", ("p", "prox"), 0, 255, default=0),
))
DEVICES = {d.name: d for d in (APDS9960,)}


@dataclass(frozen=True)
class Replay:
    device: Device
    path: str
    rows: tuple[tuple[int, ...], ...]

    def to_json(self) -> dict[str, object]:
        return {"device": self.device.name, "path": self.path, "readings": len(self.rows)}


def _column_map(device: Device, header: list[str], path: Path) -> list[int | None]:
    """For each device column, its index in the file (None: take the default)."""
    names = [h.strip().lower() for h in header]
    order: list[int | None] = []
    for column in device.columns:
        found = [i for i, n in enumerate(names) if n in (column.name, *column.aliases)]
        if not found and column.default is None:
            raise TinymlError(
                f"the header has no `{column.name}` column for the {device.title} "
                f"(it has: {', '.join(header)})", str(path),
                hint=f"columns: {', '.join(c.name for c in device.columns)}")
        order.append(found[0] if found else None)
    known = {n for c in device.columns for n in (c.name, *c.aliases)} | set(LABEL_COLUMNS)
    if extra := [h for h in header if h.strip().lower() not in known]:
        raise TinymlError(f"the {device.title} has no column named {', '.join(extra)}",
                          str(path), hint=f"columns: {', '.join(c.name for c in device.columns)}")
    return order


def read(path: str | Path, device: str = APDS9960.name) -> Replay:
    """Read and check a replay CSV; a TinymlError naming the file and row otherwise."""
    spec = DEVICES.get(device)
    if spec is None:
        raise TinymlError(f"no emulated device named {device!r}", str(path),
                          hint=f"devices: {', '.join(DEVICES)}")
    path = Path(path)
    try:
        with path.open(newline="") as f:
            lines = [r for r in csv.reader(f) if any(cell.strip() for cell in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TinymlError(f"cannot read the replay file: {exc}", str(path)) from None
    if not lines:
        raise TinymlError("the replay file holds no readings", str(path))
    first_row = 1
    order: list[int | None]
    if not all(is_number(cell) for cell in lines[0]):
        order = _column_map(spec, lines[0], path)
        width = len(lines[0])
        lines, first_row = lines[1:], 2
    else:
        width = len(lines[0])
        if not spec.required <= width <= len(spec.columns):
            raise TinymlError(
                f"row 1 has {width} columns; the {spec.title} replays "
                f"{_widths(spec)} columns ({', '.join(c.name for c in spec.columns)})",
                str(path))
        order = [i if i < width else None for i in range(len(spec.columns))]
    rows = []
    for number, cells in enumerate(lines, start=first_row):
        if len(cells) != width:
            raise TinymlError(f"row {number} has {len(cells)} columns, expected {width}",
                              str(path))
        rows.append(tuple(_value(cells, index, column, number, path)
                          for index, column in zip(order, spec.columns, strict=True)))
    if not rows:
        raise TinymlError("the replay file holds a header but no readings", str(path))
    return Replay(spec, str(path), tuple(rows))


def _widths(spec: Device) -> str:
    return (str(spec.required) if spec.required == len(spec.columns)
            else f"{spec.required} or {len(spec.columns)}")


def _value(cells: list[str], index: int | None, column: Column, row: int, path: Path) -> int:
    if index is None:
        assert column.default is not None
        return column.default
    text = cells[index].strip()
    try:
        number = float(text)
    except ValueError:
        raise TinymlError(f"row {row}: `{column.name}` is {text!r}, not a number",
                          str(path)) from None
    if number != int(number) or not column.low <= number <= column.high:
        raise TinymlError(f"row {row}: `{column.name}` is {text}; the sensor gives whole "
                          f"numbers from {column.low} to {column.high}", str(path))
    return int(number)


def blob(replays: list[Replay]) -> bytes:
    """The replay blob the firmware reads (layout in the core's replay.h)."""
    header = MAGIC + struct.pack("<I", len(replays))
    offset = len(header) + 28 * len(replays)
    entries, data = b"", b""
    for r in replays:
        columns = len(r.device.columns)
        entries += struct.pack("<16sIII", r.device.name.encode(), columns, len(r.rows),
                               offset + len(data))
        data += b"".join(struct.pack(f"<{columns}i", *row) for row in r.rows)
    result = header + entries + data
    if len(result) > MAX_BYTES:
        raise TinymlError(f"the replay is {len(result):,} bytes; the board's PSRAM holds "
                          f"{MAX_BYTES:,}", replays[0].path)
    return result


def stage(project_dir: str | Path, replays: list[Replay]) -> Path | None:
    """Put the replay where the next start of the project's emulated board loads it (or
    remove a previous one when there is none)."""
    target = Path(project_dir) / BLOB
    if not replays:
        target.unlink(missing_ok=True)
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(blob(replays))
    tmp.replace(target)
    return target


def loader_args(project_dir: str | Path) -> list[str]:
    """QEMU arguments that load the project's staged replay into the board, if any."""
    staged = (Path(project_dir) / BLOB).resolve()
    if not staged.is_file():
        return []
    path = str(staged).replace(",", ",,")  # QEMU's option syntax escapes commas by doubling
    return ["-device", f"loader,file={path},addr={ADDRESS:#x},force-raw=on"]


def prepare(project_dir: str | Path, specs: list[str]) -> list[Replay]:
    """Check every `[DEVICE=]FILE` and stage them for the project's next flash (none: remove
    the staged replay)."""
    replays = [read(file, device) for device, file in map(parse_spec, specs)]
    if len({r.device.name for r in replays}) != len(replays):
        raise TinymlError("one replay file per device", replays[-1].path)
    stage(project_dir, replays)
    return replays


def parse_spec(spec: str) -> tuple[str, str]:
    """`[DEVICE=]FILE` → (device, file); the device defaults to the APDS-9960."""
    device, sep, file = spec.partition("=")
    if sep and device in DEVICES:
        return device, file
    return APDS9960.name, spec
