"""Read a .tflite model into a small typed graph the standalone code generator works on.

Only what the generator needs survives: tensors (shape, dtype, quantization, constant data)
and operators (kind, inputs, outputs, options as plain values). Float and hybrid models and
multi-subgraph models are refused here; ops without a kernel, by `program.lower`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.inspect import card_of
from tinyml_lsp.model.structure import load_model
from tinyml_lsp.model.tflite_file import LoadedModel, activation_name, dtype_name, text

# Ops whose output is the input's bytes seen with another shape.
RESHAPE_OPS = ("RESHAPE",)
_NUMPY_DTYPES = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "int32": np.int32,
                 "int64": np.int64, "float32": np.float32}
TFLM_HINT = ("use the TFLite Micro runtime for this model (`tinyml verify` checks it runs, "
             "`tinyml export` writes it as C), "
             "or change the model to avoid these ops")


@dataclass(frozen=True)
class Quant:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel."""

    scales: tuple[float, ...]  # float32 values, kept exactly as Python floats
    zero_points: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1

    @property
    def scale(self) -> float:
        return self.scales[0]

    @property
    def zero_point(self) -> int:
        return self.zero_points[0]


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: Quant | None
    data: np.ndarray | None = None  # constant tensors only

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def itemsize(self) -> int:
        return np.dtype(_NUMPY_DTYPES.get(self.dtype, np.int8)).itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    @property
    def is_const(self) -> bool:
        return self.data is not None

    def describe(self) -> str:
        return f"{self.name or '#' + str(self.index)} {self.dtype}{list(self.shape)}"


@dataclass
class Op:
    index: int
    kind: str
    inputs: tuple[int, ...]  # -1 marks an omitted optional input
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    path: Path
    tensors: list[Tensor]
    ops: list[Op]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def t(self, index: int) -> Tensor:
        return self.tensors[index]

    def consumers(self, index: int) -> list[Op]:
        return [op for op in self.ops if index in op.inputs]

    def producer(self, index: int) -> Op | None:
        return next((op for op in self.ops if index in op.outputs), None)


def _options(lm: LoadedModel, kind: str, raw: Any) -> dict[str, Any]:
    """The op's builtin options as plain values (defaults when the file has none)."""
    get = (lambda name, default: getattr(raw, name, default)) if raw is not None else (
        lambda name, default: default)
    act = activation_name(int(get("fusedActivationFunction", 0)))
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        opts: dict[str, Any] = {"padding": "SAME" if int(get("padding", 0)) == 0 else "VALID",
                "stride": (int(get("strideH", 1)), int(get("strideW", 1))),
                "dilation": (int(get("dilationHFactor", 1)), int(get("dilationWFactor", 1))),
                "activation": act}
        if kind == "DEPTHWISE_CONV_2D":
            opts["depth_multiplier"] = int(get("depthMultiplier", 1))
        return opts
    if kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        return {"padding": "SAME" if int(get("padding", 0)) == 0 else "VALID",
                "stride": (int(get("strideH", 1)), int(get("strideW", 1))),
                "filter": (int(get("filterHeight", 1)), int(get("filterWidth", 1))),
                "activation": act}
    if kind == "FULLY_CONNECTED":
        return {"activation": act, "keep_num_dims": bool(get("keepNumDims", False)),
                "weights_format": int(get("weightsFormat", 0))}
    if kind in ("ADD", "MUL"):
        return {"activation": act}
    if kind == "CONCATENATION":
        return {"axis": int(get("axis", 0)), "activation": act}
    if kind == "SOFTMAX":
        return {"beta": float(np.float32(get("beta", 1.0)))}
    if kind == "MEAN":
        return {"keep_dims": bool(get("keepDims", False))}
    return {}


def _quant(t: Any) -> Quant | None:
    q = t.quantization
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    scales = tuple(float(np.float32(s)) for s in q.scale)
    zps = tuple(int(z) for z in q.zeroPoint) if q.zeroPoint is not None and len(q.zeroPoint) \
        else (0,) * len(scales)
    return Quant(scales, zps, int(q.quantizedDimension))


def _const_data(lm: LoadedModel, t: Any, dtype: str, shape: tuple[int, ...]) -> np.ndarray | None:
    raw = lm.buffer_bytes(t.buffer)
    if not raw:
        return None
    np_dtype = _NUMPY_DTYPES.get(dtype)
    if np_dtype is None:
        return np.frombuffer(raw, dtype=np.uint8).copy()
    arr = np.frombuffer(raw, dtype=np.dtype(np_dtype).newbyteorder("<")).astype(np_dtype)
    return arr.reshape(shape) if arr.size == int(np.prod(shape, dtype=np.int64)) else arr


def read_graph(path: str | Path) -> Graph:
    """The model as a Graph, or a TinymlError saying why the standalone runtime cannot run it."""
    lm = load_model(path)
    card = card_of(lm)
    if card.quantization != "full-integer":
        what = {"float": "a float32 model", "hybrid": "a hybrid (dynamic-range) model",
                "float16": "a float16 model"}.get(card.quantization, "not a full-integer model")
        raise TinymlError(
            f"{what}: the standalone runtime runs full-integer int8 models only — quantize first",
            lm.path,
            hint="tinyml quantize MODEL --data DATA converts it to full-integer int8 with a "
                 "representative dataset")
    if len(lm.model.subgraphs) != 1:
        raise TinymlError(f"the model has {len(lm.model.subgraphs)} subgraphs; the standalone "
                          "runtime runs single-subgraph models", lm.path, hint=TFLM_HINT)
    sg = lm.model.subgraphs[0]
    raw_ops = sg.operators or []
    kinds = [lm.opcode_name(op.opcodeIndex) for op in raw_ops]
    tensors = []
    for i, t in enumerate(sg.tensors or []):
        dtype = dtype_name(t.type)
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
        tensors.append(Tensor(i, text(t.name), shape, dtype, _quant(t),
                              _const_data(lm, t, dtype, shape)))
    ops = []
    for i, (op, kind) in enumerate(zip(raw_ops, kinds, strict=True)):
        ins = tuple(int(x) for x in (op.inputs if op.inputs is not None else []))
        outs = tuple(int(x) for x in (op.outputs if op.outputs is not None else []))
        ops.append(Op(i, kind, ins, outs, _options(lm, kind, op.builtinOptions)))
    return Graph(lm.path, tensors, ops, tuple(int(i) for i in sg.inputs),
                 tuple(int(o) for o in sg.outputs))
