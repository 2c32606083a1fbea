"""`tinyml check`: the classic TinyML bugs in a sketch or project, from the model's measured
facts; `--fix` applies the quick fixes. Exits 1 when a finding is an error."""

from __future__ import annotations

import argparse
import sys

from tinyml_lsp.cli.context import CliContext, run
from tinyml_lsp.cli.llm_commands import Command, examples


def add_parsers(command: Command) -> None:
    p = command("check", "find the classic TinyML bugs in a sketch before building it",
                examples("tinyml check src/main.ino",
                         "tinyml check firmware/            # its sketches and platformio.ini",
                         "tinyml check sketch.cpp --model model_int8.tflite --board nano33ble",
                         "tinyml check src/main.ino --fix   # apply the quick fixes")
                + "\n\nPrints file:line:col: severity: message [code], each with its fix. "
                "Exits with status 1 when a finding is an error (after --fix: one that "
                "remains).")
    p.add_argument("sketch", help="a sketch (.ino, .cpp, .c, .h), a platformio.ini, or a "
                   "project folder")
    p.add_argument("--model", help="the .tflite the sketch runs (default: the model header it "
                   "includes, platformio.ini's custom_tinyml_model, or a .tflite beside it)")
    p.add_argument("--board", help="the board it runs on (default: the platformio.ini env's)")
    p.add_argument("--fix", action="store_true", help="apply every quick fix, then check again")
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    from tinyml_lsp.check.task import CheckReport, check_path, fix_files, render_check

    async def check(ctx: CliContext) -> CheckReport:
        if args.fix:
            for file in fix_files(await check_path(args.sketch, ctx, model=args.model,
                                                   board=args.board)):
                print(f"fixed {file}", file=sys.stderr)
        return await check_path(args.sketch, ctx, model=args.model, board=args.board)

    report = run(args, check, render_check)
    return 1 if report.errors else 0
