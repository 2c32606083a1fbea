"""What the model workers are asked and what they answer: one frozen dataclass per request and
per result, carried as JSON by `runtime.worker`. Every field is filled by the parent, so the
workers never re-default a value (the defaults live in the tasks' signatures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

# --- the TensorFlow converter (convert_worker) ----------------------------------------------


@dataclass(frozen=True)
class ConvertRequest:
    """Convert a Keras model / SavedModel to one .tflite file per mode (float32 first)."""

    op: ClassVar[str] = "convert"
    model: str
    outputs: dict[str, str]  # mode → the .tflite file to write
    io: str  # "int8" or "float": the int8 model's input/output type
    target: str  # "mcu" fixes the batch to 1 (no SHAPE/PACK ops from Flatten)
    data: str | None
    label_column: str | None
    pixel_range: str
    samples: int  # calibration samples
    holdout: float  # fraction of labelled data kept out of calibration, to compare on
    seed: int
    per_tensor_dense: bool  # one scale per dense (FULLY_CONNECTED) weight tensor


@dataclass(frozen=True)
class ModeComparison:
    """A converted model against the float32 one, on the data."""

    top1_agreement: float
    max_abs_error: float  # in the output's real units
    accuracy: float | None  # against the labels, when the data has them


@dataclass(frozen=True)
class ConvertResult:
    files: dict[str, str]  # mode → .tflite written
    input_shape: list[int]
    calibration_samples: int
    compared_samples: int  # 0 when there was nothing to compare
    compared_held_out: bool  # compared on held-out rows (else on the calibration data)
    comparisons: dict[str, ModeComparison]  # per mode other than float32
    float_accuracy: float | None
    classes: tuple[str, ...] | None
    seconds: float


@dataclass(frozen=True)
class PredictRequest:
    """Run a Keras model on the samples of an .npy file; save its outputs as .npy."""

    op: ClassVar[str] = "predict"
    model: str
    inputs: str
    outputs: str


@dataclass(frozen=True)
class PredictResult:
    count: int


# --- TFLite Micro's interpreter (micro_worker) ------------------------------------------------


@dataclass(frozen=True)
class ArenaRequest:
    """The minimum arena, by bisection above `low` (a size seen to crash the interpreter)."""

    op: ClassVar[str] = "arena"
    model: str
    low: int


@dataclass(frozen=True)
class ArenaResult:
    arena_bytes: int | None  # None: the interpreter lacks kernels (missing_ops)
    missing_ops: tuple[str, ...]
    recorded_total: int | None = None
    head_bytes: int | None = None
    tail_bytes: int | None = None


@dataclass(frozen=True)
class RunRequest:
    """Run every sample (one .npy per model input, samples first, in the inputs' dtypes)."""

    op: ClassVar[str] = "run"
    model: str
    inputs: list[str]
    outputs: str  # .npy written: output 0 per sample, or every output as float64
    arena: int
    all_outputs: bool
    output_count: int


@dataclass(frozen=True)
class RunResult:
    count: int
    ns_per_invoke: float


@dataclass(frozen=True)
class LayerErrorRequest:
    """Run an int8 model and its float reference side by side, keeping every intermediate
    tensor, and measure each int8 layer's output against the float one."""

    op: ClassVar[str] = "layer_errors"
    model: str  # the int8 .tflite
    reference: str  # the float model: .tflite, .keras/.h5 or a SavedModel folder
    inputs: str  # .npy of real-valued samples


@dataclass(frozen=True)
class LayerError:
    op_index: int  # in the int8 model's subgraph
    tensor: str  # its output tensor's name
    rmse: float  # in the tensor's real units
    rmse_steps: float  # the same, in steps of the int8 tensor's scale
    cosine: float  # cosine similarity of the int8 and float outputs, over all samples
    matched: str  # how the float tensor was found: "name" or "order"


@dataclass(frozen=True)
class LayerErrorResult:
    samples: int
    layers: tuple[LayerError, ...]
    unmatched: tuple[int, ...]  # int8 ops with no float counterpart
