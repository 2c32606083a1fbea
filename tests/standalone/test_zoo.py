"""Random models covering every supported op and option: generated C == TFLite Micro."""

from __future__ import annotations

import numpy as np
import pytest

from tests.standalone import zoo
from tests.standalone.helpers import standalone_outputs, tflm_outputs, wide_convs
from tinyml_lsp.codegen.standalone.graph import read_graph
from tinyml_lsp.codegen.standalone.program import SUPPORTED_OPS, lower

FAST_SEEDS = range(3)
SLOW_SEEDS = range(3, 30)
SAMPLES = 24


# The host build of the zoo runs once under AddressSanitizer and UndefinedBehaviorSanitizer:
# an out-of-bounds access or undefined arithmetic in a kernel fails the run.
SANITIZE = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all")


def _check(kind: str, seeds, tmp_path, flags: tuple[str, ...] = (),
           flash_budget: float | None = None) -> list[dict]:
    """The zoo models of `kind` whose outputs differ from TFLite Micro's (none, we hope)."""
    cases = [zoo.case(kind, s) for s in seeds]
    inputs = [zoo.random_inputs(m, SAMPLES, seed=i) for i, (_, m, _) in enumerate(cases)]
    refs = tflm_outputs([m for _, m, _ in cases], inputs)
    failures = []
    for (name, model, info), x, ref in zip(cases, inputs, refs, strict=True):
        assert not isinstance(ref, str), f"TFLite Micro refused zoo model {name}: {ref}"
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(model)
        _, ours = standalone_outputs(path, x, tmp_path / name, flags, flash_budget)
        ref = ref.reshape(len(x), -1)
        if ours.shape != ref.shape or not np.array_equal(ours, ref):
            failures.append({**info, "differ": int((ours != ref).sum())
                             if ours.shape == ref.shape else "shape"})
    return failures


@pytest.mark.parametrize("kind", sorted(zoo.CASES))
def test_zoo_fast(kind, tmp_path):
    failures = _check(kind, FAST_SEEDS, tmp_path, SANITIZE)
    assert not failures, failures


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(zoo.CASES))
def test_zoo_many_seeds(kind, tmp_path):
    failures = _check(kind, SLOW_SEEDS, tmp_path)
    assert not failures, failures


# the dense zoo models with an int16 form (units and depth multiples of 4) are rarer: the
# first four seeds that have one, and three that do not
INT16_SEEDS = {"CONV_2D": range(12), "CHAIN": range(12), "CONV_3X3X3": range(8),
               "CONV_1X1X8": range(8),
               "FULLY_CONNECTED": (0, 1, 2, 15, 25, 26, 31)}


@pytest.mark.parametrize("kind", sorted(INT16_SEEDS))
def test_zoo_with_int16_weights(kind, tmp_path):
    """`--weights-budget 2.1`: the convs and dense layers with an int16 form take it (here
    mostly the lean kernel's; conv.c's pairs in test_bitexact and test_emulator) and give the
    same bytes."""
    seeds = INT16_SEEDS[kind]
    failures = _check(kind, seeds, tmp_path, SANITIZE, flash_budget=2.1)
    assert not failures, failures
    widened = sum(bool(wide_convs(tmp_path / f"{kind.lower()}_{s}.tflite", 2.1)) for s in seeds)
    assert widened >= 2, widened


def test_zoo_covers_every_op_and_option():
    infos = [zoo.case(k, s)[2] for k in zoo.CASES for s in (*FAST_SEEDS, *SLOW_SEEDS)]
    ops = {op for i in infos for op in i["ops"]}
    assert set(SUPPORTED_OPS) <= ops | {"RESHAPE"}, set(SUPPORTED_OPS) - ops
    assert "RESHAPE" in ops and "DEQUANTIZE" in ops

    def seen(kind, key):
        return {str(i[key]) for i in infos if i["kind"] == kind and key in i}

    for kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        assert seen(kind, "padding") == {"SAME", "VALID"}
        assert seen(kind, "activation") == {"NONE", "RELU", "RELU6"}
        assert seen(kind, "per_channel") == {"True", "False"}
        assert {"(1, 1)", "(2, 2)", "(1, 2)", "(2, 1)"} <= seen(kind, "stride")
        assert len(seen(kind, "dilation")) > 1
    assert {"1", "2", "3"} <= seen("DEPTHWISE_CONV_2D", "depth_multiplier")
    assert seen("CONV_2D", "groups") == {"1", "2"}
    assert seen("FULLY_CONNECTED", "per_channel") == {"True", "False"}
    for kind in ("ADD", "MUL"):
        assert seen(kind, "mode") == {"same", "const", "broadcast_c", "broadcast_hw"}
    assert seen("MEAN", "same_quant") == {"True", "False"}
    assert seen("QUANTIZE", "float_io") == {"True", "False"}
    assert seen("RELU", "same_quant") == {"True", "False"}


def test_zoo_reaches_both_requantization_paths(tmp_path):
    """Conv-like kernels and ADD have a fast requantization (negative shifts, bounded sums)
    and the general one; the zoo must exercise both."""
    seen = set()
    for kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD"):
        for seed in (*FAST_SEEDS, *SLOW_SEEDS):
            name, model, _ = zoo.case(kind, seed)
            path = tmp_path / f"{name}.tflite"
            path.write_bytes(model)
            for step in lower(read_graph(path)).steps:
                seen.update((step.func, int(bool(v[0] if isinstance(v, list) else v)))
                            for k, v in step.fields if k == "fast")
    assert {("tm_conv", 0), ("tm_conv", 1), ("tm_depthwise", 0), ("tm_depthwise", 1),
            ("tm_fully_connected", 0), ("tm_fully_connected", 1), ("tm_add", 0),
            ("tm_add", 1)} <= seen
