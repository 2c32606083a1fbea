"""Arena planning: lifetimes, alignment and in-place overlap of the standalone runtime."""

from __future__ import annotations

import itertools

import numpy as np

from tinyml_lsp.codegen.standalone.overlap import spatial_gap
from tinyml_lsp.codegen.standalone.planner import Buffer, plan


def _legal(buffers, gaps, p):
    """Every pair alive together is disjoint, or the output sits `gap` before its input."""
    by_key = {b.key: b for b in buffers}
    for a, b in itertools.combinations(buffers, 2):
        if a.last < b.first or b.last < a.first:
            continue
        oa, ob = p.offsets[a.key], p.offsets[b.key]
        if oa + a.size <= ob or ob + b.size <= oa:
            continue
        if (a.key, b.key) in gaps and oa <= ob - gaps[(a.key, b.key)]:
            continue
        if (b.key, a.key) in gaps and ob <= oa - gaps[(b.key, a.key)]:
            continue
        return False
    return all(p.offsets[k] % 4 == 0 and p.offsets[k] + by_key[k].size <= p.arena_bytes
               for k in p.offsets)


def test_buffers_with_disjoint_lifetimes_share_memory():
    bufs = [Buffer(0, 100, -1, 0), Buffer(1, 100, 0, 1), Buffer(2, 100, 1, 2)]
    p = plan(bufs)
    assert p.arena_bytes == 200  # 0 and 2 reuse the same bytes
    assert p.offsets[0] == p.offsets[2]
    assert _legal(bufs, {}, p)


def test_offsets_are_aligned():
    bufs = [Buffer(0, 3, 0, 1), Buffer(1, 5, 0, 1), Buffer(2, 7, 0, 1)]
    p = plan(bufs)
    assert all(off % 4 == 0 for off in p.offsets.values())
    assert p.arena_bytes == 20


def test_elementwise_op_runs_in_place():
    bufs = [Buffer(0, 64, -1, 0), Buffer(1, 64, 0, 1)]
    assert plan(bufs).arena_bytes == 128
    assert plan(bufs, {(1, 0): 0}).arena_bytes == 64


def test_pointwise_expansion_gap():
    # 1x1 conv 8 -> 16 channels on 4x4 pixels, 4 pixels per step: the writes run ahead of
    # the reads by 64(s+1) - 32s bytes, the most (160) at the last step
    gap = spatial_gap((1, 4, 4, 8), (1, 4, 4, 16), (1, 1), (1, 1), (1, 1), (0, 0))
    assert gap == 160
    bufs = [Buffer(0, 128, -1, 0), Buffer(1, 256, 0, 1)]
    p = plan(bufs, {(1, 0): gap})
    assert p.arena_bytes == 288  # instead of 384
    assert p.offsets[0] - p.offsets[1] >= 160


def test_channelwise_ops_in_place():
    # a 1x1 depthwise (or pooling 1x1) reads x[p][c] before writing y[p][c]
    assert spatial_gap((1, 5, 5, 3), (1, 5, 5, 3), (1, 1), (1, 1), (1, 1), (0, 0),
                       channelwise=True) == 0
    # 3x3 stride 1 SAME: the window reaches one row and one pixel back
    gap = spatial_gap((1, 6, 6, 4), (1, 6, 6, 4), (3, 3), (1, 1), (1, 1), (1, 1),
                      channelwise=True)
    assert gap == (6 + 1) * 4
    # stride 2 downsampling: the output never catches up with the reads
    assert spatial_gap((1, 8, 8, 4), (1, 4, 4, 4), (3, 3), (2, 2), (1, 1), (0, 0),
                       channelwise=True) <= 0


def test_random_plans_are_legal():
    rng = np.random.default_rng(0)
    for _ in range(30):
        n = int(rng.integers(2, 12))
        bufs = []
        for k in range(n):
            first = int(rng.integers(-1, 8))
            bufs.append(Buffer(k, int(rng.integers(1, 300)), first,
                               first + int(rng.integers(1, 4))))
        gaps = {}
        for a, b in itertools.permutations(bufs, 2):
            if b.last == a.first and rng.random() < 0.5 and (b.key, a.key) not in gaps:
                gaps[(a.key, b.key)] = int(rng.integers(-50, 200))
        p = plan(bufs, gaps)
        assert _legal(bufs, {k: -(-v // 4) * 4 for k, v in gaps.items()}, p)
        assert p.arena_bytes <= sum(-(-b.size // 4) * 4 for b in bufs)
