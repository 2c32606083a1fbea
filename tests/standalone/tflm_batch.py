"""Run many models through TFLite Micro's interpreter in one child process (tests only).

Usage: python tflm_batch.py REQUEST.npz RESULT.npz, where REQUEST holds model_<i> (uint8
bytes) and input_<i> (samples of input 0); RESULT gets output_<i> (output 0 per sample) or
error_<i> (what the interpreter said). Spawning one process per zoo model would take most
of the test time; a crash here fails the whole batch, which the test reports.
"""

from __future__ import annotations

import sys

import numpy as np


def run(request: str, result: str) -> None:
    from tflite_micro.python.tflite_micro import runtime

    req = np.load(request)
    out: dict[str, np.ndarray] = {}
    i = 0
    while f"model_{i}" in req:
        model = req[f"model_{i}"].tobytes()
        inputs = req[f"input_{i}"]
        try:
            interp = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
            d = interp.get_input_details(0)
            rows = []
            for x in inputs:
                interp.set_input(x.reshape(d["shape"]).astype(d["dtype"]), 0)
                interp.invoke()
                rows.append(np.array(interp.get_output(0)).reshape(-1))
                interp.reset()
            out[f"output_{i}"] = np.stack(rows)
        except (RuntimeError, ValueError) as exc:
            out[f"error_{i}"] = np.array(str(exc))
        i += 1
    np.savez(result, **out)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2])
