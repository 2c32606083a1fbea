"""Fixtures of the LLM tests: the scripted OpenAI-compatible server on loopback, a
configuration pointing at it, and a stand-in firmware project that knows what the host
expects of it (so customizations are validated on the emulated board without TensorFlow)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.stub_firmware import LABELS, VECTORS, reference_outputs, write_project
from tests.llm_server import ScriptedLlm
from tinyml_lsp.deploy.verdict import Expected
from tinyml_lsp.llm.config import LlmConfig, Secret

KEY = "sk-test-4f9c2e7d1b8a6053-never-shown"


@pytest.fixture
def llm() -> Iterator[ScriptedLlm]:
    with ScriptedLlm() as server:
        yield server
    assert server.unscripted == 0, "the code asked the LLM more often than the test scripted"


def config_for(server: ScriptedLlm, **overrides) -> LlmConfig:
    values = {"base_url": server.base_url, "model": "scripted-model", "api_key": Secret(KEY),
              "timeout": 10.0, "retries": 2, "max_rounds": 2, **overrides}
    return LlmConfig(**values)


@pytest.fixture(autouse=True)
def answer_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own answer cache (a shared one would answer a test from another's run)."""
    folder = tmp_path / "llm-cache"
    monkeypatch.setenv("TINYML_LLM_CACHE", str(folder))
    return folder


def write_stub_sketch(project: Path) -> Path:
    """The stand-in project plus what the host expects of it (tinyml_expected.json)."""
    write_project(project)
    Expected(model="stub.tflite", kind="class", labels=LABELS, source="given",
             rows=(-1,) * len(VECTORS), truths=(None,) * len(VECTORS),
             outputs=tuple(reference_outputs(v) for v in VECTORS)).write(project)
    return project


@pytest.fixture(scope="session")
def stub_sketch_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_stub_sketch(tmp_path_factory.mktemp("stub-template") / "stub")


@pytest.fixture
def stub_sketch(stub_sketch_template: Path, tmp_path: Path) -> Path:
    project = tmp_path / "stub"
    shutil.copytree(stub_sketch_template, project)
    return project
