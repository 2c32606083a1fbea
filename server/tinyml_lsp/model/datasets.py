"""Read a dataset for calibration and evaluation: .npy/.npz, CSV, an image folder or one image.

Plain numpy and Pillow, no TensorFlow, so both the converter worker and the TFLite Micro
worker use the same reader and the same checks.

Conventions (the same as Keras' and scikit-learn's, so a training script agrees with us):
- class numbers come from one source for a project: the model's recorded class names when
  the caller knows them (`classes`), else names given as strings are numbered in sorted order
  (`sorted(set(labels))`); integer labels are numbers, never renumbered;
- an image folder has one subfolder per class, numbered in sorted order of the folder names,
  as `keras.utils.image_dataset_from_directory` does; pixels are float32 in 0..255 unless
  `pixel_range` says otherwise. `pixel_range="int8"` reads each 8-bit pixel as the model's
  int8 input itself, as TFLite Micro's example images (person_detect's test data) store it;
  such a dataset is `quantized`: it is fed to the model as is.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

from tinyml_lsp.errors import TinymlError, require_file
from tinyml_lsp.model.formats import (
    DEFAULT_PIXEL_RANGE,
    IMAGE_SUFFIXES,
    LABEL_COLUMN_NAMES,
    PIXEL_RANGES,
    RAW_INT8,
    TABLE_SUFFIXES,
)

Shape = tuple[int, ...] | list[int]  # a model's input shape, batch first
MAX_DATA_BYTES = 1024 ** 3  # a dataset file this tool reads whole
_X_KEYS = ("x", "X", "data", "inputs", "features", "images")
_Y_KEYS = ("y", "Y", "labels", "label", "targets")


@dataclass(frozen=True)
class Dataset:
    x: np.ndarray  # float32, one sample per row
    y: np.ndarray | None  # int64 class indices, when the data has labels
    classes: tuple[str, ...] | None  # class names when known
    source: str
    quantized: bool = False  # x holds the model's integer inputs, not real values
    label_column: str | None = None  # a CSV's column holding the labels
    notes: tuple[str, ...] = ()  # what the reader decided on its own, for the user's log

    def __len__(self) -> int:
        return int(self.x.shape[0])


def load_dataset(
    path: str | Path,
    input_shape: Shape | None = None,
    *,
    label_column: str | None = None,
    pixel_range: str = DEFAULT_PIXEL_RANGE,
    classes: Sequence[str] | None = None,
) -> Dataset:
    """Read `path` and check it against the model's input shape (batch dimension first).

    `classes`: the model's class names, in the model's order (from `labels.model_labels`);
    named labels are numbered by them, and a label outside them is an error.
    """
    p = Path(path)
    if not p.is_dir():
        require_file(p, "dataset file", limit=MAX_DATA_BYTES)
    suffix = p.suffix.lower()
    known = tuple(classes) if classes else None
    if p.is_dir():
        ds = _load_image_folder(p, input_shape, pixel_range, known)
    elif suffix == ".npy":
        ds = Dataset(_load_npy(p), None, None, str(p))
    elif suffix == ".npz":
        ds = _load_npz(p, known)
    elif suffix in TABLE_SUFFIXES:
        ds = _load_csv(p, label_column, known)
    elif suffix in IMAGE_SUFFIXES:
        ds = Dataset(_load_image(p, input_shape, pixel_range)[None], None, None, str(p))
    else:
        raise TinymlError(
            f"unknown dataset format {suffix or '(no extension)'!r}", p,
            hint="use .npy, .npz, .csv, an image, or a folder with one subfolder per class",
        )
    if len(ds) == 0:
        raise TinymlError("the dataset is empty", p)
    x = _as_float32(ds.x, p)
    _require_finite(x, p)
    if input_shape is not None:
        x = conform(x, tuple(int(d) for d in input_shape), p)
    return replace(ds, x=x, quantized=pixel_range == RAW_INT8)


def conform(x: np.ndarray, input_shape: tuple[int, ...], path: str | Path) -> np.ndarray:
    """Shape `x` as a batch of the model's input, or say what was expected and what was found."""
    sample = tuple(max(d, 1) for d in input_shape[1:])
    if tuple(x.shape[1:]) == sample:
        return x
    if tuple(x.shape) == sample:  # one sample without its batch dimension
        return x[None]
    # a missing trailing channel of 1 (grayscale images saved as H×W) is unambiguous
    if sample and sample[-1] == 1 and tuple(x.shape[1:]) == sample[:-1]:
        return x[..., None]
    expected = "(N, " + ", ".join(str(d) for d in sample) + ")"
    found = "(" + ", ".join(str(d) for d in x.shape) + ")"
    what = "rank" if x.ndim != len(sample) + 1 else "shape"
    raise TinymlError(
        f"wrong data {what}: the model expects samples of shape {expected}, the data has {found}",
        path,
        hint="the first dimension counts the samples; the rest must match the model's input",
    )


def _require_finite(x: np.ndarray, path: Path) -> None:
    """NaN or infinity would quantize to garbage (or crash the converter): refuse it, naming
    where it is (CSV files are checked line by line as they are read)."""
    bad = ~np.isfinite(x)
    if bad.any():
        sample, *element = np.unravel_index(int(np.argmax(bad)), x.shape)
        raise TinymlError(f"the data holds {int(bad.sum()):,} NaN or infinite values, the first "
                          f"in sample {sample}" + (f", element {list(map(int, element))}"
                                                   if element else ""), path,
                          hint="clean or impute the data before using it")


def _as_float32(x: np.ndarray, path: Path) -> np.ndarray:
    if x.dtype.kind in "fiub":
        return np.ascontiguousarray(x, dtype=np.float32)  # float64 and integers are cast
    raise TinymlError(f"the data has dtype {x.dtype}, which is not numeric", path)


def _npy_header(f: BinaryIO, p: Path, size: int) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype an .npy header declares, checked against the bytes that follow it."""
    try:
        version = np.lib.format.read_magic(f)
        shape, _fortran, dtype = (np.lib.format.read_array_header_1_0(f) if version == (1, 0)
                                  else np.lib.format.read_array_header_2_0(f))
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        raise TinymlError(f"not a readable .npy array ({exc})", p) from None
    if dtype.hasobject:
        raise TinymlError("the .npy array holds Python objects, not numbers", p)
    declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if declared > size - f.tell():
        raise TinymlError(f"the .npy file is truncated: its header declares {declared:,} bytes "
                          f"of data, the file holds {size - f.tell():,}", p)
    if declared > MAX_DATA_BYTES:
        raise TinymlError(f"the array is {declared:,} bytes, more than the {MAX_DATA_BYTES:,} "
                          "bytes this tool reads", p)
    if shape == ():
        raise TinymlError("the .npy file holds a single number, not samples", p)
    return shape, dtype


def _load_npy(p: Path) -> np.ndarray:
    with p.open("rb") as f:
        _npy_header(f, p, p.stat().st_size)
    try:
        return np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise TinymlError(f"not a readable .npy array ({exc})", p) from exc


def _load_npz(p: Path, known: tuple[str, ...] | None) -> Dataset:
    try:
        with zipfile.ZipFile(p) as archive:
            for member in archive.infolist():
                if member.filename.endswith(".npy"):
                    with archive.open(member) as f:
                        _npy_header(f, p, member.file_size)  # type: ignore[arg-type]
        with np.load(p, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise TinymlError(f"not a readable .npz archive ({exc})", p) from exc
    if not arrays:
        raise TinymlError("the .npz archive holds no arrays", p)
    x_key = next((k for k in _X_KEYS if k in arrays), next(iter(arrays)))
    y_key = next((k for k in _Y_KEYS if k in arrays and k != x_key), None)
    y = None
    classes = None
    if y_key is not None:
        y, classes = _labels(arrays[y_key].reshape(-1), p, known, "sample")
        if len(y) != len(arrays[x_key]):
            raise TinymlError(
                f"{x_key!r} has {len(arrays[x_key])} samples but {y_key!r} has {len(y)} labels", p)
    return Dataset(arrays[x_key], y, classes, str(p))


def _labels(values: np.ndarray, p: Path, known: tuple[str, ...] | None,
            where: str) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """Class numbers for the labels, and the class names when the labels are names.

    `where` names a label's position for errors ("sample": index 0.., "line": a CSV line).
    """
    first = 2 if where == "line" else 0
    numbers = _as_integers(values)
    if numbers is not None:
        if known is not None and len(numbers) and (numbers.min() < 0 or
                                                   numbers.max() >= len(known)):
            bad = int(np.flatnonzero((numbers < 0) | (numbers >= len(known)))[0])
            raise TinymlError(f"label {numbers[bad]} ({where} {bad + first}) is not a class "
                              f"number of the model's {len(known)} classes "
                              f"({', '.join(known)})", p)
        return numbers, known
    names = [str(v) for v in values]
    order = known if known is not None else tuple(sorted(set(names)))
    index = {n: i for i, n in enumerate(order)}
    for k, name in enumerate(names):
        if name not in index:
            raise TinymlError(f"label {name!r} ({where} {k + first}) is not one of the model's "
                              f"classes: {', '.join(order)}", p,
                              hint="the class names come from the labels recorded when the "
                              "model was quantized; pass --labels to give them yourself")
    return np.array([index[n] for n in names], dtype=np.int64), order


def _as_integers(values: np.ndarray) -> np.ndarray | None:
    """Integer labels as int64 (also integral floats and strings of digits), else None."""
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    if values.dtype.kind == "f":
        return values.astype(np.int64) if np.all(values == np.round(values)) else None
    try:
        return np.array([int(str(v)) for v in values], dtype=np.int64)
    except ValueError:
        return None


def _numeric(column: list[str]) -> bool:
    try:
        for value in column:
            float(value)
    except ValueError:
        return False
    return True


def _load_csv(p: Path, label_column: str | None, known: tuple[str, ...] | None) -> Dataset:
    delimiter = "\t" if p.suffix.lower() == ".tsv" else ","
    try:
        with p.open(newline="") as f:
            rows = [r for r in csv.reader(f, delimiter=delimiter) if r]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TinymlError(f"cannot read the CSV file: it is not text ({exc})", p) from exc
    if len(rows) < 2:
        raise TinymlError("the CSV file needs a header row and at least one data row", p)
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    for n, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise TinymlError(f"line {n} has {len(row)} columns, the header has {len(header)}", p)
    if label_column is not None and label_column not in header:
        raise TinymlError(f"no column named {label_column!r} (columns: {', '.join(header)})", p)
    notes: list[str] = []
    if label_column is None:
        label_column = next((h for h in header if h.lower() in LABEL_COLUMN_NAMES), None)
    if label_column is None:
        text = [h for i, h in enumerate(header) if not _numeric([row[i] for row in body])]
        if len(text) == 1:
            label_column = text[0]
            notes.append(f"using column {label_column!r} as the labels (the only column that "
                         "is not numeric; --label-column chooses another)")
    features = [i for i, h in enumerate(header) if h != label_column]
    x = np.empty((len(body), len(features)), dtype=np.float32)
    for j, col in enumerate(features):
        try:
            x[:, j] = [float(row[col]) for row in body]
            finite = np.isfinite(x[:, j])
            if not finite.all():
                line = int(np.argmin(finite)) + 2
                raise TinymlError(f"line {line}, column {header[col]!r}: "
                                  f"{body[line - 2][col].strip()!r} is not a finite number "
                                  f"({int((~finite).sum()):,} such values in the column)", p,
                                  hint="clean or impute the data before using it")
        except ValueError:
            raise TinymlError(
                f"column {header[col]!r} is not numeric",
                p,
                hint="name the label column with --label-column; every other column must be a "
                "number",
            ) from None
    y = classes = None
    if label_column is not None:
        col = header.index(label_column)
        y, classes = _labels(np.array([row[col].strip() for row in body]), p, known, "line")
    return Dataset(x, y, classes, str(p), label_column=label_column, notes=tuple(notes))


def _image_size(input_shape: Shape | None, p: Path) -> tuple[int, int, int]:
    if input_shape is None or len(input_shape) != 4:
        raise TinymlError(
            "images need a model with an image input (batch, height, width, channels)", p,
            hint=f"the model's input shape is {tuple(input_shape) if input_shape else 'unknown'}",
        )
    _, h, w, c = (int(d) for d in input_shape)
    if c not in (1, 3):
        raise TinymlError(f"images need 1 or 3 input channels, the model has {c}", p)
    return h, w, c


def _load_image(p: Path, input_shape: Shape | None, pixel_range: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    h, w, c = _image_size(input_shape, p)
    try:
        with Image.open(p) as opened:
            source: Image.Image = opened
            if opened.mode.startswith("I"):  # 16- or 32-bit gray: scale, do not clip to 255
                deep = np.asarray(opened, dtype=np.float64)
                top = 65535.0 if opened.mode.startswith("I;16") or deep.max() <= 65535 \
                    else float(2 ** 32 - 1)
                source = Image.fromarray(np.round(deep * 255.0 / top).astype(np.uint8))
            img = source.convert("L" if c == 1 else "RGB")
            if img.size != (w, h):
                img = img.resize((w, h), Image.Resampling.BILINEAR)
            arr = np.asarray(img, dtype=np.float32)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise TinymlError(f"not a readable image ({exc})", p) from exc
    if c == 1:
        arr = arr[..., None]
    if pixel_range == RAW_INT8:
        return np.where(arr > 127, arr - 256, arr)  # the byte, read as a signed int8
    lo, hi = PIXEL_RANGES[pixel_range]
    return arr * ((hi - lo) / 255.0) + lo


def _load_image_folder(p: Path, input_shape: Shape | None, pixel_range: str,
                       known: tuple[str, ...] | None) -> Dataset:
    class_dirs = sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))
    names = known or tuple(d.name for d in class_dirs)
    unknown = [d.name for d in class_dirs if d.name not in names]
    if unknown:
        raise TinymlError(f"the folder {unknown[0]!r} is not one of the model's classes: "
                          f"{', '.join(names)}", p)
    files: list[tuple[Path, int]] = []
    for d in class_dirs:
        files += [(f, names.index(d.name)) for f in sorted(d.iterdir())
                  if f.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise TinymlError(
            "no images found", p,
            hint="an image dataset is a folder with one subfolder per class holding "
            ".png/.jpg/.bmp files",
        )
    _image_size(input_shape, p)  # fail once for the folder, not for each file
    x = np.stack([_load_image(f, input_shape, pixel_range) for f, _ in files])
    y = np.array([i for _, i in files], dtype=np.int64)
    return Dataset(x, y, names, str(p))


def pick(ds: Dataset, count: int, seed: int = 0) -> np.ndarray:
    """Indices of `count` samples, stratified by class when the data has labels: each class
    shuffled with `seed`, then taken in turn (so a file recorded class by class still gives
    every class its share); without labels, a seeded random choice in file order."""
    rng = np.random.default_rng(seed)
    count = min(count, len(ds))
    if ds.y is None:
        return np.sort(rng.choice(len(ds), size=count, replace=False))
    queues = [list(rng.permutation(np.flatnonzero(ds.y == c))) for c in np.unique(ds.y)]
    chosen: list[int] = []
    while len(chosen) < count:
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(int(queue.pop(0)))
    return np.array(chosen, dtype=np.int64)


def split(ds: Dataset, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held out) indices: `fraction` of each class held out, seeded, in file order."""
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(ds.y == c) for c in np.unique(ds.y)] if ds.y is not None else \
        [np.arange(len(ds))]
    held = [rng.permutation(g)[:round(fraction * len(g))] for g in groups]
    out = np.sort(np.concatenate(held)) if held else np.zeros(0, dtype=np.int64)
    return np.setdiff1d(np.arange(len(ds)), out), out


def subset(ds: Dataset, indices: np.ndarray) -> Dataset:
    return replace(ds, x=ds.x[indices], y=ds.y[indices] if ds.y is not None else None)


def calibration_sample(ds: Dataset, limit: int, seed: int = 0) -> np.ndarray:
    """At most `limit` samples, drawn without replacement with a fixed seed."""
    if len(ds) <= limit:
        return ds.x
    rng = np.random.default_rng(seed)
    return ds.x[np.sort(rng.choice(len(ds), size=limit, replace=False))]


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype: str = "int8") -> np.ndarray:
    """Float → integer the way TFLite does it (round half away from zero, then clamp)."""
    info = np.iinfo(np.dtype(dtype))
    # TFLite rounds half away from zero; numpy's round() would round half to even.
    q = _round_away(x / scale) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def _round_away(v: np.ndarray) -> np.ndarray:
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (q.astype(np.float32) - zero_point) * np.float32(scale)
