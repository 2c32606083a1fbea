"""The standalone C runtime: a full-integer int8 .tflite turned into dependency-free C99.

- `graph`: the model as a small typed graph (refuses unsupported ops and float models);
- `quantization`: fixed-point parameters computed exactly as TFLite Micro computes them;
- `kernels`: each op lowered to one C kernel call (snippets/standalone/kernels/);
- `program`: the whole graph: API boundary (float I/O), reshape aliases, the kernel calls;
- `overlap`: how far an op's output may overlap its input (from the kernel's access pattern);
- `planner`: the static arena, from tensor lifetimes, with that safe in-place overlap;
- `emit`: model.h / model.c (templates in snippets/standalone/), and `generate()`;
- `host`: build and run the generated C on this machine (child processes);
- `sizes`: Cortex-M4F flash and RAM, from the ARM compiler;
- `validate`: generated C vs TFLite Micro's interpreter, the `validate` command's core.

The firmware project around the C, and running it on the emulated board, are in `deploy`.
"""

from tinyml_lsp.codegen.standalone.emit import GeneratedModel, TensorSpec, generate

__all__ = ["GeneratedModel", "TensorSpec", "generate"]
