"""Worker: TensorFlow's converter, in a child process (importing TensorFlow costs ~3 s, 600 MB).

Requests (`messages`): `ConvertRequest` writes one .tflite per mode (float32 and int8, or
dynamic / float16) and measures, on the data, how often each converted model's top-1 agrees
with the float model's; `PredictRequest` runs the Keras model itself on samples.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.datasets import (
    calibration_sample,
    dequantize,
    load_dataset,
    quantize,
    split,
    subset,
)
from tinyml_lsp.model.formats import KERAS_SUFFIXES
from tinyml_lsp.model.messages import (
    ConvertRequest,
    ConvertResult,
    LayerError,
    LayerErrorRequest,
    LayerErrorResult,
    ModeComparison,
    PredictRequest,
    PredictResult,
)
from tinyml_lsp.runtime.worker import WorkerChannel, worker_main

EVAL_LIMIT = 5000  # samples compared float vs int8 inside the converter; verify does the rest


class LoadedKeras:
    """A Keras model or a SavedModel, with what the converter and the data reader need."""

    def __init__(self, tf: Any, path: Path):
        self.tf = tf
        self.path = path
        self.keras_model: Any = None
        if path.is_dir():
            if not (path / "saved_model.pb").exists():
                raise TinymlError("this folder is not a SavedModel (no saved_model.pb)", path)
            try:
                loaded = tf.saved_model.load(str(path))
                fn = loaded.signatures["serving_default"]
            except Exception as exc:
                raise TinymlError(f"cannot load the SavedModel: {_first_line(exc)}", path) \
                    from exc
            specs = fn.structured_input_signature[1]
            name, spec = next(iter(specs.items()))
            self.input_shape = [d if d is not None else -1 for d in spec.shape.as_list()]
            self.n_inputs = len(specs)
            self._predict = lambda x: next(iter(fn(**{name: tf.constant(x)}).values()))
        else:
            if path.suffix.lower() not in KERAS_SUFFIXES:
                raise TinymlError(
                    f"unknown model format {path.suffix or '(no extension)'!r}", path,
                    hint="quantize takes a Keras model (.keras, .h5) or a SavedModel folder")
            import keras

            try:
                self.keras_model = keras.models.load_model(str(path), compile=False)
            except Exception as exc:
                raise TinymlError(f"not a Keras model: {_first_line(exc)}", path) from exc
            if not hasattr(self.keras_model, "inputs") or not self.keras_model.inputs:
                raise TinymlError("the Keras model has no defined inputs (build it or give "
                                  "it a keras.Input before saving)", path)
            self.n_inputs = len(self.keras_model.inputs)
            shape = self.keras_model.inputs[0].shape
            self.input_shape = [d if d is not None else -1 for d in shape]
            self._predict = lambda x: self.keras_model(x, training=False)
        if self.n_inputs != 1:
            raise TinymlError(f"the model has {self.n_inputs} inputs; quantize handles models "
                              "with one input", path)
        if any(d == -1 for d in self.input_shape[1:]):
            raise TinymlError(
                f"the model's input shape {self.input_shape} has unknown dimensions besides the "
                "batch; microcontrollers need a fixed input shape", path,
                hint="give the model a fixed keras.Input(shape=...)")

    def converter(self, batch_one: bool) -> Any:
        """A TFLite converter; `batch_one` fixes the batch dimension to 1.

        A dynamic batch makes the converter emit SHAPE / STRIDED_SLICE / PACK ops around every
        Flatten, which a microcontroller neither needs nor (in most runtimes) supports.
        """
        tf = self.tf
        if self.keras_model is None:
            return tf.lite.TFLiteConverter.from_saved_model(str(self.path))
        model = self.keras_model
        if batch_one and self.input_shape[0] != 1:
            import keras

            inp = keras.Input(batch_shape=(1, *self.input_shape[1:]), name="input")
            model = keras.Model(inp, self.keras_model(inp))
        return tf.lite.TFLiteConverter.from_keras_model(model)

    def predict(self, x: np.ndarray, batch: int = 256) -> np.ndarray:
        outs = [np.asarray(self._predict(x[i:i + batch])) for i in range(0, len(x), batch)]
        return np.concatenate(outs).reshape(len(x), -1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _import_tensorflow(channel: WorkerChannel) -> Any:
    channel.progress(0.02, "loading TensorFlow")
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise TinymlError("TensorFlow is not installed in this Python environment",
                          hint="pip install 'tinyml-lsp[tf]' (or tensorflow-cpu)") from exc
    return tf


def _run_tflite(tf: Any, model: bytes, x: np.ndarray) -> np.ndarray:
    """Output 0 per sample, dequantized when the model's output is integer."""
    interp = tf.lite.Interpreter(model_content=model)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    scale, zp = inp["quantization"]
    feed = quantize(x, scale, zp, inp["dtype"].__name__) if inp["dtype"] != np.float32 else x
    results = []
    for sample in feed:
        interp.set_tensor(inp["index"], sample[None].astype(inp["dtype"]))
        interp.invoke()
        results.append(interp.get_tensor(out["index"]).reshape(-1))
    y = np.stack(results)
    if out["dtype"] != np.float32:
        y = dequantize(y, *out["quantization"])
    return y


def convert(request: ConvertRequest, channel: WorkerChannel) -> ConvertResult:
    t0 = time.perf_counter()
    model_path = Path(request.model)
    modes = list(request.outputs)
    tf = _import_tensorflow(channel)
    channel.progress(0.25, f"loading {model_path.name}")
    m = LoadedKeras(tf, model_path)
    channel.log(f"model input shape {m.input_shape}")

    ds = None
    if request.data:
        channel.progress(0.32, "reading the representative dataset")
        ds = load_dataset(request.data, m.input_shape, label_column=request.label_column,
                          pixel_range=request.pixel_range)
        channel.log(f"dataset: {len(ds)} samples of shape {tuple(ds.x.shape[1:])}"
                    + (f", classes {', '.join(ds.classes)}" if ds.classes else ""))
        for note in ds.notes:
            channel.log(note)
    if "int8" in modes and ds is None:
        raise TinymlError("full-integer quantization needs a representative dataset", model_path,
                          hint="pass --data with a .npy/.npz/.csv file or an image folder")

    calibration, compare, held_out = ds, ds, False
    if ds is not None and ds.y is not None and request.holdout > 0:
        kept, held = split(ds, request.holdout, request.seed)
        if len(held) and len(kept):
            calibration, compare, held_out = subset(ds, kept), subset(ds, held), True
            channel.log(f"holding out {len(held)} of {len(ds)} samples "
                        f"({100 * request.holdout:g}% of each class, seed {request.seed}) to "
                        "measure the quantized model on data it was not calibrated with")
    blobs: dict[str, bytes] = {}
    step = 0.55 / max(len(modes), 1)
    for i, mode in enumerate(modes):
        channel.progress(0.4 + i * step, f"converting to {mode}")
        conv = m.converter(batch_one=request.target == "mcu")
        if mode == "int8":
            assert calibration is not None
            calib = calibration_sample(calibration, request.samples, request.seed)
            channel.log(f"calibrating with {len(calib)} representative samples")

            def representative(calib: np.ndarray = calib) -> Iterator[list[np.ndarray]]:
                for j in range(len(calib)):
                    yield [calib[j:j + 1]]

            conv.optimizations = [tf.lite.Optimize.DEFAULT]
            conv.representative_dataset = representative
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            # older TFLite Micro releases (the pinned Arduino library) quantize FULLY_CONNECTED
            # per tensor only; newer converters give Dense layers one scale per channel
            conv._experimental_disable_per_channel_quantization_for_dense_layers = (
                request.per_tensor_dense)
            if request.io == "int8":
                conv.inference_input_type = tf.int8
                conv.inference_output_type = tf.int8
        elif mode == "dynamic":
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
        elif mode == "float16":
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
            conv.target_spec.supported_types = [tf.float16]
        try:
            blob = conv.convert()
        except Exception as exc:
            raise TinymlError(f"TensorFlow could not convert the model to {mode}: "
                              f"{_first_line(exc)}", model_path,
                              hint="ops outside TFLite's int8 builtins cannot be fully "
                              "quantized" if mode == "int8" else None) from exc
        target = Path(request.outputs[mode])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)
        blobs[mode] = blob
        channel.log(f"converted to {mode}: {len(blob):,} bytes")

    compared = 0
    comparisons: dict[str, ModeComparison] = {}
    float_accuracy = None
    if compare is not None and "float32" in blobs and len(blobs) > 1:
        channel.progress(0.95, "comparing the quantized model with the float model")
        x = compare.x[:EVAL_LIMIT]
        labels = compare.y[:EVAL_LIMIT] if compare.y is not None else None
        ref = _run_tflite(tf, blobs["float32"], x)
        compared = len(x)
        for mode, blob in blobs.items():
            if mode == "float32":
                continue
            y = _run_tflite(tf, blob, x)
            comparisons[mode] = ModeComparison(
                top1_agreement=float(np.mean(y.argmax(1) == ref.argmax(1))),
                max_abs_error=float(np.max(np.abs(y - ref))),
                accuracy=float(np.mean(y.argmax(1) == labels)) if labels is not None else None)
        if labels is not None:
            float_accuracy = float(np.mean(ref.argmax(1) == labels))
    return ConvertResult(
        files=dict(request.outputs), input_shape=[int(d) for d in m.input_shape],
        calibration_samples=min(len(calibration), request.samples) if calibration else 0,
        compared_samples=compared, compared_held_out=held_out, comparisons=comparisons,
        float_accuracy=float_accuracy,
        classes=tuple(ds.classes) if ds is not None and ds.classes else None,
        seconds=time.perf_counter() - t0)


def predict(request: PredictRequest, channel: WorkerChannel) -> PredictResult:
    tf = _import_tensorflow(channel)
    m = LoadedKeras(tf, Path(request.model))
    x = np.load(request.inputs)
    channel.progress(0.5, f"running the Keras model on {len(x)} samples")
    np.save(request.outputs, m.predict(x.reshape(len(x), *m.input_shape[1:])))
    return PredictResult(count=len(x))


_BOUNDARY_OPS = ("QUANTIZE", "DEQUANTIZE")


def layer_errors(request: LayerErrorRequest, channel: WorkerChannel) -> LayerErrorResult:
    """Each int8 op's output, dequantized, against the float model's same tensor: found by
    name (the converter keeps the graph's names), else as the same op kind at the same rank
    in op order with the same shape."""
    tf = _import_tensorflow(channel)
    reference = Path(request.reference)
    if reference.suffix.lower() == ".tflite":
        float_blob = reference.read_bytes()
    else:
        channel.progress(0.1, f"converting {reference.name} to a float TFLite model")
        float_blob = LoadedKeras(tf, reference).converter(batch_one=True).convert()
    try:
        q = tf.lite.Interpreter(model_path=request.model, experimental_preserve_all_tensors=True)
        f = tf.lite.Interpreter(model_content=float_blob, experimental_preserve_all_tensors=True)
        q.allocate_tensors()
        f.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise TinymlError(f"TensorFlow Lite cannot run the models side by side: "
                          f"{_first_line(exc)}", request.model) from None
    q_ops = [op for op in q._get_ops_details() if op["op_name"] not in _BOUNDARY_OPS]
    f_ops = [op for op in f._get_ops_details() if op["op_name"] not in _BOUNDARY_OPS]
    q_tensors = {d["index"]: d for d in q.get_tensor_details()}
    f_tensors = {d["index"]: d for d in f.get_tensor_details()}
    f_by_name = {d["name"]: d for d in f_tensors.values()}
    pairs: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]] = []
    unmatched = []
    for rank, op in enumerate(q_ops):
        out = q_tensors[op["outputs"][0]]
        ref = f_by_name.get(out["name"])
        how = "name"
        if ref is None or tuple(ref["shape"]) != tuple(out["shape"]):
            same = [o for o in f_ops if o["op_name"] == op["op_name"]]
            nth = sum(o["op_name"] == op["op_name"] for o in q_ops[:rank])
            ref = f_tensors[same[nth]["outputs"][0]] if nth < len(same) else None
            how = "order"
        if ref is None or tuple(ref["shape"]) != tuple(out["shape"]) or \
                not out["quantization"][0]:
            unmatched.append(int(op["index"]))
            continue
        pairs.append((op, out, ref, how))
    x = np.load(request.inputs)
    q_in, f_in = q.get_input_details()[0], f.get_input_details()[0]
    sums = np.zeros((len(pairs), 4))  # squared error, q·f, q·q, f·f
    count = np.zeros(len(pairs))
    for n, sample in enumerate(x):
        feed = sample[None]
        if q_in["dtype"] != np.float32:
            scale, zero_point = q_in["quantization"]
            feed = quantize(feed, scale, zero_point, q_in["dtype"].__name__)
        q.set_tensor(q_in["index"], feed.astype(q_in["dtype"]).reshape(q_in["shape"]))
        f.set_tensor(f_in["index"], sample[None].astype(np.float32).reshape(f_in["shape"]))
        q.invoke()
        f.invoke()
        for k, (_op, out, ref, _how) in enumerate(pairs):
            got = dequantize(q.get_tensor(out["index"]), *out["quantization"]).reshape(-1)
            want = f.get_tensor(ref["index"]).astype(np.float64).reshape(-1)
            sums[k] += [np.sum((got - want) ** 2), got @ want, got @ got, want @ want]
            count[k] += got.size
        if n % 16 == 0:
            channel.progress(0.2 + 0.8 * n / len(x), f"layer outputs: {n + 1}/{len(x)} samples")
    layers = []
    for k, (op, out, _ref, how) in enumerate(pairs):
        rmse = float(np.sqrt(sums[k, 0] / max(count[k], 1)))
        norm = np.sqrt(sums[k, 2] * sums[k, 3])
        layers.append(LayerError(
            op_index=int(op["index"]), tensor=str(out["name"]), rmse=rmse,
            rmse_steps=rmse / float(out["quantization"][0]),
            cosine=float(sums[k, 1] / norm) if norm > 0 else 1.0, matched=how))
    return LayerErrorResult(samples=len(x), layers=tuple(layers), unmatched=tuple(unmatched))


if __name__ == "__main__":
    raise SystemExit(worker_main({ConvertRequest: convert, PredictRequest: predict,
                                  LayerErrorRequest: layer_errors}))
