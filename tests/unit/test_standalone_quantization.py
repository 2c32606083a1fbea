"""The fixed-point parameter math of the standalone code generator (TFLite's Prepare)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinyml_lsp.codegen.standalone import quantization as qz


@pytest.mark.parametrize(("real", "expected"), [
    (0.5, (1 << 30, 0)),
    (1.0, (1 << 30, 1)),
    (0.25, (1 << 30, -1)),
    (0.75, (3 << 29, 0)),
    (1.0 - 2.0 ** -40, (1 << 30, 1)),  # rounds up to 2^31: halved, shift + 1
    (2.0 ** -40, (0, 0)),  # below 2^-31: flushed to zero
    (0.0, (0, 0)),
])
def test_quantize_multiplier_known_values(real, expected):
    assert qz.quantize_multiplier(real) == expected


def test_quantize_multiplier_reconstructs_the_real_value():
    rng = np.random.default_rng(0)
    for real in np.exp(rng.uniform(-20, 5, size=500)):
        m, s = qz.quantize_multiplier(float(real))
        assert (1 << 30) <= m < (1 << 31)
        assert math.isclose(m * 2.0 ** (s - 31), real, rel_tol=2.0 ** -30)


def test_round_away_from_zero_on_halves():
    assert [qz.round_away(v) for v in (2.5, -2.5, 0.5, -0.5, 1.49999, -0.4)] == \
        [3, -3, 1, -1, 1, 0]


def test_activation_ranges():
    assert qz.activation_range("NONE", 0.1, 3) == (-128, 127)
    assert qz.activation_range("RELU", 0.1, 5) == (5, 127)
    assert qz.activation_range("RELU6", 6.0 / 255, -128) == (-128, 127)
    assert qz.activation_range("RELU6", 0.1, -10) == (-10, 50)  # 6 / 0.1 = 60 steps


def test_fixed_point_helpers_match_gemmlowp_definitions():
    # SaturatingRoundingDoublingHighMul: (a*b*2 / 2^32) rounded, ties toward +inf for
    # positive and toward zero for negative products
    assert qz.saturating_rounding_doubling_high_mul(3, 1 << 30) == 2
    assert qz.saturating_rounding_doubling_high_mul(-3, 1 << 30) == -1
    assert qz.saturating_rounding_doubling_high_mul(qz.INT32_MIN, qz.INT32_MIN) == qz.INT32_MAX
    # RoundingDivideByPOT rounds half away from zero
    assert [qz.rounding_divide_by_pot(v, 1) for v in (3, -3, 5, -5, 4)] == [2, -2, 3, -3, 2]
    assert qz.multiply_by_quantized_multiplier(1000, 1 << 30, -2) == 125  # 1000 · 0.5 / 4


def test_softmax_params_follow_the_input_radius():
    mult, shift, diff_min = qz.softmax_params(1.0, 0.0917319208)
    assert (1 << 30) <= mult < (1 << 31) and shift >= 0
    assert diff_min == -math.floor(31 * 2.0 ** 26 / 2.0 ** shift)
    real = 1.0 * 0.0917319208 * 2 ** 26
    assert math.isclose(mult * 2.0 ** (shift - 31), real, rel_tol=1e-8)


def test_logistic_params():
    mult, shift, radius = qz.logistic_params(0.1)
    assert math.isclose(mult * 2.0 ** (shift - 31), 0.1 * 2 ** 27, rel_tol=1e-8)
    assert radius == math.floor(15 * 2.0 ** 27 / 2.0 ** shift)


@pytest.mark.parametrize("count", [1, 2, 9, 49, 1000])
def test_mean_multiplier_folds_one_over_count(count):
    mult, shift = qz.mean_multiplier(0.02, 0.03, count)
    assert math.isclose(mult * 2.0 ** (shift - 31), 0.02 / 0.03 / count, rel_tol=1e-6)


def test_add_params_use_a_common_fixed_point_domain():
    p = qz.add_params(0.1, 0.05, 0.2)
    assert p["left_shift"] == 20
    assert (p["mult1"], p["shift1"]) == (1 << 30, 0)  # 0.1 / (2·0.1) = 0.5
    assert (p["mult2"], p["shift2"]) == (1 << 30, -1)  # 0.05 / 0.2 = 0.25
