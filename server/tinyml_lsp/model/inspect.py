"""The model card: facts about a .tflite file read from its flatbuffer, no TensorFlow."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tinyml_lsp.model.structure import load_model
from tinyml_lsp.model.tflite_file import LoadedModel, dtype_name, text

# Ops that only move data between float and integer domains; they do not make a model float.
_CONVERSION_OPS = {"QUANTIZE", "DEQUANTIZE"}
_QUANTIZED_WEIGHT_DTYPES = {"int8", "uint8", "int4"}
_INTEGER_DTYPES = {"int8", "uint8", "int16", "int32", "int64", "bool"}
_PASS_THROUGH_OPS = {"QUANTIZE", "DEQUANTIZE", "RESHAPE"}
# what a model's output means: a classifier, a few real values, an autoencoder's
# reconstruction (scored by its error), or tensors printed as they are
OUTPUT_KINDS = ("class", "value", "anomaly", "raw")
MAX_VALUES = 16  # a "value" output has at most this many elements
OUTPUT_MEANINGS = {"class": "a classifier", "value": "values (regression)",
                   "anomaly": "a reconstruction of the input (autoencoder)"}
HYBRID_REFUSAL = (
    "a hybrid (dynamic-range) model — int8 weights, float activations — which TFLite Micro "
    "cannot run: quantize to full-integer int8 from the Keras/SavedModel source "
    "(tinyml quantize MODEL.keras --data DATA)")


@dataclass(frozen=True)
class TensorCard:
    name: str
    shape: tuple[int, ...]
    dtype: str
    # Per-tensor quantization as (scale, zero_point); per-channel tensors keep their axis.
    scale: float | None = None
    zero_point: int | None = None
    channels: int = 0  # > 0: per-channel quantization with this many scales
    axis: int | None = None

    @property
    def quantized(self) -> bool:
        return self.scale is not None

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= max(d, 1)
        return n

    def describe(self) -> str:
        shape = "×".join(str(d) for d in self.shape) or "scalar"
        text = f"{self.name}: {self.dtype}[{shape}]"
        if self.channels:
            text += f" per-channel ({self.channels} scales, axis {self.axis})"
        elif self.quantized:
            text += f" scale={self.scale:.6g} zero_point={self.zero_point}"
        return text


@dataclass(frozen=True)
class OpCard:
    name: str
    version: int
    count: int
    custom: bool = False


@dataclass(frozen=True)
class SubgraphCard:
    name: str
    tensors: int
    operators: int
    inputs: tuple[TensorCard, ...]
    outputs: tuple[TensorCard, ...]


@dataclass(frozen=True)
class ModelCard:
    path: str
    size_bytes: int
    schema_version: int
    description: str
    quantization: str  # "full-integer", "float", "hybrid" or "float16"
    ops: tuple[OpCard, ...]
    inputs: tuple[TensorCard, ...]
    outputs: tuple[TensorCard, ...]
    subgraphs: tuple[SubgraphCard, ...]
    weight_bytes: int
    macs: int  # multiply-accumulates per inference in CONV/DEPTHWISE/FULLY_CONNECTED
    # the op computing each output, looking through QUANTIZE/DEQUANTIZE/RESHAPE ("" if none)
    output_ops: tuple[str, ...] = ()

    @property
    def op_names(self) -> list[str]:
        return sorted({op.name for op in self.ops})

    def output_kind(self, labels: tuple[str, ...] | None = None) -> str:
        """What the output means, for the firmware's line and the monitor (OUTPUT_KINDS)."""
        if len(self.outputs) != 1:
            return "raw"
        size = self.outputs[0].size
        if size >= 2 and (self.output_ops[:1] in (("SOFTMAX",), ("LOGISTIC",))
                          or (labels is not None and len(labels) == size)):
            return "class"
        if len(self.inputs) == 1 and size > 1 and size == self.inputs[0].size:
            return "anomaly"  # an autoencoder: its output reconstructs its input
        return "value" if size <= MAX_VALUES else "raw"

    @property
    def full_integer(self) -> bool:
        return self.quantization == "full-integer"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["op_names"] = self.op_names
        return data


def inspect_model(path: str | Path) -> ModelCard:
    return card_of(load_model(path))


def _tensor_card(lm: LoadedModel, tensor: Any) -> TensorCard:
    name = text(tensor.name)
    shape = tuple(int(d) for d in (tensor.shape if tensor.shape is not None else []))
    q = tensor.quantization
    scales = list(q.scale) if q is not None and q.scale is not None else []
    zps = list(q.zeroPoint) if q is not None and q.zeroPoint is not None else []
    if len(scales) > 1:
        return TensorCard(name, shape, dtype_name(tensor.type), channels=len(scales),
                          axis=int(q.quantizedDimension))
    if len(scales) == 1:
        return TensorCard(name, shape, dtype_name(tensor.type), float(scales[0]),
                          int(zps[0]) if zps else 0)
    return TensorCard(name, shape, dtype_name(tensor.type))


def _is_constant(lm: LoadedModel, tensor: Any) -> bool:
    return lm.buffer_size(tensor.buffer) > 0


def _classify(lm: LoadedModel) -> str:
    """Full-integer, float, hybrid (dynamic-range) or float16, from what the ops compute on."""
    float_compute = False
    hybrid = False
    float16 = False
    for sg in lm.model.subgraphs:
        tensors = sg.tensors or []
        for op in sg.operators or []:
            name = lm.opcode_name(op.opcodeIndex)
            ins = [tensors[i] for i in (op.inputs if op.inputs is not None else []) if i >= 0]
            outs = [tensors[i] for i in (op.outputs if op.outputs is not None else []) if i >= 0]
            if name == "DEQUANTIZE" and ins and dtype_name(ins[0].type) == "float16":
                float16 = True
            if name in _CONVERSION_OPS:
                continue
            activations = [t for t in ins if not _is_constant(lm, t)] + outs
            if any(dtype_name(t.type) == "float32" for t in activations):
                float_compute = True
                if any(_is_constant(lm, t) and dtype_name(t.type) in _QUANTIZED_WEIGHT_DTYPES
                       for t in ins):
                    hybrid = True
    if hybrid:
        return "hybrid"
    if float16:
        return "float16"
    return "float" if float_compute else "full-integer"


def op_macs(lm: LoadedModel, tensors: list[Any], op: Any) -> int:
    """Multiply-accumulates of one CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (0 for others)."""
    name = lm.opcode_name(op.opcodeIndex)
    if name not in {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}:
        return 0
    try:
        out_shape = list(tensors[op.outputs[0]].shape)
        w_shape = list(tensors[op.inputs[1]].shape)
    except (IndexError, TypeError):
        return 0
    out_elems = 1
    for d in out_shape:
        out_elems *= max(int(d), 1)
    if name == "CONV_2D":  # weights [out_c, kh, kw, in_c]
        return out_elems * int(w_shape[1]) * int(w_shape[2]) * int(w_shape[3])
    if name == "DEPTHWISE_CONV_2D":  # weights [1, kh, kw, out_c]
        return out_elems * int(w_shape[1]) * int(w_shape[2])
    return out_elems * int(w_shape[-1])  # weights [units, in_features]


def op_weight_bytes(lm: LoadedModel, tensors: list[Any], op: Any) -> int:
    """Bytes of the constant inputs of one op (weights, biases, parameters)."""
    inputs = [int(i) for i in (op.inputs if op.inputs is not None else []) if i >= 0]
    return sum(lm.buffer_size(tensors[i].buffer) for i in inputs)


def _macs(lm: LoadedModel) -> int:
    return sum(op_macs(lm, sg.tensors or [], op) for sg in lm.model.subgraphs
               for op in sg.operators or [])


def card_of(lm: LoadedModel) -> ModelCard:
    m = lm.model
    op_counts: dict[tuple[str, int, bool], int] = {}
    subgraphs = []
    weight_bytes = 0
    for sg in m.subgraphs:
        tensors = sg.tensors or []
        for op in sg.operators or []:
            oc = m.operatorCodes[op.opcodeIndex]
            key = (lm.opcode_name(op.opcodeIndex), int(oc.version), bool(oc.customCode))
            op_counts[key] = op_counts.get(key, 0) + 1
        name = text(sg.name)
        subgraphs.append(SubgraphCard(
            name=name,
            tensors=len(tensors),
            operators=len(sg.operators or []),
            inputs=tuple(_tensor_card(lm, tensors[i]) for i in sg.inputs),
            outputs=tuple(_tensor_card(lm, tensors[i]) for i in sg.outputs),
        ))
    # Weights are the constant buffers; count each buffer once even if tensors share it.
    used = {t.buffer for sg in m.subgraphs for t in (sg.tensors or [])}
    weight_bytes = sum(lm.buffer_size(b) for b in used)
    desc = text(m.description)
    ops = tuple(OpCard(n, v, c, custom) for (n, v, custom), c in sorted(op_counts.items()))
    return ModelCard(
        path=str(lm.path),
        size_bytes=len(lm.data),
        schema_version=int(m.version),
        description=desc,
        quantization=_classify(lm),
        ops=ops,
        inputs=subgraphs[0].inputs,
        outputs=subgraphs[0].outputs,
        subgraphs=tuple(subgraphs),
        weight_bytes=weight_bytes,
        macs=_macs(lm),
        output_ops=_output_ops(lm),
    )


def _output_ops(lm: LoadedModel) -> tuple[str, ...]:
    sg = lm.model.subgraphs[0]
    producer = {int(o): op for op in sg.operators or [] for o in (op.outputs if op.outputs
                                                                   is not None else [])}
    found = []
    for tensor in sg.outputs:
        name, seen = "", 0
        op = producer.get(int(tensor))
        while op is not None and seen < 16:
            name = lm.opcode_name(op.opcodeIndex)
            if name not in _PASS_THROUGH_OPS or op.inputs is None or not len(op.inputs):
                break
            op, seen = producer.get(int(op.inputs[0])), seen + 1
        found.append(name)
    return tuple(found)


def render_card(card: ModelCard) -> str:
    """The human model card (CLI output, hover text and report sections render this)."""
    io = sorted({t.dtype for t in (*card.inputs, *card.outputs)})
    kind = {
        "full-integer": "full-integer (int8" + ("" if io == ["int8"] else
                                                f" inside, {'/'.join(io)} input/output")
                        + ") — runs on TFLite Micro",
        "float": "float32",
        "hybrid": "hybrid / dynamic-range (int8 weights, float activations) — TFLite Micro "
                  "cannot run it",
        "float16": "float16 weights (dequantized to float32 at run time)",
    }[card.quantization]
    lines = [
        f"model        {card.path}",
        f"size         {card.size_bytes:,} bytes (weights {card.weight_bytes:,} bytes)",
        f"quantization {kind}",
        f"subgraphs    {len(card.subgraphs)}"
        + (f" ({', '.join(s.name or '?' for s in card.subgraphs)})" if len(card.subgraphs) > 1
           else ""),
        f"MACs         {card.macs:,} per inference (conv, depthwise, fully connected)",
        "ops",
    ]
    lines += [f"  {op.name:<28} v{op.version}  ×{op.count}" + ("  (custom)" if op.custom else "")
              for op in card.ops]
    lines.append("inputs")
    lines += [f"  {t.describe()}" for t in card.inputs]
    lines.append("outputs" + (f" ({OUTPUT_MEANINGS[kind]})"
                              if (kind := card.output_kind()) in OUTPUT_MEANINGS else ""))
    lines += [f"  {t.describe()}" for t in card.outputs]
    return "\n".join(lines)
