"""Fixed-point parameters computed exactly as TFLite Micro computes them in its kernels' Prepare.

Bit-exactness depends on the details: which products are taken in float32 and which in
double, std::frexp, and TfLiteRound (round half away from zero). Each function names the
TFLite function it mirrors; the arithmetic is transcribed, not approximated.

The integer helpers at the end (`multiply_by_quantized_multiplier`, ...) mirror the C
kernels; the unit tests use them to check the parameter math and the C prelude agrees.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
MAX_LEFT_SHIFT = 30  # the kernels shift int32 values left: 31 and more is undefined in C


class OutOfRange(ValueError):
    """A requantization the int32 kernels cannot do without undefined behaviour."""


def round_away(x: float) -> float:
    """TfLiteRound / std::round: halfway cases away from zero (Python's round() is banker's)."""
    return math.copysign(math.floor(abs(x) + 0.5), x)


def f32(x: float | np.floating) -> float:
    return float(np.float32(x))


def quantize_multiplier(real: float, limit: int | None = MAX_LEFT_SHIFT) -> tuple[int, int]:
    """tflite::QuantizeMultiplier: real ≈ multiplier · 2^(shift − 31), multiplier in
    [2^30, 2^31)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(round_away(q * (1 << 31)))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:  # everything would be shifted out: flush to zero
        return 0, 0
    if limit is not None and shift > limit:
        raise OutOfRange(f"a rescaling by {real:.3g} (2^{shift - 1} or more) does not fit the "
                         "int32 arithmetic of the kernels: the model's scales are corrupt or "
                         "extreme")
    return q_fixed, shift


def conv_multipliers(input_scale: float, filter_scales: tuple[float, ...], output_scale: float,
                     channels: int) -> tuple[list[int], list[int]]:
    """PopulateConvolutionQuantizationParams: one multiplier per output channel, in double."""
    mults, shifts = [], []
    for c in range(channels):
        fs = filter_scales[c] if len(filter_scales) > 1 else filter_scales[0]
        m, s = quantize_multiplier(input_scale * fs / output_scale)
        mults.append(m)
        shifts.append(s)
    return mults, shifts


def fully_connected_multiplier(input_scale: float, filter_scale: float,
                               output_scale: float) -> tuple[int, int]:
    """GetQuantizedConvolutionMultipler, per-tensor FULLY_CONNECTED.

    Older TFLite took the input·filter product in float32; the TFLite Micro we check against
    takes it in double (tests/standalone/test_bitexact.py pins this with a crafted model).
    """
    return quantize_multiplier(input_scale * filter_scale / output_scale)


def quantize_value(value: float, scale: float, zero_point: int) -> int:
    """kernel_util's Quantize(): zero_point + TfLiteRound(value / scale), in float32."""
    return zero_point + int(round_away(f32(np.float32(value) / np.float32(scale))))


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for an int8 output."""
    lo, hi = INT8_MIN, INT8_MAX
    if activation == "RELU":
        return max(lo, quantize_value(0.0, scale, zero_point)), hi
    if activation == "RELU6":
        return (max(lo, quantize_value(0.0, scale, zero_point)),
                min(hi, quantize_value(6.0, scale, zero_point)))
    if activation == "RELU_N1_TO_1":
        return (max(lo, quantize_value(-1.0, scale, zero_point)),
                min(hi, quantize_value(1.0, scale, zero_point)))
    return lo, hi


def calculate_input_radius(input_integer_bits: int, input_left_shift: int,
                           total_signed_bits: int = 31) -> int:
    """tflite::CalculateInputRadius (the double version)."""
    max_rescaled = (1.0 * ((1 << input_integer_bits) - 1)
                    * math.ldexp(1.0, total_signed_bits - input_integer_bits)
                    / math.ldexp(1.0, input_left_shift))
    return math.floor(max_rescaled)


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """PreprocessSoftmaxScaling + CalculateInputRadius for int8 softmax: (mult, shift, diff_min)."""
    scaled_diff_integer_bits = 5
    real = min(beta * input_scale * float(1 << (31 - scaled_diff_integer_bits)),
               float((1 << 31) - 1))
    # softmax's kernel takes shifts up to 31 (its input is capped at 2^31 - 1 above)
    mult, shift = quantize_multiplier(real, limit=None)
    diff_min = -calculate_input_radius(scaled_diff_integer_bits, shift)
    return mult, shift, diff_min


def logistic_params(input_scale: float) -> tuple[int, int, int]:
    """CalculateArithmeticOpDataLogistic (int8): (multiplier, left_shift, input_range_radius)."""
    input_integer_bits = 4
    real = input_scale * float(1 << (31 - input_integer_bits))
    q, left_shift = math.frexp(real)
    if not 0 <= left_shift <= MAX_LEFT_SHIFT:
        raise OutOfRange(f"an input scale of {input_scale:.3g} is out of LOGISTIC's range")
    mult = int(round_away(q * (1 << 31)))
    return mult, left_shift, calculate_input_radius(input_integer_bits, left_shift, 31)


def add_params(scale1: float, scale2: float, output_scale: float) -> dict[str, int]:
    """CalculateOpDataAdd for int8: inputs are scaled to a common 2^20 fixed-point domain."""
    left_shift = 20
    twice_max = 2.0 * max(scale1, scale2)
    m1, s1 = quantize_multiplier(scale1 / twice_max)
    m2, s2 = quantize_multiplier(scale2 / twice_max)
    mo, so = quantize_multiplier(twice_max / (float(1 << left_shift) * output_scale))
    return {"left_shift": left_shift, "mult1": m1, "shift1": s1, "mult2": m2, "shift2": s2,
            "out_mult": mo, "out_shift": so}


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """PrepareMeanOrSum + QuantizedMeanOrSum: the 1/count factor folded into the multiplier."""
    mult, shift = quantize_multiplier(input_scale / output_scale)
    n_shift = 63 - _clz64(count)
    n_shift = min(n_shift, 32)
    n_shift = min(n_shift, 31 + shift)
    mult = _to_int32((mult << n_shift) // count)
    return mult, shift - n_shift


def _clz64(x: int) -> int:
    return 64 - x.bit_length() if x else 64


def _to_int32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >= 1 << 31 else x


# --- the integer arithmetic of the kernels, for tests and for folding constants -----------


def saturating_rounding_doubling_high_mul(a: int, b: int) -> int:
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else (1 - (1 << 30))
    return _trunc_div(ab + nudge, 1 << 31)


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """tflite::MultiplyByQuantizedMultiplier, double-rounding (TFLite Micro's default build)."""
    left = shift if shift > 0 else 0
    right = 0 if shift > 0 else -shift
    return rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(_to_int32(x * (1 << left)), multiplier), right)
