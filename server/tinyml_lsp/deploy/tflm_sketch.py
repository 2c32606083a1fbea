"""`tinyml sketch --runtime tflm`: a TensorFlow Lite Micro Arduino sketch for a real board.

The project (a PlatformIO one, see `arduino_ini`) has an env for the board and an `emulated`
env building the same `src/` for the emulated Cortex-M4:

- `src/main.cpp` (snippets/tflm/main.cpp, the user's once written): the interpreter, one line
  per inference in the serial format of every tinyml firmware (docs/firmware.md §2);
- `src/tinyml_model.h`: the model's facts as code — a `MicroMutableOpResolver<N>` registering
  exactly its N ops, the tensor arena (measured, with a margin), each tensor's scale and zero
  point and the accessor of its type (`data.int8` or `data.f`);
- `src/tinyml_input.h`: where the input comes from (the test vectors, or a sensor reading
  turned into features as `features.toml` defines them), `src/test_vectors.h`,
  `src/model_data.h/.cc` (the flatbuffer), `src/tinyml_report.h`, `tinyml_expected.json`.

Refused before any file is planned: ops the pinned library lacks, a model that does not fit the
board (numbers from `fit`), inputs it cannot feed.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from string import Template

import numpy as np

from tinyml_lsp import artifacts
from tinyml_lsp.codegen.c_array import render_c_array
from tinyml_lsp.codegen.standalone.graph import read_graph
from tinyml_lsp.codegen.standalone.program import ApiTensor, io_tensors
from tinyml_lsp.deploy import tflm_ops
from tinyml_lsp.deploy.arduino_ini import BUILD_SCRIPT, IniOptions, arduino_board, render_ini
from tinyml_lsp.deploy.boards import board_by_id
from tinyml_lsp.deploy.fit import fit_card, tflm_footprint
from tinyml_lsp.deploy.sketch_files import Sketch, SketchFile
from tinyml_lsp.deploy.third_party import APDS9960, TFLITE_MICRO
from tinyml_lsp.deploy.vectors import (
    DEFAULT_VECTORS,
    Quantization,
    TestVectors,
    choose_vectors,
    expected,
    expected_outputs,
    given_vectors,
    vectors_header,
    word,
)
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.datasets import quantize
from tinyml_lsp.model.features import Features, find_features, load_features
from tinyml_lsp.model.formats import DEFAULT_PIXEL_RANGE
from tinyml_lsp.model.inspect import HYBRID_REFUSAL, ModelCard, TensorCard, inspect_model
from tinyml_lsp.model.labels import model_labels
from tinyml_lsp.model.micro import Arena, ArenaReport, measure_arena, run_micro_all, sketch_arena
from tinyml_lsp.resources import snippet
from tinyml_lsp.runtime.context import JobContext, Stage
from tinyml_lsp.text import c_comment, ini_value

INPUTS = ("vectors", "apds9960")  # where the sketch's input comes from
def resolver_calls(ops: list[str]) -> list[str]:
    """One `AddXxx()` per distinct op, in model order; refuses ops the library lacks."""
    if missing := tflm_ops.missing_ops(ops):
        raise TinymlError(f"TensorFlow Lite Micro {tflm_ops.VERSION} has no kernel for "
                          f"{', '.join(missing)}: MicroMutableOpResolver cannot register it",
                          hint="change the model to avoid these ops, or --runtime standalone "
                          "if it supports them")
    return [f"{tflm_ops.RESOLVER_METHODS[op]}()" for op in dict.fromkeys(ops)]


def _describe(t: TensorCard, api: ApiTensor) -> str:
    shape = "x".join(map(str, t.shape))
    return (f"{t.dtype}[{shape}] ({c_comment(t.name)}), int8 scale {api.scale!r} zero point "
            f"{api.zero_point}")


def _float(v: float) -> str:
    return f"{float(np.float32(v))!r}f"


def model_header(card: ModelCard, ops: list[str], arena: Arena, inp: ApiTensor,
                 outputs: list[ApiTensor]) -> str:
    """tinyml_model.h: resolver, arena, and the accessors matching each tensor's type."""
    calls = resolver_calls(ops)
    in_float = card.inputs[0].dtype == "float32"
    set_input = ("        tensor->data.f[i] = kTinymlInputScale * "
                 "(float)((int32_t)q[i] - kTinymlInputZeroPoint);" if in_float
                 else "        tensor->data.int8[i] = q[i];")
    quant = "        q[i] = tinyml_quantize(x[i], kTinymlInputScale, kTinymlInputZeroPoint);"
    set_real = (f"        tensor->data.f[i] = x[i];  // the model quantizes it itself\n{quant}"
                if in_float else f"{quant}\n        tensor->data.int8[i] = q[i];")
    gets = []
    for i, t in enumerate(card.outputs):
        if t.dtype == "float32":
            body = (f"        for (uint32_t j = 0; j < kTinymlOutputSizes[{i}]; j++) {{\n"
                    f"            q[j] = tinyml_quantize(tensor->data.f[j], "
                    f"kTinymlOutputScales[{i}], kTinymlOutputZeroPoints[{i}]);\n        }}")
        elif t.dtype == "int8":
            body = (f"        for (uint32_t j = 0; j < kTinymlOutputSizes[{i}]; j++) {{\n"
                    "            q[j] = tensor->data.int8[j];\n        }")
        else:
            raise TinymlError(f"output {i} is {t.dtype}: the sketch reads int8 or float32 "
                              "outputs", card.path)
        gets.append(f"    case {i}:  // {t.dtype}\n{body}\n        break;")
    return Template(snippet("tflm/tinyml_model.h.tmpl")).substitute(
        model_file=c_comment(Path(card.path).name), version=tflm_ops.VERSION,
        commit=TFLITE_MICRO.commit, ops=", ".join(dict.fromkeys(ops)), op_count=len(calls),
        registrations="\n".join(f"    if (resolver.{c} != kTfLiteOk) {{\n"
                                "        return kTfLiteError;\n    }" for c in calls),
        measured=f"{arena.measured:,}", margin=f"{arena.margin:,}", arena=arena.size,
        input_desc=_describe(card.inputs[0], inp), input_size=inp.size,
        input_scale=_float(inp.scale), input_zero_point=inp.zero_point,
        set_input=set_input, set_real=set_real,
        set_real_comment=(" (float32: as they are; int8 copies for the report)" if in_float
                          else ", quantized with the scale and zero point above"),
        output_desc="; ".join(_describe(t, a) for t, a in zip(card.outputs, outputs,
                                                                strict=True)),
        output_count=len(outputs), output_sizes=", ".join(str(o.size) for o in outputs),
        output_scales=", ".join(_float(o.scale) for o in outputs),
        output_zero_points=", ".join(str(o.zero_point) for o in outputs),
        output_total=sum(o.size for o in outputs), get_outputs="\n".join(gets))


def input_header(features: Features | None) -> str:
    head = ("// Generated by tinyml-lsp (`tinyml sketch --runtime tflm`). Do not edit: generate "
            "again instead.\n#ifndef TINYML_INPUT_H_\n#define TINYML_INPUT_H_\n\n")
    if features is None:
        return head + ("// The input: the embedded test vectors (test_vectors.h).\n"
                       "#define TINYML_INPUT_APDS9960 0\n\n#endif  // TINYML_INPUT_H_\n")
    names = {"red": "r", "green": "g", "blue": "b", "clear": "c"}  # readColor(r, g, b, c)
    values = ", ".join(f"(float){names[c]}" for c in features.reading)
    return head + (
        f"// The input: one APDS-9960 colour reading per inference, turned into the model's\n"
        f"// features by the definition in {c_comment(Path(features.path).name)}.\n"
        "#define TINYML_INPUT_APDS9960 1\n"
        f"#define TINYML_READING_COUNT {len(features.reading)}\n"
        f"#define TINYML_READING_VALUES {values}\n\n"
        f"{features.c_function()}\n\n#endif  // TINYML_INPUT_H_\n")


def per_channel_dense(model: Path) -> list[str]:
    """FULLY_CONNECTED weights quantized per channel, which the pinned library computes wrong:
    its kernel (CMSIS-NN's, and the reference one of that release) applies one multiplier,
    the first channel's, to every output. Newer TensorFlow converters quantize Dense layers per
    channel by default. Their descriptions."""
    g = read_graph(model)
    found = []
    for op in g.ops:
        if op.kind == "FULLY_CONNECTED" and len(op.inputs) > 1 and op.inputs[1] >= 0:
            w = g.tensors[op.inputs[1]]
            if w.quant is not None and w.quant.per_channel:
                found.append(f"op {op.index} ({c_comment(w.name)}: {len(w.quant.scales)} "
                             "scales)")
    return found


def _io(model: Path, card: ModelCard) -> tuple[ApiTensor, list[ApiTensor]]:
    """The int8 view of input 0 and of each output (a float32 one: its QUANTIZE/DEQUANTIZE)."""
    if card.quantization == "hybrid":
        raise TinymlError(HYBRID_REFUSAL, model)
    if len(card.inputs) != 1:
        raise TinymlError(f"the sketch feeds one input; the model has {len(card.inputs)}", model)
    try:
        inputs, outputs = io_tensors(read_graph(model))
    except TinymlError as exc:
        raise TinymlError(f"{exc.message.split(': ', 1)[-1]} (the sketch checks its outputs "
                          "as int8 values against the host's)", model,
                          hint="quantize it: tinyml quantize MODEL.keras --data DATA") from None
    return inputs[0], outputs


def _check_fit(card: ModelCard, arena: ArenaReport, size: Arena, board_id: str) -> None:
    """Refuse, before any build, a model the board cannot take (`fit`'s figures)."""
    board = board_by_id(board_id)
    r = fit_card(card, tflm_footprint(card, ArenaReport(size.size)), board)
    f, problems = r.footprint, list(r.problems)
    if r.flash_margin < 0:
        problems.append(f"flash: needs about {r.flash_needed:,} bytes (model {f.model_bytes:,} + "
                        f"TFLite Micro ≈{f.code_bytes:,} + Arduino core "
                        f"≈{board.framework_flash_bytes:,}), the board has {board.flash_bytes:,}")
    if r.ram_margin < 0:
        problems.append(f"RAM: needs about {r.ram_needed:,} bytes (arena {size.size:,}: "
                        f"{arena.arena_bytes:,} measured + margin; interpreter and stack "
                        f"≈{f.extra_ram_bytes:,}; Arduino core ≈{board.framework_ram_bytes:,}), "
                        f"the board has {board.ram_bytes:,}")
    if problems:
        raise TinymlError(f"the model does not fit the {board.name}: " + "; ".join(problems),
                          card.path, hint="pick a bigger board (tinyml fit MODEL) or a smaller "
                          "model")


async def _sensor_vectors(model: Path, card: ModelCard, features: Features, quant: Quantization,
                          out_quant: list[Quantization], readings: str | Path | None,
                          labels: tuple[str, ...], ctx: JobContext
                          ) -> tuple[TestVectors, tuple[tuple[int, ...], ...]]:
    """The readings (a CSV of the sensor's channels) the board will be given, in file order,
    and the host's outputs for the features computed from them."""
    from tinyml_lsp.model.datasets import load_dataset

    if readings is None:
        raise TinymlError("--input apds9960 needs the readings the board will be given "
                          "(--data READINGS.csv: one column per channel of features.toml)",
                          model)
    if len(features.names) != quant_size(quant):
        raise TinymlError(f"{Path(features.path).name} defines {len(features.names)} features; "
                          f"the model takes {quant_size(quant)} inputs", features.path)
    ds = load_dataset(readings, (1, len(features.reading)), classes=labels or None)
    x = features.evaluate(ds.x.reshape(len(ds.x), -1))
    q = quantize(x, quant.scale, quant.zero_point)
    feed = x if card.inputs[0].dtype == "float32" else q
    run = await run_micro_all(model, [feed.reshape(len(x), *card.inputs[0].shape[1:])], None,
                              ctx, output_count=len(card.outputs))
    outs = []
    for row in run.outputs:
        values, start = [], 0
        for t, o in zip(card.outputs, out_quant, strict=True):
            y = row[start:start + t.size]
            start += t.size
            values += list(quantize(y, o.scale, o.zero_point) if t.dtype == "float32"
                           else y.astype(np.int8))
        outs.append(tuple(int(v) for v in values))
    truths = tuple(int(v) for v in ds.y) if ds.y is not None else (None,) * len(x)
    vectors = TestVectors(q.reshape(len(q), -1), tuple(range(len(q))), truths,
                          tuple(ds.classes or labels), str(readings), tuple(ds.notes))
    return vectors, tuple(outs)


def quant_size(q: Quantization) -> int:
    return int(np.prod(q.shape, dtype=np.int64))


async def plan_tflm_sketch(model: str | Path, project: str | Path, ctx: JobContext, *,
                           board: str, data: str | Path | None = None,
                           vectors: int = DEFAULT_VECTORS, seed: int = 0,
                           labels: list[str] | None = None, label_column: str | None = None,
                           pixel_range: str = DEFAULT_PIXEL_RANGE, input: str = "vectors",
                           features: str | Path | None = None,
                           inputs: np.ndarray | None = None) -> Sketch:
    """Every file of the project, as text; nothing is written. The test vectors are `inputs`
    (int8, one row per vector) when given, else chosen from `data` or random."""
    target = arduino_board(board_by_id(board))
    if input not in INPUTS:
        raise TinymlError(f"unknown input {input!r} (one of {', '.join(INPUTS)})")
    given = model
    model, project = Path(model).resolve(), Path(project).resolve()
    card = await asyncio.to_thread(inspect_model, model)
    ops = [op.name for op in card.ops]
    resolver_calls(ops)  # refuse missing ops before measuring anything
    inp, outputs = await asyncio.to_thread(_io, model, card)
    if dense := await asyncio.to_thread(per_channel_dense, model):
        if len(dense) > 3:
            dense = [*dense[:3], f"{len(dense) - 3} more"]
        raise TinymlError(
            f"TensorFlow Lite Micro {tflm_ops.VERSION} (the pinned library) quantizes "
            "FULLY_CONNECTED per tensor, and this model's dense weights are quantized per "
            f"channel ({'; '.join(dense)}): the board would silently compute other outputs "
            "than the host", model,
            hint="quantize it with per-tensor dense layers (tinyml quantize MODEL.keras --data "
            "DATA --per-tensor-dense), or --runtime standalone, which takes either")
    feats = (await asyncio.to_thread(load_features, find_features(model, features))
             if input != "vectors" else None)
    if feats is not None and feats.sensor != input:
        raise TinymlError(f"the features are defined for the {feats.sensor}, not the {input}",
                          feats.path)
    ctx.progress(0.05, "measuring the tensor arena with TFLite Micro")
    measured = await measure_arena(model, Stage(ctx, 0.05, 0.4))
    if measured.arena_bytes is None:
        raise TinymlError(measured.message or "TFLite Micro cannot run this model", model)
    arena = sketch_arena(measured.arena_bytes)
    _check_fit(card, measured, arena, target.id)
    names = model_labels(model, labels)
    quant = Quantization(inp.shape, inp.scale, inp.zero_point)
    out_quant = [Quantization(o.shape, o.scale, o.zero_point) for o in outputs]
    if feats is None:
        ctx.progress(0.45, "choosing the test vectors")
        chosen = (await asyncio.to_thread(
            choose_vectors, model, quant, data=data, count=vectors, seed=seed, labels=names,
            label_column=label_column, pixel_range=pixel_range) if inputs is None
            else given_vectors(inputs, names))
        ctx.progress(0.5, "running TFLite Micro on the test vectors (the host's answers)")
        host = await expected_outputs(model, card, chosen, quant, out_quant,
                                      Stage(ctx, 0.5, 1.0))
    else:
        ctx.progress(0.5, "running TFLite Micro on the readings' features (the host's answers)")
        chosen, host = await _sensor_vectors(model, card, feats, quant, out_quant, data,
                                             names or (),
                                             Stage(ctx, 0.5, 1.0))
    kind = card.output_kind(chosen.labels or None)
    record = expected(card, kind, chosen, host)
    c_header, c_source = render_c_array(card, model.read_bytes(), measured, "g_model",
                                        "model_data.h")
    libraries = (TFLITE_MICRO,) + ((APDS9960,) if feats is not None else ())
    ini = render_ini(target, IniOptions(
        model_file=ini_value(Path(os.path.relpath(model, project)).as_posix(), given),
        runtime="tflm", labels=tuple(word(label) for label in chosen.labels), input=input,
        libraries=libraries, version=tflm_ops.VERSION))
    files = (
        SketchFile("platformio.ini", ini, True),
        SketchFile("src/main.cpp", snippet("tflm/main.cpp"), True),
        SketchFile(BUILD_SCRIPT, snippet(f"tflm/{BUILD_SCRIPT}"), False),
        SketchFile("src/tinyml_model.h", model_header(card, ops, arena, inp, outputs), False),
        SketchFile("src/tinyml_input.h", input_header(feats), False),
        SketchFile("src/model_data.h", c_header, False),
        SketchFile("src/model_data.cc", c_source, False),
        SketchFile("src/test_vectors.h", vectors_header(model.stem, chosen, kind), False),
        SketchFile("src/tinyml_report.h", snippet("firmware/tinyml_report.h"), False),
        SketchFile(artifacts.expected_file(Path()).name, record.text(), False),
    )
    return Sketch(str(project), str(model), target.id, files, arena.size, card.weight_bytes,
                  tuple(dict.fromkeys(ops)), kind, chosen, record, runtime="tflm", input=input)
