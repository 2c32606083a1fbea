"""`tinyml sketch`: a PlatformIO project that runs a model and checks it against the host.

`--runtime tflm` (the default for real boards) is a TensorFlow Lite Micro Arduino sketch
(`tflm_sketch`); `--runtime standalone` (the default for the emulated board) is described here.

The standalone project is for the emulated board: `platformio.ini` (naming the model),
`src/main.c` (the firmware of snippets/standalone/main_qemu.c), the generated
`src/model.h`/`src/model.c`, `src/test_vectors.h` with the inputs the firmware runs
(docs/firmware.md §3), `src/tinyml_report.h` (the serial line format) and
`tinyml_expected.json`, what the host expects the board to print (the monitor's verdict).

`plan_sketch` computes every file's text without writing anything, so the LSP can offer it as
an edit the user reviews; `write_sketch` writes it. The generated files are rewritten on every
update; `platformio.ini` and `src/main.c` belong to the user once they exist and are kept.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from functools import partial
from pathlib import Path
from string import Template
from typing import Any

import numpy as np

from tinyml_lsp import artifacts
from tinyml_lsp.codegen.standalone.emit import GeneratedModel, generate
from tinyml_lsp.codegen.standalone.sizes import measure_sizes, render_sizes
from tinyml_lsp.deploy.arduino_ini import EMULATED_ENV
from tinyml_lsp.deploy.boards import EMULATED_BOARD, Board, board_by_id
from tinyml_lsp.deploy.sketch_files import Sketch, SketchFile, write_sketch
from tinyml_lsp.deploy.tflm_sketch import plan_tflm_sketch
from tinyml_lsp.deploy.vectors import (
    DEFAULT_VECTORS,
    KIND_NAMES,
    Quantization,
    choose_vectors,
    expected,
    expected_outputs,
    given_vectors,
    render_vectors,
    vectors_header,
)
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.formats import DEFAULT_PIXEL_RANGE
from tinyml_lsp.model.inspect import inspect_model
from tinyml_lsp.model.labels import model_labels
from tinyml_lsp.resources import snippet
from tinyml_lsp.runtime.context import JobContext, Stage
from tinyml_lsp.text import ini_value, one_line

__all__ = ["RUNTIMES", "Sketch", "SketchFile", "plan_sketch", "render_sketch", "sketch_model",
           "write_sketch"]
RUNTIMES = ("tflm", "standalone")

# What the firmware adds to the model: board support, newlib-nano's printf with floats, main.
FIRMWARE_CODE_BYTES = 24 * 1024
FIRMWARE_RAM_BYTES = 8 * 1024  # stack of main() and the kernels, printf buffers


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


def _platformio_ini(model: Path, project: Path, build_flags: str, given: str | Path) -> str:
    text = Template(snippet("standalone/platformio.ini.tmpl")).substitute(
        model_name=one_line(model.name),
        model_file=ini_value(Path(os.path.relpath(model, project)).as_posix(), given))
    return text + (f"build_flags = {build_flags}\n" if build_flags else "")


async def plan_sketch(model: str | Path, project: str | Path, ctx: JobContext, *,
                      board: str = EMULATED_BOARD, data: str | Path | None = None,
                      vectors: int = DEFAULT_VECTORS, seed: int = 0,
                      labels: list[str] | None = None, label_column: str | None = None,
                      pixel_range: str = DEFAULT_PIXEL_RANGE, build_flags: str = "",
                      inputs: np.ndarray | None = None, runtime: str | None = None,
                      input: str = "vectors", features: str | Path | None = None,
                      weights_budget: float | None = None) -> Sketch:
    """Every file of the project, as text; nothing is written. The test vectors are `inputs`
    (int8, one row per vector), else `vectors` taken from `data`, else random; the host's
    outputs for them come from TFLite Micro's interpreter. `runtime` None: TFLite Micro for a
    real board, the standalone C for the emulated one; `input` and `features`: tflm only;
    `weights_budget`: standalone only, the flash its weights may take (emit.generate)."""
    target = board_by_id(board)
    runtime = runtime or ("standalone" if target.id == EMULATED_BOARD else "tflm")
    if runtime not in RUNTIMES:
        raise TinymlError(f"unknown runtime {runtime!r} (one of {', '.join(RUNTIMES)})")
    if weights_budget is not None and runtime == "tflm":
        raise TinymlError("--weights-budget is for the standalone runtime (--runtime "
                          "standalone); TFLite Micro reads the model's own weights")
    if runtime == "tflm":
        return await plan_tflm_sketch(model, project, ctx, board=board, data=data,
                                      vectors=vectors, seed=seed, labels=labels,
                                      label_column=label_column, pixel_range=pixel_range,
                                      input=input, features=features, inputs=inputs)
    if input != "vectors":
        raise TinymlError(f"--input {input} is for TFLite Micro sketches (--runtime tflm)")
    ctx.progress(0.0, "generating C for the model")
    given = model  # errors name the model as the user gave it
    gen = await asyncio.to_thread(partial(generate, model, flash_budget=weights_budget))
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
    card = await asyncio.to_thread(inspect_model, model)
    names = model_labels(model, labels)
    spec = gen.inputs[0]
    quant = Quantization(spec.shape, spec.scale, spec.zero_point)
    if inputs is None:
        ctx.progress(0.3, "choosing the test vectors")
        chosen = await asyncio.to_thread(
            choose_vectors, model, quant, data=data, count=vectors, seed=seed, labels=names,
            label_column=label_column, pixel_range=pixel_range)
    else:
        chosen = given_vectors(inputs, names)
    kind = card.output_kind(chosen.labels or None)
    ctx.progress(0.5, "running TFLite Micro on the test vectors (the host's answers)")
    outputs = [Quantization(o.shape, o.scale, o.zero_point) for o in gen.outputs]
    expected_out = await expected_outputs(model, card, chosen, quant, outputs,
                                          Stage(ctx, 0.5, 1.0))
    record = expected(card, kind, chosen, expected_out)
    files = (
        SketchFile("platformio.ini", _platformio_ini(model, project, build_flags, given), True),
        SketchFile("src/main.c", snippet("standalone/main_qemu.c"), True),
        SketchFile("src/model.h", gen.header, False),
        SketchFile("src/model.c", gen.source, False),
        SketchFile("src/test_vectors.h", vectors_header(model.stem, chosen, kind), False),
        SketchFile("src/tinyml_report.h", snippet("firmware/tinyml_report.h"), False),
        SketchFile(artifacts.expected_file(Path()).name,
                   record.text(), False),
    )
    return Sketch(str(project), str(model), target.id, files, gen.arena_bytes, gen.weight_bytes,
                  gen.ops, kind, chosen, record)


async def sketch_model(model: str | Path, project: str | Path, ctx: JobContext, *,
                       sizes: bool = True, **options: Any) -> Sketch:
    """Plan and write the project; with `sizes`, also measure RAM and flash on the target
    (arm-none-eabi-gcc and -size) next to TFLite Micro's arena."""
    plan = await plan_sketch(model, project, Stage(ctx, 0.0, 0.4), **options)
    ctx.progress(0.4, f"writing {project}")
    sketch = await asyncio.to_thread(write_sketch, plan)
    if not sizes or sketch.runtime != "standalone":
        return sketch
    ctx.progress(0.5, "measuring flash and RAM with the ARM compiler")
    try:
        report = await measure_sizes(model, Stage(ctx, 0.5, 1.0),
                                     flash_budget=options.get("weights_budget"))
    except TinymlError as exc:  # the project is written; sizes are a bonus
        ctx.log(f"sizes not measured: {exc}")
        return sketch
    return replace(sketch, sizes=report)


def render_sketch(s: Sketch, project: str | Path | None = None) -> str:
    """`project`: the folder as the user named it (default: the resolved one)."""
    where = project or s.project
    lines = [f"project {where} (board {s.board}, model {Path(s.model).name})"]
    lines += [f"  wrote {p}" for p in s.written] + [f"  kept  {p} (yours)" for p in s.kept]
    lines.append(f"arena {s.arena_bytes:,} bytes; weights {s.weight_bytes:,} bytes; ops "
                 f"{', '.join(sorted(set(s.ops)))}; output: {KIND_NAMES[s.kind]}"
                 + (f"; labels {', '.join(s.labels)}" if s.labels else ""))
    lines.append(render_vectors(s.vectors))
    if s.sizes:
        lines.append(render_sizes(s.sizes))
    if s.runtime == "tflm":
        real = board_by_id(s.board)
        lines.append(f"TensorFlow Lite Micro sketch; envs {real.platformio} (the board: "
                     f"PlatformIO downloads its {real.pio_platform} platform and the pinned "
                     f"libraries once) and {EMULATED_ENV} (the same sources on the emulated board)")
        lines.append(f"on a connected machine: pio run -d {where} -e {real.platformio} -t upload")
        env = f" --env {EMULATED_ENV}"
        replay = f" --replay {s.vectors.source}" if s.input != "vectors" else ""
        lines.append(f"here: tinyml build {where}{env} && tinyml flash {where}{env}{replay} && "
                     f"tinyml monitor {where} --until-done")
        return "\n".join(lines)
    lines.append(f"next: tinyml build {where} && tinyml flash {where} && "
                 f"tinyml monitor {where} --until-done")
    return "\n".join(lines)
