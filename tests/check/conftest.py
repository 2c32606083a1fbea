"""Fixtures of the check tests: the shared models exported once (model_data.h / .cc, as
`tinyml export` writes them), and a case of the corpus copied beside its model."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.check.cases import Case
from tests.conftest import MODELS
from tinyml_lsp.codegen.c_array import export_model
from tinyml_lsp.runtime.context import NullContext


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The folder holding model_data.h / model_data.cc of a shared model (exported once)."""
    done: dict[str, Path] = {}

    def export(model: str) -> Path:
        if model not in done:
            out = tmp_path_factory.mktemp(f"export-{model}")
            asyncio.run(export_model(MODELS / f"{model}.tflite", out, NullContext()))
            done[model] = out
        return done[model]

    return export


@pytest.fixture
def materialize(tmp_path: Path, exported: Callable[[str], Path]) -> Callable[[Case], Path]:
    """Copy a case into a fresh folder with its model's header beside the sketch."""

    def copy(case: Case) -> Path:
        target = tmp_path / case.name
        if case.folder:
            shutil.copytree(case.path, target)
            where = target / "src" if (target / "src").is_dir() else target
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(case.path, target)
            where = target.parent
        if case.model:
            for f in exported(case.model).iterdir():
                shutil.copy(f, where / f.name)
        return target

    return copy
