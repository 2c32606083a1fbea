"""Place the activation buffers in one arena, from their lifetimes.

Greedy by size (as TFLite Micro's planner), with one addition that shrinks the arena a lot
on chains of convolutions: an op's output may share bytes with an input that dies at that op,
as long as the kernel never writes over input it still has to read. Kernels write their
output in order (pixel after pixel), so the output may start `gap` bytes before the input:
`spatial_gap` computes that gap from the kernel's access pattern, and element-wise kernels
(which read x[i] before writing y[i]) have a gap of 0, i.e. they can run in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALIGN = 4
# Kernels may compute up to this many output pixels before writing any of them.
PIXELS_PER_STEP = 4


@dataclass(frozen=True)
class Buffer:
    key: int
    size: int
    first: int  # index of the step that writes it (-1: written before the first step)
    last: int  # index of the last step that reads it (len(steps): read after the last)


@dataclass(frozen=True)
class Plan:
    offsets: dict[int, int]
    arena_bytes: int


def align_up(n: int, align: int = ALIGN) -> int:
    """The multiple of `align` at or above n (also for negative n)."""
    return -(-n // align) * align


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


def _disjoint(a0: int, a_size: int, b0: int, b_size: int) -> bool:
    return a0 + a_size <= b0 or b0 + b_size <= a0


def _place(order: list[Buffer], gaps: dict[tuple[int, int], int], align: int
           ) -> dict[int, int]:
    """Each buffer in turn at the lowest offset where it fits next to those already placed."""
    placed: list[tuple[Buffer, int]] = []

    def fits(buf: Buffer, off: int) -> bool:
        for other, o_off in placed:
            if buf.last < other.first or other.last < buf.first:
                continue  # never alive at the same time
            if _disjoint(off, buf.size, o_off, other.size):
                continue
            if (buf.key, other.key) in gaps and off <= o_off - gaps[(buf.key, other.key)]:
                continue  # buf is the output, written behind its dying input
            if (other.key, buf.key) in gaps and o_off <= off - gaps[(other.key, buf.key)]:
                continue
            return False
        return True

    for buf in order:
        candidates = {0}
        for other, o_off in placed:
            candidates.add(o_off + other.size)
            if (buf.key, other.key) in gaps:
                candidates.add(o_off - gaps[(buf.key, other.key)])
            if (other.key, buf.key) in gaps:
                candidates.add(o_off + gaps[(other.key, buf.key)])
        for off in sorted(align_up(c, align) for c in candidates if c >= 0):
            if fits(buf, off):
                placed.append((buf, off))
                break
    return {b.key: off for b, off in placed}


def plan(buffers: list[Buffer], gaps: dict[tuple[int, int], int] | None = None,
         align: int = ALIGN, tries: int = 64) -> Plan:
    """Offsets for every buffer; `gaps[(out, in)]` allows out to start gap bytes before in.

    Greedy placement depends on the order; size-descending is a good start, and a few
    seeded random perturbations of it often pack a chain of in-place ops tighter. The
    smallest arena wins (deterministic: the same model always gets the same plan).
    """
    gaps = {k: align_up(v, align) for k, v in (gaps or {}).items()}  # rounded up: safe
    sizes = {b.key: b for b in buffers}
    orders = [sorted(buffers, key=lambda b: (-b.size, b.first, b.key)),
              sorted(buffers, key=lambda b: (b.first, -b.size, b.key))]
    rng = np.random.default_rng(0)
    for _ in range(tries if gaps else 0):
        jitter = rng.uniform(0.3, 1.7, size=len(buffers))
        orders.append([b for _, b in sorted(zip(jitter, buffers, strict=True),
                                            key=lambda jb: (-jb[1].size * jb[0], jb[1].key))])
    best: dict[int, int] | None = None
    best_end = 0
    for order in orders:
        offsets = _place(order, gaps, align)
        end = max((off + sizes[k].size for k, off in offsets.items()), default=0)
        if best is None or end < best_end:
            best, best_end = offsets, end
    return Plan(best or {}, align_up(best_end, align))
