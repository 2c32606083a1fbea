"""`tinyml data summary`: a dataset's facts, measured, with no LLM — for a CSV its columns and
types, ranges, missing values, duplicate rows, class balance and whether the rows are sorted by
class; for an image folder its classes, image sizes and modes; for .npy/.npz its arrays.

The same value is the CLI's text and `--json`, the hover on a dataset path in a training
script, and the facts an LLM gets when it writes a preprocessing script.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.datasets import _X_KEYS, _Y_KEYS
from tinyml_lsp.model.formats import (
    ARRAY_SUFFIXES,
    IMAGE_SUFFIXES,
    LABEL_COLUMN_NAMES,
    TABLE_SUFFIXES,
)
from tinyml_lsp.text import is_number

MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-"}
IMBALANCE = 3.0  # largest class / smallest class above this is worth a note
SHOWN_VALUES = 5


@dataclass(frozen=True)
class ColumnSummary:
    name: str
    kind: str  # "numeric" or "text"
    missing: int
    distinct: int
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    std: float | None = None
    common: tuple[tuple[str, int], ...] = ()  # a text column's most common values

    def describe(self) -> str:
        if self.kind == "numeric" and self.minimum is not None:
            return (f"{self.minimum:.4g} .. {self.maximum:.4g} (mean {self.mean:.4g}, std "
                    f"{self.std:.4g})")
        values = ", ".join(f"{v} ({n})" for v, n in self.common)
        return values + (", …" if self.distinct > len(self.common) else "")


@dataclass(frozen=True)
class ArraySummary:
    name: str
    shape: tuple[int, ...]
    dtype: str
    minimum: float | None
    maximum: float | None
    nan: int
    inf: int


@dataclass(frozen=True)
class DataSummary:
    path: str
    format: str  # csv, images, npy, npz
    rows: int  # samples
    label: str | None  # the label column or array, "folders" for an image folder
    classes: tuple[tuple[str, int], ...]  # class → samples, in class order
    sorted_by_class: bool | None  # the samples come class by class (None: no labels)
    duplicates: int  # samples that repeat an earlier one exactly
    missing: int  # missing values (CSV), NaN/inf (arrays), unreadable images
    columns: tuple[ColumnSummary, ...] = ()
    arrays: tuple[ArraySummary, ...] = ()
    image_sizes: tuple[tuple[str, int], ...] = ()  # "WxH" → images
    image_modes: tuple[tuple[str, int], ...] = ()  # Pillow mode → images
    unreadable: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["classes"] = dict(self.classes)
        data["image_sizes"] = dict(self.image_sizes)
        data["image_modes"] = dict(self.image_modes)
        return data


def summarize(path: str | Path, *, label_column: str | None = None) -> DataSummary:
    p = Path(path)
    if not p.exists():
        raise TinymlError("no such dataset file or folder", p)
    suffix = p.suffix.lower()
    if p.is_dir():
        summary = _images(p)
    elif suffix in TABLE_SUFFIXES:
        summary = _csv(p, label_column)
    elif suffix in ARRAY_SUFFIXES:
        summary = _arrays(p)
    else:
        raise TinymlError(f"unknown dataset format {suffix or '(no extension)'!r}", p,
                          hint="a CSV, .npy/.npz, or a folder with one subfolder per class")
    return _with_notes(summary)


def _grouped(labels: list[Any]) -> bool | None:
    """Do the labels come in one run per class (the file was written class by class)?"""
    if len(set(labels)) < 2:
        return None
    runs = 1 + sum(a != b for a, b in itertools.pairwise(labels))
    return runs == len(set(labels))


def _with_notes(s: DataSummary) -> DataSummary:
    notes = []
    counts = [n for _, n in s.classes]
    if len(counts) >= 2 and min(counts) and max(counts) / min(counts) > IMBALANCE:
        notes.append(f"classes are imbalanced ({max(counts)} vs {min(counts)} samples)")
    if counts and min(counts) == 0:
        notes.append("a class has no samples")
    if s.sorted_by_class:
        notes.append("samples come class by class: shuffle (or split by class) before taking "
                     "a validation split or a representative sample by position")
    if s.duplicates:
        notes.append(f"{s.duplicates} duplicate sample(s): they can leak between splits")
    if s.missing:
        notes.append(f"{s.missing} missing or non-finite value(s)" if s.format != "images"
                     else f"{s.missing} unreadable image(s)")
    if len(s.image_sizes) > 1:
        notes.append("images differ in size: resize them to the model's input")
    return replace(s, notes=tuple(notes))


# --- CSV -------------------------------------------------------------------------------------


def _csv(p: Path, label_column: str | None) -> DataSummary:
    delimiter = "\t" if p.suffix.lower() == ".tsv" else ","
    try:
        with p.open(newline="") as f:
            rows = [r for r in csv.reader(f, delimiter=delimiter) if r]
    except (OSError, UnicodeDecodeError) as exc:
        raise TinymlError(f"cannot read the CSV file ({exc})", p) from exc
    if not rows:
        raise TinymlError("the CSV file is empty", p)
    header, body = [h.strip() for h in rows[0]], rows[1:]
    for n, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise TinymlError(f"line {n} has {len(row)} columns, the header has {len(header)}", p)
    if label_column is not None and label_column not in header:
        raise TinymlError(f"no column named {label_column!r} (columns: {', '.join(header)})", p)
    columns = []
    missing = 0
    for i, name in enumerate(header):
        values = [row[i].strip() for row in body]
        present = [v for v in values if v.lower() not in MISSING]
        missing += len(values) - len(present)
        if present and all(is_number(v) for v in present):
            x = np.array([float(v) for v in present])
            finite = x[np.isfinite(x)]
            missing += len(x) - len(finite)
            columns.append(ColumnSummary(
                name, "numeric", len(values) - len(finite), len(set(present)),
                *((float(finite.min()), float(finite.max()), float(finite.mean()),
                   float(finite.std())) if len(finite) else (None,) * 4)))
        else:
            common = tuple(Counter(present).most_common(SHOWN_VALUES))
            columns.append(ColumnSummary(name, "text", len(values) - len(present),
                                         len(set(present)), common=common))
    if label_column is None:
        label_column = next((h for h in header if h.lower() in LABEL_COLUMN_NAMES), None)
    if label_column is None:
        text = [c.name for c in columns if c.kind == "text"]
        label_column = text[0] if len(text) == 1 else None
    classes: tuple[tuple[str, int], ...] = ()
    grouped = None
    if label_column is not None:
        labels = [row[header.index(label_column)].strip() for row in body]
        counts = Counter(labels)
        classes = tuple((c, counts[c]) for c in _class_order(list(counts)))
        grouped = _grouped(labels)
    duplicates = len(body) - len({tuple(v.strip() for v in row) for row in body})
    return DataSummary(str(p), "csv", len(body), label_column, classes, grouped, duplicates,
                       missing, columns=tuple(columns))


def _class_order(names: list[str]) -> list[str]:
    """Classes as every task numbers them: integers by value, names sorted."""
    if all(n.lstrip("-").isdigit() for n in names):
        return sorted(names, key=int)
    return sorted(names)


# --- arrays ----------------------------------------------------------------------------------


def _array_summary(name: str, a: np.ndarray) -> ArraySummary:
    numeric = a.dtype.kind in "fiub" and a.size
    finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
    return ArraySummary(name, tuple(int(d) for d in a.shape), str(a.dtype),
                        float(finite.min()) if numeric and finite.size else None,
                        float(finite.max()) if numeric and finite.size else None,
                        int(np.isnan(a).sum()) if a.dtype.kind == "f" else 0,
                        int(np.isinf(a).sum()) if a.dtype.kind == "f" else 0)


def _arrays(p: Path) -> DataSummary:
    try:
        if p.suffix.lower() == ".npy":
            arrays = {"x": np.load(p, allow_pickle=False)}
        else:
            with np.load(p, allow_pickle=False) as archive:
                arrays = {k: archive[k] for k in archive.files}
    except (ValueError, OSError, EOFError) as exc:
        raise TinymlError(f"not a readable numpy file ({exc})", p) from exc
    if not arrays:
        raise TinymlError("the archive holds no arrays", p)
    x_key = next((k for k in _X_KEYS if k in arrays), next(iter(arrays)))
    y_key = next((k for k in _Y_KEYS if k in arrays and k != x_key), None)
    x = arrays[x_key]
    rows = int(x.shape[0]) if x.ndim else 1
    summaries = tuple(_array_summary(k, v) for k, v in arrays.items())
    bad = sum(s.nan + s.inf for s in summaries)
    duplicates = 0
    if x.ndim >= 1 and rows:
        flat = np.ascontiguousarray(x.reshape(rows, -1))
        duplicates = rows - len({hashlib.blake2b(r.tobytes(), digest_size=16).digest()
                                 for r in flat})
    classes: tuple[tuple[str, int], ...] = ()
    grouped = None
    if y_key is not None:
        labels = [str(v) for v in arrays[y_key].reshape(-1)]
        counts = Counter(labels)
        classes = tuple((c, counts[c]) for c in _class_order(list(counts)))
        grouped = _grouped(labels)
    return DataSummary(str(p), p.suffix.lower()[1:], rows, y_key, classes, grouped,
                       duplicates, bad, arrays=summaries)


# --- image folders ---------------------------------------------------------------------------


def _images(p: Path) -> DataSummary:
    from PIL import Image, UnidentifiedImageError

    class_dirs = sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))
    sizes: Counter[str] = Counter()
    modes: Counter[str] = Counter()
    classes = []
    labels: list[str] = []
    unreadable: list[str] = []
    seen: set[bytes] = set()
    duplicates = 0
    for d in class_dirs:
        files = sorted(f for f in d.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        classes.append((d.name, len(files)))
        for f in files:
            try:
                data = f.read_bytes()
                with Image.open(f) as img:
                    sizes[f"{img.width}x{img.height}"] += 1
                    modes[img.mode] += 1
            except (OSError, UnidentifiedImageError):
                unreadable.append(str(f.relative_to(p)))
                continue
            digest = hashlib.blake2b(data, digest_size=16).digest()
            duplicates += digest in seen
            seen.add(digest)
            labels.append(d.name)
    if not any(n for _, n in classes):
        raise TinymlError("no images found", p, hint="an image dataset is a folder with one "
                          "subfolder per class holding .png/.jpg/.bmp files")
    return DataSummary(str(p), "images", sum(n for _, n in classes), "folders",
                       tuple(classes), None, duplicates, len(unreadable),
                       image_sizes=tuple(sizes.most_common()),
                       image_modes=tuple(modes.most_common()), unreadable=tuple(unreadable))


# --- rendering -------------------------------------------------------------------------------


def render_summary(s: DataSummary) -> str:
    what = {"csv": "CSV", "images": "image folder", "npy": ".npy array",
            "npz": ".npz archive"}[s.format]
    head = f"{s.path}: {what}, {s.rows:,} samples"
    if s.columns:
        head += f", {len(s.columns)} columns"
    if s.label is not None and s.classes:
        where = "subfolders" if s.label == "folders" else repr(s.label)
        head += f"; labels from {where} ({len(s.classes)} classes)"
    lines = [head]
    if s.columns:
        width = max(len(c.name) for c in s.columns)
        lines += [f"  {c.name:<{width}}  {c.kind:<7}  missing {c.missing:<4} {c.describe()}"
                  for c in s.columns]
    for a in s.arrays:
        shape = "×".join(str(d) for d in a.shape) or "scalar"
        span = f" {a.minimum:.4g} .. {a.maximum:.4g}" if a.minimum is not None else ""
        bad = f", {a.nan} NaN, {a.inf} inf" if a.nan or a.inf else ""
        lines.append(f"  {a.name}: {a.dtype}[{shape}]{span}{bad}")
    if s.image_sizes:
        lines.append("  sizes: " + ", ".join(f"{k} ({n})" for k, n in s.image_sizes)
                     + "; modes: " + ", ".join(f"{k} ({n})" for k, n in s.image_modes))
    if s.classes:
        total = sum(n for _, n in s.classes) or 1
        lines.append("  class balance: " + ", ".join(
            f"{c} {n} ({100 * n / total:.0f}%)" for c, n in s.classes))
    order = {True: "grouped by class", False: "mixed", None: "n/a"}[s.sorted_by_class]
    lines.append(f"  duplicates {s.duplicates}; missing {s.missing}; order {order}")
    lines += [f"  note: {n}" for n in s.notes]
    return "\n".join(lines)

