"""A model's structure, checked before anything uses it: what a flatbuffer verifier and TFLite
Micro's Prepare would refuse, refused here with the reason, so that no command succeeds on a
model the runtime would reject (or, worse, generates C from it).

Checked: tensor and buffer indices (`tflite_file`), buffers inside the file and sized to their
tensors' shapes, shapes without empty or negative dimensions, quantization parameters finite
and in range, operators in an order that writes every tensor before it is read (no op reading
its own output), the options and inputs each op kind needs, and sane option values.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.tflite_file import LoadedModel, dtype_name, read_model, schema, text

DTYPE_BYTES = {"float32": 4, "float16": 2, "float64": 8, "int8": 1, "uint8": 1, "int16": 2,
               "uint16": 2, "int32": 4, "uint32": 4, "int64": 8, "uint64": 8, "bool": 1}
ZERO_POINT_RANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767),
                    "int4": (-8, 7)}
# ops whose kernels read their builtin options (TFLite Micro dereferences them)
OPTIONS = {"CONV_2D": "Conv2DOptions", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions",
           "AVERAGE_POOL_2D": "Pool2DOptions", "MAX_POOL_2D": "Pool2DOptions",
           "SOFTMAX": "SoftmaxOptions", "CONCATENATION": "ConcatenationOptions",
           "FULLY_CONNECTED": "FullyConnectedOptions"}
MIN_INPUTS = {"CONV_2D": 2, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 2, "ADD": 2, "MUL": 2,
              "SUB": 2, "PAD": 2, "PADV2": 2, "MEAN": 2, "CONCATENATION": 1}
SHOWN = 3  # problems named in the error


def load_model(path: str | Path) -> LoadedModel:
    """Read a .tflite model and check its structure; a TinymlError naming the file and what is
    wrong with it otherwise."""
    lm = read_model(path)
    problems = problems_of(lm)
    if problems:
        more = f" (and {len(problems) - SHOWN} more problems)" if len(problems) > SHOWN else ""
        raise TinymlError("the model is malformed: " + "; ".join(problems[:SHOWN]) + more,
                          lm.path, hint="export or convert the model again")
    return lm


def problems_of(lm: LoadedModel) -> list[str]:
    problems = _buffer_problems(lm)
    for n, sg in enumerate(lm.model.subgraphs):
        where = f"subgraph {n}: " if len(lm.model.subgraphs) > 1 else ""
        problems += [where + p for p in _subgraph_problems(lm, sg)]
    return problems


def _buffer_problems(lm: LoadedModel) -> list[str]:
    problems = []
    for i, buf in enumerate(lm.model.buffers or []):
        if buf.offset > 1 and buf.offset + buf.size > len(lm.data):
            problems.append(f"buffer {i} lies outside the file (bytes {buf.offset:,} to "
                            f"{buf.offset + buf.size:,} of {len(lm.data):,})")
    return problems


def _name(t: Any, index: int) -> str:
    return f"tensor #{index} {text(t.name)!r}" if t.name else f"tensor #{index}"


def _tensor_problems(lm: LoadedModel, t: Any, index: int, used: bool) -> list[str]:
    """`used`: an op or the model reads or writes it (LSTM intermediates, say, are neither,
    and may well be empty)."""
    problems = []
    dtype = dtype_name(t.type)
    shape = [int(d) for d in (t.shape if t.shape is not None else [])]
    if used and any(d <= 0 for d in shape):
        problems.append(f"{_name(t, index)} has the shape {shape} (dimensions must be ≥ 1)")
        return problems
    size = lm.buffer_size(t.buffer)
    if size and dtype in DTYPE_BYTES:
        needed = math.prod(shape) * DTYPE_BYTES[dtype]
        if size != needed:
            problems.append(f"{_name(t, index)} holds {size:,} bytes of data, its shape "
                            f"{shape} of {dtype} needs {needed:,}")
    q = t.quantization
    scales = list(q.scale) if q is not None and q.scale is not None else []
    zps = [int(z) for z in q.zeroPoint] if q is not None and q.zeroPoint is not None else []
    if scales:
        if not all(math.isfinite(s) and s > 0 for s in scales):
            problems.append(f"{_name(t, index)} has a quantization scale that is not a "
                            "positive finite number")
        if len(zps) not in (0, 1, len(scales)):
            problems.append(f"{_name(t, index)} has {len(scales)} scales and {len(zps)} zero "
                            "points")
        low, high = ZERO_POINT_RANGE.get(dtype, (-(2 ** 31), 2 ** 31 - 1))
        if any(not low <= z <= high for z in zps):
            problems.append(f"{_name(t, index)} has a zero point outside the {dtype} range")
        if len(scales) > 1:
            # TFLite Micro reads the axis of filters; a bias has one scale per element
            axis = int(q.quantizedDimension) if len(shape) > 1 else 0
            if not 0 <= axis < len(shape) or shape[axis] != len(scales):
                problems.append(f"{_name(t, index)} has {len(scales)} per-channel scales on "
                                f"axis {axis}, which its shape {shape} does not have")
    return problems


def _subgraph_problems(lm: LoadedModel, sg: Any) -> list[str]:
    tensors = sg.tensors or []
    used = {int(i) for op in sg.operators or [] for i in [
        *(op.inputs if op.inputs is not None else []),
        *(op.outputs if op.outputs is not None else [])]}
    used |= {int(i) for i in [*(sg.inputs if sg.inputs is not None else []),
                              *(sg.outputs if sg.outputs is not None else [])]}
    problems = []
    for i, t in enumerate(tensors):
        problems += _tensor_problems(lm, t, i, i in used)
    if sg.inputs is None or sg.outputs is None or not len(sg.outputs):
        problems.append("the subgraph does not list its inputs and outputs")
        return problems
    written = {int(i) for i in sg.inputs}
    written |= {i for i, t in enumerate(tensors)
                if lm.buffer_size(t.buffer) or getattr(t, "isVariable", False)}
    for k, op in enumerate(sg.operators or []):
        kind = lm.opcode_name(op.opcodeIndex)
        label = f"op #{k} {kind}"
        ins = [int(i) for i in (op.inputs if op.inputs is not None else [])]
        outs = [int(i) for i in (op.outputs if op.outputs is not None else [])]
        if not outs:
            problems.append(f"{label} has no output")
        if len(ins) < MIN_INPUTS.get(kind, 0) or any(i < 0 for i in ins[:MIN_INPUTS.get(kind,
                                                                                           0)]):
            problems.append(f"{label} has {len(ins)} inputs, it needs at least "
                            f"{MIN_INPUTS[kind]}")
        for i in ins:
            if i in outs:
                problems.append(f"{label} reads its own output, tensor #{i}")
            elif i >= 0 and i not in written:
                problems.append(f"{label} reads tensor #{i} before any op writes it "
                                "(operators out of order)")
        written |= set(outs)
        problems += _option_problems(kind, label, op)
    for o in sg.outputs:
        if int(o) not in written:
            problems.append(f"the model's output tensor #{int(o)} is never written")
    return problems


def _option_problems(kind: str, label: str, op: Any) -> list[str]:
    wanted = OPTIONS.get(kind)
    if wanted is None:
        return []
    s = schema()
    opts = op.builtinOptions
    if op.builtinOptionsType != getattr(s.BuiltinOptions, wanted) or opts is None:
        return [f"{label} lacks its {wanted}"]
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"):
        values = [getattr(opts, f, 1) for f in ("strideH", "strideW", "dilationHFactor",
                                                 "dilationWFactor", "filterHeight",
                                                 "filterWidth") if hasattr(opts, f)]
        if any(int(v) < 1 for v in values):
            return [f"{label} has a stride, dilation or filter size below 1"]
    if kind == "SOFTMAX" and not (math.isfinite(opts.beta) and opts.beta > 0):
        return [f"{label} has beta {opts.beta} (it must be a positive number)"]
    return []
