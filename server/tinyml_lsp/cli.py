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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tinyml_lsp import __version__
from tinyml_lsp.errors import TinymlError


class CliContext:
    """Progress bar and log lines on stderr (a bar on a terminal, plain lines otherwise)."""

    def __init__(self, stream=None) -> None:
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
        data = value.to_json() if hasattr(value, "to_json") else value
        print(json.dumps(data, indent=2, default=str))
    else:
        print(render(value))


def _run(args: argparse.Namespace, make: Callable[[CliContext], Awaitable[Any]],
         render: Callable[[Any], str]) -> Any:
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

    def render(r) -> str:
        return render_quantize(r) + f"\n\nreport: {r.report}"

    _run(args, lambda ctx: quantize_model(
        args.model, ctx, data=args.data, out_dir=args.out, mode=args.mode, io=args.io,
        target=args.target, label_column=args.label_column, pixel_range=args.pixel_range,
        samples=args.samples), render)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from tinyml_lsp.model.verify import render_verify, verify_model

    report = _run(args, lambda ctx: verify_model(
        args.model, ctx, data=args.data, reference=args.reference, label_column=args.label_column,
        pixel_range=args.pixel_range, arena=args.arena), render_verify)
    if not report.runs:
        raise TinymlError("TFLite Micro cannot run this model"
                          + (": no kernel for " + ", ".join(report.missing_ops)
                             if report.missing_ops else ""), args.model)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from tinyml_lsp.codegen.c_array import export_model

    def render(r) -> str:
        arena = f"{r.arena_bytes:,} bytes" if r.arena_bytes else "unknown"
        return (f"wrote {r.header}\nwrote {r.source}\n{r.model_bytes:,} bytes of model as "
                f"{r.name}[]; TFLite Micro arena {arena}")

    _run(args, lambda ctx: export_model(args.model, args.out, ctx, name=args.name), render)
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy.boards import BOARDS, board_by_id
    from tinyml_lsp.deploy.fit import fit_model, render_fit

    if args.list_boards:
        for b in BOARDS:
            print(f"{b.id:<16} {b.name:<48} {b.core:<24} FPU {b.fpu:<6} "
                  f"flash {b.flash_bytes // 1024:>6} KB  RAM {b.ram_bytes // 1024:>5} KB")
        return 0
    if args.model is None:
        raise TinymlError("fit needs a model", hint="tinyml fit MODEL.tflite --board BOARD")
    ids = [b.id for b in BOARDS] if args.board in (None, ["all"]) else args.board
    boards = [board_by_id(i) for i in ids]
    ctx = CliContext()
    reports = asyncio.run(fit_model(args.model, boards, ctx))
    ctx.clear()
    if args.json:
        print(json.dumps([r.to_json() for r in reports], indent=2))
    else:
        print(render_fit(reports))
    if len(reports) == 1 and not reports[0].fits:
        r = reports[0]
        why = "; ".join(r.problems) or (
            f"needs {r.flash_needed:,} bytes of flash ({r.board.flash_bytes:,} available) and "
            f"{r.ram_needed:,} bytes of RAM ({r.board.ram_bytes:,} available)")
        print(f"error: {args.model}: does not fit {r.board.name}: {why}", file=sys.stderr)
        return 1
    return 0


def _render_build(r) -> str:
    lines = [f"built {r.elf}"]
    if r.flash_used is not None and r.flash_total:
        lines.append(f"flash {r.flash_used:,} of {r.flash_total:,} bytes "
                     f"({100 * r.flash_used / r.flash_total:.1f}%), RAM {r.ram_used:,} of "
                     f"{r.ram_total:,} bytes ({100 * r.ram_used / r.ram_total:.1f}%)")
    lines += [str(d) for d in r.diagnostics]  # warnings, as file:line:col, clickable
    return "\n".join(lines)


def cmd_build(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy.platformio import build

    _run(args, lambda ctx: build(args.project, ctx, env=args.env), _render_build)
    return 0


def cmd_flash(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy.platformio import upload

    def render(r) -> str:
        where = (f"running under QEMU (pid {r.emulator_pid}), UART on {r.port}" if r.emulated
                 else "uploaded")
        return f"{_render_build(r.build)}\nflashed {Path(r.elf or '').name}: {where}\n" \
               f"read it with: tinyml monitor {args.project}"

    _run(args, lambda ctx: upload(args.project, ctx, env=args.env), render)
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy.monitor import BoardError, Disconnected, Done, Monitor

    async def watch() -> int:
        status = 0
        async with asyncio.timeout(args.timeout), Monitor(args.project, port=args.port,
                                                          baudrate=args.baud) as monitor:
            async for event in monitor:
                if args.json:
                    print(json.dumps(event.to_json()), flush=True)
                elif hasattr(event, "line"):
                    print(event.line, flush=True)
                else:  # attached / released / disconnected: about the port, not the board
                    print(f"[{type(event).__name__.lower()}: "
                          f"{getattr(event, 'reason', '') or getattr(event, 'port', '')}]",
                          file=sys.stderr, flush=True)
                if isinstance(event, BoardError | Disconnected):
                    status = 1
                if args.until_done and isinstance(event, Done | BoardError):
                    break
        return status

    try:
        return asyncio.run(watch())
    except TimeoutError:
        raise TinymlError(f"no end of run within {args.timeout:.0f} s", args.project) from None


def cmd_sketch(args: argparse.Namespace) -> int:
    from tinyml_lsp.codegen.standalone.sketch import render_sketch, sketch_model

    _require_standalone(args)
    labels = [s.strip() for s in args.labels.split(",")] if args.labels else None
    _run(args, lambda ctx: sketch_model(
        args.model, args.out, ctx, board=args.board, data=args.data, random=args.random,
        labels=labels, label_column=args.label_column, pixel_range=args.pixel_range),
        render_sketch)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from tinyml_lsp.codegen.standalone.validate import render_validate, validate

    _require_standalone(args)
    random = args.random if args.random is not None else (0 if args.data else 100)
    report = _run(args, lambda ctx: validate(args.model, ctx, data=args.data, random=random,
                                             seed=args.seed), render_validate)
    if not report.ok:
        raise TinymlError(f"{report.mismatches} of {report.elements} output elements differ "
                          f"from TFLite Micro (max difference {report.max_abs_diff:g})",
                          args.model)
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
    p.add_argument("--pixel-range", default="0-255", choices=["0-255", "0-1", "-1-1", "int8"],
                   help="scale image pixels to this range (default 0-255, as Keras' image "
                   "loader); int8: each pixel byte is the model's int8 input, as in TFLite "
                   "Micro's example images")


def build_parser() -> argparse.ArgumentParser:
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
    p.add_argument("--mode", default="int8", choices=["int8", "float32", "dynamic", "float16"])
    p.add_argument("--io", default="int8", choices=["int8", "float"],
                   help="type of the int8 model's input and output (default int8)")
    p.add_argument("--target", default="mcu", choices=["mcu", "host"],
                   help="mcu refuses what TFLite Micro cannot run (default)")
    p.add_argument("--samples", type=int, default=300, help="calibration samples (default 300)")
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
    p.add_argument("--name", default="g_model", help="C name of the array (default g_model)")
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
    p.add_argument("--board", default="tinyml-qemu-m4")
    p.add_argument("--data", help="inputs the firmware runs (default: random inputs)")
    p.add_argument("--random", type=int, default=8, help="random inputs without --data")
    p.add_argument("--labels", help="class names, comma-separated (default: from the data)")
    _data_options(p)
    p.set_defaults(func=cmd_sketch)

    p = sub.add_parser("validate", parents=[common],
                       help="compare the generated C with TFLite Micro, element by element")
    p.add_argument("model")
    p.add_argument("--runtime", default="standalone", choices=["standalone"])
    p.add_argument("--data", help="inputs to compare on")
    p.add_argument("--random", type=int, help="random inputs (default 100 without --data)")
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
    p.add_argument("--baud", type=int, default=115200)
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
