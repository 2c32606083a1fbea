"""Read a .tflite flatbuffer into the schema's object API, with errors a user can act on
(`structure` checks what the model says before anything uses it).

The schema classes come from the `tflite-micro` package (the interpreter we target), so this
module never imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from tinyml_lsp.errors import TinymlError, require_file

FILE_IDENTIFIER = b"TFL3"
# a model for a microcontroller is far smaller; flatbuffers cannot exceed 2 GiB anyway
MAX_MODEL_BYTES = 512 * 1024 * 1024


@cache
def schema() -> ModuleType:
    """The generated TFLite flatbuffer schema (imported on first use: it loads numpy)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated

    return schema_py_generated


@cache
def _enum_names(enum_name: str) -> dict[int, str]:
    enum = getattr(schema(), enum_name)
    return {v: k for k, v in vars(enum).items() if not k.startswith("_") and isinstance(v, int)}


def op_name(code: int) -> str:
    return _enum_names("BuiltinOperator").get(code, f"BUILTIN_{code}")


def dtype_name(code: int) -> str:
    return _enum_names("TensorType").get(code, f"TYPE_{code}").lower()


def activation_name(code: int) -> str:
    return _enum_names("ActivationFunctionType").get(code, f"ACT_{code}")


@dataclass(frozen=True)
class LoadedModel:
    path: Path
    data: bytes
    model: Any  # schema().ModelT

    def buffer_bytes(self, index: int) -> bytes:
        """The raw bytes of buffer `index` (empty for activations)."""
        buffers = self.model.buffers or []
        if index <= 0 or index >= len(buffers):
            return b""
        buf = buffers[index]
        if buf.data is not None and len(buf.data):
            # numpy array when numpy is importable (flatbuffers' fast path), else a list
            return buf.data.tobytes() if hasattr(buf.data, "tobytes") else bytes(buf.data)
        if buf.offset > 1 and buf.size:  # models over 2 GB keep buffers after the flatbuffer
            return self.data[buf.offset : buf.offset + buf.size]
        return b""

    def buffer_size(self, index: int) -> int:
        buffers = self.model.buffers or []
        if index <= 0 or index >= len(buffers):
            return 0
        buf = buffers[index]
        if buf.data is not None and len(buf.data):
            return len(buf.data)
        return buf.size if buf.offset > 1 else 0

    def opcode_name(self, opcode_index: int) -> str:
        oc = self.model.operatorCodes[opcode_index]
        if oc.customCode:
            name = oc.customCode
            return name.decode() if isinstance(name, bytes) else str(name)
        # Since schema v3a the real code is in builtinCode; old files only set the deprecated one.
        return op_name(max(oc.builtinCode, oc.deprecatedBuiltinCode))


def _describe_header(data: bytes) -> str:
    if not data:
        return "the file is empty"
    try:
        text = data[:512].decode("utf-8")
    except UnicodeDecodeError:  # may also be a multi-byte character cut at 512: not text enough
        text = ""
    if text and all(c.isprintable() or c.isspace() for c in text):
        return "this is a text file, not a TFLite flatbuffer"
    return "not a TFLite model: the file lacks the TFL3 identifier of a TFLite flatbuffer"


def text(value: Any) -> str:
    """A name from the flatbuffer as text, whatever bytes it holds."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value or ""


def read_model(path: str | Path) -> LoadedModel:
    """Read and parse a .tflite file, with its indices checked; any problem becomes a
    TinymlError naming the file. (`structure.load_model` checks the rest.)"""
    p = require_file(path, "model file", limit=MAX_MODEL_BYTES)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise TinymlError(f"cannot read the model: {exc.strerror}", p) from exc
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        raise TinymlError(_describe_header(data), p)
    try:
        model = schema().ModelT.InitFromPackedBuf(data, 0)
    except Exception as exc:  # the flatbuffers runtime raises whatever a bad offset causes
        raise TinymlError(
            f"the model file is truncated or corrupt: its flatbuffer points outside the file "
            f"({len(data):,} bytes)", p, hint="copy or export the model again") from exc
    if not model.subgraphs or model.operatorCodes is None:
        raise TinymlError("the model has no subgraphs or no operator codes", p)
    try:
        _check_indices(model)
    except (IndexError, TypeError) as exc:
        raise TinymlError("the model file is corrupt (an index points outside the model)", p) \
            from exc
    return LoadedModel(p, data, model)


def _check_indices(model: Any) -> None:
    n_codes = len(model.operatorCodes)
    n_buffers = len(model.buffers or [])
    for sg in model.subgraphs:
        tensors = sg.tensors or []
        for t in tensors:
            if t.buffer < 0 or t.buffer >= max(n_buffers, 1):
                raise IndexError("buffer")
        for op in sg.operators or []:
            if not 0 <= op.opcodeIndex < n_codes:
                raise IndexError("opcode")
            for i in list(op.inputs if op.inputs is not None else []) + list(
                op.outputs if op.outputs is not None else []
            ):
                if i >= len(tensors) or i < -1:
                    raise IndexError("tensor")
        for i in list(sg.inputs if sg.inputs is not None else []) + list(
            sg.outputs if sg.outputs is not None else []
        ):
            if not 0 <= i < len(tensors):
                raise IndexError("io tensor")
