"""How far an op's output may overlap its input in the arena (the planner's in-place gaps).

Kernels write their output in order (pixel after pixel), so the output may start `gap` bytes
before the input it reads, as long as the writes never run ahead of the reads still to come:
`spatial_gap` computes that gap from an NHWC kernel's access pattern. Element-wise kernels
(which read x[i] before writing y[i]) have a gap of 0, i.e. they can run in place.
"""

from __future__ import annotations

import numpy as np

# Kernels may compute up to this many output pixels before writing any of them.
PIXELS_PER_STEP = 4


def _first_valid(out_size: int, stride: int, pad: int, k: int, dilation: int,
                 in_size: int) -> np.ndarray:
    """For each output coordinate, the smallest valid input coordinate (in_size if none)."""
    origin = np.arange(out_size) * stride - pad
    best = np.full(out_size, in_size, dtype=np.int64)
    for t in range(k - 1, -1, -1):
        pos = origin + t * dilation
        ok = (pos >= 0) & (pos < in_size)
        best = np.where(ok, pos, best)
    return best


_NONE = np.iinfo(np.int64).max // 4  # "reads nothing" as a read position


def _window_start(in_shape: tuple[int, ...], out_shape: tuple[int, ...],
                  kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
                  pad: tuple[int, int]) -> np.ndarray:
    """For each output pixel (row-major), the first input pixel its window reads, or _NONE."""
    n, h, w, _ = in_shape
    on, oh, ow, _ = out_shape
    iy = _first_valid(oh, stride[0], pad[0], kernel[0], dilation[0], h)
    ix = _first_valid(ow, stride[1], pad[1], kernel[1], dilation[1], w)
    b = np.arange(on)[:, None, None]
    first_pixel = (b * h + iy[None, :, None]) * w + ix[None, None, :]
    no_read = (b >= n) | (iy[None, :, None] >= h) | (ix[None, None, :] >= w)
    return np.where(no_read, _NONE, first_pixel).reshape(-1)


def _gap(write_end: np.ndarray, reads: np.ndarray, reads_first: bool) -> int:
    """max over steps of (bytes written so far) - (first input byte read from then on).

    With reads_first, a step reads everything it needs before writing: only later steps'
    reads constrain its writes.
    """
    future = np.minimum.accumulate(reads[::-1])[::-1]
    if reads_first:
        future = np.append(future[1:], _NONE)
    return int(np.max(write_end - future))


def spatial_gap(in_shape: tuple[int, ...], out_shape: tuple[int, ...], kernel: tuple[int, int],
                stride: tuple[int, int], dilation: tuple[int, int], pad: tuple[int, int],
                *, channelwise: bool = False,
                pixels_per_step: int = PIXELS_PER_STEP) -> int:
    """How many bytes before its input an NHWC op's output must start to be safe in place.

    Kernels write output pixels in row-major order. A convolution reads, for every output
    channel, all channels of the input pixels under its window, and may compute up to
    `pixels_per_step` pixels before writing them. A channel-wise op (depthwise conv with
    depth multiplier out_c / in_c, pooling, pad) reads only its own input channel, for
    groups of 1, 2 or 4 channels at a time, before writing them. The gap is the largest
    amount the writes ever run ahead of the reads still to come; it may be negative.
    """
    c = in_shape[3]
    oc = out_shape[3]
    start = _window_start(in_shape, out_shape, kernel, stride, dilation, pad)
    pixels = start.size
    if not channelwise:
        steps = -(-pixels // pixels_per_step)
        padded = np.full(steps * pixels_per_step, _NONE, dtype=np.int64)
        padded[:pixels] = np.where(start == _NONE, _NONE, start * c)
        reads = padded.reshape(steps, pixels_per_step).min(axis=1)
        write_end = np.minimum((np.arange(steps) + 1) * pixels_per_step, pixels) * oc
        return max(_gap(write_end, reads, reads_first=False), -in_shape_bytes(in_shape))
    mult = max(oc // c, 1)
    gap = -in_shape_bytes(in_shape)
    for group in (1, 2, 4):
        j = np.arange(-(-oc // group))
        first_channel = (j * group) // mult
        reads = np.where(start[:, None] == _NONE, _NONE, start[:, None] * c + first_channel)
        write_end = np.arange(pixels)[:, None] * oc + np.minimum((j + 1) * group, oc)
        gap = max(gap, _gap(write_end.reshape(-1), reads.reshape(-1), reads_first=True))
    return gap


def in_shape_bytes(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))
