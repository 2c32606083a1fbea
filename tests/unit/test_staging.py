"""Outputs that appear only when their task succeeds (runtime.staging)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinyml_lsp.runtime.staging import Staging


def test_files_appear_on_commit_only(tmp_path: Path) -> None:
    (tmp_path / "model_int8.tflite").write_bytes(b"old")
    with Staging(tmp_path) as staging:
        staging.path(tmp_path / "model_int8.tflite").write_bytes(b"new")
        staging.path(tmp_path / "report.md").write_text("# report\n")
        assert (tmp_path / "model_int8.tflite").read_bytes() == b"old"
        assert not (tmp_path / "report.md").exists()
        staging.commit()
    assert (tmp_path / "model_int8.tflite").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model_int8.tflite", "report.md"]


def test_a_failure_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"  # created by the staging: removed again
    with pytest.raises(RuntimeError), Staging(out) as staging:
        staging.path(out / "model_int8.tflite").write_bytes(b"half")
        raise RuntimeError("the converter crashed")
    assert list(tmp_path.iterdir()) == []


def test_only_files_of_the_staged_folder(tmp_path: Path) -> None:
    with Staging(tmp_path) as staging, pytest.raises(ValueError):
        staging.path(tmp_path / "elsewhere" / "x.tflite")
