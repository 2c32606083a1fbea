"""The arguments of tinyml's LSP commands: one dataclass per command, structured from the
command's one argument (a JSON object) by a strict converter, so a handler reads typed fields.

A wrong type is refused, not coerced (`"project": 5` is not the folder "5"), and so is an
unknown key or a path that does not exist where one must: the request is answered with a
JSON-RPC error (-32602, invalid params) naming the argument and what it should be.

A field left as None is not passed on: the core's own default applies (defaults live in the
core's signatures, once).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar, get_origin

import cattrs
from cattrs.errors import AttributeValidationNote, ForbiddenExtraKeysError
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import to_fs_path

T = TypeVar("T")

# what a path argument must name (field metadata "exists")
FILE, FOLDER, PATH, FILE_URI = "file", "folder", "file or folder", "file: URI"


def arg(what: str, *, exists: str | None = None, default: Any = ...) -> Any:
    """A command argument: what it is, for error messages, and what must exist on disk."""
    metadata = {"what": what, "exists": exists}
    return field(metadata=metadata) if default is ... else field(default=default,
                                                                 metadata=metadata)


def given(arguments: Any, *names: str) -> dict[str, Any]:
    """The named fields that were given (not None), as keyword arguments for the core."""
    return {name: getattr(arguments, name) for name in names
            if getattr(arguments, name) is not None}


@dataclass(frozen=True)
class ScriptArguments:
    """An action on a line of a training script (`tinyml.quantize`)."""

    uri: str = arg("the training script's file: URI", exists=FILE_URI)
    line: int | None = arg("a 0-based line of it", default=None)


@dataclass(frozen=True)
class SketchArguments:
    """`tinyml.sketch`: the model and the project folder, or a training script's `uri` whose
    data gives the test vectors."""

    model: str | None = arg("the int8 .tflite model", exists=FILE, default=None)
    project: str | None = arg("the firmware project's folder", default=None)
    uri: str | None = arg("the training script's file: URI", exists=FILE_URI, default=None)
    board: str | None = arg("a board name", default=None)
    data: str | None = arg("a dataset file or folder for the test vectors", exists=PATH,
                           default=None)
    labels: list[str] | None = arg(  # noqa: RUF009 - arg() makes a dataclasses.field
        "the class names, a list of strings", default=None)
    pixel_range: str | None = arg("the input pixel range, e.g. '0,1'", default=None)
    runtime: str | None = arg("'tflm' or 'standalone' (default: tflm for a real board)",
                              default=None)
    input: str | None = arg("'vectors' or 'apds9960' (tflm)", default=None)
    features: str | None = arg("the feature definition for a sensor input", exists=FILE,
                               default=None)
    weights_budget: float | None = arg("standalone: the flash the weights may take, a ratio "
                                       "to the model's int8 weights", default=None)


@dataclass(frozen=True)
class ProjectArguments:
    """`tinyml.build` / `tinyml.flash`: a PlatformIO project and one of its environments."""

    project: str = arg("the PlatformIO project's folder", exists=FOLDER)
    env: str | None = arg("one of its environments", default=None)
    replay: list[str] | None = arg(  # noqa: RUF009 - arg() makes a dataclasses.field
        "flash only: sensor readings the emulated board replays, each '[DEVICE=]CSV'",
        default=None)


@dataclass(frozen=True)
class MonitorArguments:
    """`tinyml.monitor`: the project's board (or `port`); `until_done` stops at the end of
    the firmware's run (the default), else the monitor follows until cancelled."""

    project: str = arg("the PlatformIO project's folder", exists=FOLDER)
    env: str | None = arg("one of its environments", default=None)
    port: str | None = arg("a serial port", default=None)
    until_done: bool | None = arg("true or false", default=None)


@dataclass(frozen=True)
class AnalyzeArguments:
    """`tinyml.analyze`: a .tflite model, and for per-layer errors its float `reference` and
    `data`."""

    model: str = arg("the .tflite model", exists=FILE)
    reference: str | None = arg("its float model", exists=PATH, default=None)
    data: str | None = arg("a dataset file or folder", exists=PATH, default=None)
    label_column: str | None = arg("the name of the data's label column", default=None)
    on_board: bool = arg("also measure each layer's instructions on the emulated board",
                         default=False)


@dataclass(frozen=True)
class CustomizeArguments:
    """`tinyml.customize`: a firmware source (`uri`) and what to change; the editor asks for
    the `instruction` when the code action does not carry one."""

    uri: str = arg("the firmware source's file: URI", exists=FILE_URI)
    instruction: str | None = arg("what to change, in plain language", default=None)
    env: str | None = arg("the PlatformIO environment to validate on", default=None)


@dataclass(frozen=True)
class FixBuildArguments:
    """`tinyml.fixBuild`: a PlatformIO project whose build fails."""

    project: str = arg("the PlatformIO project's folder", exists=FOLDER)
    env: str | None = arg("one of its environments", default=None)


@dataclass(frozen=True)
class DataArguments:
    """`tinyml.prepareData`: a dataset (`path`, or relative to the script `uri`) and what it is
    for; the editor asks for the `purpose` when the code action does not carry one."""

    path: str = arg("a dataset file or folder")
    purpose: str | None = arg("what the data is for, in plain language", default=None)
    uri: str | None = arg("the script naming the dataset, a file: URI", exists=FILE_URI,
                          default=None)


# --- the strict converter ------------------------------------------------------------------

_converter = cattrs.Converter(forbid_extra_keys=True)
_JSON_NAMES = {str: "a string", int: "an integer", bool: "true or false"}


def _strict(kind: type) -> Any:
    def structure(value: Any, _: type) -> Any:
        # bool is an int to Python, not to JSON
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f"must be {_JSON_NAMES[kind]}, not {json.dumps(value)}")
        return value
    return structure


for _kind in _JSON_NAMES:
    _converter.register_structure_hook(_kind, _strict(_kind))


def _structure_list(value: Any, kind: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"must be a list, not {json.dumps(value)}")
    item = kind.__args__[0]
    return [_converter.structure(v, item) for v in value]


_converter.register_structure_hook_func(lambda t: get_origin(t) is list, _structure_list)


def _problems(exc: BaseException) -> list[str]:
    if isinstance(exc, ForbiddenExtraKeysError):
        return [f"unknown argument {name!r}" for name in sorted(exc.extra_fields)]
    if isinstance(exc, cattrs.BaseValidationError):
        out = []
        for sub in exc.exceptions:
            name = next((n.name for n in getattr(sub, "__notes__", [])
                         if isinstance(n, AttributeValidationNote)), None)
            for problem in _problems(sub):
                out.append(f"{name!r} {problem}" if name else problem)
        return out
    if isinstance(exc, KeyError):
        return ["is missing"]
    return [str(exc)]


def _check_exists(name: str, value: str, exists: str) -> str | None:
    """What is wrong with path argument `name`, or None."""
    if exists == FILE_URI:
        if not value.startswith("file:"):
            return f"{name!r} must be a {FILE_URI}, not {value!r}"
        value = to_fs_path(value) or value
    path = Path(value)
    if not path.exists():
        return f"{name!r}: no such {'file' if exists == FILE_URI else exists} {path}"
    if exists in (FILE, FILE_URI) and not path.is_file():
        return f"{name!r} must be a file, {path} is not"
    if exists == FOLDER and not path.is_dir():
        return f"{name!r} must be a folder, {path} is not"
    return None


def parse_arguments(command: str, kind: type[T], raw: Sequence[Any]) -> T:
    """The command's typed arguments, or JsonRpcInvalidParams saying what is wrong."""
    described = {f.name: f.metadata.get("what", "") for f in fields(kind)}  # type: ignore[arg-type]
    if len(raw) != 1 or not isinstance(raw[0], dict):
        raise JsonRpcInvalidParams(
            f"{command} takes one argument, an object with the keys "
            f"{', '.join(described)}; got {json.dumps(list(raw))[:200]}")
    try:
        value = _converter.structure(raw[0], kind)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        problems = _problems(exc)
        hints = [f"{n} is {described[n]}" for n in described
                 if any(p.startswith(repr(n)) for p in problems) and described[n]]
        raise JsonRpcInvalidParams(f"{command}: {'; '.join(problems)}"
                                   + (f" ({'; '.join(hints)})" if hints else "")) from None
    for f in fields(kind):  # type: ignore[arg-type]
        given_value = getattr(value, f.name)
        if f.metadata.get("exists") and given_value is not None:
            problem = _check_exists(f.name, given_value, f.metadata["exists"])
            if problem:
                raise JsonRpcInvalidParams(f"{command}: {problem}")
    return value
