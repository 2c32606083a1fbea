"""Shared fixtures: the shared test models, and example projects trained for real."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from examples.demo import EXAMPLES, REPO, train_example

SHARED = Path(os.environ.get("TINYML_SHARED", REPO.parent / "shared"))
MODELS = SHARED / "models"
DATA = SHARED / "data"
__all__ = ["DATA", "EXAMPLES", "MODELS", "REPO", "SHARED"]


@pytest.fixture(scope="session")
def fruit_trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained fruit-to-emoji project (fruit.csv, fruit_holdout.csv, fruit_model.keras)."""
    return train_example("fruit-to-emoji", tmp_path_factory.mktemp("fruit") / "fruit-to-emoji")


@pytest.fixture(scope="session")
def shapes_trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_example("shapes", tmp_path_factory.mktemp("shapes") / "shapes")


@pytest.fixture(scope="session")
def fruit_quantized(fruit_trained: Path):
    """The fruit model quantized by the core (float32 + int8 beside the Keras model)."""
    from tests.support import SilentContext
    from tinyml_lsp.model.quantize import quantize_model

    return asyncio.run(quantize_model(fruit_trained / "fruit_model.keras", SilentContext(),
                                      data=fruit_trained / "fruit.csv"))


@pytest.fixture(scope="session")
def fruit_per_tensor(fruit_trained: Path):
    """The fruit model quantized with one scale per dense weight tensor (--per-tensor-dense):
    what the pinned TensorFlow Lite Micro library computes right. In a sub-folder of the
    project, whose features.toml it shares."""
    from tests.support import SilentContext
    from tinyml_lsp.model.quantize import quantize_model

    return asyncio.run(quantize_model(fruit_trained / "fruit_model.keras", SilentContext(),
                                      data=fruit_trained / "fruit.csv", per_tensor_dense=True,
                                      out_dir=fruit_trained / "per_tensor"))


@pytest.fixture
def fresh_copy(tmp_path: Path):
    """Copy a project folder into this test's own tmp_path."""

    def copy(src: Path) -> Path:
        dest = tmp_path / src.name
        shutil.copytree(src, dest)
        return dest

    return copy
