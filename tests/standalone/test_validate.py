"""`validate --runtime standalone`: the comparison the user runs, and what it reports."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil

import numpy as np
import pytest

from tests.standalone import zoo
from tests.support import SilentContext
from tinyml_lsp.codegen.standalone import validate as validate_mod
from tinyml_lsp.codegen.standalone.emit import generate
from tinyml_lsp.codegen.standalone.sizes import max_stack, measure_sizes
from tinyml_lsp.codegen.standalone.validate import render_validate, validate
from tinyml_lsp.errors import TinymlError


def test_validate_random_inputs_bit_exact(model_path):
    ctx = SilentContext()
    r = asyncio.run(validate(model_path("hello_world_int8"), ctx, random=64, seed=3))
    assert r.ok and r.mismatches == 0 and r.max_abs_diff == 0
    assert (r.samples, r.elements, r.source) == (64, 64, "random")
    assert r.arena_bytes == 32 and r.tflm_arena_bytes > r.arena_bytes
    assert r.ns_per_invoke > 0 and r.tflm_ns_per_invoke > 0
    data = r.to_json()
    assert data["ok"] is True and data["arena_ratio"] == pytest.approx(32 / r.tflm_arena_bytes)
    text = render_validate(r)
    assert "bit-exact" in text and "mismatches     0" in text
    assert any(kind == "progress" for kind, _ in ctx.events)


def test_validate_reports_a_wrong_output(model_path, monkeypatch):
    """Generated code that flips one bit of each output is caught, element by element."""
    def broken(path):
        gen = generate(path)
        source = gen.source.replace(
            "  return 0;\n}\n\nint model_invoke(",
            "  if (outputs[0]) outputs[0][0] ^= 1;\n  return 0;\n}\n\nint model_invoke(")
        assert source != gen.source
        return dataclasses.replace(gen, source=source)

    monkeypatch.setattr(validate_mod, "generate", broken)
    r = asyncio.run(validate(model_path("hello_world_int8"), SilentContext(), random=16))
    assert not r.ok
    assert r.mismatches == 16 and r.max_abs_diff == 1
    assert len(r.mismatch_examples) == 10  # the first ten, one per sample here
    assert [e.split(":")[0] for e in r.mismatch_examples[:2]] == ["sample 0, element 0",
                                                                 "sample 1, element 0"]
    text = render_validate(r)
    assert "MISMATCH" in text and "… and 6 more" in text


def test_validate_with_a_dataset(model_path, tmp_path):
    x = np.linspace(0.0, 6.28, 30, dtype=np.float32).reshape(30, 1)
    np.save(tmp_path / "x.npy", x)
    r = asyncio.run(validate(model_path("hello_world_int8"), SilentContext(),
                             data=tmp_path / "x.npy"))
    assert r.ok and r.samples == 30 and r.source.endswith("x.npy")


def test_validate_float_io_model(tmp_path):
    """A model with float input and output: compared as floats after the boundary ops."""
    name, model, _ = next(c for c in (zoo.case("QUANTIZE", s) for s in range(20))
                             if c[2]["float_io"])
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(model)
    r = asyncio.run(validate(path, SilentContext(), random=20))
    assert r.ok and r.elements > 0


def test_validate_needs_inputs(model_path):
    with pytest.raises(TinymlError, match="--random"):
        asyncio.run(validate(model_path("hello_world_int8"), SilentContext(), random=0))


def test_max_stack_follows_the_deepest_call_chain():
    graph = "\n".join([
        'node: { title: "model_invoke" label: "model_invoke\\nmodel.c:1:1\\n16 bytes (static)" }',
        'node: { title: "model_invoke_all" label: "x\\nmodel.c:2:1\\n40 bytes (static)" }',
        'node: { title: "model.c:tm_conv" label: "tm_conv\\nmodel.c:3:1\\n96 bytes (static)" }',
        'node: { title: "model.c:tm_pool" label: "tm_pool\\nmodel.c:4:1\\n24 bytes (static)" }',
        'edge: { sourcename: "model_invoke" targetname: "model_invoke_all" label: "" }',
        'edge: { sourcename: "model_invoke_all" targetname: "model.c:tm_conv" label: "" }',
        'edge: { sourcename: "model_invoke_all" targetname: "model.c:tm_pool" label: "" }',
    ])
    assert max_stack(graph) == 16 + 40 + 96


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                    reason="arm-none-eabi-gcc is not installed")
def test_cortex_m4_sizes_of_person_detect(model_path):
    gen = generate(model_path("person_detect"))
    s = asyncio.run(measure_sizes(gen, tflm=False))
    assert s.undefined == ()  # needs nothing from libc or libgcc
    assert 0 < s.code_bytes < 0.3 * 37 * 1024  # TFLite Micro's runtime: 37 KB
    assert s.const_bytes > gen.weight_bytes * 0.95  # the weights are in flash (.rodata)
    assert s.arena_bytes == gen.arena_bytes and s.data_bytes == 0
    assert 0 < s.stack_bytes < 2048
    assert s.ram_bytes == s.arena_bytes + s.static_bytes + s.stack_bytes
    assert 0 < s.static_bytes < 512  # the kernels' static argument blocks and tables


@pytest.mark.slow
def test_fruit_example_on_its_held_out_rows(fruit_quantized, fruit_trained):
    """The example project's own int8 model, on the data a user would validate with."""
    r = asyncio.run(validate(fruit_quantized.files["int8"], SilentContext(),
                             data=fruit_trained / "fruit_holdout.csv"))
    assert r.ok and r.samples == 240 and r.elements == 240 * 3
    assert r.arena_bytes < r.tflm_arena_bytes


@pytest.mark.slow
def test_shapes_example_cnn_on_its_images(shapes_trained):
    """A small CNN (CONV_2D, MAX_POOL_2D, FULLY_CONNECTED, SOFTMAX) trained by an example."""
    from tinyml_lsp.model.quantize import quantize_model

    q = asyncio.run(quantize_model(shapes_trained / "shapes_model.keras", SilentContext(),
                                   data=shapes_trained / "data"))
    r = asyncio.run(validate(q.files["int8"], SilentContext(), data=shapes_trained / "data"))
    assert r.ok and r.samples > 100
    assert {"CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"} <= set(r.ops)
