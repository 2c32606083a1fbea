"""A model's input features computed from one sensor reading, defined once in `features.toml`.

The file sits beside a training example; its training data are computed with `evaluate` and the
sketch generator emits the same arithmetic as C (`c_function`), so the board feeds the model
exactly what it was trained on. The format:

    sensor = "apds9960"                        # the sensor a reading comes from
    reading = ["red", "green", "blue", "clear"] # the reading's channels, by name
    [features]                                  # the model's inputs, in order
    red = "red / (red + green + blue)"          # + - * / on channels and numbers, parentheses

Both sides compute in float32, operation by operation in the order written (the C function is
compiled without fused multiply-adds), so they agree to the bit.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml_lsp.errors import TinymlError

FILE_NAME = "features.toml"
# the channels each known sensor gives, in the order its driver reads them
SENSORS: dict[str, tuple[str, ...]] = {"apds9960": ("red", "green", "blue", "clear")}
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


@dataclass(frozen=True)
class Features:
    path: str
    sensor: str
    reading: tuple[str, ...]  # the channels a reading holds, in the data's column order
    names: tuple[str, ...]  # the model's inputs, in order
    formulas: tuple[str, ...]
    trees: tuple[ast.expr, ...]

    def evaluate(self, readings: np.ndarray) -> np.ndarray:
        """Features (float32, one row per reading) of `readings` (one column per channel)."""
        x = np.asarray(readings, dtype=np.float32).reshape(-1, len(self.reading))
        channels = {name: x[:, i] for i, name in enumerate(self.reading)}
        with np.errstate(divide="ignore", invalid="ignore"):
            columns = [np.broadcast_to(_eval(t, channels), (len(x),)) for t in self.trees]
        return np.stack(columns, axis=1).astype(np.float32)

    def c_function(self, name: str = "tinyml_features") -> str:
        """`static void NAME(const float *reading, float *features)` computing the same."""
        lines = ["// The model's features from one reading, as " + Path(self.path).name
                 + " defines them;", "// float32, no fused multiply-add: the host's arithmetic.",
                 '__attribute__((optimize("fp-contract=off")))',
                 f"static void {name}(const float *reading, float *features)", "{"]
        lines += [f"    const float {c} = reading[{i}];" for i, c in enumerate(self.reading)]
        lines += [f"    features[{i}] = {_c(t)};  // {n}"
                  for i, (n, t) in enumerate(zip(self.names, self.trees, strict=True))]
        lines += [f"    (void){c};" for c in self.reading if not self._uses(c)]
        return "\n".join([*lines, "}"])

    def _uses(self, channel: str) -> bool:
        return any(isinstance(n, ast.Name) and n.id == channel
                   for t in self.trees for n in ast.walk(t))


def find_features(model: str | Path, given: str | Path | None = None) -> Path:
    """`given`, else features.toml beside the model or in its parent folder."""
    if given is not None:
        return Path(given)
    folder = Path(model).resolve().parent
    for candidate in (folder / FILE_NAME, folder.parent / FILE_NAME):
        if candidate.is_file():
            return candidate
    raise TinymlError(f"no {FILE_NAME} beside the model says how a sensor reading becomes the "
                      "model's input", model, hint="write one (see docs/firmware.md) or pass "
                      "--features PATH")


def load_features(path: str | Path) -> Features:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise TinymlError(f"cannot read the feature definition: {exc.strerror}", path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TinymlError(f"not a valid TOML file: {exc}", path) from None
    sensor = data.get("sensor")
    if sensor not in SENSORS:
        raise TinymlError(f"sensor = {sensor!r}: the known sensors are {', '.join(SENSORS)}",
                          path)
    reading = data.get("reading")
    if not isinstance(reading, list) or not reading or not set(reading) <= set(SENSORS[sensor]):
        raise TinymlError(f"reading must list channels of the {sensor}: "
                          f"{', '.join(SENSORS[sensor])}", path)
    table = data.get("features")
    if not isinstance(table, dict) or not table:
        raise TinymlError("a [features] table must give each model input a formula", path)
    trees = tuple(_parse(str(formula), name, set(reading), path)
                  for name, formula in table.items())
    return Features(str(path), sensor, tuple(reading), tuple(table),
                    tuple(str(f) for f in table.values()), trees)


def _parse(formula: str, name: str, channels: set[str], path: Path) -> ast.expr:
    try:
        tree = ast.parse(formula, mode="eval").body
    except SyntaxError:
        raise TinymlError(f"feature {name}: {formula!r} is not a formula", path) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in channels:
            raise TinymlError(f"feature {name}: {node.id!r} is not a channel of the reading "
                              f"({', '.join(sorted(channels))})", path)
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):  # checked
            raise TinymlError(f"feature {name}: {node.value!r} is not a number", path)
        allowed = (ast.BinOp, ast.UnaryOp, ast.USub, ast.UAdd, ast.Name, ast.Load, ast.Constant,
                   *_OPS)
        if not isinstance(node, allowed) or (isinstance(node, ast.Constant)
                                             and isinstance(node.value, bool)):
            raise TinymlError(f"feature {name}: only + - * /, channels, numbers and "
                              f"parentheses are allowed in {formula!r}", path)
    return tree


def _eval(node: ast.expr, channels: dict[str, np.ndarray]) -> np.ndarray:
    if isinstance(node, ast.Name):
        return channels[node.id]
    if isinstance(node, ast.Constant):
        return np.asarray(node.value, dtype=np.float32)
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, channels)
        return -value if isinstance(node.op, ast.USub) else value
    assert isinstance(node, ast.BinOp)
    a, b = _eval(node.left, channels), _eval(node.right, channels)
    op = type(node.op)
    result = a + b if op is ast.Add else a - b if op is ast.Sub else a * b if op is ast.Mult \
        else a / b
    return np.asarray(result, dtype=np.float32)


def _c(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        return f"{float(np.float32(float(node.value)))!r}f"  # type: ignore[arg-type]
    if isinstance(node, ast.UnaryOp):
        return f"{'-' if isinstance(node.op, ast.USub) else '+'}({_c(node.operand)})"
    assert isinstance(node, ast.BinOp)
    return f"({_c(node.left)} {_OPS[type(node.op)]} {_c(node.right)})"
