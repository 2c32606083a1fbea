"""Which model a sketch runs, and its measured facts.

In order: the model given by the user; the C array of a model header the sketch includes (read
back into the flatbuffer's bytes: the header, or the source file beside it, defines it); the
`custom_tinyml_model` of the project's platformio.ini; the one .tflite beside the sketch. The
facts are the model card (flatbuffer) and the arena TFLite Micro's interpreter needs (measured
in a child process), kept per model content for the life of the process.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tinyml_lsp.check.ini import IniFile, find_ini
from tinyml_lsp.check.sketch import Include, Sketch
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.inspect import ModelCard, inspect_model
from tinyml_lsp.model.micro import ArenaReport, measure_arena
from tinyml_lsp.model.tflite_file import FILE_IDENTIFIER
from tinyml_lsp.runtime.context import JobContext, NullContext

MAX_HEADER_BYTES = 16 * 1024 * 1024  # a model header's text read back (a 2.5 MB model as hex)
_ARRAY = re.compile(rb"(?P<name>\w+)\s*\[\s*\w*\s*\][^=;{}]*=\s*\{(?P<body>[^}]*)\}")
_BYTE = re.compile(rb"0[xX][0-9a-fA-F]+|\d+")
_CONSTANT = re.compile(r"(?:constexpr|const)\s+[\w:]+\s+(?P<name>\w+)\s*=\s*(?P<value>\d+)\s*;")
_SOURCE_SUFFIXES = (".cc", ".cpp", ".c", ".cxx", ".h")


@dataclass(frozen=True)
class ModelFacts:
    card: ModelCard
    arena: ArenaReport | None  # None: the interpreter could not measure it
    origin: str  # how it was found, for messages ("the header model_data.h")
    path: Path  # the file that holds it (.tflite, header or source)
    include: Include | None = None  # the sketch's #include that names it
    dense_per_channel: tuple[str, ...] = ()  # per-channel FULLY_CONNECTED weights

    @property
    def arena_32bit_floor(self) -> int | None:
        return arena_floor(self.arena)


def arena_floor(a: ArenaReport | None) -> int | None:
    """Bytes any target needs at least: the activations, plus the persistent part at no
    less than half its 64-bit size (its pointers halve on 32 bits, nothing else grows)."""
    if a is None or a.head_bytes is None or a.tail_bytes is None:
        return None
    return a.head_bytes + a.tail_bytes // 2


@dataclass(frozen=True)
class NoModel:
    reason: str  # what was looked for, and how to name the model


def c_arrays(data: bytes) -> dict[str, bytes]:
    """Every byte array initialised in C text, by name."""
    found = {}
    for m in _ARRAY.finditer(data):
        try:
            found[m["name"].decode()] = bytes(int(b, 0) & 0xFF for b in _BYTE.findall(m["body"]))
        except ValueError:
            continue
    return found


def header_constants(text: str) -> dict[str, int]:
    """Integer constants a header defines (`constexpr size_t g_model_arena_size = 1936;`)."""
    return {m["name"]: int(m["value"]) for m in _CONSTANT.finditer(text)}


def _read(path: Path) -> bytes | None:
    try:
        if path.is_file() and path.stat().st_size <= MAX_HEADER_BYTES:
            return path.read_bytes()
    except OSError:
        return None
    return None


def header_files(base: Path, include: str) -> list[Path]:
    """Where a quoted include can be, seen from a sketch's folder."""
    roots = [base, base / "src", base / "include", base.parent / "include", base.parent / "src"]
    return [r / include for r in roots if (r / include).is_file()]


@dataclass(frozen=True)
class HeaderModel:
    bytes: bytes
    header: Path
    include: Include


def header_model(sketch_path: Path, sk: Sketch) -> tuple[HeaderModel | None, list[str]]:
    """The model array of an included header (or its source beside it), and notes on headers
    that looked like model headers but hold no model."""
    notes: list[str] = []
    for inc in sk.includes:
        if not inc.quoted:
            continue
        for header in header_files(sketch_path.parent, inc.path):
            files = [header, *(header.with_suffix(s) for s in _SOURCE_SUFFIXES
                               if header.with_suffix(s) != header)]
            arrays: dict[str, bytes] = {}
            for f in files:
                if (data := _read(f)) is not None:
                    arrays |= c_arrays(data)
            models = {n: b for n, b in arrays.items() if b[4:8] == FILE_IDENTIFIER}
            if sk.model_array in models:
                return HeaderModel(models[sk.model_array], header, inc), notes
            if models:
                return HeaderModel(next(iter(models.values())), header, inc), notes
            text = (_read(header) or b"").decode("utf-8", errors="replace")
            if sk.model_array and re.search(rf"\b{re.escape(sk.model_array)}\b", text):
                notes.append(f"{inc.path} declares {sk.model_array} but neither it nor a source "
                             "file beside it defines the array")
    return None, notes


def ini_model(sketch_path: Path) -> tuple[Path, IniFile] | None:
    ini = find_ini(sketch_path)
    if ini is None:
        return None
    env = ini.default_env()
    model = ini.option(env, "custom_tinyml_model") if env else None
    if model is None:
        return None
    path = (ini.path.parent / model[0]).resolve()
    return (path, ini) if path.is_file() else None


def beside(sketch_path: Path) -> Path | None:
    found = sorted(sketch_path.parent.glob("*.tflite"))
    return found[0] if len(found) == 1 else None


_facts: dict[str, tuple[ModelCard, ArenaReport | None]] = {}
_locks: dict[str, asyncio.Lock] = {}


def _model_file(data: bytes) -> Path:
    """The bytes as a .tflite file the model readers take (one per content, reused)."""
    folder = Path(tempfile.gettempdir()) / "tinyml-check"
    folder.mkdir(exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:24]}.tflite"
    if not path.is_file():  # written whole under another name, then renamed: never half read
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    return path


async def facts_of_bytes(data: bytes, ctx: JobContext | None = None) -> tuple[ModelCard,
                                                                             ArenaReport | None]:
    """The card and measured arena of a model's bytes (once per content per process)."""
    key = hashlib.sha256(data).hexdigest()
    lock = _locks.setdefault(key, asyncio.Lock())
    async with lock:
        if key in _facts:
            return _facts[key]
        path = await asyncio.to_thread(_model_file, data)
        card = await asyncio.to_thread(inspect_model, path)
        arena: ArenaReport | None = None
        if card.quantization != "hybrid":
            try:
                arena = await measure_arena(path, ctx or NullContext(), timeout=120)
            except TinymlError:
                arena = None
        _facts[key] = (card, arena)
        return card, arena


def dense_per_channel(data: bytes) -> tuple[str, ...]:
    """The FULLY_CONNECTED layers quantized per channel, which the pinned TFLite Micro computes
    wrong (tflm_sketch.per_channel_dense); none for a model the reader refuses."""
    from tinyml_lsp.deploy.tflm_sketch import per_channel_dense  # numpy: not at server start

    try:
        return tuple(per_channel_dense(_model_file(data)))
    except TinymlError:
        return ()


async def resolve_model(sketch_path: Path, sk: Sketch, given: Path | None = None,
                        ctx: JobContext | None = None) -> ModelFacts | NoModel:
    include = None
    notes: list[str] = []
    if given is not None:
        data, origin, where = given.read_bytes(), f"the model {given.name}", given
    else:
        found, notes = await asyncio.to_thread(header_model, sketch_path, sk)
        if found is not None:
            data, origin, where = found.bytes, f"the header {found.include.path}", found.header
            include = found.include
        elif (from_ini := await asyncio.to_thread(ini_model, sketch_path)) is not None:
            where = from_ini[0]
            data, origin = where.read_bytes(), f"custom_tinyml_model ({where.name})"
        elif (near := beside(sketch_path)) is not None:
            data, origin, where = near.read_bytes(), f"the model {near.name} beside it", near
        else:
            how = ("include the model's header (tinyml export MODEL --out src/), set "
                   "custom_tinyml_model in platformio.ini, put the .tflite beside the sketch, "
                   "or pass --model")
            return NoModel("; ".join([*notes, f"no model found for this sketch: {how}"]))
    if data[4:8] != FILE_IDENTIFIER:
        return NoModel(f"{origin} is not a TFLite flatbuffer (no TFL3 identifier)")
    try:
        card, arena = await facts_of_bytes(data, ctx)
    except TinymlError as exc:
        return NoModel(f"{origin}: {exc.message}")
    dense = await asyncio.to_thread(dense_per_channel, data)
    return ModelFacts(card, arena, origin, where, include, dense)
