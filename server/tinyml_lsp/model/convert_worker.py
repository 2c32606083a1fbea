"""Worker: TensorFlow's converter, in a child process (importing TensorFlow costs ~3 s, 600 MB).

Requests (one JSON line on stdin):

- {"op": "convert", "model": PATH, "out_dir": DIR, "modes": ["float32", "int8"], "io": "int8",
   "target": "mcu", "data": PATH?, "label_column": NAME?, "pixel_range": "0-255",
   "samples": 300}
  → writes <stem>_float32.tflite / <stem>_int8.tflite (or _dynamic / _float16) and measures,
  on the data, how often the int8 model's top-1 agrees with the float model's.
- {"op": "predict", "model": PATH, "inputs": NPY, "outputs": NPY} → the Keras model's outputs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.jobs import WorkerChannel, worker_main
from tinyml_lsp.model.datasets import calibration_sample, dequantize, load_dataset, quantize

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
EVAL_LIMIT = 5000  # samples compared float vs int8 inside the converter; verify does the rest


class LoadedKeras:
    """A Keras model or a SavedModel, with what the converter and the data reader need."""

    def __init__(self, tf: Any, path: Path):
        self.tf = tf
        self.path = path
        self.keras_model = None
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


def convert(request: dict[str, Any], channel: WorkerChannel) -> dict[str, Any]:
    t0 = time.perf_counter()
    model_path = Path(request["model"])
    out_dir = Path(request["out_dir"])
    modes: list[str] = request.get("modes", ["float32", "int8"])
    io_type = request.get("io", "int8")
    tf = _import_tensorflow(channel)
    channel.progress(0.25, f"loading {model_path.name}")
    m = LoadedKeras(tf, model_path)
    channel.log(f"model input shape {m.input_shape}")

    ds = None
    if request.get("data"):
        channel.progress(0.32, "reading the representative dataset")
        ds = load_dataset(request["data"], m.input_shape, label_column=request.get("label_column"),
                          pixel_range=request.get("pixel_range", "0-255"))
        channel.log(f"dataset: {len(ds)} samples of shape {tuple(ds.x.shape[1:])}"
                    + (f", classes {', '.join(ds.classes)}" if ds.classes else ""))
    if "int8" in modes and ds is None:
        raise TinymlError("full-integer quantization needs a representative dataset", model_path,
                          hint="pass --data with a .npy/.npz/.csv file or an image folder")

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = model_path.stem if model_path.is_file() else model_path.name
    written: dict[str, str] = {}
    blobs: dict[str, bytes] = {}
    step = 0.55 / max(len(modes), 1)
    for i, mode in enumerate(modes):
        channel.progress(0.4 + i * step, f"converting to {mode}")
        conv = m.converter(batch_one=request.get("target", "mcu") == "mcu")
        if mode == "int8":
            calib = calibration_sample(ds, int(request.get("samples", 300)))
            channel.log(f"calibrating with {len(calib)} representative samples")

            def representative(calib: np.ndarray = calib):
                for j in range(len(calib)):
                    yield [calib[j:j + 1]]

            conv.optimizations = [tf.lite.Optimize.DEFAULT]
            conv.representative_dataset = representative
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            if io_type == "int8":
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
        target = out_dir / f"{stem}_{mode}.tflite"
        target.write_bytes(blob)
        written[mode] = str(target)
        blobs[mode] = blob
        channel.log(f"wrote {target} ({len(blob):,} bytes)")

    comparison = None
    if ds is not None and "float32" in blobs and len(blobs) > 1:
        channel.progress(0.95, "comparing the quantized model with the float model")
        x = ds.x[:EVAL_LIMIT]
        ref = _run_tflite(tf, blobs["float32"], x)
        comparison = {"samples": len(x)}
        for mode, blob in blobs.items():
            if mode == "float32":
                continue
            y = _run_tflite(tf, blob, x)
            comparison[mode] = {
                "top1_agreement": float(np.mean(y.argmax(1) == ref.argmax(1))),
                "max_abs_error": float(np.max(np.abs(y - ref))),
            }
            if ds.y is not None:
                comparison[mode]["accuracy"] = float(np.mean(y.argmax(1) == ds.y[:EVAL_LIMIT]))
        if ds.y is not None:
            comparison["float32_accuracy"] = float(np.mean(ref.argmax(1) == ds.y[:EVAL_LIMIT]))
    return {"files": written, "input_shape": m.input_shape, "comparison": comparison,
            "classes": list(ds.classes) if ds is not None and ds.classes else None,
            "seconds": time.perf_counter() - t0}


def predict(request: dict[str, Any], channel: WorkerChannel) -> dict[str, Any]:
    tf = _import_tensorflow(channel)
    m = LoadedKeras(tf, Path(request["model"]))
    x = np.load(request["inputs"])
    channel.progress(0.5, f"running the Keras model on {len(x)} samples")
    np.save(request["outputs"], m.predict(x.reshape(len(x), *m.input_shape[1:])))
    return {"count": len(x)}


def handle(request: dict[str, Any], channel: WorkerChannel) -> dict[str, Any]:
    return {"convert": convert, "predict": predict}[request["op"]](request, channel)


if __name__ == "__main__":
    raise SystemExit(worker_main(handle))
