"""`tinyml`: the command-line face over the core's tasks.

Each command parses its arguments, runs one task of the core with a CLI job context (a progress
bar and log lines on stderr), and prints the result: rendered for people, or as JSON on stdout
with `--json`. A TinymlError becomes one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any, TextIO, TypeVar

from tinyml_lsp import __version__
from tinyml_lsp.deploy.boards import EMULATED_BOARD
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.model.formats import DEFAULT_PIXEL_RANGE, PIXEL_RANGE_CHOICES

T = TypeVar("T")


class CliContext:
    """Progress bar and log lines on stderr (a bar on a terminal, plain lines otherwise)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last_message = ""
        self._last_line_at = 0.0
        self._bar_shown = False

    def progress(self, fraction: float | None, message: str) -> None:
        if self.tty:
            filled = int(30 * (fraction or 0))
            pct = f"{100 * fraction:3.0f}%" if fraction is not None else "  …"
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {pct} {message[:60]:<60}")
            self.stream.flush()
            self._bar_shown = True
        elif message != self._last_message and time.monotonic() - self._last_line_at > 0.5:
            # a log file gets a line at most twice a second, not every step of a bisection
            pct = f"{100 * fraction:3.0f}% " if fraction is not None else ""
            self.stream.write(f"{pct}{message}\n")
            self._last_line_at = time.monotonic()
        self._last_message = message

    def log(self, line: str) -> None:
        self.clear()
        self.stream.write(line + "\n")

    def clear(self) -> None:
        if self._bar_shown:
            self.stream.write("\r" + " " * 100 + "\r")
            self._bar_shown = False


def _emit(args: argparse.Namespace, value: Any, render: Callable[[Any], str]) -> None:
    if args.json:
        print(json.dumps(_jsonable(value), indent=2, default=str))
    else:
        print(render(value))


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value.to_json() if hasattr(value, "to_json") else value


def _run(args: argparse.Namespace, make: Callable[[CliContext], Coroutine[Any, Any, T]],
         render: Callable[[T], str]) -> T:
    """Run a task with a CLI context, print its result, and return it."""
    ctx = CliContext()
    try:
        value = asyncio.run(make(ctx))
    finally:
        ctx.clear()
    _emit(args, value, render)
    return value


# --- commands -----------------------------------------------------------------------------


def cmd_inspect(args: argparse.Namespace) -> int:
    from tinyml_lsp.model.inspect import inspect_model, render_card

    _emit(args, inspect_model(args.model), render_card)
    return 0


def cmd_quantize(args: argparse.Namespace) -> int:
    from tinyml_lsp.model.quantize import quantize_model, render_quantize

    _run(args, lambda ctx: quantize_model(
        args.model, ctx, data=args.data, out_dir=args.out, mode=args.mode, io=args.io,
        target=args.target, label_column=args.label_column, pixel_range=args.pixel_range,
        samples=args.samples, holdout=args.holdout, seed=args.seed),
        lambda r: render_quantize(r, report_path=True))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from tinyml_lsp.model.verify import render_verify, verify_model

    report = _run(args, lambda ctx: verify_model(
        args.model, ctx, data=args.data, reference=args.reference, label_column=args.label_column,
        pixel_range=args.pixel_range, arena=args.arena), render_verify)
    if report.problem:
        raise TinymlError(report.problem, args.model)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from tinyml_lsp.codegen.c_array import export_model, render_export

    _run(args, lambda ctx: export_model(args.model, args.out, ctx, name=args.name),
         render_export)
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy.boards import BOARDS, board_by_id
    from tinyml_lsp.deploy.fit import fit_failure, fit_model, render_fit

    if args.list_boards:
        for b in BOARDS:
            print(f"{b.id:<16} {b.name:<48} {b.core:<24} FPU {b.fpu:<6} "
                  f"flash {b.flash_bytes // 1024:>6} KB  RAM {b.ram_bytes // 1024:>5} KB")
        return 0
    if args.model is None:
        raise TinymlError("fit needs a model", hint="tinyml fit MODEL.tflite --board BOARD")
    ids = [b.id for b in BOARDS] if args.board in (None, ["all"]) else args.board
    boards = [board_by_id(i) for i in ids]
    reports = _run(args, lambda ctx: fit_model(args.model, boards, ctx), render_fit)
    if (failure := fit_failure(reports, args.model)) is not None:
        raise failure
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy.platformio import build, render_build

    _run(args, lambda ctx: build(args.project, ctx, env=args.env), render_build)
    return 0


def cmd_flash(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy.platformio import render_upload, upload

    _run(args, lambda ctx: upload(args.project, ctx, env=args.env),
         lambda r: render_upload(r, args.project))
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy.monitor import LineEvent, MonitorEvent
    from tinyml_lsp.deploy.session import render_summary, watch
    from tinyml_lsp.runtime.context import NullContext

    def show(event: MonitorEvent) -> None:
        if args.json:
            print(json.dumps(event.to_json()), flush=True)
        elif isinstance(event, LineEvent):
            print(event.line, flush=True)
        else:  # attached / released / disconnected: about the port, not the board
            print(f"[{type(event).__name__.lower()}: "
                  f"{getattr(event, 'reason', '') or getattr(event, 'port', '')}]",
                  file=sys.stderr, flush=True)

    async def session() -> bool:
        async with asyncio.timeout(args.timeout):
            # the board's own lines are the progress: no bar over them
            summary = await watch(args.project, NullContext(), port=args.port,
                                  baudrate=args.baud, until_done=args.until_done, on_event=show)
        if args.json:
            print(json.dumps({"event": "summary", **summary.to_json()}), flush=True)
        elif summary.verdict is not None:
            print(render_summary(summary), flush=True)
        return summary.ok

    try:
        return 0 if asyncio.run(session()) else 1
    except TimeoutError:
        raise TinymlError(f"no end of run within {args.timeout:.0f} s", args.project) from None


def cmd_sketch(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy.sketch import render_sketch, sketch_model

    _require_standalone(args)
    labels = [s.strip() for s in args.labels.split(",")] if args.labels else None
    _run(args, lambda ctx: sketch_model(
        args.model, args.out, ctx, board=args.board, data=args.data, vectors=args.vectors,
        seed=args.seed, labels=labels, label_column=args.label_column,
        pixel_range=args.pixel_range),
        render_sketch)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from tinyml_lsp.codegen.standalone.validate import render_validate, validate

    _require_standalone(args)
    report = _run(args, lambda ctx: validate(args.model, ctx, data=args.data, random=args.random,
                                             seed=args.seed), render_validate)
    if report.problem:
        raise TinymlError(report.problem, args.model)
    return 0


def _require_standalone(args: argparse.Namespace) -> None:
    if args.runtime != "standalone":
        raise TinymlError(f"the {args.runtime} runtime is not available in this version",
                          hint="use --runtime standalone")


def cmd_serve(args: argparse.Namespace) -> int:
    from tinyml_lsp.lsp.server import serve

    serve(tcp_port=args.tcp, host=args.host)
    return 0


# --- parser -------------------------------------------------------------------------------


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--label-column", help="CSV column holding the labels (default: a column "
                   "named label/class/target/y)")
    p.add_argument("--pixel-range", default=DEFAULT_PIXEL_RANGE, choices=PIXEL_RANGE_CHOICES,
                   help=f"scale image pixels to this range (default {DEFAULT_PIXEL_RANGE}, as "
                   "Keras' image loader); int8: each pixel byte is the model's int8 input, as "
                   "in TFLite Micro's example images")


def build_parser() -> argparse.ArgumentParser:
    # the defaults shown and applied are the core's own
    from tinyml_lsp.codegen import c_array
    from tinyml_lsp.codegen.standalone import validate
    from tinyml_lsp.deploy import monitor, vectors
    from tinyml_lsp.model import quantize

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true",
                        help="print the result as JSON on stdout (progress and logs on stderr)")
    common.add_argument("--debug", action="store_true", help="show tracebacks")

    parser = argparse.ArgumentParser(
        prog="tinyml", description="Take a machine-learning model onto a microcontroller.")
    parser.add_argument("--version", action="version", version=f"tinyml-lsp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("inspect", parents=[common], help="print a .tflite model's card")
    p.add_argument("model")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("quantize", parents=[common],
                       help="convert a Keras model to float32 and int8 .tflite")
    p.add_argument("model", help=".keras, .h5 or a SavedModel folder")
    p.add_argument("--data", help="representative dataset: .npy/.npz, .csv or an image folder")
    p.add_argument("--out", help="output folder (default: beside the model)")
    p.add_argument("--mode", default=quantize.MODES[0], choices=quantize.MODES)
    p.add_argument("--io", default=quantize.IO_TYPES[0], choices=quantize.IO_TYPES,
                   help="type of the int8 model's input and output (default int8)")
    p.add_argument("--target", default=quantize.TARGETS[0], choices=quantize.TARGETS,
                   help="mcu refuses what TFLite Micro cannot run (default)")
    p.add_argument("--samples", type=int, default=quantize.DEFAULT_SAMPLES,
                   help=f"calibration samples (default {quantize.DEFAULT_SAMPLES})")
    p.add_argument("--holdout", type=float, default=quantize.DEFAULT_HOLDOUT,
                   help="fraction of each class of labelled data kept out of calibration and "
                   "used to compare the quantized model with the float one (default "
                   f"{quantize.DEFAULT_HOLDOUT}; 0 compares on the calibration data)")
    p.add_argument("--seed", type=int, default=0, help="seed of the hold-out split (default 0)")
    _data_options(p)
    p.set_defaults(func=cmd_quantize)

    p = sub.add_parser("verify", parents=[common],
                       help="run a .tflite model in TFLite Micro's interpreter")
    p.add_argument("model")
    p.add_argument("--data", help="data to measure accuracy / agreement on")
    p.add_argument("--reference", help="float model to compare with (.tflite, .keras, .h5)")
    p.add_argument("--arena", type=int, help="also check that the model runs with this arena")
    _data_options(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("export", parents=[common], help="write model_data.h / model_data.cc")
    p.add_argument("model")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--name", default=c_array.DEFAULT_NAME,
                   help=f"C name of the array (default {c_array.DEFAULT_NAME})")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("fit", parents=[common], help="does a model fit a board's flash and RAM?")
    p.add_argument("model", nargs="?")
    p.add_argument("--board", action="append", help="board id (repeat, or 'all'; default all)")
    p.add_argument("--list-boards", action="store_true", help="list the known boards")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("sketch", parents=[common],
                       help="write a PlatformIO project that runs the model on a board")
    p.add_argument("model", help="full-integer int8 .tflite")
    p.add_argument("--out", required=True, help="project folder (created, or updated)")
    p.add_argument("--runtime", default="standalone", choices=["standalone"],
                   help="standalone: dependency-free C generated for this model")
    p.add_argument("--board", default=EMULATED_BOARD)
    p.add_argument("--data", help="data the firmware's test vectors come from (default: random "
                   "inputs)")
    p.add_argument("--vectors", type=int, default=vectors.DEFAULT_VECTORS,
                   help="test vectors the firmware runs, stratified by class (default "
                   f"{vectors.DEFAULT_VECTORS})")
    p.add_argument("--seed", type=int, default=0, help="seed of the choice (default 0)")
    p.add_argument("--labels", help="class names, comma-separated (default: from the data)")
    _data_options(p)
    p.set_defaults(func=cmd_sketch)

    p = sub.add_parser("validate", parents=[common],
                       help="compare the generated C with TFLite Micro, element by element")
    p.add_argument("model")
    p.add_argument("--runtime", default="standalone", choices=["standalone"])
    p.add_argument("--data", help="inputs to compare on")
    p.add_argument("--random", type=int, help="random inputs (default "
                   f"{validate.DEFAULT_RANDOM_INPUTS} without --data)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("build", parents=[common], help="build a PlatformIO project (pio run)")
    p.add_argument("project", nargs="?", default=".", help="project folder (default .)")
    p.add_argument("--env", help="PlatformIO environment (default: the project's default)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("flash", parents=[common],
                       help="build and upload (the emulated board: start it under QEMU)")
    p.add_argument("project", nargs="?", default=".")
    p.add_argument("--env")
    p.set_defaults(func=cmd_flash)

    p = sub.add_parser("monitor", parents=[common], help="read the board's serial output")
    p.add_argument("project", nargs="?", default=".")
    p.add_argument("--port", help="serial port or pyserial URL (default: the emulated board's)")
    p.add_argument("--baud", type=int, default=monitor.BAUDRATE)
    p.add_argument("--until-done", action="store_true",
                   help="stop at the firmware's TINYML DONE line")
    p.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    p.set_defaults(func=cmd_monitor)

    p = sub.add_parser("serve", parents=[common], help="start the language server")
    p.add_argument("--tcp", type=int, metavar="PORT", help="listen on TCP (for debugging)")
    p.add_argument("--host", default="127.0.0.1")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    try:
        return args.func(args)
    except TinymlError as exc:
        if args.debug:
            raise
        # one line, so that scripts and editors can show it as is
        print(f"error: {exc}" + (f" (hint: {exc.hint})" if exc.hint else ""), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, the traceback with --debug
        if args.debug:
            raise
        print(f"error: internal error ({type(exc).__name__}: {exc}); run again with --debug "
              "and report it", file=sys.stderr)
        return 2
    finally:
        if args.debug:
            print(f"[{time.perf_counter() - started:.2f} s]", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
