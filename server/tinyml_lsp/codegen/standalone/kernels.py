"""Lower each TFLite op to a call of one C kernel, with every parameter computed here.

A `Step` is what the emitter needs: the kernel function (snippets/standalone/kernels/), the
initializer of its const parameter struct, the tensors it reads and writes, constant arrays
(weights in the order the kernel reads them, folded biases, per-channel multipliers), and how
far its output may overlap its input (for the planner).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from tinyml_lsp.codegen.standalone import quantization as qz
from tinyml_lsp.codegen.standalone.graph import Graph, Op, Quant, Tensor
from tinyml_lsp.codegen.standalone.overlap import spatial_gap
from tinyml_lsp.errors import TinymlError

# Some TFLite Micro versions take a plain integer mean (sum / count) in MEAN when input and
# output quantization are equal; the one we check against always uses QuantizedMeanOrSum
# (tests/standalone/test_zoo.py tells the two apart).
MEAN_PLAIN_WHEN_SAME_QUANT = False


@dataclass(frozen=True)
class ConstArray:
    name: str
    ctype: str
    values: np.ndarray  # 1-D, already of the C type's range
    weight_bytes: int | None = None  # a filter's bytes among biases and requantization, if so

    @property
    def nbytes(self) -> int:
        return int(self.values.size) * {"int8_t": 1, "int16_t": 2, "int32_t": 4,
                                        "float": 4}[self.ctype]


@dataclass
class Step:
    op: Op
    func: str  # C kernel function
    ptype: str  # C parameter struct type
    fields: list[tuple[str, Any]]  # initializer: ints, C expressions (str) or int lists
    inputs: tuple[int, ...]  # tensors read (activations or constants), in call order
    output: int
    call: str = "unary"  # unary: f(p, in, out); binary: f(p, a, b, out); concat: f(p, out)
    overlaps: dict[int, int] = field(default_factory=dict)  # input tensor -> planner gap
    consts: list[ConstArray] = field(default_factory=list)
    snippets: tuple[str, ...] = ()
    scratch: int = 0  # bytes of arena the kernel needs while it runs (field value SCRATCH)
    scratch2: int = 0  # a second, separate scratch buffer (field value SCRATCH2)
    macs: int = 0  # multiply-accumulates per inference (conv, depthwise, fully connected)
    lean: Step | None = None  # the same op with less scratch and slower (emit.build_program)
    wide: Step | None = None  # the same op with int16 weights: more flash, faster


SCRATCH = "@scratch"  # stands for the step's scratch pointer in `fields`
SCRATCH2 = "@scratch2"  # and for its second scratch buffer's


def op_error(g: Graph, op: Op, message: str) -> TinymlError:
    return TinymlError(f"op #{op.index} {op.kind}: {message}", g.path,
                       hint="TFLite Micro may run it: `tinyml verify MODEL` checks, "
                       "`tinyml export` writes it as C")


def _quant(g: Graph, op: Op, t: Tensor) -> Quant:
    if t.dtype != "int8":
        raise op_error(g, op, f"tensor {t.describe()} is {t.dtype}; the standalone runtime "
                          "computes in int8 only (quantize the model to full-integer int8)")
    if t.quant is None:
        raise op_error(g, op, f"tensor {t.describe()} has no quantization parameters")
    return t.quant


def per_tensor(g: Graph, op: Op, t: Tensor) -> Quant:
    q = _quant(g, op, t)
    if q.per_channel:
        raise op_error(g, op, f"tensor {t.describe()} is quantized per channel; only weights "
                              "may be")
    return q


def _const_name(kind: str, op: Op) -> str:
    return f"op{op.index}_{kind}"


def _wrap32(values: np.ndarray) -> np.ndarray:
    return ((values.astype(np.int64) + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)


def _bias(g: Graph, op: Op, index: int, channels: int) -> np.ndarray:
    if index < 0 or index >= len(op.inputs) or op.inputs[index] < 0:
        return np.zeros(channels, dtype=np.int64)
    t = g.t(op.inputs[index])
    if t.dtype != "int32" or t.data is None:
        raise op_error(g, op, f"bias {t.describe()} must be a constant int32 tensor "
                          "(int64 biases belong to int16 models)")
    return t.data.reshape(-1).astype(np.int64)


# The fast requantization folds 2^(e-1) and the output offset into one constant R, which
# must stay below 2^30 (with |accumulator| < 2^30 the sum cannot overflow): e <= 22.
FAST_MAX_SHIFT = 22


def _requant_consts(op: Op, bias: np.ndarray, weights: np.ndarray, mults: list[int],
                    shifts: list[int], out_offset: int
                    ) -> tuple[list[ConstArray], dict[str, str], int]:
    """The folded bias, the requantization triples of a conv-like op (see tm_rq in
    kernels/common.h), and whether the fast requantization is exact for it: every shift is
    negative (at most FAST_MAX_SHIFT) and no accumulator can reach 2^30 (|input| <= 128 for
    every int8 input)."""
    w = np.abs(np.asarray(weights, dtype=np.int64)).reshape(len(bias), -1)
    bound = np.abs(np.asarray(bias, dtype=np.int64)) + 128 * w.sum(axis=1)
    fast = int(all(-FAST_MAX_SHIFT <= sh <= -1 for sh in shifts)
               and int(bound.max(initial=0)) < (1 << 30))
    if fast:  # (multiplier, e, R = 2^(e-1) + offset·2^e) with e = -shift
        triples = [(m, -sh, (1 << (-sh - 1)) + out_offset * (1 << -sh))
                   for m, sh in zip(mults, shifts, strict=True)]
    else:  # (multiplier, shift, unused)
        triples = [(m, sh, 0) for m, sh in zip(mults, shifts, strict=True)]
    consts = [ConstArray(_const_name("bias", op), "int32_t", _wrap32(bias)),
              ConstArray(_const_name("rq", op), "int32_t",
                         np.array(triples, dtype=np.int64).reshape(-1).astype(np.int32))]
    return consts, {"bias": consts[0].name, "rq": consts[1].name}, fast


def _zp_row(op: Op, zero_point: int, length: int) -> ConstArray:
    return ConstArray(_const_name("zp", op), "int8_t", np.full(max(length, 1), zero_point,
                                                                np.int8))


def _padding(mode: str, stride: int, dilation: int, in_size: int, k: int, out_size: int) -> int:
    """TFLite's ComputePaddingHeightWidth (the leading pad; any odd extra goes at the end)."""
    if mode == "VALID":
        return 0
    effective = (k - 1) * dilation + 1
    return max(((out_size - 1) * stride + effective - in_size) // 2, 0)


def _nhwc(g: Graph, op: Op, t: Tensor, what: str) -> tuple[int, int, int, int]:
    if len(t.shape) != 4:
        raise op_error(g, op, f"{what} {t.describe()} must be 4-D (NHWC)")
    n, h, w, c = t.shape
    return n, h, w, c


# --- lowering of each op -----------------------------------------------------------------


@dataclass(frozen=True)
class Filtered:
    """What CONV_2D and DEPTHWISE_CONV_2D share: input, constant filter and output, their
    quantization, NHWC shapes, and the window geometry from the op's options."""

    x: Tensor
    w: Tensor
    y: Tensor
    xq: Quant
    wq: Quant
    yq: Quant
    in_shape: tuple[int, int, int, int]  # n, h, w, c
    out_shape: tuple[int, int, int, int]  # n, oh, ow, oc
    filter_shape: tuple[int, int, int, int]  # conv: oc, kh, kw, c/groups; depthwise: 1, kh, kw, oc
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pad: tuple[int, int]  # top, left
    activation: str

    @property
    def weights(self) -> np.ndarray:
        assert self.w.data is not None
        return self.w.data


def _filtered(g: Graph, op: Op) -> Filtered:
    x, w, y = g.t(op.inputs[0]), g.t(op.inputs[1]), g.t(op.outputs[0])
    xq, yq = per_tensor(g, op, x), per_tensor(g, op, y)
    wq = _quant(g, op, w)
    if w.data is None:
        raise op_error(g, op, "the filter must be constant")
    in_shape, out_shape = _nhwc(g, op, x, "input"), _nhwc(g, op, y, "output")
    filter_shape = _nhwc(g, op, w, "filter")
    o = op.options
    (sh, sw), (dh, dw) = o["stride"], o["dilation"]
    (_, h, wd, _), (_, oh, ow, _), (_, kh, kw, _) = in_shape, out_shape, filter_shape
    pad = (_padding(o["padding"], sh, dh, h, kh, oh), _padding(o["padding"], sw, dw, wd, kw, ow))
    return Filtered(x, w, y, xq, wq, yq, in_shape, out_shape, filter_shape, (sh, sw), (dh, dw),
                    pad, o["activation"])


@dataclass(frozen=True)
class ConvCall:
    """One call of the convolution kernel: the geometry, and filters as rows [oc][k] with their
    folded bias and requantization (a depthwise conv of one input channel is one too)."""

    f: Filtered
    groups: int
    rows: np.ndarray  # int8 weights, one row per output channel
    bias: np.ndarray  # int64, the input zero point folded in
    mults: list[int]
    shifts: list[int]


def _conv(g: Graph, op: Op) -> Step:
    f = _filtered(g, op)
    c, oc, cpg = f.in_shape[3], f.out_shape[3], f.filter_shape[3]
    if c % cpg or oc % (c // cpg):
        raise op_error(g, op, f"{c} input channels do not split into groups of {cpg}")
    weights = f.weights.reshape(oc, -1).astype(np.int64)
    bias = _bias(g, op, 2, oc) - f.xq.zero_point * weights.sum(axis=1)
    mults, shifts = qz.conv_multipliers(f.xq.scale, f.wq.scales, f.yq.scale, oc)
    step = _conv_step(op, ConvCall(f, c // cpg, f.weights.reshape(oc, -1), bias, mults, shifts))
    return _flat3(step) or step


def _flat3(step: Step) -> Step | None:
    """conv.c's flat path three pixels at a time (tm_mac_3x2_rq, int8 weights) where the arena
    has room for their windows (scratch 16 + 6·in_c): the two-pixel step is its lean form."""
    f = dict(step.fields)
    if not (step.func == "tm_conv" and step.scratch and "w16" not in f and "brq" not in f
            and f["groups"] == 1
            and (f["k_h"], f["k_w"], f["stride_h"], f["stride_w"]) == (1, 1, 1, 1)
            and not f["im2col"] and f["in_c"] % 4 == 0 and f["out_c"] % 2 == 0 and f["fast"]
            and (f["act_min"], f["act_max"]) == (qz.INT8_MIN, qz.INT8_MAX)):
        return None
    return replace(step, fields=[*step.fields, ("pix3", 1)], scratch=16 + 6 * f["in_c"],
                   lean=step)


def _conv_step(op: Op, call: ConvCall, lean: bool = False, wide: bool = False) -> Step:
    """conv.c's kernel (windows widened to int16, two pixels at a time), with the lean one of
    conv_lean.c (int8 windows, less scratch) as its alternative; each with int16 weights
    (`wide`: the same scratch, more flash) as its own."""
    f, groups = call.f, call.groups
    n, h, wd, c = f.in_shape
    _, oh, ow, oc = f.out_shape
    kh, kw = f.filter_shape[1:3]
    (sh, sw), (dh, dw), (pt, pl) = f.stride, f.dilation, f.pad
    lo, hi = qz.activation_range(f.activation, f.yq.scale, f.yq.zero_point)
    # windows are read from the image in place when inside it; dilated windows, those that
    # reach outside the image, and those whose kernel rows are short (under 8 bytes; the
    # widened kernel reads rows of whole words in place however short) are gathered first
    row = kw * c // groups
    im2col = int(dw > 1 or (row < 8 and (lean or row % 4 != 0)))
    oys, oxs = np.arange(oh) * sh - pt, np.arange(ow) * sw - pl
    outside = bool((oys < 0).any() or (oys + (kh - 1) * dh >= h).any() or (oxs < 0).any()
                   or (oxs + (kw - 1) * dw >= wd).any())
    rows = np.asarray(call.rows, dtype=np.int8).reshape(oc, -1)
    k = rows.shape[1]
    fast_path = groups == 1 and kh <= CONV_MAX_ROWS
    stride, scratch, gather_bytes, layout = k, 0, 0, rows.reshape(-1)
    gather = im2col or outside
    run = row
    if fast_path and lean:  # filters interleaved by 4 per run (conv_lean.c)
        if im2col:
            stride = run = -(-k // 4) * 4
        padded = np.pad(rows, ((0, 0), (0, stride - k)))
        layout = widen_lean(padded, run) if wide else interleave(padded, 4, run)
        gather_bytes = stride if gather else 0
    elif fast_path:  # padded to whole groups of 4, interleaved by pairs (gemm.c)
        padded = np.pad(rows, ((0, 0), (0, -k % 4))) if im2col else row_groups(rows, row)
        stride = padded.shape[1]
        layout = widen_pairs(padded) if wide else interleave(padded, 2)
        scratch = 16 + 4 * stride  # the accumulators and the widened pair of windows
        gather_bytes = stride if gather else 0  # apart: two smaller holes suffice
    consts, names, fast = _requant_consts(op, call.bias, call.rows, call.mults, call.shifts,
                                          f.yq.zero_point)
    if wide and not lean:  # doubled weights and bias: the sums come doubled (gemm.c)
        layout = layout * 2
        consts[0] = ConstArray(consts[0].name, "int32_t", _wrap32(2 * call.bias))
    # (its state and window buffer in 160 bytes of scratch, its patch within: strides 1, 2)
    k9 = wide and not lean and _k9(f, groups, oc) and sw <= 2 and scratch >= 160
    # a 1×1 conv over 8 channels: conv_lean.c's tm_conv_k8, weights, biases and requantization
    # in one stream (the int8 range in full, fast)
    k8 = wide and lean and (kh, kw, c, sh, sw, groups) == (1, 1, 8, 1, 1, 1) and fast and (
        lo, hi) == (qz.INT8_MIN, qz.INT8_MAX)
    if k9:  # a 3×3 kernel over 3 channels: tm_conv_k9 (conv.c), its own layouts
        layout = 2 * k9_layout(rows)
        brq = np.concatenate([np.array([2 * call.bias[0::2], 2 * call.bias[1::2]] * 2).T,
                              consts[1].values.reshape(-1, 6)], axis=1)
        consts = [ConstArray(_const_name("brq", op), "int32_t",
                             _wrap32(np.concatenate([brq.reshape(-1), np.zeros(4)])))]
        names = {"bias": "0", "rq": "0"}  # in `brq` only
    if k8:  # the stream holds the biases and requantization: no arrays of their own
        consts = [ConstArray(_const_name("w", op), "int32_t",
                             k8_stream(rows, call.bias, consts[1].values), 16 * oc)]
        names = {"bias": "0", "rq": "0"}
    elif wide and not lean and not k9:  # gemm.c's tm_mac16_2x2_rq: one stream per pair
        consts = [ConstArray(_const_name("w", op), "int16_t",
                             pair_stream(layout, consts[0].values, consts[1].values),
                             2 * layout.size)]
        names = {"bias": "0", "rq": "0"}
    else:
        consts.insert(0, ConstArray(_const_name("w", op), "int16_t" if wide else "int8_t",
                                    layout))
    consts.append(_zp_row(op, f.xq.zero_point, c))
    weights = [("w", "0"), ("w16", consts[0].name)] if wide else [("w", consts[0].name)]
    if k9:
        weights.append(("brq", _const_name("brq", op)))
    if k8:
        weights = [("w", "0"), ("brq", consts[0].name)]
    fields = [("batches", n), ("in_h", h), ("in_w", wd), ("in_c", c), ("out_h", oh),
              ("out_w", ow), ("out_c", oc), ("k_h", kh), ("k_w", kw), ("groups", groups),
              ("stride_h", sh), ("stride_w", sw), ("dil_h", dh), ("dil_w", dw),
              ("pad_t", pt), ("pad_l", pl), ("in_zp", f.xq.zero_point),
              ("out_offset", f.yq.zero_point), ("act_min", lo), ("act_max", hi),
              *weights, ("w_stride", stride), *names.items(), ("fast", fast), ("im2col", im2col),
              ("scratch", SCRATCH), ("gather", SCRATCH2), ("zp_row", consts[-1].name)]
    gap = spatial_gap(f.in_shape, (n, oh, ow, oc), (kh, kw), f.stride, f.dilation, f.pad)
    return Step(op, "tm_conv_lean" if lean else "tm_conv", "tm_conv_t", fields, (f.x.index,),
                f.y.index, overlaps={f.x.index: gap}, consts=consts,
                snippets=("dot4.c", "gemm.c", "conv.c", "conv_lean.c") if lean
                else ("gemm.c", "conv.c"),
                scratch=scratch, scratch2=gather_bytes,
                macs=n * oh * ow * oc * kh * kw * (c // groups),
                lean=_conv_step(op, call, True) if fast_path and not lean else None,
                wide=_conv_step(op, call, lean, True) if fast_path and not wide and (
                    oc % 4 == 0 and run % 4 == 0 if lean
                    # the int16 form of conv.c requantizes in its assembly loop only
                    else oc % 2 == 0 and fast and lo == qz.INT8_MIN and hi == qz.INT8_MAX)
                else None)


def _k9(f: Filtered, groups: int, oc: int) -> bool:
    """Does tm_conv_k9 (conv.c) take this convolution (its int16 form)?"""
    return (f.filter_shape[1:3] == (3, 3) and f.in_shape[3] == 3 and groups == 1
            and f.dilation == (1, 1) and oc % 2 == 0)


# tm_conv_k9's order of a window's 27 taps (kernel row r, byte j at 9r + j) as halfwords: the
# last taps of the rows (and a don't-care, -1), then per row 0, 2 | 1, 3 | 4, 6 | 5, 7: what
# SXTB16 gives of the row's two words
K9_TAPS = [8, 17, 26, -1] + [9 * r + j for r in range(3) for j in (0, 2, 1, 3, 4, 6, 5, 7)]


def k9_layout(rows: np.ndarray) -> np.ndarray:
    """Filters [n][27] (n even) as int16 in the order tm_conv_k9 reads them: per pair of
    filters and per group of 4 halfwords of K9_TAPS, the first filter's 4, then the second's
    (the don't-care's weight 0). (_conv_step doubles them.)"""
    n = rows.shape[0]
    w = np.concatenate([rows.astype(np.int16), np.zeros((n, 1), np.int16)], axis=1)[:, K9_TAPS]
    return w.reshape(n // 2, 2, 7, 4).transpose(0, 2, 1, 3).reshape(-1)


def k8_stream(rows: np.ndarray, bias: np.ndarray, rq: np.ndarray) -> np.ndarray:
    """Filters [n][8] as tm_conv_k8 (kernels/conv_lean.c) reads them, one LDM per output
    channel: the doubled bias, 4 words of doubled int16 weights (inputs 0, 2 | 1, 3 | 4, 6 |
    5, 7: SXTB16's lanes), the requantization triple."""
    n = rows.shape[0]
    w = np.ascontiguousarray((2 * rows.astype(np.int16))[:, [0, 2, 1, 3, 4, 6, 5, 7]], "<i2")
    return np.concatenate([_wrap32(2 * np.asarray(bias))[:, None], w.view("<i4"),
                           np.asarray(rq, dtype=np.int32).reshape(n, 3)], axis=1).reshape(-1)


def _depthwise(g: Graph, op: Op) -> Step:
    f = _filtered(g, op)
    c, oc, woc = f.in_shape[3], f.out_shape[3], f.filter_shape[3]
    if woc != oc or oc % c:
        raise op_error(g, op, f"{oc} output channels are not a multiple of {c} input channels")
    n, h, wd, _ = f.in_shape
    _, oh, ow, _ = f.out_shape
    kh, kw = f.filter_shape[1:3]
    (sh, sw), (dh, dw), (pt, pl) = f.stride, f.dilation, f.pad
    taps = f.weights.reshape(kh * kw, oc)
    weights = taps.astype(np.int64)
    bias = _bias(g, op, 2, oc) - f.xq.zero_point * weights.sum(axis=0)
    mults, shifts = qz.conv_multipliers(f.xq.scale, f.wq.scales, f.yq.scale, oc)
    if c == 1:  # one input channel: the same sums as a convolution with out_c filters
        return _conv_step(op, ConvCall(f, 1, taps.T.copy(), bias, mults, shifts))
    blocked = oc == c and kh * kw <= DW_MAX_TAPS
    consts, names, fast = _requant_consts(op, bias, weights.T, mults, shifts, f.yq.zero_point)
    layout = _dw_blocked(taps) if blocked else f.weights.reshape(-1)
    consts.insert(0, ConstArray(_const_name("w", op), "int8_t", layout))
    consts.append(_zp_row(op, f.xq.zero_point, c))
    lo, hi = qz.activation_range(f.activation, f.yq.scale, f.yq.zero_point)
    fields = [("batches", n), ("in_h", h), ("in_w", wd), ("in_c", c), ("out_h", oh),
              ("out_w", ow), ("mult_c", oc // c), ("k_h", kh), ("k_w", kw),
              ("stride_h", sh), ("stride_w", sw), ("dil_h", dh), ("dil_w", dw),
              ("pad_t", pt), ("pad_l", pl), ("in_zp", f.xq.zero_point),
              ("out_offset", f.yq.zero_point), ("act_min", lo), ("act_max", hi),
              ("w", consts[0].name), *names.items(),
              ("fast", fast), ("blocked", int(blocked)),
              ("zp_row", consts[-1].name)]
    geometry = (f.in_shape, (n, oh, ow, oc), (kh, kw), f.stride, f.dilation, f.pad)
    step = Step(op, "tm_depthwise", "tm_depthwise_t", fields, (f.x.index,), f.y.index,
                overlaps={f.x.index: spatial_gap(*geometry, channelwise=True)}, consts=consts,
                snippets=("depthwise.c",), macs=n * oh * ow * oc * kh * kw)
    if not (blocked and (kh, kw) == (3, 3) and c >= 4 and fast and (lo, hi) == (-128, 127)):
        return step
    # tm_depthwise_3x3 (Cortex-M) runs blocks of channels outside, pixels inside, over a
    # band of output rows at a time. Writing all of a band before reading the rest needs a
    # bigger in-place gap: the kernel checks its buffers against it (it takes the whole layer
    # at once when they do not overlap, fits smaller bands or goes pixel by pixel when the
    # output starts too late); the plan leaves that room unless the arena would grow (the
    # lean forms: smaller bands, then the plain gap).
    def banded(band: int, gap: int) -> list[tuple[str, Any]]:
        return [*step.fields[:-2], ("blocked", 2), ("band", band), ("band_gap", gap),
                step.fields[-1]]

    fields, lean = banded(0, 0), step
    if oh * ow >= DW3_GROUP_PIXELS * _dw3_runs(oh, sh, pt, dh, h) * _dw3_runs(ow, sw, pl, dw, wd):
        for pixels in sorted({min(p, oh * ow) for p in DW_BAND_PIXELS}):
            band = -(-pixels // ow)
            band_gap = spatial_gap(*geometry, pixels_per_step=band * ow)
            fields = banded(band, band_gap)
            lean = replace(step, fields=fields, overlaps={f.x.index: band_gap},
                           lean=lean if lean is not step else replace(step, fields=fields))
    if n > 1:
        return lean
    # Faster where the arena has room: the input with its border copied into scratch first,
    # so that every window lies inside (one group of pixels) and the output may overlap the
    # input as the pixel-by-pixel kernel's may (kernels without assembly ignore the scratch).
    padded = ((oh - 1) * sh + 2 * dh + 1) * ((ow - 1) * sw + 2 * dw + 1) * c
    return replace(step, fields=[*fields, ("padded", SCRATCH)], scratch=padded, lean=lean)


DW_MAX_TAPS = 64  # TM_DW_MAX_TAPS in kernels/depthwise.c
# tm_depthwise_3x3 prepares each block of channels once per group of pixels whose windows
# have the same taps inside the image: it pays off from about this many pixels per group
DW3_GROUP_PIXELS = 8
DW_BAND_PIXELS = (100, 300)  # output pixels per band of tm_depthwise_3x3 at least (whole rows)
CONV_MAX_ROWS = 16  # TM_CONV_MAX_ROWS in kernels/conv.c


def _dw3_runs(out: int, stride: int, pad: int, dil: int, size: int) -> int:
    """How many runs of output rows (or columns) of a 3-tap window have the same taps inside
    the input (tm_dw3_runs in kernels/depthwise.c)."""
    masks = [tuple(0 <= o * stride - pad + k * dil < size for k in range(3)) for o in range(out)]
    return 1 + sum(a != b for a, b in itertools.pairwise(masks))


def interleave(rows: np.ndarray, count: int, run: int | None = None) -> np.ndarray:
    """Filters [n][k] (k a whole number of runs, one run by default) in the order the
    multiply-accumulate loops read them: per block of `count` filters and per run, for each
    group of 4 elements 4 bytes of each filter in turn, then one byte of each per trailing
    element; the last n % count filters as they are."""
    n, k = rows.shape
    run = run or k
    whole = run // 4 * 4
    parts = []
    for g in range(n // count):
        block = rows[count * g: count * g + count]
        for r in range(0, k, run):
            seg = block[:, r: r + run]
            parts.append(seg[:, :whole].reshape(count, whole // 4, 4).transpose(1, 0, 2)
                         .reshape(-1))
            parts.append(seg[:, whole:].T.reshape(-1))
    parts.append(rows[n // count * count:].reshape(-1))
    return np.concatenate(parts).astype(np.int8)


def row_groups(rows: np.ndarray, row: int) -> np.ndarray:
    """Filters [n][k] (k a whole number of kernel rows of `row` elements, row >= 4) with each
    kernel row as whole groups of 4, as conv.c widens a window read in place: a row whose
    length is not a multiple of 4 ends with the group of its last 4 elements, overlapping the
    one before, whose overlapping weights are zero."""
    n, k = rows.shape
    tail, whole = row % 4, row // 4 * 4
    if not tail:
        return rows
    r = rows.reshape(n, k // row, row)
    out = np.zeros((n, k // row, whole + 4), dtype=rows.dtype)
    out[:, :, :whole] = r[:, :, :whole]
    out[:, :, whole + 4 - tail:] = r[:, :, whole:]
    return out.reshape(n, -1)


def widen_pairs(rows: np.ndarray) -> np.ndarray:
    """Filters [n][k] (n even, k a multiple of 4) as int16 in the order tm_mac16_2x2_rq
    (kernels/gemm.c) reads them: per pair of filters and per group of 4 elements, for each
    filter of the pair its elements 0, 2, 1, 3 (SXTB16's lanes). (_conv_step doubles them.)"""
    n, k = rows.shape
    w = rows.astype(np.int16).reshape(n // 2, 2, k // 4, 4)[..., [0, 2, 1, 3]]
    return w.transpose(0, 2, 1, 3).reshape(-1)


def pair_stream(layout: np.ndarray, bias: np.ndarray, rq: np.ndarray) -> np.ndarray:
    """widen_pairs's (doubled) weights as tm_mac16_2x2_rq (kernels/gemm.c) reads them along
    with their biases and requantization, one stream per pair of filters: the 2 doubled
    biases, the pair's weights, the 2 requantization triples (int32 words as halfwords)."""
    pairs = bias.size // 2
    w = np.ascontiguousarray(layout, "<i2").reshape(pairs, -1).view("<i4")
    words = np.concatenate([np.asarray(bias, "<i4").reshape(pairs, 2), w,
                            np.asarray(rq, "<i4").reshape(pairs, 6)], axis=1)
    return np.ascontiguousarray(words).reshape(-1).view("<i2")


def widen_lean(rows: np.ndarray, run: int) -> np.ndarray:
    """Filters [n][k] (n a multiple of 4, k of runs of `run` elements, run a multiple of 4) as
    int16 in the order tm_lean16_4_rq reads them: per block of 4 filters, per run and per
    group of 4 elements, for each filter its elements 0, 2, 1, 3 (SXTB16's lanes)."""
    n, k = rows.shape
    w = rows.astype(np.int16).reshape(n // 4, 4, k // run, run // 4, 4)[..., [0, 2, 1, 3]]
    return w.transpose(0, 2, 3, 1, 4).reshape(-1)


def _dw_blocked(w: np.ndarray) -> np.ndarray:
    """[taps][channels] weights in the order the depthwise kernel reads them: per block of 4
    channels the 4 weights of each tap, then per remaining channel its weight of each tap."""
    taps, channels = w.shape
    full = channels // 4 * 4
    blocks = w[:, :full].reshape(taps, full // 4, 4).transpose(1, 0, 2).reshape(-1)
    rest = w[:, full:].T.reshape(-1)
    return np.concatenate([blocks, rest]).astype(np.int8)


def _fully_connected(g: Graph, op: Op) -> Step:
    x, w, y = g.t(op.inputs[0]), g.t(op.inputs[1]), g.t(op.outputs[0])
    xq, yq = per_tensor(g, op, x), per_tensor(g, op, y)
    wq = _quant(g, op, w)
    if w.data is None or len(w.shape) != 2:
        raise op_error(g, op, "the weights must be a constant 2-D tensor")
    if op.options.get("weights_format", 0) != 0:
        raise op_error(g, op, "shuffled weights are not supported")
    if any(z != 0 for z in wq.zero_points):
        raise op_error(g, op, "weights with a non-zero zero point are not supported")
    units, depth = w.shape
    if x.size % depth:
        raise op_error(g, op, f"input of {x.size} elements is not a multiple of depth {depth}")
    batches = x.size // depth
    weights = w.data.astype(np.int64)
    bias = _bias(g, op, 2, units) - xq.zero_point * weights.sum(axis=1)
    if wq.per_channel:
        mults, shifts = qz.conv_multipliers(xq.scale, wq.scales, yq.scale, units)
    else:
        m, s = qz.fully_connected_multiplier(xq.scale, wq.scale, yq.scale)
        mults, shifts = [m] * units, [s] * units
    consts, names, fast = _requant_consts(op, bias, weights, mults, shifts, yq.zero_point)
    consts.insert(0, ConstArray(_const_name("w", op), "int8_t", interleave(w.data, 4)))
    lo, hi = qz.activation_range(op.options["activation"], yq.scale, yq.zero_point)
    fields = [("batches", batches), ("depth", depth), ("units", units),
              ("out_offset", yq.zero_point), ("act_min", lo), ("act_max", hi),
              ("w", consts[0].name), *names.items(), ("fast", fast)]
    # int16 weights: the lean convolution's (a 1×1 conv over `batches` pixels computes the
    # same sums), which needs whole blocks of 4 units and runs of whole words
    wide = None
    if units % 4 == 0 and depth % 4 == 0 and depth >= 8:
        f = Filtered(x, w, y, xq, wq, yq, (batches, 1, 1, depth), (batches, 1, 1, units),
                     (units, 1, 1, depth), (1, 1), (1, 1), (0, 0), op.options["activation"])
        wide = _conv_step(op, ConvCall(f, 1, w.data, bias, mults, shifts), True, True)
    return Step(op, "tm_fully_connected", "tm_fully_connected_t", fields, (x.index,), y.index,
                consts=consts, snippets=("dot4.c", "fully_connected.c"),
                macs=batches * depth * units, wide=wide)


def _pool(g: Graph, op: Op) -> Step:
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    per_tensor(g, op, x)
    yq = per_tensor(g, op, y)
    n, h, wd, c = _nhwc(g, op, x, "input")
    _, oh, ow, _ = _nhwc(g, op, y, "output")
    o = op.options
    (fh, fw), (sh, sw) = o["filter"], o["stride"]
    pt = _padding(o["padding"], sh, 1, h, fh, oh)
    pl = _padding(o["padding"], sw, 1, wd, fw, ow)
    lo, hi = qz.activation_range(o["activation"], yq.scale, yq.zero_point)
    fields = [("batches", n), ("in_h", h), ("in_w", wd), ("channels", c), ("out_h", oh),
              ("out_w", ow), ("f_h", fh), ("f_w", fw), ("stride_h", sh), ("stride_w", sw),
              ("pad_t", pt), ("pad_l", pl), ("act_min", lo), ("act_max", hi)]
    func = "tm_avg_pool" if op.kind == "AVERAGE_POOL_2D" else "tm_max_pool"
    gap = spatial_gap((n, h, wd, c), (n, oh, ow, c), (fh, fw), (sh, sw), (1, 1),
                              (pt, pl), channelwise=True)
    return Step(op, func, "tm_pool_t", fields, (x.index,), y.index,
                overlaps={x.index: gap}, snippets=("pool.c",))


def _mean(g: Graph, op: Op) -> Step:
    x, axes_t, y = g.t(op.inputs[0]), g.t(op.inputs[1]), g.t(op.outputs[0])
    xq, yq = per_tensor(g, op, x), per_tensor(g, op, y)
    if axes_t.data is None:
        raise op_error(g, op, "the axes must be constant")
    rank = len(x.shape)
    axes = sorted({int(a) + rank if int(a) < 0 else int(a) for a in axes_t.data.reshape(-1)})
    if not axes or axes != list(range(axes[0], axes[-1] + 1)):
        raise op_error(g, op, f"reducing over axes {axes} is not supported (only adjacent axes)")
    outer = int(np.prod(x.shape[: axes[0]], dtype=np.int64))
    reduced = int(np.prod(x.shape[axes[0]: axes[-1] + 1], dtype=np.int64))
    inner = int(np.prod(x.shape[axes[-1] + 1:], dtype=np.int64))
    plain = int(MEAN_PLAIN_WHEN_SAME_QUANT and xq.zero_point == yq.zero_point
                and xq.scale == yq.scale)
    mult, shift = qz.mean_multiplier(xq.scale, yq.scale, reduced)
    fields = [("outer", outer), ("reduced", reduced), ("inner", inner), ("plain", plain),
              ("in_zp", xq.zero_point), ("out_zp", yq.zero_point), ("mult", mult),
              ("shift", shift)]
    return Step(op, "tm_mean", "tm_mean_t", fields, (x.index,), y.index, snippets=("mean.c",))


def _softmax(g: Graph, op: Op) -> Step:
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    xq, yq = per_tensor(g, op, x), per_tensor(g, op, y)
    if yq.zero_point != -128 or yq.scale != 1.0 / 256:
        raise op_error(g, op, "int8 softmax needs output scale 1/256 and zero point -128")
    depth = x.shape[-1] if x.shape else 1
    mult, shift, diff_min = qz.softmax_params(op.options["beta"], xq.scale)
    fields = [("rows", x.size // depth), ("depth", depth), ("mult", mult), ("shift", shift),
              ("diff_min", diff_min)]
    return Step(op, "tm_softmax", "tm_softmax_t", fields, (x.index,), y.index,
                overlaps={x.index: 0}, snippets=("fixedpoint.c", "softmax.c"))


def _logistic(g: Graph, op: Op) -> Step:
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    xq, yq = per_tensor(g, op, x), per_tensor(g, op, y)
    if yq.zero_point != -128:
        raise op_error(g, op, "int8 logistic needs output zero point -128")
    mult, shift, radius = qz.logistic_params(xq.scale)
    fields = [("size", x.size), ("in_zp", xq.zero_point), ("radius", radius), ("mult", mult),
              ("shift", shift)]
    return Step(op, "tm_logistic", "tm_logistic_t", fields, (x.index,), y.index,
                overlaps={x.index: 0}, snippets=("fixedpoint.c", "logistic.c"))


def _broadcast(g: Graph, op: Op, a: Tensor, b: Tensor, y: Tensor
               ) -> tuple[list[int], list[int], list[int], bool]:
    if len(y.shape) > 6:
        raise op_error(g, op, "more than 6 dimensions")
    out = [1] * (6 - len(y.shape)) + list(y.shape)

    def strides(t: Tensor) -> list[int]:
        shape = [1] * (6 - len(t.shape)) + list(t.shape)
        dense = [int(np.prod(shape[d + 1:], dtype=np.int64)) for d in range(6)]
        for d in range(6):
            if shape[d] != out[d]:
                if shape[d] != 1:
                    raise op_error(g, op, f"shapes {list(a.shape)} and {list(b.shape)} do not "
                                      "broadcast")
                dense[d] = 0
        return dense

    sa, sb = strides(a), strides(b)
    broadcast = a.size != y.size or b.size != y.size
    return out, sa, sb, broadcast


def _binary(g: Graph, op: Op) -> Step:
    a, b, y = g.t(op.inputs[0]), g.t(op.inputs[1]), g.t(op.outputs[0])
    aq, bq, yq = (per_tensor(g, op, t) for t in (a, b, y))
    shape, sa, sb, broadcast = _broadcast(g, op, a, b, y)
    lo, hi = qz.activation_range(op.options["activation"], yq.scale, yq.zero_point)
    fields: list[tuple[str, Any]] = [
        ("shape", shape), ("stride1", sa), ("stride2", sb), ("size", y.size),
        ("broadcast", int(broadcast)), ("in1_offset", -aq.zero_point),
        ("in2_offset", -bq.zero_point), ("out_offset", yq.zero_point), ("act_min", lo),
        ("act_max", hi)]
    if op.kind == "ADD":
        p = qz.add_params(aq.scale, bq.scale, yq.scale)
        fields += [("left_shift", p["left_shift"]), ("mult1", p["mult1"]),
                   ("shift1", p["shift1"]), ("mult2", p["mult2"]), ("shift2", p["shift2"]),
                   ("out_mult", p["out_mult"]), ("out_shift", p["out_shift"])]
        fields += [("fast", _add_fast(p, yq.zero_point))]
    else:
        m, s = qz.quantize_multiplier(aq.scale * bq.scale / yq.scale)
        fields += [("out_mult", m), ("out_shift", s), ("fast", [0] * 5)]
    # the output may be written over an input read at the same index (not a broadcast one)
    overlaps = {t.index: 0 for t in (a, b) if t.size == y.size and not t.is_const}
    return Step(op, "tm_add" if op.kind == "ADD" else "tm_mul", "tm_binary_t", fields,
                (a.index, b.index), y.index, call="binary", overlaps=overlaps,
                snippets=("binary.c",))


def _add_fast(p: dict[str, int], out_offset: int) -> list[int]:
    """The fast ADD of kernels/binary.c when it is exact, else all zero.

    TFLite rescales both inputs, (x + offset)·2^20, to the larger scale: that input's
    multiplier is exactly 2^30 with shift 0, so its rescaled value is (x + offset)·2^19
    exactly. The other's SaturatingRoundingDoublingHighMul never saturates (|.| < 2^28), so it
    equals SMMULR of twice the value, and its rounding divide by 2^e (e > 0) is
    (v + (v < 0 ? -1 : 0) + 2^(e-1)) >> e; the output's too, with the output offset folded
    into the rounding constant r (kept below 2^30). Layout: which input is the exact one (1
    or 2), e and r of the other, e and r of the output."""
    exact = [i for i in (1, 2) if p[f"mult{i}"] == 1 << 30 and p[f"shift{i}"] == 0]
    if p["left_shift"] != 20 or not exact:
        return [0] * 5
    other = 3 - exact[0]
    e, eo = -p[f"shift{other}"], -p["out_shift"]
    ro = (1 << (eo - 1)) + out_offset * (1 << eo) if eo > 0 else 0
    if e <= 0 or eo <= 0 or abs(ro) >= 1 << 30:
        return [0] * 5
    return [exact[0], e, 1 << (e - 1), eo, ro]


def _requantize(g: Graph, op: Op) -> Step:
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    xq, yq = per_tensor(g, op, x), per_tensor(g, op, y)
    m, s = qz.quantize_multiplier(xq.scale / yq.scale)
    lo, hi = qz.INT8_MIN, qz.INT8_MAX
    if op.kind == "RELU":  # TFLite Micro: max(qmin, zp + round(0 / scale))
        lo = max(qz.INT8_MIN, yq.zero_point)
    fields = [("size", x.size), ("in_zp", xq.zero_point), ("out_zp", yq.zero_point),
              ("mult", m), ("shift", s), ("act_min", lo), ("act_max", hi)]
    return Step(op, "tm_requantize", "tm_requantize_t", fields, (x.index,), y.index,
                overlaps={x.index: 0}, snippets=("unary.c",))


def _relu6(g: Graph, op: Op) -> Step:
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    xq = per_tensor(g, op, x)
    per_tensor(g, op, y)
    six = xq.zero_point + int(qz.round_away(qz.f32(np.float32(6.0) / np.float32(xq.scale))))
    six = min(max(six, qz.INT8_MIN), qz.INT8_MAX)
    fields = [("size", x.size), ("lower", xq.zero_point), ("upper", six)]
    return Step(op, "tm_clamp", "tm_clamp_t", fields, (x.index,), y.index,
                overlaps={x.index: 0}, snippets=("unary.c",))


def _pad(g: Graph, op: Op) -> Step:
    x, pads_t, y = g.t(op.inputs[0]), g.t(op.inputs[1]), g.t(op.outputs[0])
    per_tensor(g, op, x)
    yq = per_tensor(g, op, y)
    if pads_t.data is None or len(x.shape) > 4:
        raise op_error(g, op, "needs constant paddings and at most 4 dimensions")
    pads = pads_t.data.reshape(-1, 2).astype(np.int64)
    extra = 4 - len(x.shape)
    before = [0] * extra + [int(p) for p in pads[:, 0]]
    in_shape = [1] * extra + list(x.shape)
    out_shape = [1] * extra + list(y.shape)
    value = yq.zero_point
    if op.kind == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        cv = g.t(op.inputs[2])
        if cv.data is None:
            raise op_error(g, op, "the pad value must be constant")
        value = int(cv.data.reshape(-1)[0])
    fields = [("in_shape", in_shape), ("out_shape", out_shape), ("before", before),
              ("value", value)]
    overlaps = {}
    if before[0] == 0 and before[3] == 0 and in_shape[3] == out_shape[3]:
        overlaps[x.index] = spatial_gap(
            tuple(in_shape), tuple(out_shape), (1, 1), (1, 1), (1, 1), (before[1], before[2]),
            channelwise=True)
    return Step(op, "tm_pad", "tm_pad_t", fields, (x.index,), y.index, overlaps=overlaps,
                snippets=("pad.c",))


def _concat(g: Graph, op: Op) -> Step:
    y = g.t(op.outputs[0])
    per_tensor(g, op, y)
    if op.options.get("activation", "NONE") != "NONE":
        raise op_error(g, op, "a fused activation is not supported")
    ins = [g.t(i) for i in op.inputs]
    for t in ins:
        per_tensor(g, op, t)
    rank = len(y.shape)
    axis = op.options["axis"] + rank if op.options["axis"] < 0 else op.options["axis"]
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    chunks = [int(np.prod(t.shape[axis:], dtype=np.int64)) for t in ins]
    chunk_array = ConstArray(_const_name("chunk", op), "int32_t", np.array(chunks, np.int32))
    fields = [("outer", outer), ("count", len(ins)), ("chunk", chunk_array.name),
              ("inputs", f"{_const_name('inputs', op)}")]
    return Step(op, "tm_concat", "tm_concat_t", fields, tuple(t.index for t in ins), y.index,
                call="concat", consts=[chunk_array], snippets=("concat.c",))


LOWER = {
    "CONV_2D": _conv, "DEPTHWISE_CONV_2D": _depthwise, "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool, "MAX_POOL_2D": _pool, "MEAN": _mean, "SOFTMAX": _softmax,
    "LOGISTIC": _logistic, "ADD": _binary, "MUL": _binary, "QUANTIZE": _requantize,
    "RELU": _requantize, "RELU6": _relu6, "PAD": _pad, "PADV2": _pad, "CONCATENATION": _concat,
}
