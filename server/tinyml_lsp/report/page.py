"""The model report as one self-contained HTML page: tables with every figure, and charts drawn
by Chart.js inlined into the page (no network at view time; a strict Content-Security-Policy
lets only the page's own scripts run). Colours follow the viewer: the browser's light or dark
scheme, or VS Code's theme variables inside a webview."""

from __future__ import annotations

import html
import json
import os
import secrets
from pathlib import Path
from typing import Any

from tinyml_lsp.errors import TinymlError
from tinyml_lsp.report.collect import ModelReport

CHARTJS_ENV = "TINYML_CHARTJS"
# Chart.js comes from npm (the VS Code client's dependencies, `make client`); a source checkout
# finds it there, an editor passes the copy it ships
_CHECKOUT_CHARTJS = (Path(__file__).resolve().parents[3] / "vscode-client" / "node_modules"
                     / "chart.js" / "dist" / "chart.umd.js")

_STYLE = """
:root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --muted: #59636e;
  --line: #d1d9e0; --bad: #cf222e; --good: #1a7f37; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1;
  --line: #3d444d; --bad: #ff7b72; --good: #3fb950; } }
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em; max-width: 72em;
  color: var(--vscode-editor-foreground, var(--fg));
  background: var(--vscode-editor-background, var(--bg)); }
h1 { font-size: 1.5em; margin-bottom: .2em } h2 { font-size: 1.15em; margin-top: 1.6em }
.muted { color: var(--vscode-descriptionForeground, var(--muted)) }
table { border-collapse: collapse; margin: .5em 0 } td, th { padding: .2em .7em;
  border-bottom: 1px solid var(--vscode-panel-border, var(--line)); text-align: right }
th:first-child, td:first-child { text-align: left }
.bad { color: var(--vscode-errorForeground, var(--bad)) } .good { color: var(--good) }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(22em, 1fr)); gap: 1em }
.chart { position: relative; height: 18em } .wide { height: 24em }
.note { border-left: 3px solid var(--vscode-panel-border, var(--line)); padding-left: .7em }
"""

_SCRIPT = Path(__file__).with_name("charts.js")  # the page's own script, inlined


def find_chartjs(explicit: str | Path | None = None) -> Path | None:
    """Chart.js's browser build: the path given, else $TINYML_CHARTJS, else a checkout's."""
    for candidate in (explicit, os.environ.get(CHARTJS_ENV) or None, _CHECKOUT_CHARTJS):
        if candidate is None:
            continue
        path = Path(candidate)
        if path.is_file():
            return path
        if candidate is explicit or candidate == os.environ.get(CHARTJS_ENV):
            raise TinymlError("no Chart.js here", path,
                              hint="give Chart.js's dist/chart.umd.js (npm package chart.js)")
    return None


def _n(value: int | float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    return (f"{value:,}" if isinstance(value, int) else f"{value:,.3g}") + unit


def _rows(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _card(r: ModelReport) -> str:
    c = r.card
    tensors = [[html.escape(kind), html.escape(t.name), html.escape(str(list(t.shape))),
                html.escape(t.dtype), _n(t.scale), _n(t.zero_point)]
               for kind, group in (("input", c.inputs), ("output", c.outputs)) for t in group]
    ops = ", ".join(f"{html.escape(o.name)} v{o.version}×{o.count}" for o in c.ops)
    return (f"<p>{_n(c.size_bytes)} bytes, {html.escape(c.quantization)}, "
            f"{_n(c.weight_bytes)} weight bytes, {_n(c.macs)} MACs per inference.</p>"
            f"<p>Ops: {ops}</p>"
            + _rows(["tensor", "name", "shape", "type", "scale", "zero point"], tensors))


def _fit(r: ModelReport) -> str:
    rows = []
    for f in r.fit:
        verdict = ('<span class="good">fits</span>' if f.fits else
                   f'<span class="bad">{html.escape(f.problem or "does not fit")}</span>')
        rows.append([html.escape(f.board.name), _n(f.flash_needed), _n(f.board.flash_bytes),
                     _n(f.ram_needed), _n(f.board.ram_bytes), verdict])
    return _rows(["board", "flash needed", "flash", "RAM needed", "RAM", ""], rows)


def _layers(r: ModelReport) -> str:
    rows = [[f"#{x.index} {html.escape(x.op)}", html.escape(str(list(x.shape))), _n(x.macs),
             _n(x.weight_bytes), _n(x.live_bytes), _n(x.rmse_steps), _n(x.cosine)]
            for x in r.layers.layers]
    return _rows(["layer", "output", "MACs", "weight bytes", "live bytes",
                  "error (steps)", "cosine"], rows)


def _json_for_script(value: Any) -> str:
    # inside <script>, "</" would end the element
    return json.dumps(value).replace("</", "<\\/")


def render_html(report: ModelReport, chart_js: str | Path | None = None) -> str:
    """The page; `chart_js` is Chart.js's browser build (see `find_chartjs`). Without it the
    page still holds every figure, in tables, and says why it has no charts."""
    library = find_chartjs(chart_js)
    nonce = secrets.token_urlsafe(16)
    name = html.escape(Path(report.card.path).name)
    runtime = "TFLite Micro" if report.runtime == "tflm" else "the standalone C runtime"
    has_error = any(x.rmse_steps is not None for x in report.layers.layers)

    def chart(chart_id: str, css: str = "chart") -> str:
        return f'<div class="{css}"><canvas id="{chart_id}"></canvas></div>'

    if library is not None:
        code = library.read_text(encoding="utf-8").replace("</script", "<\\/script")
        scripts = (f'<script nonce="{nonce}">{code}</script>\n'
                   f'<script nonce="{nonce}">{_SCRIPT.read_text(encoding="utf-8")}</script>')
        missing = ""
    else:
        scripts = ""
        missing = ('<p class="note">No charts: Chart.js was not found (set '
                   f'{CHARTJS_ENV} to its dist/chart.umd.js, or run make client in a '
                   "checkout). Every figure is in the tables.</p>")
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in report.layers.notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; \
style-src 'unsafe-inline'; script-src 'nonce-{nonce}'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Model report: {name}</title><style>{_STYLE}</style></head>
<body data-charts="0">
<h1>Model report: {name}</h1>
<p class="muted">{html.escape(report.card.path)} — every figure measured by tinyml-lsp.</p>
{missing}
<h2>Model card</h2>{_card(report)}
<h2>Fit per board ({runtime})</h2>
<p class="muted">Flash and RAM the model needs on each board, as a share of its capacity.</p>
{chart("chart-fit", "chart wide")}{_fit(report)}
<h2>Layers</h2>{notes}
<div class="charts">{chart("chart-macs")}{chart("chart-weights")}{chart("chart-live")}\
{chart("chart-error") if has_error else ""}</div>
{_layers(report)}
<h2>Tensor arena: TFLite Micro vs standalone C</h2>
<div class="charts">{chart("chart-arena")}<div>{_rows(["runtime", "arena bytes"], [
    ["TFLite Micro (measured by its interpreter)", _n(report.tflm_arena_bytes)],
    ["standalone C (planned from tensor lifetimes)", _n(report.standalone_arena_bytes)]])}
</div></div>
<script type="application/json" id="report-data">{_json_for_script(report.to_json())}</script>
{scripts}
</body></html>
"""
