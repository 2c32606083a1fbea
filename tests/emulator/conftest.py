"""Fixtures of the emulator tests: a stand-in firmware project in tmp_path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.emulator.stub_firmware import write_project
from tinyml_lsp.deploy import emulator


@dataclass
class StubProject:
    path: Path

    def add_source(self, name: str, text: str) -> Path:
        path = self.path / "src" / name
        path.write_text(text)
        return path


@pytest.fixture
def stub_project(tmp_path: Path):
    project = tmp_path / "stub"
    write_project(project)
    yield StubProject(project)
    emulator.stop(project)  # never leave a QEMU behind
