"""One function per `tinyml` command: parse nothing, decide nothing — call the core's task with
the arguments, print its result (cli.context), and turn the core's verdict into the exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from tinyml_lsp.cli.context import emit, run
from tinyml_lsp.errors import TinymlError


def _labels(args: argparse.Namespace) -> list[str] | None:
    labels = getattr(args, "labels", None)
    return [s.strip() for s in labels.split(",") if s.strip()] if labels else None


def cmd_inspect(args: argparse.Namespace) -> int:
    from tinyml_lsp.model.inspect import inspect_model, render_card

    emit(args, inspect_model(args.model), render_card)
    return 0


def cmd_quantize(args: argparse.Namespace) -> int:
    from tinyml_lsp.model.quantize import quantize_model, render_quantize

    run(args, lambda ctx: quantize_model(
        args.model, ctx, data=args.data, out_dir=args.out, mode=args.mode, io=args.io,
        target=args.target, label_column=args.label_column, pixel_range=args.pixel_range,
        samples=args.samples, holdout=args.holdout, seed=args.seed,
        per_tensor_dense=args.per_tensor_dense),
        lambda r: render_quantize(r, report_path=True))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from tinyml_lsp.model.verify import render_verify, verify_model

    report = run(args, lambda ctx: verify_model(
        args.model, ctx, data=args.data, reference=args.reference, label_column=args.label_column,
        pixel_range=args.pixel_range, arena=args.arena, labels=_labels(args)), render_verify)
    if report.problem:
        raise TinymlError(report.problem, args.model)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from tinyml_lsp.codegen.c_array import export_model, render_export

    run(args, lambda ctx: export_model(args.model, args.out, ctx, name=args.name),
        render_export)
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from tinyml_lsp.codegen.analyze import analyze_model, render_analyze
    from tinyml_lsp.deploy.board_profile import analyze_on_board

    if args.weights_budget is not None and not args.on_board:
        raise TinymlError("--weights-budget goes with --on-board (the firmware it measures)")
    board = {"weights_budget": args.weights_budget} if args.on_board else {}
    analyze = analyze_on_board if args.on_board else analyze_model
    run(args, lambda ctx: analyze(
        args.model, ctx, reference=args.reference, data=args.data,
        label_column=args.label_column, pixel_range=args.pixel_range, samples=args.samples,
        seed=args.seed, **board), render_analyze)
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy.boards import BOARDS, board_by_id, render_boards
    from tinyml_lsp.deploy.fit import fit_failure, fit_model, render_fit

    if args.list_boards:
        emit(args, list(BOARDS), lambda boards: render_boards(boards))
        return 0
    if args.model is None:
        raise TinymlError("fit needs a model", hint="tinyml fit MODEL.tflite --board BOARD")
    boards = list(BOARDS) if args.board in (None, ["all"]) else [board_by_id(i)
                                                                 for i in args.board]
    reports = run(args, lambda ctx: fit_model(args.model, boards, ctx, runtime=args.runtime),
                  render_fit)
    # a table of every board is an overview; boards asked for are a check
    if args.board not in (None, ["all"]) and (failure := fit_failure(reports, args.model)):
        raise failure
    return 0


def cmd_sketch(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy.sketch import render_sketch, sketch_model

    run(args, lambda ctx: sketch_model(
        args.model, args.out, ctx, board=args.board, data=args.data, vectors=args.vectors,
        seed=args.seed, labels=_labels(args), label_column=args.label_column,
        pixel_range=args.pixel_range, runtime=args.runtime, input=args.input,
        features=args.features, weights_budget=args.weights_budget),
        lambda s: render_sketch(s, args.out))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    if args.on_board is not None:
        return _validate_on_board(args)
    from tinyml_lsp.codegen.standalone.validate import render_validate, validate

    if args.model is None:
        raise TinymlError("validate needs a model, or --on-board PROJECT",
                          hint="tinyml validate MODEL.tflite, or tinyml validate --on-board DIR")
    _require_standalone(args)
    report = run(args, lambda ctx: validate(
        args.model, ctx, data=args.data, random=args.random, seed=args.seed,
        label_column=args.label_column, pixel_range=args.pixel_range),
        render_validate)
    if report.problem:
        raise TinymlError(report.problem, args.model)
    return 0


def _validate_on_board(args: argparse.Namespace) -> int:
    """Flash the project, run it, and judge the board against the host (like `stedgeai
    validate --mode target`)."""
    from tinyml_lsp.deploy.board_run import flash_and_read, render_board_run

    board = run(args, lambda ctx: flash_and_read(args.on_board, ctx, timeout=args.timeout),
                render_board_run)
    if board.verdict is None:
        raise TinymlError("the project does not say what the host expects of the board",
                          args.on_board, hint="generate it with tinyml sketch MODEL --out DIR")
    if board.verdict.problem:
        raise TinymlError(board.verdict.problem, args.on_board)
    return 0


def _require_standalone(args: argparse.Namespace) -> None:
    if args.runtime != "standalone":
        raise TinymlError(f"the {args.runtime} runtime is not available in this version",
                          hint="use --runtime standalone")


def cmd_build(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy.platformio import BuildFailed, build, render_build

    try:
        run(args, lambda ctx: build(args.project, ctx, env=args.env), render_build)
    except BuildFailed as exc:
        if args.json:  # the result, with every diagnostic, for scripts and editors
            print(json.dumps(exc.result.to_json(), indent=2))
        raise
    return 0


def cmd_flash(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy import replay
    from tinyml_lsp.deploy.platformio import render_upload, upload

    replay.prepare(args.project, args.replay or [])  # a bad file stops before any build
    run(args, lambda ctx: upload(args.project, ctx, env=args.env),
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
        # the board's own lines are the progress: no bar over them
        summary = await watch(args.project, NullContext(), port=args.port, baudrate=args.baud,
                              until_done=args.until_done, timeout=args.timeout, on_event=show)
        if args.json:
            print(json.dumps({"event": "summary", **summary.to_json()}), flush=True)
        elif summary.verdict is not None:
            print(render_summary(summary), flush=True)
        return summary.ok

    return 0 if asyncio.run(session()) else 1


def cmd_stop(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy import emulator

    projects = ([str(p) for p, _ in emulator.running_boards()] if args.all
                else [args.project])
    stopped = [p for p in projects if emulator.stop(p)]
    emit(args, {"stopped": stopped},
         lambda r: "\n".join(f"stopped the emulated board of {p}" for p in r["stopped"])
         or "no emulated board was running")
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from tinyml_lsp.deploy.devices import list_devices, render_devices

    emit(args, list_devices(), render_devices)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.json:
        raise TinymlError("serve speaks the language server protocol on stdio; --json does "
                          "not apply", hint="run: tinyml serve")
    from tinyml_lsp.lsp.server import serve

    serve(tcp_port=args.tcp, host=args.host)
    return 0
