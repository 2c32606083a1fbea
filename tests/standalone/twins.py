"""Benchmark twins: the MLPerf Tiny reference architectures, built with Keras (random weights,
batch-norm statistics drawn at random so the folded layers are not identities) and quantized
to full-integer int8 with a seeded random representative set.

Same layer shapes as the published reference models (mlcommons/tiny, v1.x), so instruction
counts transfer; the weights are not trained, so outputs mean nothing. Building needs
TensorFlow (~1 min); `twin_models()` builds them in a child process once and caches the .tflite
files under .state/twins/<key>/, the key hashing this file and the TensorFlow version.

    python -m tests.standalone.twins OUT_DIR   # build every twin into OUT_DIR
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".state" / "twins"
REPRESENTATIVE = 32  # samples calibrating each twin


@dataclass(frozen=True)
class Twin:
    name: str
    benchmark: str  # the MLPerf Tiny benchmark it stands for
    architecture: str
    record_cycles: int  # the closed-division record on a Cortex-M4 (cycles per inference)
    record_by: str


TWINS = (
    Twin("vww_mobilenet", "Visual Wake Words", "MobileNetV1 0.25, 96×96×3", 10_670_000,
         "X-CUBE-AI 9.0"),
    Twin("kws_dscnn", "Keyword Spotting", "DS-CNN, 49×10 MFCC", 5_180_000, "X-CUBE-AI 9.0"),
    Twin("ic_resnet8", "Image Classification", "ResNet-8, 32×32×3", 19_820_000,
         "X-CUBE-AI 9.0"),
    Twin("ad_autoencoder", "Anomaly Detection", "FC autoencoder, 640 inputs", 490_000,
         "Plumerai"),
)


# --- the architectures (TensorFlow is imported only inside these functions) ---------------


def _bn_relu(layers: Any, x: Any, relu: bool = True) -> Any:
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x) if relu else x


def _vww(keras: Any) -> Any:
    """MobileNetV1 with width 0.25 (8 filters first), 96×96×3 input, 2 classes."""
    layers = keras.layers
    inputs = keras.Input((96, 96, 3), batch_size=1)
    x = _bn_relu(layers, layers.Conv2D(8, 3, strides=2, padding="same")(inputs))
    for filters, stride in ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1),
                            (128, 1), (128, 1), (128, 1), (128, 1), (256, 2), (256, 1)):
        x = _bn_relu(layers, layers.DepthwiseConv2D(3, strides=stride, padding="same")(x))
        x = _bn_relu(layers, layers.Conv2D(filters, 1, padding="same")(x))
    x = layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]))(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(2, activation="softmax")(x))


def _kws(keras: Any) -> Any:
    """DS-CNN (small): 10×4 conv, four depthwise-separable blocks of 64, pooling, 12 words."""
    layers = keras.layers
    inputs = keras.Input((49, 10, 1), batch_size=1)
    x = _bn_relu(layers, layers.Conv2D(64, (10, 4), strides=2, padding="same")(inputs))
    for _ in range(4):
        x = _bn_relu(layers, layers.DepthwiseConv2D(3, padding="same")(x))
        x = _bn_relu(layers, layers.Conv2D(64, 1, padding="same")(x))
    x = layers.AveragePooling2D(pool_size=(24, 5))(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(12, activation="softmax")(x))


def _ic(keras: Any) -> Any:
    """ResNet-8: a 16-filter stem, three residual stacks (16, 32, 64), pooling, 10 classes."""
    layers = keras.layers
    inputs = keras.Input((32, 32, 3), batch_size=1)
    x = _bn_relu(layers, layers.Conv2D(16, 3, padding="same")(inputs))
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = _bn_relu(layers, layers.Conv2D(filters, 3, strides=stride, padding="same")(x))
        y = _bn_relu(layers, layers.Conv2D(filters, 3, padding="same")(y), relu=False)
        if stride != 1:
            x = layers.Conv2D(filters, 1, strides=stride, padding="same")(x)
        x = layers.Activation("relu")(layers.Add()([x, y]))
    x = layers.AveragePooling2D(pool_size=8)(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


def _ad(keras: Any) -> Any:
    """The anomaly-detection autoencoder: 640 → 4×128 → 8 → 4×128 → 640, dense layers."""
    layers = keras.layers
    inputs = keras.Input((640,), batch_size=1)
    x = inputs
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = _bn_relu(layers, layers.Dense(units)(x))
    return keras.Model(inputs, layers.Dense(640)(x))


ARCHITECTURES = {"vww_mobilenet": _vww, "kws_dscnn": _kws, "ic_resnet8": _ic,
                 "ad_autoencoder": _ad}


def build(name: str, out: Path, seed: int = 0, per_tensor_dense: bool = False) -> Path:
    """One twin, converted to full-integer int8 (int8 input and output); `per_tensor_dense`:
    one scale per dense weight tensor (what the pinned TFLite Micro library runs right)."""
    import numpy as np
    import tensorflow as tf

    keras = tf.keras
    keras.utils.set_random_seed(seed)
    model = ARCHITECTURES[name](keras)
    rng = np.random.default_rng(seed)
    for layer in model.layers:  # batch-norm statistics as a trained model would have
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.2, beta.shape),
                               rng.normal(0, 0.2, mean.shape), rng.uniform(0.5, 1.5, var.shape)])
    shape = (1, *model.input_shape[1:])

    def representative() -> Any:
        data = np.random.default_rng(seed + 1)
        for _ in range(REPRESENTATIVE):
            yield [data.normal(0.0, 1.0, shape).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    converter._experimental_disable_per_channel_quantization_for_dense_layers = per_tensor_dense
    path = out / f"{name}.tflite"
    path.write_bytes(converter.convert())
    return path


def cache_key() -> str:
    text = Path(__file__).read_bytes() + metadata.version("tensorflow-cpu").encode()
    return hashlib.sha256(text).hexdigest()[:16]


def twin_models(timeout: float = 900, per_tensor_dense: bool = False) -> dict[str, Path]:
    """Every twin's .tflite, built (in a child process, with TensorFlow) if not cached."""
    variant = ["--per-tensor-dense"] if per_tensor_dense else []
    folder = CACHE / (cache_key() + "".join(variant))
    paths = {t.name: folder / f"{t.name}.tflite" for t in TWINS}
    if not all(p.exists() for p in paths.values()):
        tmp = folder.with_name(folder.name + ".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        run = subprocess.run([sys.executable, "-m", "tests.standalone.twins", str(tmp), *variant],
                             capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        if run.returncode != 0:
            raise RuntimeError(f"building the benchmark twins failed:\n{run.stderr[-3000:]}")
        tmp.replace(folder)  # whole, or not at all
    return paths


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for t in TWINS:
        build(t.name, target, per_tensor_dense="--per-tensor-dense" in sys.argv[2:])
