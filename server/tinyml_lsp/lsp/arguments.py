"""The arguments of tinyml's LSP commands: one dataclass per command, structured by pygls from
the command's first argument (a JSON object), so a handler reads typed fields.

A field left as None is not passed on: the core's own default applies (defaults live in the
core's signatures, once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def given(arguments: Any, *names: str) -> dict[str, Any]:
    """The named fields that were given (not None), as keyword arguments for the core."""
    return {name: getattr(arguments, name) for name in names
            if getattr(arguments, name) is not None}


@dataclass(frozen=True)
class ScriptArguments:
    """An action on a line of a training script (`tinyml.quantize`)."""

    uri: str
    line: int | None = None


@dataclass(frozen=True)
class SketchArguments:
    """`tinyml.sketch`: the model and the project folder, or a training script's `uri` whose
    data gives the test vectors."""

    model: str | None = None
    project: str | None = None
    uri: str | None = None
    board: str | None = None
    data: str | None = None
    labels: list[str] | None = None
    pixel_range: str | None = None


@dataclass(frozen=True)
class ProjectArguments:
    """`tinyml.build` / `tinyml.flash`: a PlatformIO project and one of its environments."""

    project: str
    env: str | None = None


@dataclass(frozen=True)
class MonitorArguments:
    """`tinyml.monitor`: the project's board (or `port`); `until_done` stops at the end of
    the firmware's run (the default), else the monitor follows until cancelled."""

    project: str
    env: str | None = None
    port: str | None = None
    until_done: bool | None = None


@dataclass(frozen=True)
class AnalyzeArguments:
    """`tinyml.analyze`: a .tflite model, and for per-layer errors its float `reference` and
    `data`."""

    model: str
    reference: str | None = None
    data: str | None = None
    label_column: str | None = None


@dataclass(frozen=True)
class CustomizeArguments:
    """`tinyml.customize`: a firmware source (`uri`) and what to change; the editor asks for
    the `instruction` when the code action does not carry one."""

    uri: str
    instruction: str | None = None
    env: str | None = None


@dataclass(frozen=True)
class FixBuildArguments:
    """`tinyml.fixBuild`: a PlatformIO project whose build fails."""

    project: str
    env: str | None = None


@dataclass(frozen=True)
class DataArguments:
    """`tinyml.prepareData`: a dataset (`path`, or relative to the script `uri`) and what it is
    for; the editor asks for the `purpose` when the code action does not carry one."""

    path: str
    purpose: str | None = None
    uri: str | None = None
