"""What a sketch generator plans: the project's files as text, and writing them.

`plan_*` functions compute a `Sketch` without writing anything, so the LSP can offer it as an
edit the user reviews; `write_sketch` writes it. Generated files are rewritten on every update;
user-owned ones (`platformio.ini`, the main source) are written once and kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_lsp.codegen.standalone.sizes import SizeReport
from tinyml_lsp.deploy.vectors import TestVectors
from tinyml_lsp.deploy.verdict import Expected
from tinyml_lsp.errors import TinymlError


@dataclass(frozen=True)
class SketchFile:
    path: str  # relative to the project folder
    text: str
    user_owned: bool  # written once; kept when the sketch is updated


@dataclass(frozen=True)
class Sketch:
    project: str
    model: str
    board: str
    files: tuple[SketchFile, ...]
    arena_bytes: int
    weight_bytes: int
    ops: tuple[str, ...]
    kind: str  # what the output means (inspect.OUTPUT_KINDS)
    vectors: TestVectors
    expected: Expected
    written: tuple[str, ...] = ()  # files written by write_sketch
    kept: tuple[str, ...] = ()  # user-owned files left as they were
    sizes: SizeReport | None = None  # RAM and flash on the Cortex-M4F, when measured
    runtime: str = "standalone"  # or "tflm"

    @property
    def labels(self) -> tuple[str, ...]:
        return self.vectors.labels

    @property
    def inputs(self) -> np.ndarray:
        return self.vectors.inputs

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project, "model": self.model, "board": self.board,
            "files": [f.path for f in self.files], "written": list(self.written),
            "kept": list(self.kept), "arena_bytes": self.arena_bytes,
            "weight_bytes": self.weight_bytes, "ops": sorted(set(self.ops)), "kind": self.kind,
            "labels": list(self.labels), "vectors": len(self.vectors),
            "source": self.vectors.source, "rows": list(self.vectors.rows),
            "truths": list(self.vectors.truths), "notes": list(self.vectors.notes),
            "sizes": self.sizes.to_json() if self.sizes else None, "runtime": self.runtime,
        }


def write_sketch(sketch: Sketch) -> Sketch:
    """Create the project, or update its generated files; user-owned files are kept."""
    project = Path(sketch.project)
    written, kept = [], []
    try:
        for f in sketch.files:
            path = project / f.path
            if f.user_owned and path.exists():
                kept.append(f.path)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f.text)
            written.append(f.path)
    except OSError as exc:
        raise TinymlError(f"cannot write the project: {exc.strerror}", project) from exc
    return replace(sketch, written=tuple(written), kept=tuple(kept))
