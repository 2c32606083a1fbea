"""`tinyml quantize` vs a bare TFLiteConverter script, on the same model and data.

Both produce the same two files (float32 and full-integer int8 with int8 I/O) from the trained
fruit model and its CSV. Each runs as a fresh process (TensorFlow's import is part of both),
alternating, several times; the medians are compared.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.demo import train_example

RUNS = 3
TARGET = 1.2

BARE = """
import sys
import numpy as np
import tensorflow as tf
import keras

model = keras.models.load_model(sys.argv[1], compile=False)
x = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, usecols=(0, 1, 2), dtype=np.float32)

def representative():
    for i in range(min(300, len(x))):
        yield [x[i:i + 1]]

converter = tf.lite.TFLiteConverter.from_keras_model(model)
open(sys.argv[3] + "/bare_float32.tflite", "wb").write(converter.convert())
converter = tf.lite.TFLiteConverter.from_keras_model(model)
converter.optimizations = [tf.lite.Optimize.DEFAULT]
converter.representative_dataset = representative
converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
converter.inference_input_type = tf.int8
converter.inference_output_type = tf.int8
open(sys.argv[3] + "/bare_int8.tflite", "wb").write(converter.convert())
"""


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        project = train_example("fruit-to-emoji", work / "fruit")
        model, data = project / "fruit_model.keras", project / "fruit.csv"
        (work / "bare.py").write_text(BARE)
        ours_cmd = [sys.executable, "-m", "tinyml_lsp.cli", "quantize", str(model), "--data",
                    str(data), "--out", str(work / "ours"), "--json"]
        bare_cmd = [sys.executable, str(work / "bare.py"), str(model), str(data), str(work)]
        timed(bare_cmd)  # warm the file cache for both
        ours, bare = [], []
        for _ in range(RUNS):
            bare.append(timed(bare_cmd))
            ours.append(timed(ours_cmd))
    o, b = statistics.median(ours), statistics.median(bare)
    print(f"{'':<28} {'median':>8} {'runs':>30}")
    print(f"{'tinyml quantize':<28} {o:>7.2f}s {' '.join(f'{t:.2f}' for t in ours):>30}")
    runs = " ".join(f"{t:.2f}" for t in bare)
    print(f"{'bare TFLiteConverter script':<28} {b:>7.2f}s {runs:>30}")
    print("(tinyml also checks the int8 model in TFLite Micro and compares it with the float "
          "model on the data)")
    print(f"quantize_vs_bare_converter: {o / b:.2f}x (target <= {TARGET}x)")


if __name__ == "__main__":
    main()
