"""Find, in a Python training script, where a Keras model is fitted or saved, and which files
hold the model and its data — what "Quantize this model" needs to know.

A line scan with regular expressions, not a parse: it must answer on every keystroke of a
thousand-line file in well under a millisecond, and work on code that does not parse yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tinyml_lsp.model.formats import DATA_SUFFIXES, KERAS_SUFFIXES

_KERAS_HINT = re.compile(r"\b(keras|tensorflow|tf\.keras)\b")
_SITE = re.compile(
    r"(?P<call>\.fit\s*\(|\.save\s*\(|\bsave_model\s*\(|saved_model\.save\s*\(|\.export\s*\()"
)
# receivers whose .save() is not a model's: np.save(...), torch.save(...), ...
_NOT_KERAS = r"\b(np|numpy|torch|joblib|pickle|plt|fig|df|image|img|Image)\s*$"
_STRING = re.compile(r"""(?P<q>['"])(?P<s>[^'"\n]+)(?P=q)""")


@dataclass(frozen=True)
class SaveSite:
    line: int  # 0-based
    call: str  # "fit", "save", "export", ...


@dataclass(frozen=True)
class TrainingScript:
    sites: tuple[SaveSite, ...]
    model_literals: tuple[str, ...]  # strings that name a saved model, in file order
    data_literals: tuple[str, ...]  # strings that may name a dataset, in file order

    def site_on(self, line: int) -> SaveSite | None:
        return next((s for s in self.sites if s.line == line), None)


def scan(text: str) -> TrainingScript | None:
    """The save/fit sites of a Keras training script, or None if it is not one."""
    if not _KERAS_HINT.search(text):
        return None
    sites: list[SaveSite] = []
    models: list[str] = []
    data: list[str] = []
    for n, line in enumerate(text.splitlines()):
        code = line.split("#", 1)[0]
        if not code.strip():
            continue
        site = _SITE.search(code)
        if site and re.search(_NOT_KERAS, code[: site.start()]):
            site = None
        if site:
            call = site.group("call").strip(" .(").replace("saved_model.", "saved_model_")
            sites.append(SaveSite(n, call.strip()))
        for m in _STRING.finditer(code):
            s = m.group("s")
            lower = s.lower()
            if lower.endswith(KERAS_SUFFIXES):
                models.append(s)
            elif lower.endswith(DATA_SUFFIXES):
                data.append(s)
            elif site and site.group("call").strip(" .(") in ("saved_model.save", "export"):
                models.append(s)  # a SavedModel folder
            elif "/" in s or lower.startswith(("data", "images", "dataset")):
                data.append(s)  # maybe an image folder; resolve() checks
    if not sites:
        return None
    return TrainingScript(tuple(sites), tuple(models), tuple(data))


def _resolve(literal: str, bases: list[Path], *, want_dir: bool | None = None) -> Path | None:
    for base in bases:
        p = (base / literal).resolve()
        if p.exists() and (want_dir is None or p.is_dir() == want_dir):
            return p
    return None


def resolve_model(script: TrainingScript, script_path: Path, root: Path | None) -> Path | None:
    """The model file the script saves, if it exists (relative to the script, then the root)."""
    bases = [script_path.parent] + ([root] if root else [])
    for literal in script.model_literals:
        if (p := _resolve(literal, bases)) is not None:
            return p
    return None


def expected_model(script: TrainingScript, script_path: Path) -> Path | None:
    """Where the model will be once the script has run (for a clear 'train it first')."""
    return (script_path.parent / script.model_literals[0]) if script.model_literals else None


def resolve_data(script: TrainingScript, script_path: Path, root: Path | None) -> Path | None:
    """The first dataset the script names that exists: the training data comes first."""
    bases = [script_path.parent] + ([root] if root else [])
    for literal in script.data_literals:
        p = _resolve(literal, bases)
        if p is not None and (p.is_file() or any(c.is_dir() for c in p.iterdir())):
            return p
    return None
