"""A zoo of small random int8 models, built with the TFLite flatbuffer object API (no
TensorFlow), covering every op and option the standalone runtime supports.

`case(kind, seed)` returns (name, model bytes, a dict of what it covers); each kind
exercises one op with random shapes, options and quantization, in a graph with a single
input and output (the TFLite Micro reference runner feeds input 0 and reads output 0).
Only configurations TFLite Micro accepts are generated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flatbuffers
import numpy as np

from tinyml_lsp.model.tflite_file import schema

ACTIVATIONS = ("NONE", "RELU", "RELU6")


class Builder:
    """Tensors, buffers and operators of one subgraph; `finish()` gives the .tflite bytes."""

    def __init__(self, rng: np.random.Generator):
        self.s = schema()
        self.rng = rng
        self.tensors: list[Any] = []
        self.buffers: list[Any] = [self.s.BufferT()]
        self.ops: list[Any] = []
        self.codes: list[str] = []

    # --- tensors ------------------------------------------------------------------------
    def tensor(self, shape, dtype: str = "int8", scale=None, zero_point=None,
               data: np.ndarray | None = None, axis: int = 0) -> int:
        t = self.s.TensorT()
        t.shape = np.array(shape, dtype=np.int32)
        t.type = {"int8": self.s.TensorType.INT8, "int32": self.s.TensorType.INT32,
                  "float32": self.s.TensorType.FLOAT32}[dtype]
        t.name = f"t{len(self.tensors)}"
        t.buffer = 0
        if data is not None:
            b = self.s.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        if scale is not None:
            q = self.s.QuantizationParametersT()
            scales = np.atleast_1d(np.asarray(scale, dtype=np.float32))
            q.scale = [float(x) for x in scales]
            zps = np.zeros(len(scales), np.int64) if zero_point is None else \
                np.atleast_1d(np.asarray(zero_point, dtype=np.int64))
            q.zeroPoint = [int(z) for z in zps]
            q.quantizedDimension = axis
            t.quantization = q
        self.tensors.append(t)
        return len(self.tensors) - 1

    def act(self, shape, scale: float | None = None, zero_point: int | None = None) -> int:
        """An int8 activation tensor with random (or given) quantization."""
        if scale is None:
            scale = float(np.exp(self.rng.uniform(np.log(0.005), np.log(0.2))))
        if zero_point is None:
            zero_point = int(self.rng.integers(-128, 100))
        return self.tensor(shape, "int8", scale, zero_point)

    def scale_of(self, t: int) -> float:
        return float(self.tensors[t].quantization.scale[0])

    def zp_of(self, t: int) -> int:
        return int(self.tensors[t].quantization.zeroPoint[0])

    def shape_of(self, t: int) -> tuple[int, ...]:
        return tuple(int(d) for d in self.tensors[t].shape)

    def const_int8(self, shape, scale: float, zero_point: int = 0) -> int:
        data = self.rng.integers(-128, 128, size=shape, dtype=np.int8)
        return self.tensor(shape, "int8", scale, zero_point, data=data)

    def const_int32(self, values) -> int:
        arr = np.asarray(values, dtype=np.int32)
        return self.tensor(arr.shape, "int32", data=arr)

    def weights(self, shape, axis: int, per_channel: bool) -> tuple[int, np.ndarray]:
        channels = shape[axis]
        if per_channel:
            scales = np.exp(self.rng.uniform(np.log(0.002), np.log(0.05), size=channels))
        else:
            scales = np.full(1, np.exp(self.rng.uniform(np.log(0.002), np.log(0.05))))
        scales = scales.astype(np.float32)
        data = self.rng.integers(-127, 128, size=shape, dtype=np.int8)
        idx = self.tensor(shape, "int8", scales, np.zeros(len(scales), np.int64), data=data,
                          axis=axis if per_channel else 0)
        return idx, scales

    def bias(self, channels: int, in_scale: float, w_scales: np.ndarray) -> int:
        scales = (np.float32(in_scale) * np.broadcast_to(w_scales, (channels,))).astype(
            np.float32)
        data = self.rng.integers(-3000, 3000, size=channels).astype(np.int32)
        return self.tensor((channels,), "int32", scales, np.zeros(channels, np.int64),
                           data=data)

    def out_scale_for(self, in_scale: float, w_scales: np.ndarray, taps: int) -> float:
        """An output scale that spreads the accumulator over the int8 range (some clipping);
        now and then a tiny one, so that the requantization multiplier exceeds 1 (a positive
        shift: the kernels' general requantization path)."""
        std = np.sqrt(taps) * 74.0 * in_scale * 73.0 * float(np.mean(w_scales))
        tiny = 1e-4 if self.rng.random() < 0.1 else 1.0
        return float(std * 3.0 / 128.0 * np.exp(self.rng.uniform(-0.7, 0.7)) * tiny)

    # --- operators ----------------------------------------------------------------------
    def op(self, kind: str, inputs, outputs, options_type: str | None = None, **options) -> None:
        if kind not in self.codes:
            self.codes.append(kind)
        o = self.s.OperatorT()
        o.opcodeIndex = self.codes.index(kind)
        o.inputs = np.array(inputs, dtype=np.int32)
        o.outputs = np.array(outputs, dtype=np.int32)
        if options_type is not None:
            cls = getattr(self.s, options_type + "T")
            opts = cls()
            for k, v in options.items():
                setattr(opts, k, v)
            o.builtinOptionsType = getattr(self.s.BuiltinOptions, options_type)
            o.builtinOptions = opts
        self.ops.append(o)

    def finish(self, inputs, outputs) -> bytes:
        s = self.s
        sg = s.SubGraphT()
        sg.tensors = self.tensors
        sg.inputs = np.array(inputs, dtype=np.int32)
        sg.outputs = np.array(outputs, dtype=np.int32)
        sg.operators = self.ops
        sg.name = "main"
        m = s.ModelT()
        m.version = 3
        m.description = "tinyml-lsp zoo"
        m.buffers = self.buffers
        m.subgraphs = [sg]
        m.operatorCodes = []
        for kind in self.codes:
            oc = s.OperatorCodeT()
            code = getattr(s.BuiltinOperator, kind)
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, 127)
            oc.version = 1
            m.operatorCodes.append(oc)
        b = flatbuffers.Builder(1024)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def _act_code(name: str) -> int:
    return getattr(schema().ActivationFunctionType, name)


def _padding_code(name: str) -> int:
    return getattr(schema().Padding, name)


def _out_size(size: int, k: int, stride: int, dilation: int, padding: str) -> int:
    eff = (k - 1) * dilation + 1
    return (size + stride - 1) // stride if padding == "SAME" else (size - eff + stride) // stride


def _spatial(rng, k_max: int = 3, allow_dilation: bool = True):
    """Random spatial options that give an output of at least 1x1."""
    while True:
        h, w = int(rng.integers(3, 10)), int(rng.integers(3, 10))
        kh, kw = int(rng.integers(1, k_max + 1)), int(rng.integers(1, k_max + 1))
        sh, sw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        dh = dw = 1
        if allow_dilation and rng.random() < 0.3:
            dh, dw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
            sh = sw = 1  # TFLite needs stride 1 with dilation > 1
        padding = "SAME" if rng.random() < 0.5 else "VALID"
        oh = _out_size(h, kh, sh, dh, padding)
        ow = _out_size(w, kw, sw, dw, padding)
        if oh >= 1 and ow >= 1:
            return h, w, (kh, kw), (sh, sw), (dh, dw), padding, (oh, ow)


def _input(b: Builder, shape, float_io: bool) -> tuple[int, int]:
    """(graph input, int8 tensor the ops read): a float input goes through QUANTIZE."""
    x = b.act(shape)
    if not float_io:
        return x, x
    xf = b.tensor(shape, "float32")
    b.op("QUANTIZE", [xf], [x], "QuantizeOptions")
    return xf, x


def _output(b: Builder, y: int, float_io: bool) -> int:
    if not float_io:
        return y
    yf = b.tensor(b.shape_of(y), "float32")
    b.op("DEQUANTIZE", [y], [yf], "DequantizeOptions")
    return yf


# --- one case per op kind ----------------------------------------------------------------


def _conv(b: Builder, rng, info) -> tuple[int, int]:
    h, w, (kh, kw), (sh, sw), (dh, dw), padding, (oh, ow) = _spatial(rng)
    n = int(rng.integers(1, 3))
    c, oc = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    groups = 1
    if rng.random() < 0.2:  # a grouped convolution: filters see in_c / groups channels
        groups = 2
        c, oc = 2 * int(rng.integers(1, 4)), 2 * int(rng.integers(1, 4))
    per_channel = bool(rng.random() < 0.6)
    act = str(rng.choice(ACTIVATIONS))
    float_io = bool(rng.random() < 0.2)
    xin, x = _input(b, (n, h, w, c), float_io)
    wt, ws = b.weights((oc, kh, kw, c // groups), 0, per_channel)
    bias = b.bias(oc, b.scale_of(x), ws)
    y = b.act((n, oh, ow, oc), b.out_scale_for(b.scale_of(x), ws, kh * kw * c // groups))
    b.op("CONV_2D", [x, wt, bias], [y], "Conv2DOptions", padding=_padding_code(padding),
         strideH=sh, strideW=sw, dilationHFactor=dh, dilationWFactor=dw,
         fusedActivationFunction=_act_code(act))
    info.update(padding=padding, stride=(sh, sw), dilation=(dh, dw), activation=act,
                per_channel=per_channel, float_io=float_io, kernel=(kh, kw), groups=groups)
    return xin, _output(b, y, float_io)


def _depthwise(b: Builder, rng, info) -> tuple[int, int]:
    h, w, (kh, kw), (sh, sw), (dh, dw), padding, (oh, ow) = _spatial(rng)
    c, m = int(rng.integers(1, 7)), int(rng.integers(1, 4))
    per_channel = bool(rng.random() < 0.6)
    act = str(rng.choice(ACTIVATIONS))
    x = b.act((1, h, w, c))
    wt, ws = b.weights((1, kh, kw, c * m), 3, per_channel)
    bias = b.bias(c * m, b.scale_of(x), ws)
    y = b.act((1, oh, ow, c * m), b.out_scale_for(b.scale_of(x), ws, kh * kw))
    b.op("DEPTHWISE_CONV_2D", [x, wt, bias], [y], "DepthwiseConv2DOptions",
         padding=_padding_code(padding), strideH=sh, strideW=sw, depthMultiplier=m,
         dilationHFactor=dh, dilationWFactor=dw, fusedActivationFunction=_act_code(act))
    info.update(padding=padding, stride=(sh, sw), dilation=(dh, dw), activation=act,
                per_channel=per_channel, depth_multiplier=m)
    return x, y


def _depthwise_3x3(b: Builder, rng, info, pooled: bool = False,
                   strided: bool = False) -> tuple[int, int]:
    """A 3×3 depthwise conv of depth multiplier 1, 4 channels or more and the full output
    range on bigger images: what the Cortex-M kernel takes by blocks of channels and bands of
    rows (borders, strides, dilations, channels after the last block of 4, two images).
    `pooled`: one image, after a 2×2 max pool of one twice as big, so that the arena has room
    for the kernel to copy its input with the border into scratch first. `strided`: one
    image of a multiple of 4 channels, stride 2, larger: in place, the output runs behind the
    input, and the kernel fits its bands of rows below what is still to read."""
    while True:
        h, w = int(rng.integers(4, 13)), int(rng.integers(4, 13))
        sh, sw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        dh = dw = 1
        if rng.random() < 0.3:
            dh, dw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
            sh = sw = 1
        padding = "SAME" if rng.random() < 0.6 else "VALID"
        oh, ow = _out_size(h, 3, sh, dh, padding), _out_size(w, 3, sw, dw, padding)
        if oh >= 1 and ow >= 1:
            break
    n, c = int(rng.integers(1, 3)), int(rng.integers(4, 10))
    if strided:
        h, w, sh, sw, dh, dw = int(rng.integers(8, 25)), int(rng.integers(4, 25)), 2, 2, 1, 1
        oh, ow = _out_size(h, 3, sh, dh, padding), _out_size(w, 3, sw, dw, padding)
        n, c = 1, 4 * int(rng.integers(1, 4))
    per_channel = bool(rng.random() < 0.6)
    act = "RELU" if rng.random() < 0.3 else "NONE"
    x = b.act((n, h, w, c))
    if pooled:
        n, x0 = 1, b.act((1, 2 * h, 2 * w, c))
        x = b.act((n, h, w, c), b.scale_of(x0), b.zp_of(x0))
        b.op("MAX_POOL_2D", [x0], [x], "Pool2DOptions", padding=_padding_code("VALID"),
             strideH=2, strideW=2, filterHeight=2, filterWidth=2)
    wt, ws = b.weights((1, 3, 3, c), 3, per_channel)
    bias = b.bias(c, b.scale_of(x), ws)
    # with RELU, an output zero point of -128 keeps the whole int8 range
    y = b.act((n, oh, ow, c), b.out_scale_for(b.scale_of(x), ws, 9),
              -128 if act == "RELU" else None)
    b.op("DEPTHWISE_CONV_2D", [x, wt, bias], [y], "DepthwiseConv2DOptions",
         padding=_padding_code(padding), strideH=sh, strideW=sw, depthMultiplier=1,
         dilationHFactor=dh, dilationWFactor=dw, fusedActivationFunction=_act_code(act))
    info.update(padding=padding, stride=(sh, sw), dilation=(dh, dw), activation=act,
                per_channel=per_channel, depth_multiplier=1)
    return (x0 if pooled else x), y


def _conv_3x3x3(b: Builder, rng, info) -> tuple[int, int]:
    """A first layer: a 3×3 conv over 3 channels, what tm_conv_k9 takes with int16 weights
    (pairs of output channels, the full output range): strides 1 to 3, both paddings, images
    down to narrower than the kernel, a lone last pixel per row, two images; sometimes an
    odd channel count or a clamped range, which it leaves to the other kernels."""
    while True:
        h, w = int(rng.integers(1, 12)), int(rng.integers(1, 12))
        sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        padding = "SAME" if rng.random() < 0.7 else "VALID"
        oh, ow = _out_size(h, 3, sh, 1, padding), _out_size(w, 3, sw, 1, padding)
        if oh >= 1 and ow >= 1:
            break
    n = int(rng.integers(1, 3))
    oc = 2 * int(rng.integers(1, 9)) - int(rng.random() < 0.15)
    per_channel = bool(rng.random() < 0.6)
    act = "RELU" if rng.random() < 0.2 else "NONE"
    x = b.act((n, h, w, 3))
    wt, ws = b.weights((oc, 3, 3, 3), 0, per_channel)
    bias = b.bias(oc, b.scale_of(x), ws)
    y = b.act((n, oh, ow, oc), b.out_scale_for(b.scale_of(x), ws, 27),
              -128 if act == "RELU" and rng.random() < 0.5 else None)
    b.op("CONV_2D", [x, wt, bias], [y], "Conv2DOptions", padding=_padding_code(padding),
         strideH=sh, strideW=sw, dilationHFactor=1, dilationWFactor=1,
         fusedActivationFunction=_act_code(act))
    # then a wide 1×1 conv, as in MobileNet: it sizes the arena, so the first layer keeps
    # its widened kernel instead of the lean one
    w2, ws2 = b.weights((200, 1, 1, oc), 0, False)
    y2 = b.act((n, oh, ow, 200), b.out_scale_for(b.scale_of(y), ws2, oc))
    b.op("CONV_2D", [y, w2, b.bias(200, b.scale_of(y), ws2)], [y2], "Conv2DOptions",
         padding=_padding_code("VALID"), strideH=1, strideW=1, dilationHFactor=1,
         dilationWFactor=1, fusedActivationFunction=_act_code("NONE"))
    info.update(padding=padding, stride=(sh, sw), dilation=(1, 1), activation=act,
                per_channel=per_channel, kernel=(3, 3), groups=1)
    return x, y2


def _conv_1x1x8(b: Builder, rng, info) -> tuple[int, int]:
    """A 1×1 conv over 8 channels, what tm_conv_k8 takes with int16 weights (output channels
    by 4, the full output range): one or two images of any size; sometimes a clamped range or
    channels not by 4, which it leaves to the other kernels."""
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 10)), int(rng.integers(1, 10))
    oc = 4 * int(rng.integers(1, 7)) - int(rng.random() < 0.15)
    per_channel = bool(rng.random() < 0.6)
    act = "RELU" if rng.random() < 0.2 else "NONE"
    x = b.act((n, h, w, 8))
    wt, ws = b.weights((oc, 1, 1, 8), 0, per_channel)
    y = b.act((n, h, w, oc), b.out_scale_for(b.scale_of(x), ws, 8),
              -128 if act == "RELU" and rng.random() < 0.5 else None)
    b.op("CONV_2D", [x, wt, b.bias(oc, b.scale_of(x), ws)], [y], "Conv2DOptions",
         padding=_padding_code("VALID"), strideH=1, strideW=1, dilationHFactor=1,
         dilationWFactor=1, fusedActivationFunction=_act_code(act))
    info.update(padding="VALID", stride=(1, 1), dilation=(1, 1), activation=act,
                per_channel=per_channel, kernel=(1, 1), groups=1)
    return x, y


def _conv_1x1_pooled(b: Builder, rng, info) -> tuple[int, int]:
    """A 1×1 conv after a 2×2 max pool (the pool's input sizes the arena, so the conv has room
    for three windows): what conv.c's tm_mac_3x2_rq takes with int8 weights (input channels by
    4, an even number of output channels, the full output range). Seed s has 4·(1 + s % 8)
    input channels, sometimes 32 more: the eight entries of its unrolled loop; pixel counts of
    every remainder by 3, two images."""
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(2, 7)), int(rng.integers(2, 7))
    c = 4 * (1 + info["seed"] % 8) + 32 * int(rng.random() < 0.4)
    oc = 2 * int(rng.integers(1, c // 2 + 1))
    per_channel = bool(rng.random() < 0.6)
    x = b.act((n, 2 * h, 2 * w, c))
    p = b.act((n, h, w, c), b.scale_of(x), b.zp_of(x))
    b.op("MAX_POOL_2D", [x], [p], "Pool2DOptions", padding=_padding_code("VALID"), strideH=2,
         strideW=2, filterHeight=2, filterWidth=2, fusedActivationFunction=_act_code("NONE"))
    wt, ws = b.weights((oc, 1, 1, c), 0, per_channel)
    y = b.act((n, h, w, oc), b.out_scale_for(b.scale_of(p), ws, c))
    b.op("CONV_2D", [p, wt, b.bias(oc, b.scale_of(p), ws)], [y], "Conv2DOptions",
         padding=_padding_code("VALID"), strideH=1, strideW=1, dilationHFactor=1,
         dilationWFactor=1, fusedActivationFunction=_act_code("NONE"))
    info.update(padding="VALID", stride=(1, 1), dilation=(1, 1), activation="NONE",
                per_channel=per_channel, kernel=(1, 1), groups=1, in_c=c)
    return x, y


def _fully_connected(b: Builder, rng, info) -> tuple[int, int]:
    batches, depth, units = int(rng.integers(1, 4)), int(rng.integers(1, 40)), \
        int(rng.integers(1, 12))
    per_channel = bool(rng.random() < 0.4)
    act = str(rng.choice(ACTIVATIONS))
    x = b.act((batches, depth))
    wt, ws = b.weights((units, depth), 0, per_channel)
    bias = b.bias(units, b.scale_of(x), ws) if rng.random() < 0.8 else -1
    y = b.act((batches, units), b.out_scale_for(b.scale_of(x), ws, depth))
    b.op("FULLY_CONNECTED", [x, wt, bias], [y], "FullyConnectedOptions",
         fusedActivationFunction=_act_code(act))
    info.update(activation=act, per_channel=per_channel, bias=bias >= 0)
    return x, y


def _pool(b: Builder, rng, info, kind: str) -> tuple[int, int]:
    h, w, (fh, fw), (sh, sw), _, padding, (oh, ow) = _spatial(rng, 3, allow_dilation=False)
    c = int(rng.integers(1, 9))
    act = str(rng.choice(ACTIVATIONS))
    x = b.act((1, h, w, c))
    y = b.act((1, oh, ow, c), b.scale_of(x), b.zp_of(x))  # TFLite Micro: same quantization
    b.op(kind, [x], [y], "Pool2DOptions", padding=_padding_code(padding), strideH=sh,
         strideW=sw, filterHeight=fh, filterWidth=fw, fusedActivationFunction=_act_code(act))
    info.update(padding=padding, stride=(sh, sw), activation=act, filter=(fh, fw))
    return x, y


def _mean(b: Builder, rng, info) -> tuple[int, int]:
    h, w, c = int(rng.integers(1, 8)), int(rng.integers(1, 8)), int(rng.integers(1, 9))
    axes = [[1, 2], [1, 2], [2], [1], [3]][int(rng.integers(0, 5))]
    keep = bool(rng.random() < 0.5)
    x = b.act((1, h, w, c))
    out_shape = [d if i not in axes else 1 for i, d in enumerate((1, h, w, c))]
    if not keep:
        out_shape = [d for i, d in enumerate(out_shape) if i not in axes]
    same = bool(rng.random() < 0.5)
    y = b.act(out_shape, b.scale_of(x) if same else None, b.zp_of(x) if same else None)
    b.op("MEAN", [x, b.const_int32(axes)], [y], "ReducerOptions", keepDims=keep)
    info.update(axes=axes, keep_dims=keep, same_quant=same)
    return x, y


def _softmax(b: Builder, rng, info) -> tuple[int, int]:
    rows, depth = int(rng.integers(1, 4)), int(rng.integers(2, 12))
    x = b.act((rows, depth))
    y = b.tensor((rows, depth), "int8", 1.0 / 256, -128)
    beta = float(rng.choice([1.0, 1.0, 0.5, 2.0]))
    b.op("SOFTMAX", [x], [y], "SoftmaxOptions", beta=beta)
    info.update(beta=beta)
    return x, y


def _logistic(b: Builder, rng, info) -> tuple[int, int]:
    shape = (1, int(rng.integers(1, 50)))
    x = b.act(shape, float(np.exp(rng.uniform(np.log(0.01), np.log(0.3)))))
    y = b.tensor(shape, "int8", 1.0 / 256, -128)
    b.op("LOGISTIC", [x], [y])
    return x, y


def _binary(b: Builder, rng, info, kind: str) -> tuple[int, int]:
    h, w, c = int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 6))
    act = str(rng.choice(ACTIVATIONS))
    x = b.act((1, h, w, c))
    mode = str(rng.choice(["same", "const", "broadcast_c", "broadcast_hw"]))
    # now and then both operands share a scale (ADD then takes its general path)
    same_scale = kind == "ADD" and mode in ("same", "const") and rng.random() < 0.3
    if mode == "same":  # both operands are activations: x and a requantized copy of it
        other = b.act((1, h, w, c), b.scale_of(x) if same_scale else None)
        b.op("QUANTIZE", [x], [other], "QuantizeOptions")
    elif mode == "const":
        scale = b.scale_of(x) if same_scale else float(np.exp(rng.uniform(np.log(0.01),
                                                                          np.log(0.2))))
        other = b.const_int8((1, h, w, c), scale, int(rng.integers(-20, 20)))
    elif mode == "broadcast_c":
        other = b.const_int8((c,), float(np.exp(rng.uniform(np.log(0.01), np.log(0.2)))),
                             int(rng.integers(-20, 20)))
    else:
        other = b.const_int8((1, h, 1, 1), float(np.exp(rng.uniform(np.log(0.01),
                                                                   np.log(0.2)))), 3)
    operands = [x, other] if rng.random() < 0.5 else [other, x]
    if kind == "ADD":
        scale = (b.scale_of(x) + b.scale_of(other)) * float(np.exp(rng.uniform(-0.3, 0.7)))
    else:
        scale = b.scale_of(x) * b.scale_of(other) * 120.0 * float(np.exp(rng.uniform(-0.7,
                                                                                     0.7)))
    y = b.act((1, h, w, c), scale)
    b.op(kind, operands, [y], "AddOptions" if kind == "ADD" else "MulOptions",
         fusedActivationFunction=_act_code(act))
    info.update(mode=mode, activation=act, same_scale=same_scale)
    return x, y


def _quantize(b: Builder, rng, info) -> tuple[int, int]:
    shape = (1, int(rng.integers(1, 40)))
    float_io = bool(rng.random() < 0.5)
    xin, x = _input(b, shape, float_io)
    y = b.act(shape)
    b.op("QUANTIZE", [x], [y], "QuantizeOptions")
    info.update(float_io=float_io)
    return xin, _output(b, y, float_io)


def _relu(b: Builder, rng, info, kind: str) -> tuple[int, int]:
    shape = (1, int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 5)))
    x = b.act(shape)
    same = kind == "RELU6" or rng.random() < 0.3
    y = b.act(shape, b.scale_of(x) if same else None, b.zp_of(x) if same else None)
    b.op(kind, [x], [y])
    info.update(same_quant=same)
    return x, y


def _pad(b: Builder, rng, info, kind: str) -> tuple[int, int]:
    h, w, c = int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 5))
    pads = [[0, 0], [int(rng.integers(0, 3)), int(rng.integers(0, 3))],
            [int(rng.integers(0, 3)), int(rng.integers(0, 3))],
            [0, 0] if rng.random() < 0.7 else [int(rng.integers(0, 2)), int(rng.integers(0, 2))]]
    x = b.act((1, h, w, c))
    out = [d + p[0] + p[1] for d, p in zip((1, h, w, c), pads, strict=True)]
    y = b.act(out, b.scale_of(x), b.zp_of(x))
    inputs = [x, b.const_int32(pads)]
    if kind == "PADV2":
        inputs.append(b.tensor((1,), "int8", b.scale_of(x), b.zp_of(x),
                               data=np.array([rng.integers(-128, 128)], np.int8)))
    b.op(kind, inputs, [y], "PadOptions" if kind == "PAD" else "PadV2Options")
    info.update(pads=pads)
    return x, y


def _concat(b: Builder, rng, info) -> tuple[int, int]:
    h, w, c = int(rng.integers(1, 5)), int(rng.integers(1, 5)), int(rng.integers(1, 5))
    axis = int(rng.choice([1, 2, 3, -1]))
    x = b.act((1, h, w, c))
    other = b.act((1, h, w, c), b.scale_of(x), b.zp_of(x))
    b.op("QUANTIZE", [x], [other], "QuantizeOptions")
    const_shape = [1, h, w, c]
    const_shape[axis] = int(rng.integers(1, 3))
    k = b.const_int8(const_shape, b.scale_of(x), b.zp_of(x))
    parts = [x, other, k]
    rng.shuffle(parts)
    out = [1, h, w, c]
    out[axis] = sum(b.shape_of(p)[axis] for p in parts)
    y = b.act(out, b.scale_of(x), b.zp_of(x))
    b.op("CONCATENATION", parts, [y], "ConcatenationOptions", axis=axis)
    info.update(axis=axis)
    return x, y


def _chain(b: Builder, rng, info) -> tuple[int, int]:
    """A small network: conv -> (max/avg pool) -> depthwise -> reshape -> FC -> softmax."""
    h = w = int(rng.integers(6, 12))
    c = int(rng.integers(1, 4))
    x = b.act((1, h, w, c))
    wt, ws = b.weights((8, 3, 3, c), 0, True)
    y1 = b.act((1, h, w, 8), b.out_scale_for(b.scale_of(x), ws, 9 * c), -128)
    b.op("CONV_2D", [x, wt, b.bias(8, b.scale_of(x), ws)], [y1], "Conv2DOptions",
         padding=_padding_code("SAME"), strideH=1, strideW=1,
         fusedActivationFunction=_act_code("RELU"))
    ph = (h - 2) // 2 + 1
    y2 = b.act((1, ph, ph, 8), b.scale_of(y1), b.zp_of(y1))
    b.op(str(rng.choice(["MAX_POOL_2D", "AVERAGE_POOL_2D"])), [y1], [y2], "Pool2DOptions",
         padding=_padding_code("VALID"), strideH=2, strideW=2, filterHeight=2, filterWidth=2)
    wd, wds = b.weights((1, 3, 3, 8), 3, True)
    y3 = b.act((1, ph, ph, 8), b.out_scale_for(b.scale_of(y2), wds, 9), -128)
    b.op("DEPTHWISE_CONV_2D", [y2, wd, b.bias(8, b.scale_of(y2), wds)], [y3],
         "DepthwiseConv2DOptions", padding=_padding_code("SAME"), strideH=1, strideW=1,
         depthMultiplier=1, fusedActivationFunction=_act_code("RELU6"))
    flat = ph * ph * 8
    y4 = b.act((1, flat), b.scale_of(y3), b.zp_of(y3))
    b.op("RESHAPE", [y3, b.const_int32([1, flat])], [y4], "ReshapeOptions",
         newShape=[1, flat])
    wf, wfs = b.weights((5, flat), 0, False)
    y5 = b.act((1, 5), b.out_scale_for(b.scale_of(y4), wfs, flat))
    b.op("FULLY_CONNECTED", [y4, wf, b.bias(5, b.scale_of(y4), wfs)], [y5],
         "FullyConnectedOptions")
    y6 = b.tensor((1, 5), "int8", 1.0 / 256, -128)
    b.op("SOFTMAX", [y5], [y6], "SoftmaxOptions", beta=1.0)
    return x, y6


CASES: dict[str, Callable[..., tuple[int, int]]] = {
    "CONV_2D": _conv,
    "CONV_3X3X3": _conv_3x3x3,
    "CONV_1X1X8": _conv_1x1x8,
    "CONV_1X1_POOLED": _conv_1x1_pooled,
    "DEPTHWISE_CONV_2D": _depthwise,
    "DEPTHWISE_3X3": _depthwise_3x3,
    "DEPTHWISE_3X3_POOLED": lambda b, r, i: _depthwise_3x3(b, r, i, pooled=True),
    "DEPTHWISE_3X3_STRIDED": lambda b, r, i: _depthwise_3x3(b, r, i, strided=True),
    "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": lambda b, r, i: _pool(b, r, i, "AVERAGE_POOL_2D"),
    "MAX_POOL_2D": lambda b, r, i: _pool(b, r, i, "MAX_POOL_2D"),
    "MEAN": _mean,
    "SOFTMAX": _softmax,
    "LOGISTIC": _logistic,
    "ADD": lambda b, r, i: _binary(b, r, i, "ADD"),
    "MUL": lambda b, r, i: _binary(b, r, i, "MUL"),
    "QUANTIZE": _quantize,
    "RELU": lambda b, r, i: _relu(b, r, i, "RELU"),
    "RELU6": lambda b, r, i: _relu(b, r, i, "RELU6"),
    "PAD": lambda b, r, i: _pad(b, r, i, "PAD"),
    "PADV2": lambda b, r, i: _pad(b, r, i, "PADV2"),
    "CONCATENATION": _concat,
    "CHAIN": _chain,
}


def case(kind: str, seed: int) -> tuple[str, bytes, dict[str, Any]]:
    """One random model exercising `kind`; the same (kind, seed) always gives the same bytes."""
    rng = np.random.default_rng([seed, sum(map(ord, kind))])
    b = Builder(rng)
    info: dict[str, Any] = {"kind": kind, "seed": seed}
    x, y = CASES[kind](b, rng, info)
    info["ops"] = list(b.codes)
    return f"{kind.lower()}_{seed}", b.finish([x], [y]), info


def random_inputs(model: bytes, count: int, seed: int) -> np.ndarray:
    """Random samples for input 0: int8 over the whole range, or floats for a float input."""
    s = schema()
    m = s.ModelT.InitFromPackedBuf(model, 0)
    t = m.subgraphs[0].tensors[m.subgraphs[0].inputs[0]]
    shape = (count, *[int(d) for d in t.shape])
    rng = np.random.default_rng(seed)
    if t.type == s.TensorType.FLOAT32:
        return rng.uniform(-3.0, 3.0, size=shape).astype(np.float32)
    return rng.integers(-128, 128, size=shape, dtype=np.int8)
