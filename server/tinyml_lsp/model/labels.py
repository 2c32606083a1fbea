"""A model's class names: one source of truth for a project.

`quantize` records the class names of its data beside every model it writes
(`artifacts.labels_file`); every later task that reads labelled data for that model numbers the
classes by them, so a hold-out file that lacks a class, or lists classes in another order, is
still scored against the right class. An explicit list (`--labels`) wins over the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tinyml_lsp import artifacts
from tinyml_lsp.errors import TinymlError


def read_labels(model: str | Path) -> tuple[str, ...] | None:
    """The class names recorded for `model`, or None when there is no record."""
    path = artifacts.labels_file(Path(model))
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise TinymlError(f"cannot read the model's class names: {exc}", path) from None
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    return names or None


def write_labels(model: str | Path, labels: Sequence[str]) -> Path:
    path = artifacts.labels_file(Path(model))
    try:
        path.write_text("".join(f"{name}\n" for name in labels))
    except OSError as exc:
        raise TinymlError(f"cannot write the model's class names: {exc.strerror}", path) from None
    return path


def model_labels(model: str | Path, explicit: Sequence[str] | None = None
                 ) -> tuple[str, ...] | None:
    """The class names to number a model's data by: `explicit`, else the record."""
    if explicit:
        return tuple(explicit)
    return read_labels(model)
