"""The data stage without an LLM: `data summary` (what a dataset holds) and `data prepare`
(split by class, normalise with the training split only, .npz files and a representative
sample, checked)."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support import SilentContext
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.data_summary import render_summary, summarize
from tinyml_lsp.model.prepare import check_outputs, prepare_dataset


def _csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([["temp", "humidity", "state"], *rows])
    return path


def test_a_csv_summary(tmp_path: Path):
    rows = [[20 + i, 40 + i, "idle"] for i in range(6)] + [[30, 50, "busy"], [30, 50, "busy"],
                                                         [31, "", "busy"]]
    s = summarize(_csv(tmp_path / "readings.csv", rows))
    assert (s.format, s.rows, s.label) == ("csv", 9, "state")
    temp, humidity, state = s.columns
    assert (temp.kind, temp.minimum, temp.maximum, temp.missing) == ("numeric", 20, 31, 0)
    assert (humidity.kind, humidity.missing) == ("numeric", 1)
    assert state.kind == "text" and state.common == (("idle", 6), ("busy", 3))
    assert s.classes == (("busy", 3), ("idle", 6)) and s.sorted_by_class is True
    assert (s.duplicates, s.missing) == (1, 1)
    text = render_summary(s)
    assert "class balance: busy 3 (33%), idle 6 (67%)" in text
    assert "grouped by class" in text and "1 duplicate sample" in text
    assert json.loads(json.dumps(s.to_json()))["classes"] == {"busy": 3, "idle": 6}


def test_an_image_folder_and_arrays(tmp_path: Path):
    for name, size, mode in (("cat", (32, 32), "L"), ("cat", (32, 32), "L"),
                             ("dog", (48, 32), "RGB")):
        folder = tmp_path / "pets" / name
        folder.mkdir(parents=True, exist_ok=True)
        Image.new(mode, size, color=len(list(folder.iterdir())) * 40).save(
            folder / f"{len(list(folder.iterdir()))}.png")
    (tmp_path / "pets" / "dog" / "broken.png").write_bytes(b"not an image")
    s = summarize(tmp_path / "pets")
    assert s.classes == (("cat", 2), ("dog", 2)) and s.unreadable == ("dog/broken.png",)
    assert s.image_sizes == (("32x32", 2), ("48x32", 1))
    assert dict(s.image_modes) == {"L": 2, "RGB": 1}
    assert any("differ in size" in n for n in s.notes)
    x = np.zeros((4, 3), dtype=np.float32)
    x[1, 2] = np.nan
    np.savez(tmp_path / "d.npz", x=x, y=np.array([0, 1, 0, 1]))
    a = summarize(tmp_path / "d.npz")
    assert (a.rows, a.label, a.missing, a.sorted_by_class) == (4, "y", 1, False)
    with pytest.raises(TinymlError, match="unknown dataset format"):
        summarize(tmp_path / "pets" / "cat" / "0.png")


def test_prepare_splits_normalises_and_checks(tmp_path: Path):
    rng = np.random.default_rng(0)
    rows = [[f"{v:.4f}" for v in rng.normal(10 * c, 1, 2)] + [name]
            for c, name in enumerate(["a", "b"]) for _ in range(50)]
    with (tmp_path / "d.csv").open("w", newline="") as f:
        csv.writer(f).writerows([["x1", "x2", "label"], *rows])
    r = asyncio.run(prepare_dataset(tmp_path / "d.csv", SilentContext(), normalize=True,
                                    split=0.2, out=tmp_path / "out"))
    assert (r.train_samples, r.val_samples, r.classes) == (80, 20, ("a", "b"))
    assert r.check.ok and r.normalization is not None
    with np.load(r.files["train"]) as train, np.load(r.files["val"]) as val:
        assert train["x"].dtype == np.float32 and np.bincount(val["y"]).tolist() == [10, 10]
        assert np.allclose(train["x"].mean(axis=0), 0, atol=1e-5)  # the training split's stats
        assert not np.allclose(val["x"].mean(axis=0), 0, atol=1e-5)
    manifest = json.loads(Path(r.files["manifest"]).read_text())
    assert manifest["normalization"] == r.normalization
    # the check catches what a broken preparation does
    np.savez(tmp_path / "out" / "d_val.npz", x=np.load(r.files["train"])["x"][:5],
             y=np.zeros(5, dtype=np.int64))
    broken = check_outputs(tmp_path / "out", manifest["files"], splits=("d_train.npz",
                                                                         "d_val.npz"))
    assert not broken.ok and "share 5 sample(s)" in broken.problems[0]
    assert "was not written" in check_outputs(tmp_path, {"gone.npz": {}}).problems[0]
    assert "outside" in check_outputs(tmp_path, {"../x.npz": {}}).problems[0]


def test_prepare_refuses_to_guess_missing_values(tmp_path: Path):
    data = _csv(tmp_path / "r.csv", [[1, 2, "a"], [3, "", "b"]])
    with pytest.raises(TinymlError, match=r"1 missing value\(s\) in humidity"):
        asyncio.run(prepare_dataset(data, SilentContext()))
    assert not (tmp_path / "r_train.npz").exists()
