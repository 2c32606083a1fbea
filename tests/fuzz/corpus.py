"""Seeded broken inputs: corrupted copies of real models, broken datasets and PlatformIO
projects, and special files. Each case is a name, the path a command is given, and the
command lines to run on it (`{path}` stands for the case's file)."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.conftest import MODELS

MODEL_COMMANDS = (
    ("inspect", "{path}", "--json"),
    ("verify", "{path}"),
    ("export", "{path}", "--out", "{out}"),
    ("fit", "{path}", "--board", "nano33ble"),
    ("validate", "{path}", "--random", "4", "--json"),
    ("sketch", "{path}", "--out", "{out}", "--vectors", "2"),
    ("analyze", "{path}"),
)
HELLO = MODELS / "hello_world_int8.tflite"
DATA_COMMANDS = (("verify", str(HELLO), "--data", "{path}"),
                 ("validate", str(HELLO), "--data", "{path}"))
PROJECT_COMMANDS = (("build", "{path}"),)


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    commands: tuple[tuple[str, ...], ...]


def _flip_bits(data: bytearray, rng: np.random.Generator, start: int, end: int, n: int) -> None:
    for _ in range(n):
        i = int(rng.integers(start, max(end, start + 1)))
        if i < len(data):
            data[i] ^= 1 << int(rng.integers(0, 8))


def model_mutation(source: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """One corruption of a model file, seeded."""
    data = bytearray(source)
    kind = str(rng.choice(["truncate", "flip-table", "flip-weights", "zero", "identifier",
                           "huge-length", "append"]))
    n = len(data)
    if kind == "truncate":
        return kind, bytes(data[: int(rng.integers(0, n))])
    if kind == "flip-table":  # the flatbuffer's tables sit mostly at its start and end
        region = (0, min(n, 512)) if rng.random() < 0.5 else (max(0, n - 1024), n)
        _flip_bits(data, rng, *region, int(rng.integers(1, 6)))
    elif kind == "flip-weights":
        _flip_bits(data, rng, n // 4, 3 * n // 4, int(rng.integers(1, 40)))
    elif kind == "zero":
        start = int(rng.integers(0, n))
        data[start: start + int(rng.integers(1, 256))] = bytes(min(256, n - start))
    elif kind == "identifier":
        data[4:8] = bytes(rng.choice([b"TFL2", b"tfl3", b"\0\0\0\0", b"TFL3"]))
        _flip_bits(data, rng, 0, 4, 2)
    elif kind == "huge-length":  # a vector length or offset of 2 billion
        at = int(rng.integers(0, (n - 4) // 4)) * 4
        data[at: at + 4] = struct.pack("<I", 0x7FFFFFF0)
    else:
        data += bytes(rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8))
    return kind, bytes(data)


def model_cases(folder: Path, count: int, seed: int) -> Iterator[Case]:
    sources = sorted(MODELS.glob("*.tflite"))
    rng = np.random.default_rng(seed)
    for i in range(count):
        source = sources[i % len(sources)]
        kind, data = model_mutation(source.read_bytes(), rng)
        path = folder / f"m{i:04d}_{source.stem}_{kind}.tflite"
        path.write_bytes(data)
        yield Case(path.name, path, MODEL_COMMANDS)


def special_cases(folder: Path) -> Iterator[Case]:
    fifo = folder / "fifo.tflite"
    os.mkfifo(fifo)
    yield Case("fifo", fifo, MODEL_COMMANDS[:2])
    zero = folder / "zero.tflite"
    zero.symlink_to("/dev/zero")
    yield Case("dev-zero", zero, MODEL_COMMANDS[:2])
    loop = folder / "loop.tflite"
    loop.symlink_to(folder / "loop.tflite")
    yield Case("symlink-loop", loop, MODEL_COMMANDS[:2])
    (folder / "dir.tflite").mkdir()
    yield Case("directory", folder / "dir.tflite", MODEL_COMMANDS[:2])
    (folder / "empty.tflite").write_bytes(b"")
    yield Case("empty", folder / "empty.tflite", MODEL_COMMANDS[:2])
    fifo_data = folder / "fifo.csv"
    os.mkfifo(fifo_data)
    yield Case("fifo-data", fifo_data, DATA_COMMANDS[:1])


def data_cases(folder: Path, count: int, seed: int) -> Iterator[Case]:
    """Broken datasets for the sine model (one input)."""
    rng = np.random.default_rng(seed)
    good = "x,label\n" + "".join(f"{v:.4f},0\n" for v in rng.uniform(0, 6, 40))
    makers = {
        "csv-nan": lambda p: p.write_text(good.replace("0\n", "0\nnan,0\n", 1)),
        "csv-inf": lambda p: p.write_text(good + "inf,0\n"),
        "csv-text": lambda p: p.write_text(good + "seven,0\n"),
        "csv-ragged": lambda p: p.write_text(good + "1,2,3\n"),
        "csv-empty": lambda p: p.write_text(""),
        "csv-header": lambda p: p.write_text("x,label\n"),
        "csv-binary": lambda p: p.write_bytes(bytes(rng.integers(0, 256, 400, dtype=np.uint8))),
        "csv-wide": lambda p: p.write_text("a,b,c\n1,2,3\n"),
        "csv-huge": lambda p: p.write_text("x\n" + "1e39\n" * 4),
        "npy-0d": lambda p: np.save(p, np.float32(1)),
        "npy-truncated": lambda p: p.write_bytes(_npy(np.zeros((50, 1), np.float32))[:-40]),
        "npy-huge-header": lambda p: p.write_bytes(_npy_header((3_000_000, 3_000)) + b"\0" * 8),
        "npy-object": lambda p: p.write_bytes(_npy_header((2,), "|O") + b"\0" * 16),
        "npy-shape": lambda p: np.save(p, np.zeros((3, 7), np.float32)),
        "npy-nan": lambda p: np.save(p, np.full((4, 1), np.nan, np.float32)),
        "npz-truncated": lambda p: p.write_bytes(_npz()[: len(_npz()) // 2]),
        "npz-empty": lambda p: np.savez(p),
        "npz-labels": lambda p: np.savez(p, x=np.zeros((4, 1)), y=np.arange(3)),
        "png-truncated": lambda p: p.write_bytes(_png()[:50]),
    }
    names = sorted(makers)
    for i in range(count):
        kind = names[i % len(names)]
        suffix = {"csv": ".csv", "npy": ".npy", "npz": ".npz", "png": ".png"}[kind[:3]]
        path = folder / f"d{i:04d}_{kind}{suffix}"
        makers[kind](path)
        yield Case(path.name, path, DATA_COMMANDS)


def _npy(a: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def _npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


def _npz() -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, x=np.zeros((8, 1)), y=np.zeros(8))
    return buf.getvalue()


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, format="PNG")
    return buf.getvalue()


def project_cases(folder: Path) -> Iterator[Case]:
    """Broken PlatformIO projects (only those that fail before compiling anything)."""
    specs = {
        "no-ini": None,
        "binary-ini": b"\xff\xfe\x00\x01[env",
        "no-env": b"[platformio]\n",
        "no-platform": b"[env:x]\nboard = tinyml-qemu-m4\n",
        "unknown-env-default": b"[platformio]\ndefault_envs = nope\n[env:x]\nplatform = a\n",
        "bad-syntax": b"[env:x\nplatform = tinyml-qemu\n",
    }
    for name, ini in specs.items():
        project = folder / f"p_{name}"
        project.mkdir()
        if ini is not None:
            (project / "platformio.ini").write_bytes(ini)
        yield Case(project.name, project, PROJECT_COMMANDS)
