"""Reading representative datasets: formats, shapes, dtypes, and the errors users meet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.datasets import calibration_sample, load_dataset, pick, quantize, split


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
    assert load_dataset(p, (1, 2), label_column="fruit").classes == ("x",)
    # the only column that is not numeric is the label column, and the reader says so
    ds = load_dataset(p, (1, 2))
    assert ds.classes == ("x",) and ds.label_column == "fruit"
    assert any("'fruit'" in note for note in ds.notes)
    p.write_text("a,b,fruit,colour\n1,2,x,red\n")  # two: the user must choose
    with pytest.raises(TinymlError, match="column 'fruit' is not numeric"):
        load_dataset(p, (1, 2))
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


def test_integer_labels_are_numbers_not_names(tmp_path: Path) -> None:
    # "10" sorted as a string would come before "2": integer labels keep their value
    p = tmp_path / "d.csv"
    p.write_text("a,label\n" + "".join(f"{i},{c}\n" for i, c in enumerate([2, 10, 0, 10])))
    ds = load_dataset(p, (1, 1))
    assert ds.y.tolist() == [2, 10, 0, 10] and ds.classes is None


def test_known_classes_number_a_file_with_some_classes_missing(tmp_path: Path) -> None:
    # a hold-out file with only two of the model's three classes keeps the model's numbering
    p = tmp_path / "d.csv"
    p.write_text("r,label\n0.1,orange\n0.2,banana\n")
    known = ("apple", "banana", "orange")
    ds = load_dataset(p, (1, 1), classes=known)
    assert ds.y.tolist() == [2, 1] and ds.classes == known
    assert load_dataset(p, (1, 1)).y.tolist() == [1, 0]  # without them: the file's own order
    p.write_text("r,label\n0.1,kiwi\n")
    with pytest.raises(TinymlError, match="'kiwi' \\(line 2\\) is not one of"):
        load_dataset(p, (1, 1), classes=known)
    p.write_text("r,label\n0.1,3\n")
    with pytest.raises(TinymlError, match="label 3 \\(line 2\\)"):
        load_dataset(p, (1, 1), classes=known)


def test_pick_is_stratified_by_class_and_seeded(tmp_path: Path) -> None:
    # recorded class by class: 63 rows of one class, then 1 of another, then 20 of a third
    p = tmp_path / "sorted.csv"
    labels = ["a"] * 63 + ["b"] + ["c"] * 20
    p.write_text("v,label\n" + "".join(f"{i},{c}\n" for i, c in enumerate(labels)))
    ds = load_dataset(p, (1, 1))
    rows = pick(ds, 9, seed=3)
    taken = [labels[i] for i in rows]
    assert taken.count("b") == 1 and taken.count("a") == 4 and taken.count("c") == 4
    assert len(set(rows.tolist())) == 9
    assert pick(ds, 9, seed=3).tolist() == rows.tolist()
    assert pick(ds, 9, seed=4).tolist() != rows.tolist()


def test_split_holds_out_each_class(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    labels = ["a"] * 50 + ["b"] * 10
    p.write_text("v,label\n" + "".join(f"{i},{c}\n" for i, c in enumerate(labels)))
    ds = load_dataset(p, (1, 1))
    kept, held = split(ds, 0.2, seed=0)
    assert len(held) == 12 and len(kept) == 48 and not set(kept) & set(held)
    assert sum(labels[i] == "b" for i in held) == 2


def test_non_finite_values_are_refused_where_they_are(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text("r,g,label\n0.1,0.2,a\n0.3,nan,b\n0.5,inf,a\n")
    with pytest.raises(TinymlError, match="line 3, column 'g': 'nan' is not a finite number"):
        load_dataset(p, (1, 2))
    x = np.zeros((4, 3), dtype=np.float32)
    x[2, 1] = np.inf
    np.save(tmp_path / "x.npy", x)
    with pytest.raises(TinymlError, match="1 NaN or infinite values, the first in sample 2, "
                                          "element \\[1\\]"):
        load_dataset(tmp_path / "x.npy", (1, 3))


def test_broken_arrays_are_clear_errors(tmp_path: Path) -> None:
    np.save(tmp_path / "scalar.npy", np.float32(3))
    with pytest.raises(TinymlError, match="a single number, not samples"):
        load_dataset(tmp_path / "scalar.npy", (1, 1))
    # a header declaring 36 GiB is refused before any of it is read
    big = tmp_path / "big.npy"
    header = {"descr": "<f4", "fortran_order": False, "shape": (3_000_000, 3_000)}
    with big.open("wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        f.write(b"\0" * 64)
    with pytest.raises(TinymlError, match="truncated: its header declares 36,000,000,000 bytes"):
        load_dataset(big, (1, 3000))
    np.savez(tmp_path / "d.npz", x=np.zeros((5, 2)), y=np.arange(5))
    data = (tmp_path / "d.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(TinymlError, match=r"not a readable \.npz archive"):
        load_dataset(tmp_path / "cut.npz", (1, 2))
    (tmp_path / "bin.csv").write_bytes(b"a,b\n\x00\xff\xfe,1\n")
    with pytest.raises(TinymlError, match="not text"):
        load_dataset(tmp_path / "bin.csv", (1, 1))


def test_special_files_are_refused(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(TinymlError, match="not a regular file"):
        load_dataset(tmp_path / "pipe.csv", (1, 1))


def test_16_bit_images_are_scaled_not_clipped(tmp_path: Path) -> None:
    from PIL import Image

    deep = np.full((4, 4), 32768, dtype=np.uint16)  # half of the 16-bit range
    Image.fromarray(deep).save(tmp_path / "deep.png")
    x = load_dataset(tmp_path / "deep.png", (1, 4, 4, 1)).x
    assert np.allclose(x, 128, atol=1)


def test_a_decompression_bomb_is_a_clear_error(tmp_path: Path) -> None:
    from PIL import Image

    bomb = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(bomb)  # 400 million pixels in a few kB
    with pytest.raises(TinymlError, match="not a readable image"):
        load_dataset(bomb, (1, 8, 8, 1))
