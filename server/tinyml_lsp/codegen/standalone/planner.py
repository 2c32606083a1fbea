"""Place the activation buffers in one arena, from their lifetimes.

`lifetimes` reads, from the program, when each activation tensor (and each kernel's scratch)
is written and last read; `plan` places them greedily by size (as TFLite Micro's planner),
with one addition that shrinks the arena a lot on chains of convolutions: an op's output may
share bytes with an input that dies at that op, as long as the kernel never writes over input
it still has to read (the gap of `overlap.spatial_gap`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinyml_lsp.codegen.standalone.program import Program

ALIGN = 4


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


def lifetimes(prog: Program) -> tuple[list[Buffer], dict[tuple[int, int], int]]:
    """Every activation buffer with the steps that write it first and read it last, and the
    in-place gaps allowed where an input dies at the step that writes the output."""
    g = prog.graph
    root = prog.root
    end = len(prog.steps)
    first: dict[int, int] = {}
    last: dict[int, int] = {}

    def touch(tensor: int, step: int, write: bool) -> None:
        if g.t(tensor).is_const:
            return
        r = root.get(tensor, tensor)
        if write:
            first[r] = min(first.get(r, step), step)
        last[r] = max(last.get(r, step), step)
        first.setdefault(r, step)

    for api in prog.inputs:
        touch(api.tensor, -1, True)
    for k, step in enumerate(prog.steps):
        for t in step.inputs:
            touch(t, k, False)
        touch(step.output, k, True)
    for api in prog.outputs:
        touch(api.tensor, end, False)
    buffers = [Buffer(r, g.t(r).nbytes, first[r], last[r]) for r in sorted(first)]
    # a kernel's scratch lives while the kernel runs (negative keys: not tensors)
    buffers += [Buffer(scratch_key(k, part), size, k, k)
                for k, step in enumerate(prog.steps)
                for part, size in enumerate((step.scratch, step.scratch2)) if size]
    gaps: dict[tuple[int, int], int] = {}
    outputs = {root.get(a.tensor, a.tensor) for a in prog.outputs}
    for k, step in enumerate(prog.steps):
        out = root.get(step.output, step.output)
        for t, gap in step.overlaps.items():
            src = root.get(t, t)
            if g.t(t).is_const or src == out or src in outputs:
                continue
            if last[src] == k and first[out] == k:  # the input dies where the output is born
                gaps[(out, src)] = gap
    return buffers, gaps


def scratch_key(step: int, part: int = 0) -> int:
    """The buffer key of step `step`'s scratch, or of its second scratch buffer (part 1)
    (negative: tensors have keys >= 0)."""
    return -1 - 2 * step - part


def _disjoint(a0: int, a_size: int, b0: int, b_size: int) -> bool:
    return a0 + a_size <= b0 or b0 + b_size <= a0


def _place(order: list[Buffer], gaps: dict[tuple[int, int], int], align: int,
           placed: list[tuple[Buffer, int]] | None = None) -> dict[int, int]:
    """Each buffer in turn at the lowest offset where it fits next to those already placed."""
    placed = list(placed or [])

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


def extend(base: Plan, old: list[Buffer], buffers: list[Buffer],
           gaps: dict[tuple[int, int], int] | None = None, align: int = ALIGN) -> Plan:
    """`base` (the plan of buffers `old`) for `buffers`: those unchanged keep their offsets,
    the others are placed in the holes. How a kernel swapped for one needing more scratch may
    still fit the same arena."""
    gaps = {k: align_up(v, align) for k, v in (gaps or {}).items()}
    same = set(old)
    kept = [(b, base.offsets[b.key]) for b in buffers if b in same and b.key in base.offsets]
    # a kernel swapped for one that needs a bigger in-place gap: its output moves if need be
    where, sizes = dict((b.key, off) for b, off in kept), {b.key: b.size for b in buffers}
    for (out, src), gap in gaps.items():
        if out in where and src in where and where[out] > where[src] - gap \
                and not _disjoint(where[out], sizes[out], where[src], sizes[src]):
            kept = [(b, off) for b, off in kept if b.key != out]
            del where[out]
    kept_keys = {b.key for b, _ in kept}
    new = sorted((b for b in buffers if b.key not in kept_keys), key=lambda b: -b.size)
    offsets = _place(new, gaps, align, kept)
    end = max((off + sizes[k] for k, off in offsets.items()), default=0)
    return Plan(offsets, align_up(end, align))
