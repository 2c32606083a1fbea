"""`tinyml report MODEL --html`: a page any browser opens with no network, its charts drawn by
the Chart.js inlined into it, readable in a light and a dark scheme; the figures on the page are
the report's own (--json)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tests.editors.vscode.conftest import HERE

TINYML = [sys.executable, "-m", "tinyml_lsp.cli"]


def _luminance(css: str) -> float:
    r, g, b = (int(v) for v in css[css.index("(") + 1:css.index(")")].split(",")[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _render(page: Path, shot: Path, scheme: str) -> dict:
    out = subprocess.run(["node", str(HERE / "render_page.mjs"), str(page), str(shot), scheme],
                         capture_output=True, text=True, timeout=120, cwd=HERE)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_report_page_renders_its_charts_offline(node, tmp_path, artifacts):
    page = tmp_path / "hello_world_report.html"
    run = subprocess.run([*TINYML, "report", str(MODELS / "hello_world_int8.tflite"), "--html",
                          str(page), "--json"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    html = page.read_text()
    assert "<script src=" not in html and "cdn" not in html.lower()  # nothing fetched
    backgrounds = {}
    for scheme in ("light", "dark"):
        seen = _render(page, artifacts / f"report-{scheme}.png", scheme)
        assert seen["errors"] == [], seen["errors"]
        assert seen["charts"] == 5 and len(seen["inked"]) == 5, seen
        backgrounds[scheme] = (_luminance(seen["background"]), _luminance(seen["color"]))
        # the page's figures are the report's
        assert f"{report['tflm_arena_bytes']:,}" in seen["text"]
        assert f"{report['card']['size_bytes']:,} bytes" in seen["text"]
    (light_bg, light_fg), (dark_bg, dark_fg) = backgrounds["light"], backgrounds["dark"]
    assert light_bg > 200 > light_fg and dark_bg < 60 < dark_fg  # readable either way


def test_a_chart_library_that_is_not_there_is_named(tmp_path):
    run = subprocess.run([*TINYML, "report", str(MODELS / "hello_world_int8.tflite"), "--html",
                          str(tmp_path / "r.html"), "--chartjs", str(tmp_path / "nope.js")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "nope.js: no Chart.js here" in run.stderr and "chart.umd.js" in run.stderr
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("model", ["no_such.tflite", "train.py"])
def test_the_report_refuses_what_is_not_a_model(tmp_path, model):
    (tmp_path / "train.py").write_text("print(1)\n")
    run = subprocess.run([*TINYML, "report", str(tmp_path / model), "--html"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "the model report needs a .tflite file" in run.stderr
