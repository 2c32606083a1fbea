"""`tinyml report MODEL`: the model report (card, fit per board, layers, arenas); `--html`
writes it as a page with charts any browser opens."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinyml_lsp import artifacts
from tinyml_lsp.cli.context import CliContext, run
from tinyml_lsp.cli.llm_commands import Command, examples


def add_parser(command: Command) -> None:
    from tinyml_lsp.deploy.fit import RUNTIMES
    from tinyml_lsp.report.page import CHARTJS_ENV

    p = command("report", "the model report: card, fit on every board, layers, arenas; "
                "--html writes it as a page with charts",
                examples("tinyml report fruit_model_int8.tflite --html",
                         "tinyml report model_int8.tflite --html report.html "
                         "--reference model.keras --data holdout.csv"))
    p.add_argument("model", help="a .tflite file")
    p.add_argument("--html", nargs="?", const="", metavar="FILE",
                   help="write the page (default file: <model>_report.html beside the model)")
    p.add_argument("--runtime", default=RUNTIMES[0], choices=RUNTIMES,
                   help="the runtime the fit per board is measured for")
    p.add_argument("--reference", help="a float model: per-layer int8 errors (with --data)")
    p.add_argument("--data", help="data for the per-layer errors (with --reference)")
    p.add_argument("--label-column", help="the CSV column holding the labels")
    p.add_argument("--chartjs", help=f"Chart.js's dist/chart.umd.js to inline (default: "
                   f"${CHARTJS_ENV}, else the VS Code client's npm copy in a checkout)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from tinyml_lsp.report.collect import ModelReport, model_report
    from tinyml_lsp.report.page import find_chartjs, render_html

    def render(r: ModelReport) -> str:
        fits = sum(f.fits for f in r.fit)
        return (f"{Path(r.card.path).name}: {r.card.size_bytes:,} bytes, {len(r.layers.layers)} "
                f"layers, fits {fits} of {len(r.fit)} boards; arena TFLite Micro "
                f"{r.tflm_arena_bytes or '—'} bytes, standalone {r.standalone_arena_bytes or '—'}"
                " bytes" + (f"\nreport page: {page}" if page else ""))

    page: Path | None = None
    chart_js = find_chartjs(args.chartjs)  # a wrong --chartjs is said before the work

    async def make(ctx: CliContext) -> ModelReport:
        nonlocal page
        report = await model_report(args.model, ctx, runtime=args.runtime,
                                    reference=args.reference, data=args.data,
                                    label_column=args.label_column)
        if args.html is not None:
            page = Path(args.html) if args.html else artifacts.model_report_page(
                Path(args.model))
            page.write_text(render_html(report, chart_js), encoding="utf-8")
            if chart_js is None:
                ctx.log("no Chart.js found: the page has tables, no charts")
        return report

    run(args, make, render)
    return 0
