"""Fixtures of the standalone-runtime tests (generated C built with gcc, run as children)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import MODELS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if shutil.which("gcc") is None:
        skip = pytest.mark.skip(reason="gcc is not installed")
        for item in items:
            if "tests/standalone" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture
def model_path():
    """A model of ../shared/models by name (skips the test when it is missing)."""

    def get(name: str) -> Path:
        p = MODELS / f"{name}.tflite"
        if not p.exists():
            pytest.skip(f"fixture model {p} is missing")
        return p

    return get


@pytest.fixture(scope="session")
def twins() -> dict[str, Path]:
    """The benchmark twins (MLPerf Tiny architectures), built once and cached in .state/."""
    from tests.standalone.twins import twin_models

    return twin_models()
