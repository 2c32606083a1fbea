"""`tinyml data prepare` without an LLM: read a dataset, split it by class, normalise it with
the training split's statistics (never the validation split's), and write `.npz` files plus a
representative sample for quantization — and `check_outputs`, the check every prepared dataset
passes, ours or an LLM-written script's: the files exist, their arrays have the promised shapes
and dtypes, nothing is NaN or infinite, and the splits share no sample.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.data_summary import summarize
from tinyml_lsp.model.datasets import Dataset, load_dataset, pick, split, subset
from tinyml_lsp.model.quantize import DEFAULT_SAMPLES
from tinyml_lsp.runtime.context import JobContext

DEFAULT_SPLIT = 0.2
Promised = dict[str, dict[str, dict[str, Any]]]  # file → array → {"shape": [...], "dtype": …}


@dataclass(frozen=True)
class OutputCheck:
    ok: bool
    problems: tuple[str, ...]
    arrays: dict[str, dict[str, list[Any]]]  # file → array → [shape, dtype] as found

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _rows(a: np.ndarray) -> set[bytes]:
    flat = np.ascontiguousarray(a.reshape(len(a), -1)) if a.ndim else a.reshape(1, -1)
    return {hashlib.blake2b(r.tobytes(), digest_size=16).digest() for r in flat}


def check_outputs(root: str | Path, promised: Promised, *,
                  splits: tuple[str, ...] = (), allowed_overlap: int = 0) -> OutputCheck:
    """Check files written under `root` against what was promised. `splits`: files whose
    first array (x) must share no row with each other; `allowed_overlap`: duplicate samples
    already in the source, which may legitimately land in two splits."""
    base = Path(root).resolve()
    problems: list[str] = []
    found: dict[str, dict[str, list[Any]]] = {}
    loaded: dict[str, dict[str, np.ndarray]] = {}
    for name, arrays in promised.items():
        rel = PurePosixPath(name)
        path = (base / rel).resolve()
        if rel.is_absolute() or not path.is_relative_to(base):
            problems.append(f"{name}: outside the output folder")
            continue
        if not path.is_file():
            problems.append(f"{name}: was not written")
            continue
        try:
            if path.suffix == ".npz":
                with np.load(path, allow_pickle=False) as archive:
                    data = {k: archive[k] for k in archive.files}
            else:
                data = {"x": np.load(path, allow_pickle=False)}
        except (ValueError, OSError, EOFError) as exc:
            problems.append(f"{name}: not a readable numpy file ({exc})")
            continue
        loaded[name] = data
        found[name] = {k: [list(v.shape), str(v.dtype)] for k, v in data.items()}
        lengths = {k: len(v) for k, v in data.items() if v.ndim and k in arrays}
        if len(set(lengths.values())) > 1:
            problems.append(f"{name}: its arrays have different numbers of samples {lengths}")
        for key, spec in arrays.items():
            if key not in data:
                problems.append(f"{name}: has no array {key!r} (it has {', '.join(data)})")
                continue
            a = data[key]
            want_shape, want_dtype = spec.get("shape"), spec.get("dtype")
            if want_dtype is not None and str(a.dtype) != str(np.dtype(want_dtype)):
                problems.append(f"{name}[{key}]: dtype {a.dtype}, promised {want_dtype}")
            if want_shape is not None and (len(want_shape) != a.ndim or any(
                    w is not None and w != d for w, d in zip(want_shape, a.shape, strict=False))):
                problems.append(f"{name}[{key}]: shape {list(a.shape)}, promised "
                                f"{['N' if w is None else w for w in want_shape]}")
            if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
                problems.append(f"{name}[{key}]: {int((~np.isfinite(a)).sum())} NaN or "
                                "infinite values")
    present = [s for s in splits if loaded.get(s)]
    for i, first in enumerate(present):
        for second in present[i + 1:]:
            x1, x2 = next(iter(loaded[first].values())), next(iter(loaded[second].values()))
            shared = len(_rows(x1) & _rows(x2))
            if shared > allowed_overlap:
                problems.append(f"{first} and {second} share {shared} sample(s): the splits "
                                "are not disjoint")
    return OutputCheck(not problems, tuple(problems), found)


@dataclass(frozen=True)
class PrepareResult:
    source: str
    out_dir: str
    files: dict[str, str]  # role (train, val, representative, manifest) → path
    train_samples: int
    val_samples: int
    representative_samples: int
    classes: tuple[str, ...] | None
    normalization: dict[str, list[float]] | None  # mean and std per feature / channel
    check: OutputCheck

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "check": self.check.to_json()}


def _image_shape(path: Path) -> tuple[int, int, int, int] | None:
    """The shape an image folder is read at: its most common size; grayscale if all are."""
    s = summarize(path)
    if s.format != "images":
        return None
    width, height = (int(v) for v in s.image_sizes[0][0].split("x"))
    gray = all(mode in ("L", "1", "I", "I;16") for mode, _ in s.image_modes)
    return (1, height, width, 1 if gray else 3)


def _write(path: Path, ds: Dataset, x: np.ndarray) -> dict[str, dict[str, Any]]:
    arrays: dict[str, np.ndarray] = {"x": x.astype(np.float32)}
    if ds.y is not None:
        arrays["y"] = ds.y.astype(np.int64)
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return {k: {"shape": [None, *v.shape[1:]], "dtype": str(v.dtype)} for k, v in arrays.items()}


def _prepare(path: Path, normalize: bool, fraction: float, label_column: str | None,
             seed: int, out: Path) -> PrepareResult:
    facts = summarize(path, label_column=label_column)
    if facts.missing:
        gaps = [f"{c.name} ({c.missing})" for c in facts.columns if c.missing]
        raise TinymlError(f"{facts.missing} missing value(s)" + (f" in {', '.join(gaps)}"
                          if gaps else "") + ": the deterministic prepare does not guess them",
                          path, hint="fill or drop them first, or describe what to do: tinyml "
                          "data prepare PATH \"purpose\" (LLM)")
    ds = load_dataset(path, _image_shape(path) if path.is_dir() else None,
                      label_column=label_column)
    kept, held = split(ds, fraction, seed) if fraction > 0 else (np.arange(len(ds)),
                                                                 np.zeros(0, dtype=np.int64))
    rng = np.random.default_rng(seed)  # shuffled: a file written class by class is not
    train, val = subset(ds, rng.permutation(kept)), subset(ds, rng.permutation(held))
    if len(train) == 0:
        raise TinymlError(f"nothing left to train on with --split {fraction}", path)
    stats = None
    x_train, x_val = train.x, val.x
    if normalize:  # per feature (or per channel of images), from the training split only
        axes = tuple(range(train.x.ndim - 1))
        mean = train.x.mean(axis=axes)
        std = train.x.std(axis=axes)
        std = np.where(std > 0, std, 1.0).astype(np.float32)
        x_train, x_val = (train.x - mean) / std, (val.x - mean) / std
        stats = {"mean": [float(v) for v in np.ravel(mean)],
                 "std": [float(v) for v in np.ravel(std)]}
    out.mkdir(parents=True, exist_ok=True)
    stem = path.stem if path.is_file() else path.name
    files = {"train": out / f"{stem}_train.npz"}
    promised = {files["train"].name: _write(files["train"], train, x_train)}
    if len(val):
        files["val"] = out / f"{stem}_val.npz"
        promised[files["val"].name] = _write(files["val"], val, x_val)
    chosen = pick(train, DEFAULT_SAMPLES, seed)
    files["representative"] = out / f"{stem}_representative.npz"
    promised[files["representative"].name] = _write(files["representative"],
                                                    subset(train, chosen), x_train[chosen])
    files["manifest"] = out / f"{stem}_prepare.json"
    files["manifest"].write_text(json.dumps({
        "source": str(path), "split": fraction, "seed": seed, "label_column": ds.label_column,
        "classes": list(ds.classes) if ds.classes else None, "normalization": stats,
        "files": promised}, indent=1) + "\n")
    check = check_outputs(out, promised, splits=tuple(
        files[k].name for k in ("train", "val") if k in files),
        allowed_overlap=facts.duplicates)
    return PrepareResult(str(path), str(out), {k: str(v) for k, v in files.items()},
                         len(train), len(val), len(chosen), ds.classes, stats, check)


async def prepare_dataset(path: str | Path, ctx: JobContext, *, normalize: bool = False,
                          split: float = DEFAULT_SPLIT, label_column: str | None = None,
                          seed: int = 0, out: str | Path | None = None) -> PrepareResult:
    p = Path(path)
    if not p.exists():
        raise TinymlError("no such dataset file or folder", p)
    if not 0.0 <= split < 1.0:
        raise TinymlError(f"--split must be at least 0 and below 1, not {split}", p)
    ctx.progress(0.0, f"reading {p.name}")
    result = await asyncio.to_thread(_prepare, p, normalize, split, label_column, seed,
                                     Path(out) if out else p.parent)
    if not result.check.ok:  # a bug of ours, not of the data: say it plainly
        raise TinymlError("the prepared files failed their own check: "
                          + "; ".join(result.check.problems), result.out_dir)
    ctx.progress(1.0, "prepared")
    return result


def render_prepare(r: PrepareResult) -> str:
    lines = [f"prepared {r.source}: {r.train_samples} training and {r.val_samples} validation "
             f"samples" + (f", classes {', '.join(r.classes)}" if r.classes else "")]
    lines += [f"  {role:<15} {path}" for role, path in r.files.items()]
    if r.normalization:
        lines.append(f"  normalized with the training split's mean and std "
                     f"({len(r.normalization['mean'])} values, in the manifest): apply the same "
                     "to the board's inputs")
    lines.append(f"  representative sample: {r.representative_samples} samples for "
                 "`tinyml quantize --data`")
    lines.append("  checked: files, shapes and dtypes as promised, finite values, disjoint "
                 "splits" if r.check.ok else "  CHECK FAILED: " + "; ".join(r.check.problems))
    return "\n".join(lines)
