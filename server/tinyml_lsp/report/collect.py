"""What the model report shows, gathered from the tools that measure it: the model card
(flatbuffer), the fit on every board (TFLite Micro's interpreter measures the arena), the
layers (MACs, weights, live activations from the standalone runtime's planner) and, with a
float reference and data, each layer's quantization error."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyml_lsp.codegen.analyze import AnalyzeReport, analyze_model
from tinyml_lsp.deploy.boards import BOARDS
from tinyml_lsp.deploy.fit import FitReport, fit_model
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.inspect import ModelCard, inspect_model
from tinyml_lsp.runtime.context import JobContext, Stage


@dataclass(frozen=True)
class ModelReport:
    card: ModelCard
    fit: tuple[FitReport, ...]  # every board in the table, for `runtime`
    layers: AnalyzeReport
    runtime: str  # the runtime the fit is for: "tflm" or "standalone"
    tflm_arena_bytes: int | None  # TFLite Micro's arena, measured (None: it cannot run it)
    standalone_arena_bytes: int | None  # the standalone runtime's planned arena

    def to_json(self) -> dict[str, Any]:
        return {"card": self.card.to_json(), "fit": [f.to_json() for f in self.fit],
                "layers": self.layers.to_json(), "runtime": self.runtime,
                "tflm_arena_bytes": self.tflm_arena_bytes,
                "standalone_arena_bytes": self.standalone_arena_bytes}


async def model_report(model: str | Path, ctx: JobContext, *, runtime: str = "tflm",
                       reference: str | Path | None = None, data: str | Path | None = None,
                       label_column: str | None = None) -> ModelReport:
    path = Path(model)
    if path.suffix != ".tflite" or not path.is_file():
        raise TinymlError("the model report needs a .tflite file", path,
                          hint="quantize the Keras model first: tinyml quantize MODEL --data DATA")
    ctx.progress(0.0, "reading the model")
    card = await asyncio.to_thread(inspect_model, path)
    fit = await fit_model(path, list(BOARDS), Stage(ctx, 0.05, 0.5), runtime=runtime)
    layers = await analyze_model(path, Stage(ctx, 0.5, 1.0), reference=reference, data=data,
                                 label_column=label_column)
    tflm_arena = (await fit_model(path, [BOARDS[0]], Stage(ctx, 0.5, 0.5)))[0] \
        if runtime != "tflm" else fit[0]
    arena = tflm_arena.footprint.ram_bytes if not tflm_arena.footprint.problems else None
    ctx.progress(1.0, "report ready")
    return ModelReport(card, tuple(fit), layers, runtime, arena or None, layers.arena_bytes)
