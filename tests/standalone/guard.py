"""Instructions per inference on the emulated Cortex-M4, recorded in instructions.json: the
regression guard of test_emulator.py (a model may not rise more than 1 % above its figure;
counts are exact under QEMU's -icount) and the inputs `make bench` measures on.

    python -m tests.standalone.guard   # measure every model and rewrite instructions.json
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from tests.conftest import DATA, MODELS
from tests.standalone.twins import twin_models
from tinyml_lsp.codegen.standalone.emit import generate
from tinyml_lsp.deploy.board_run import run_on_emulator
from tinyml_lsp.model.datasets import load_dataset

RECORD = Path(__file__).with_name("instructions.json")
TOLERANCE = 0.01
# the emulated board's timer counts in steps of 40 instructions, and where an inference starts
# between two steps depends on what the firmware did before (one test vector or three): a
# figure is known to within one step
TICK = 40
SHARED = ("hello_world_int8", "micro_speech_quantized", "person_detect")


def guarded_models() -> dict[str, Path]:
    """The shared models and the benchmark twins."""
    return {**{n: MODELS / f"{n}.tflite" for n in SHARED}, **twin_models()}


def guard_input(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """The input a figure is measured on: person.bmp for person_detect (its bytes are the
    int8 input, as TFLite Micro's example feeds it), zeros for the others."""
    if name == "person_detect":
        image = load_dataset(DATA / "person.bmp", shape, pixel_range="int8")
        return image.x.astype(np.int8).reshape(1, *shape)
    return np.zeros((1, *shape), dtype=np.int8)


def recorded() -> dict[str, int]:
    return {k: int(v) for k, v in json.loads(RECORD.read_text())["instructions"].items()}


async def measure(name: str, path: Path, workdir: Path) -> int:
    gen = generate(path)
    run = await run_on_emulator(gen, guard_input(name, gen.inputs[0].shape), workdir)
    return run.instructions[0]


def main() -> None:
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in guarded_models().items():
            figures[name] = asyncio.run(measure(name, path, Path(tmp) / name))
            print(f"{name}: {figures[name]:,}", file=sys.stderr)
    RECORD.write_text(json.dumps({
        "about": "instructions per inference on the emulated Cortex-M4 (QEMU -icount), "
                 "tests/standalone/guard.py; may not rise more than 1 %",
        "instructions": figures}, indent=2) + "\n")


if __name__ == "__main__":
    main()
