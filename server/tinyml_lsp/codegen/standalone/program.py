"""The whole graph as a program: the model boundary settled, reshapes made aliases, every
other op lowered to one kernel call (kernels.py).

The boundary: a float input quantized by the model's first op, or a float output dequantized
by its last op, becomes the int8 tensor of the API, and the float conversion moves into
model_quantize_input() / model_dequantize_output() (same arithmetic as TFLite Micro's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinyml_lsp.codegen.standalone import quantization as qz
from tinyml_lsp.codegen.standalone.graph import RESHAPE_OPS, TFLM_HINT, Graph
from tinyml_lsp.codegen.standalone.kernels import LOWER, ConstArray, Step, op_error, per_tensor
from tinyml_lsp.errors import TinymlError


@dataclass(frozen=True)
class ApiTensor:
    """An input or output of the generated API: always an int8 tensor of the graph."""

    tensor: int
    name: str
    shape: tuple[int, ...]
    scale: float
    zero_point: int
    is_float: bool  # the original model takes/gives float32 here (boundary op absorbed)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1


@dataclass
class Program:
    graph: Graph
    steps: list[Step]
    root: dict[int, int]  # tensor -> the tensor whose buffer it shares (RESHAPE)
    inputs: list[ApiTensor]
    outputs: list[ApiTensor]
    consts: dict[int, ConstArray]  # constant tensors used as kernel data inputs


# --- the whole graph ----------------------------------------------------------------------


def _boundary(g: Graph) -> tuple[list[ApiTensor], list[ApiTensor], set[int]]:
    """API inputs/outputs and the boundary QUANTIZE/DEQUANTIZE ops they absorb."""
    absorbed: set[int] = set()
    inputs, outputs = [], []
    for ti in g.inputs:
        t = g.t(ti)
        api, is_float = t, False
        if t.dtype == "float32":
            users = g.consumers(ti)
            if len(users) != 1 or users[0].kind != "QUANTIZE" or \
                    g.t(users[0].outputs[0]).dtype != "int8":
                raise TinymlError(f"input {t.describe()} is float32 and is not simply quantized "
                                  "by the model's first op — quantize the model to int8 first",
                                  g.path)
            absorbed.add(users[0].index)
            api, is_float = g.t(users[0].outputs[0]), True
        if api.dtype != "int8" or api.quant is None or api.quant.per_channel:
            raise TinymlError(f"input {t.describe()}: the standalone runtime takes int8 (or "
                              "float32 quantized by the model) inputs", g.path)
        inputs.append(ApiTensor(api.index, t.name, api.shape, api.quant.scale,
                                api.quant.zero_point, is_float))
    for ti in g.outputs:
        t = g.t(ti)
        api, is_float = t, False
        if t.dtype == "float32":
            producer = g.producer(ti)
            if producer is None or producer.kind != "DEQUANTIZE" or \
                    g.t(producer.inputs[0]).dtype != "int8":
                raise TinymlError(f"output {t.describe()} is float32 and is not simply "
                                  "dequantized by the model's last op — quantize the model to "
                                  "int8 first", g.path)
            absorbed.add(producer.index)
            api, is_float = g.t(producer.inputs[0]), True
        if api.dtype != "int8" or api.quant is None or api.quant.per_channel:
            raise TinymlError(f"output {t.describe()}: the standalone runtime gives int8 (or "
                              "float32 dequantized by the model) outputs", g.path)
        outputs.append(ApiTensor(api.index, t.name, api.shape, api.quant.scale,
                                 api.quant.zero_point, is_float))
    return inputs, outputs, absorbed


def io_tensors(g: Graph) -> tuple[list[ApiTensor], list[ApiTensor]]:
    """The int8 tensors at the model's boundary: its inputs and outputs, or for float32 ones
    the int8 tensors their QUANTIZE / DEQUANTIZE convert (TFLite Micro sketches use them too)."""
    inputs, outputs, _ = _boundary(g)
    return inputs, outputs


# What the standalone runtime runs: a kernel call per op, reshapes as aliases, and the float
# conversions at the model's boundary (absorbed into the API's quantize helpers).
SUPPORTED_OPS = tuple(sorted({*LOWER, *RESHAPE_OPS, "QUANTIZE", "DEQUANTIZE"}))


def _check_supported(g: Graph) -> None:
    """Every op without a kernel, named at once."""
    missing = sorted({op.kind for op in g.ops if op.kind not in SUPPORTED_OPS})
    if missing:
        raise TinymlError(
            "the standalone runtime has no kernel for " + ", ".join(missing)
            + f" ({len(missing)} unsupported op{'s' if len(missing) > 1 else ''}; it supports "
            + ", ".join(SUPPORTED_OPS) + ")", g.path, hint=TFLM_HINT)


def lower(g: Graph) -> Program:
    _check_supported(g)
    inputs, outputs, absorbed = _boundary(g)
    root: dict[int, int] = {}
    steps: list[Step] = []
    for op in g.ops:
        if op.index in absorbed:
            continue
        if op.kind in RESHAPE_OPS:
            src, dst = g.t(op.inputs[0]), g.t(op.outputs[0])
            if src.size != dst.size:
                raise op_error(g, op, f"reshape of {src.size} into {dst.size} elements")
            if src.is_const:  # a constant seen with another shape stays a constant
                dst.data = src.data.reshape(dst.shape) if src.data is not None else None
            else:
                root[dst.index] = root.get(src.index, src.index)
            continue
        if op.kind in ("QUANTIZE", "DEQUANTIZE") and any(
                g.t(i).dtype != "int8" for i in (*op.inputs, *op.outputs)):
            raise op_error(g, op, "converts between float and int8 inside the model; the "
                              "standalone runtime needs int8 from input to output — quantize "
                              "the model to full-integer int8 first")
        try:
            steps.append(LOWER[op.kind](g, op))
        except qz.OutOfRange as exc:
            raise op_error(g, op, str(exc)) from None
    consts: dict[int, ConstArray] = {}
    for step in steps:
        for ti in step.inputs:
            t = g.t(ti)
            if t.is_const and ti not in consts:
                per_tensor(g, step.op, t)
                consts[ti] = ConstArray(f"tensor{ti}", "int8_t",
                                        np.asarray(t.data, dtype=np.int8).reshape(-1))
    return Program(g, steps, root, inputs, outputs, consts)
