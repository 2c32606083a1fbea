"""`tinyml sketch --runtime standalone`: a PlatformIO project that runs a model's generated C.

The project is for the emulated board: `platformio.ini` (naming the model), `src/main.c` (the
firmware of snippets/standalone/main_qemu.c), the generated `src/model.h`/`src/model.c`, and
`src/test_vectors.h` with the inputs the firmware runs (docs/firmware.md §3).

`plan_sketch` computes every file's text without writing anything, so the LSP can offer it as
an edit the user reviews; `write_sketch` writes it. The generated files are rewritten on every
update; `platformio.ini` and `src/main.c` belong to the user once they exist and are kept.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from string import Template
from typing import Any

import numpy as np

from tinyml_lsp.codegen.standalone.emit import GeneratedModel, generate
from tinyml_lsp.codegen.standalone.sizes import SizeReport, measure_sizes, render_sizes
from tinyml_lsp.deploy.boards import EMULATED_BOARD, Board, board_by_id
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.datasets import load_dataset, quantize
from tinyml_lsp.model.formats import DEFAULT_PIXEL_RANGE
from tinyml_lsp.resources import snippet
from tinyml_lsp.runtime.context import JobContext, Stage

MAX_VECTORS = 64
DEFAULT_RANDOM_VECTORS = 8
# What the firmware adds to the model: board support, newlib-nano's printf with floats, main.
FIRMWARE_CODE_BYTES = 24 * 1024
FIRMWARE_RAM_BYTES = 8 * 1024  # stack of main() and the kernels, printf buffers
_LABEL = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class SketchFile:
    path: str  # relative to the project folder
    text: str
    user_owned: bool  # written once; kept when the sketch is updated


@dataclass(frozen=True)
class Sketch:
    project: str
    model: str
    board: str
    files: tuple[SketchFile, ...]
    arena_bytes: int
    weight_bytes: int
    ops: tuple[str, ...]
    labels: tuple[str, ...]
    inputs: np.ndarray = field(repr=False, compare=False)  # int8 test vectors, one per row
    written: tuple[str, ...] = ()  # files written by write_sketch
    kept: tuple[str, ...] = ()  # user-owned files left as they were
    sizes: SizeReport | None = None  # RAM and flash on the Cortex-M4F, when measured

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project, "model": self.model, "board": self.board,
            "files": [f.path for f in self.files], "written": list(self.written),
            "kept": list(self.kept), "arena_bytes": self.arena_bytes,
            "weight_bytes": self.weight_bytes, "ops": sorted(set(self.ops)),
            "labels": list(self.labels), "vectors": len(self.inputs),
            "sizes": self.sizes.to_json() if self.sizes else None,
        }


def _check_fit(gen: GeneratedModel, board: Board) -> None:
    """Refuse, before any build, a model that cannot fit the board."""
    flash = gen.weight_bytes + FIRMWARE_CODE_BYTES
    ram = gen.arena_bytes + FIRMWARE_RAM_BYTES
    problems = []
    if flash > board.flash_bytes:
        problems.append(f"flash: needs about {flash:,} bytes (weights {gen.weight_bytes:,} + "
                        f"code ≈{FIRMWARE_CODE_BYTES:,}), the board has {board.flash_bytes:,}")
    if ram > board.ram_bytes:
        problems.append(f"RAM: needs about {ram:,} bytes (arena {gen.arena_bytes:,} + stack and "
                        f"buffers ≈{FIRMWARE_RAM_BYTES:,}), the board has {board.ram_bytes:,}")
    if problems:
        raise TinymlError(f"the model does not fit the {board.name}: " + "; ".join(problems),
                          gen.model, hint="pick a bigger board (tinyml fit --list-boards) or "
                          "a smaller model")


def input_vectors(gen: GeneratedModel, *, data: str | Path | None = None,
                  random: int = DEFAULT_RANDOM_VECTORS, seed: int = 0,
                  label_column: str | None = None, pixel_range: str = DEFAULT_PIXEL_RANGE,
                  limit: int = MAX_VECTORS) -> tuple[np.ndarray, tuple[str, ...]]:
    """The int8 inputs the firmware will run, and class names when the data has them."""
    spec = gen.inputs[0]
    if data is None:
        rng = np.random.default_rng(seed)
        x = rng.integers(-128, 128, size=(max(random, 1), spec.size), dtype=np.int8)
        return x, ()
    ds = load_dataset(data, (1, *spec.shape[1:]) if len(spec.shape) > 1 else spec.shape,
                      label_column=label_column, pixel_range=pixel_range)
    samples = ds.x[:limit]
    q = samples.astype(np.int8) if ds.quantized else quantize(samples, spec.scale,
                                                                spec.zero_point)
    return q.reshape(len(q), -1), tuple(ds.classes or ())


def _vectors_header(name: str, inputs: np.ndarray, labels: tuple[str, ...]) -> str:
    names = ", ".join(f'"{_LABEL.sub("_", label)}"' for label in labels)
    return Template(snippet("standalone/test_vectors.h.tmpl")).substitute(
        model_name=_LABEL.sub("_", name), count=len(inputs),
        rows=",\n".join("    {" + ", ".join(str(int(v)) for v in row) + "}" for row in inputs),
        label_count=len(labels),
        label_table=(f"static const char *const model_labels[MODEL_LABEL_COUNT] = {{{names}}};\n"
                     if labels else ""))


def _platformio_ini(model: Path, project: Path, build_flags: str) -> str:
    text = Template(snippet("standalone/platformio.ini.tmpl")).substitute(
        model_name=model.name, model_file=Path(os.path.relpath(model, project)).as_posix())
    return text + (f"build_flags = {build_flags}\n" if build_flags else "")


def plan_sketch(model: str | Path, project: str | Path, *, board: str = EMULATED_BOARD,
                data: str | Path | None = None, random: int = DEFAULT_RANDOM_VECTORS,
                seed: int = 0, labels: list[str] | None = None, label_column: str | None = None,
                pixel_range: str = DEFAULT_PIXEL_RANGE, build_flags: str = "",
                inputs: np.ndarray | None = None, limit: int = MAX_VECTORS) -> Sketch:
    """Every file of the project, as text; nothing is written. The test vectors come from
    `inputs` (int8, one row per vector), else `data`, else `random` random inputs."""
    target = board_by_id(board)
    gen = generate(model)  # errors name the model as the user gave it
    model, project = Path(model).resolve(), Path(project).resolve()
    _check_fit(gen, target)
    if target.id != EMULATED_BOARD:
        raise TinymlError(
            f"standalone firmware projects are generated for the emulated board "
            f"{EMULATED_BOARD}; the {target.name} needs a project of its framework, which "
            "this version does not write yet", model,
            hint=f"use --board {EMULATED_BOARD}, or `tinyml export` for TFLite Micro")
    if len(gen.inputs) != 1:
        raise TinymlError(f"the firmware feeds one input; the model has {len(gen.inputs)}",
                          model)
    data_labels: tuple[str, ...] = ()
    if inputs is None:
        inputs, data_labels = input_vectors(gen, data=data, random=random, seed=seed,
                                            label_column=label_column, pixel_range=pixel_range,
                                            limit=limit)
    inputs = np.asarray(inputs, dtype=np.int8).reshape(len(inputs), -1)
    names = tuple(labels) if labels else data_labels
    files = (
        SketchFile("platformio.ini", _platformio_ini(model, project, build_flags), True),
        SketchFile("src/main.c", snippet("standalone/main_qemu.c"), True),
        SketchFile("src/model.h", gen.header, False),
        SketchFile("src/model.c", gen.source, False),
        SketchFile("src/test_vectors.h", _vectors_header(model.stem, inputs, names), False),
    )
    return Sketch(str(project), str(model), target.id, files, gen.arena_bytes, gen.weight_bytes,
                  gen.ops, names, inputs)


def write_sketch(sketch: Sketch) -> Sketch:
    """Create the project, or update its generated files; user-owned files are kept."""
    project = Path(sketch.project)
    written, kept = [], []
    try:
        for f in sketch.files:
            path = project / f.path
            if f.user_owned and path.exists():
                kept.append(f.path)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f.text)
            written.append(f.path)
    except OSError as exc:
        raise TinymlError(f"cannot write the project: {exc.strerror}", project) from exc
    return replace(sketch, written=tuple(written), kept=tuple(kept))


async def sketch_model(model: str | Path, project: str | Path, ctx: JobContext, *,
                       sizes: bool = True, **options: Any) -> Sketch:
    """Plan and write the project; with `sizes`, also measure RAM and flash on the target
    (arm-none-eabi-gcc and -size) next to TFLite Micro's arena."""
    ctx.progress(0.1, "generating C for the model")
    plan = await asyncio.to_thread(plan_sketch, model, project, **options)
    ctx.progress(0.4, f"writing {project}")
    sketch = await asyncio.to_thread(write_sketch, plan)
    if not sizes:
        return sketch
    ctx.progress(0.5, "measuring flash and RAM with the ARM compiler")
    try:
        report = await measure_sizes(model, Stage(ctx, 0.5, 1.0))
    except TinymlError as exc:  # the project is written; sizes are a bonus
        ctx.log(f"sizes not measured: {exc}")
        return sketch
    return replace(sketch, sizes=report)


def render_sketch(s: Sketch) -> str:
    lines = [f"project {s.project} (board {s.board}, model {Path(s.model).name})"]
    lines += [f"  wrote {p}" for p in s.written] + [f"  kept  {p} (yours)" for p in s.kept]
    lines.append(f"arena {s.arena_bytes:,} bytes; weights {s.weight_bytes:,} bytes; ops "
                 f"{', '.join(sorted(set(s.ops)))}; {len(s.inputs)} test vectors"
                 + (f"; labels {', '.join(s.labels)}" if s.labels else ""))
    if s.sizes:
        lines.append(render_sizes(s.sizes))
    lines.append(f"next: tinyml build {s.project} && tinyml flash {s.project} && "
                 f"tinyml monitor {s.project}")
    return "\n".join(lines)
