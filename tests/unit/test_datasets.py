"""Reading representative datasets: formats, shapes, dtypes, and the errors users meet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.datasets import calibration_sample, load_dataset, quantize


def test_npy_float64_is_cast(tmp_path: Path) -> None:
    p = tmp_path / "x.npy"
    np.save(p, np.arange(30, dtype=np.float64).reshape(10, 3))
    ds = load_dataset(p, (1, 3))
    assert ds.x.dtype == np.float32 and ds.x.shape == (10, 3) and ds.y is None
    assert ds.x[3, 2] == 11.0


def test_wrong_shape_names_expected_and_found(tmp_path: Path) -> None:
    p = tmp_path / "x.npy"
    np.save(p, np.zeros((10, 5), dtype=np.float32))
    with pytest.raises(TinymlError) as err:
        load_dataset(p, (-1, 3))
    assert "(N, 3)" in err.value.message and "(10, 5)" in err.value.message
    assert err.value.path == str(p)


def test_wrong_rank(tmp_path: Path) -> None:
    p = tmp_path / "x.npy"
    np.save(p, np.zeros((4, 8, 8), dtype=np.float32))
    with pytest.raises(TinymlError, match=r"wrong data rank.*\(N, 8, 8, 3\).*\(4, 8, 8\)"):
        load_dataset(p, (1, 8, 8, 3))


def test_missing_channel_and_single_sample_are_accepted(tmp_path: Path) -> None:
    p = tmp_path / "x.npy"
    np.save(p, np.ones((4, 8, 8), dtype=np.uint8))
    assert load_dataset(p, (1, 8, 8, 1)).x.shape == (4, 8, 8, 1)
    np.save(p, np.ones(3))
    assert load_dataset(p, (1, 3)).x.shape == (1, 3)


def test_non_numeric_npy(tmp_path: Path) -> None:
    p = tmp_path / "x.npy"
    np.save(p, np.array(["a", "b"]))
    with pytest.raises(TinymlError, match="not numeric"):
        load_dataset(p, (1, 1))


def test_npz_with_labels(tmp_path: Path) -> None:
    p = tmp_path / "d.npz"
    np.savez(p, x=np.zeros((6, 2)), y=np.array(["b", "a", "c", "a", "b", "c"]))
    ds = load_dataset(p, (1, 2))
    assert ds.classes == ("a", "b", "c") and ds.y.tolist() == [1, 0, 2, 0, 1, 2]


def test_csv_label_column(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text("red,green,blue,label\n0.5,0.3,0.2,apple\n0.4,0.4,0.2,banana\n")
    ds = load_dataset(p, (1, 3))
    assert np.allclose(ds.x, [[0.5, 0.3, 0.2], [0.4, 0.4, 0.2]])
    assert ds.classes == ("apple", "banana") and ds.y.tolist() == [0, 1]
    p.write_text("a,b,fruit\n1,2,x\n")
    with pytest.raises(TinymlError, match="column 'fruit' is not numeric"):
        load_dataset(p, (1, 2))
    assert load_dataset(p, (1, 2), label_column="fruit").classes == ("x",)
    with pytest.raises(TinymlError, match="no column named 'nope'"):
        load_dataset(p, (1, 2), label_column="nope")


def test_csv_ragged_rows(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text("a,b\n1,2\n3\n")
    with pytest.raises(TinymlError, match="line 3 has 1 columns"):
        load_dataset(p)


def _image_folder(root: Path, classes: dict[str, int]) -> Path:
    for name, count in classes.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            pixels = np.full((20, 30), 10 * i, dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def test_image_folder_resized_and_labelled(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path / "imgs", {"square": 2, "circle": 3})
    ds = load_dataset(folder, (1, 16, 16, 1))
    assert ds.x.shape == (5, 16, 16, 1) and ds.classes == ("circle", "square")
    assert ds.y.tolist() == [0, 0, 0, 1, 1]
    assert ds.x[1].max() == 10.0  # raw 0..255 pixels by default
    rgb = load_dataset(folder, (1, 8, 8, 3), pixel_range="-1-1")
    assert rgb.x.shape == (5, 8, 8, 3) and rgb.x.min() == -1.0


def test_empty_image_folder(tmp_path: Path) -> None:
    (tmp_path / "imgs" / "a").mkdir(parents=True)
    with pytest.raises(TinymlError, match="no images found") as err:
        load_dataset(tmp_path / "imgs", (1, 8, 8, 1))
    assert err.value.path == str(tmp_path / "imgs")


def test_images_need_an_image_model(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path / "imgs", {"a": 1})
    with pytest.raises(TinymlError, match="image input"):
        load_dataset(folder, (1, 3))


def test_quantize_rounds_half_away_from_zero() -> None:
    q = quantize(np.array([0.5, 1.5, -0.5, -1.5, 1000.0], dtype=np.float32), 1.0, 0)
    assert q.tolist() == [1, 2, -1, -2, 127]


def test_calibration_sample_is_seeded() -> None:
    from tinyml_lsp.model.datasets import Dataset

    ds = Dataset(np.arange(1000, dtype=np.float32)[:, None], None, None, "x")
    a, b = calibration_sample(ds, 50), calibration_sample(ds, 50)
    assert a.shape == (50, 1) and np.array_equal(a, b) and len(np.unique(a)) == 50
