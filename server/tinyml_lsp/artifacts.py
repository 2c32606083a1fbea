"""Where the lifecycle's files go and what they are called: one rule each, used by the tasks
that write them and by the editor actions that look for them (so both always agree)."""

from __future__ import annotations

from pathlib import Path


def model_stem(model: Path) -> str:
    """The name outputs are derived from: a model file's stem, a SavedModel folder's name."""
    return model.name if model.is_dir() else model.stem


def quantize_dir(model: Path, out_dir: str | Path | None = None) -> Path:
    """Where `quantize` writes: `out_dir`, else beside the model (inside a SavedModel)."""
    if out_dir is not None:
        return Path(out_dir)
    return model if model.is_dir() else model.parent


def quantized_model(model: Path, mode: str, out_dir: str | Path | None = None) -> Path:
    """`<stem>_<mode>.tflite`: `fruit_model.keras` → `fruit_model_int8.tflite`."""
    return quantize_dir(model, out_dir) / f"{model_stem(model)}_{mode}.tflite"


def quantize_report(model: Path, out_dir: str | Path | None = None) -> Path:
    """`<stem>_quantize_report.md` (and `.json` beside it)."""
    return quantize_dir(model, out_dir) / f"{model_stem(model)}_quantize_report.md"


def firmware_project(model: Path) -> Path:
    """The editor's default folder for a model's firmware project: `<stem>_firmware` beside
    the Keras model it was quantized from."""
    return quantize_dir(model) / f"{model_stem(model)}_firmware"


def labels_file(model: Path) -> Path:
    """The class names of a .tflite model, one per line: `fruit_model_int8.labels.txt`."""
    return model.with_name(f"{model.stem}.labels.txt")


def expected_file(project: Path) -> Path:
    """What the host expects a firmware project's board to print (deploy.verdict)."""
    return project / "tinyml_expected.json"


def model_report_page(model: Path) -> Path:
    """The model report page: `fruit_model_int8.tflite` → `fruit_model_int8_report.html`."""
    return model.with_name(f"{model.stem}_report.html")
