"""Write the model-specific C99 source: `model.h` (the API of docs/firmware.md section 1) and
`model.c` (weights as const arrays, one static arena, one kernel call per op).

`generate()` is the public entry point: model file in, C text out (and written to a folder
when asked), with the facts a report needs (arena bytes, ops, quantization of the API).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from string import Template
from typing import Any

import numpy as np

from tinyml_lsp.codegen.standalone import kernels, planner
from tinyml_lsp.codegen.standalone.graph import read_graph
from tinyml_lsp.codegen.standalone.kernels import ConstArray, Step
from tinyml_lsp.codegen.standalone.program import ApiTensor, Program, lower
from tinyml_lsp.errors import TinymlError
from tinyml_lsp.resources import data_dir, snippet
from tinyml_lsp.text import c_comment

KERNEL_DIR = "standalone/kernels"
VALUES_PER_LINE = 20
HELPERS = ("dot4.c", "fixedpoint.c", "gemm.c")  # kernel snippets others build on


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]
    size: int
    scale: float
    zero_point: int
    is_float: bool  # the original model's tensor is float32 (use the quantize helpers)


@dataclass(frozen=True)
class GeneratedModel:
    model: str
    header: str  # model.h
    source: str  # model.c
    arena_bytes: int
    ops: tuple[str, ...]  # one per kernel call, in order
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    weight_bytes: int  # constant data in flash (weights, biases, multipliers)
    macs: tuple[int, ...] = ()  # multiply-accumulates of each kernel call, in order
    op_indices: tuple[int, ...] = ()  # the model op of each kernel call, in order
    filter_bytes: int = 0  # the int8 weights in flash, as the kernels read them (padded)
    model_filter_bytes: int = 0  # the model's own int8 constant tensors
    files: tuple[str, ...] = ()  # paths written, when generate() was given a folder
    flash_budget: float | None = None  # the weights budget it was generated with (None: default)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["header"], data["source"]
        return data


def _spec(api: ApiTensor) -> TensorSpec:
    return TensorSpec(api.name, tuple(api.shape), api.size, api.scale, api.zero_point,
                      api.is_float)


def c_float(x: float) -> str:
    """An exact C float literal (hex), with the decimal value for people."""
    return f"{float(x).hex()}f /* {x:.9g} */"


def _c_value(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(str(int(x)) for x in v) + "}"
    return str(int(v))


def _c_array(a: ConstArray) -> str:
    values = np.asarray(a.values).reshape(-1)
    items = [str(int(v)) for v in values]
    if not items:
        items = ["0"]
    rows = [", ".join(items[i:i + VALUES_PER_LINE]) for i in range(0, len(items), VALUES_PER_LINE)]
    body = ",\n  ".join(rows)
    return f"static const {a.ctype} {a.name}[{len(items)}] TM_ALIGN4 = {{\n  {body}\n}};"


def _kernel_sources(steps: list[Step]) -> str:
    folder = data_dir("snippets") / KERNEL_DIR
    names: list[str] = []
    for step in steps:
        for name in step.snippets:
            if name not in names:
                names.append(name)
    # helpers first: softmax and logistic build on fixedpoint.c, conv on gemm.c and dot4.c
    names.sort(key=lambda n: (n not in HELPERS, n))
    lean = [s for s in steps if s.func == "tm_conv_lean"]
    wide = [any(name in ("w16", "brq") for name, _ in s.fields) for s in lean]
    parts = [(folder / "common.h").read_text()]
    if lean:  # only the forms used (kernels/conv_lean.c)
        parts.append(f"#define TM_LEAN_INT8 {int(not all(wide))}\n"
                     f"#define TM_LEAN_INT16 {int(any(wide))}")
    convs = [dict(s.fields) for s in steps if s.func == "tm_conv"]
    if convs or lean:  # the same for kernels/conv.c (none but its helpers for lean steps alone)
        generic = [f["groups"] != 1 or f["k_h"] > kernels.CONV_MAX_ROWS for f in convs]
        int16 = ["w16" in f and "brq" not in f for f in convs]
        full = [bool(f["fast"]) and (f["act_min"], f["act_max"]) == (-128, 127) for f in convs]
        rest = [not (g or "w16" in f) for g, f in zip(generic, convs, strict=True)]
        # the steps conv.c's flat path takes on Cortex-M (tm_conv_flat): their body forms are
        # needed without the assembly only
        flat = [(f["k_h"], f["k_w"], f["stride_h"], f["stride_w"], f["groups"]) == (1, 1, 1, 1, 1)
                and not f["im2col"] and f["in_c"] % 4 == 0 and f["out_c"] % 2 == 0 and u
                and "brq" not in f for f, u in zip(convs, full, strict=True)]
        parts.append(
            f"#define TM_CONV_GENERIC {int(any(generic))}\n"
            f"#define TM_CONV_INT16 {int(any(int16))}\n"
            f"#define TM_CONV_FLAT {int(any(flat))}\n"
            f"#define TM_CONV_INT16_BODY "
            f"{int(any(w and not fl for w, fl in zip(int16, flat, strict=True)))}\n"
            f"#define TM_CONV_FULL_BODY "
            f"{int(any(r and u and not fl for r, u, fl in zip(rest, full, flat, strict=True)))}\n"
            f"#define TM_CONV_FLAT3 {int(any('pix3' in f for f in convs))}\n"
            f"#define TM_CONV_K9 {int(any('brq' in f for f in convs))}\n"
            f"#define TM_CONV_FULL {int(any(r and f for r, f in zip(rest, full, strict=True)))}\n"
            f"#define TM_CONV_ANY {int(any(r and not f for r, f in zip(rest, full, strict=True)))}")
    parts += [(folder / n).read_text() for n in names]
    return "\n".join(parts)


class _Emitter:
    def __init__(self, prog: Program, offsets: dict[int, int]):
        self.prog = prog
        self.offsets = offsets
        self.direct: dict[int, str] = {}  # root tensor -> the C name the kernels read it by

    def ref(self, tensor: int) -> str:
        """A C expression for a tensor's data."""
        if tensor in self.prog.consts:
            return self.prog.consts[tensor].name
        r = self.prog.root.get(tensor, tensor)
        return self.direct.get(r, f"(ARENA + {self.offsets[r]})")

    def step_code(self, k: int, step: Step) -> tuple[list[str], str]:
        decls = [_c_array(c) for c in step.consts]
        name = f"op{step.op.index}_p"
        if step.call == "concat":
            refs = ", ".join(self.ref(t) for t in step.inputs)
            decls.append(f"static const int8_t *const op{step.op.index}_inputs"
                         f"[{len(step.inputs)}] = {{{refs}}};")
        scratch = {kernels.SCRATCH: (step.scratch, 0), kernels.SCRATCH2: (step.scratch2, 1)}

        def value(v: Any) -> str:
            if isinstance(v, str) and v in scratch:
                size, part = scratch[v]
                return f"(ARENA + {self.offsets[planner.scratch_key(k, part)]})" if size else "0"
            return _c_value(v)

        fields = ",\n    ".join(f".{name} = {value(v)}" for name, v in step.fields)
        decls.append(f"static const {step.ptype} {name} = {{\n    {fields}\n}};")
        out = self.ref(step.output)
        if step.call == "binary":
            call = f"{step.func}(&{name}, {self.ref(step.inputs[0])}, " \
                   f"{self.ref(step.inputs[1])}, {out});"
        elif step.call == "concat":
            call = f"{step.func}(&{name}, {out});"
        else:
            call = f"{step.func}(&{name}, {self.ref(step.inputs[0])}, {out});"
        return decls, f"  {call}  /* {step.op.kind} */\n  TM_PROFILE_STEP({k});"


def _header(prog: Program, arena: int, model_name: str) -> str:
    ins, outs = prog.inputs, prog.outputs
    return Template(snippet("standalone/model.h.tmpl")).substitute(
        model_name=model_name, input_count=len(ins), output_count=len(outs),
        input_size=ins[0].size, output_size=outs[0].size, arena=arena, steps=len(prog.steps),
        input_is_float=int(ins[0].is_float), output_is_float=int(outs[0].is_float))


def _source(prog: Program, plan: planner.Plan, model_name: str) -> str:
    em = _Emitter(prog, plan.offsets)
    arena = plan.arena_bytes
    parts = [
        f"/* model.c — generated by tinyml-lsp from {model_name}; do not edit.",
        f" * {len(prog.steps)} kernel calls: " + ", ".join(s.op.kind for s in prog.steps)[:300],
        f" * Arena: {arena} bytes, offsets planned from tensor lifetimes. */",
        '#include "model.h"',
        "",
        _kernel_sources(prog.steps),
        "/* ---- constant tensors used as data ---- */",
    ]
    parts += [_c_array(c) for c in prog.consts.values()]
    parts += ["", "/* per-op timing hook of the emulator bench; empty otherwise */",
              "#ifdef TM_PROFILE", "void tm_profile_step(int step);",
              "#define TM_PROFILE_STEP(k) tm_profile_step(k)", "#else",
              "#define TM_PROFILE_STEP(k)", "#endif"]
    parts += ["", "/* ---- the arena ---- */",
              f"static int32_t tm_arena[{max(arena // 4, 1)}];",
              "#define ARENA ((int8_t *)tm_arena)", "", "/* ---- operators ---- */"]
    ins, outs = prog.inputs, prog.outputs
    arena_ins = [em.ref(a.tensor) for a in ins]
    in_place = {i for i, a in enumerate(ins) if _read_in_place(prog, a.tensor)}
    em.direct = {prog.root.get(ins[i].tensor, ins[i].tensor): f"in{i}" for i in in_place}
    calls = []
    for k, step in enumerate(prog.steps):
        decls, call = em.step_code(k, step)
        parts += decls
        calls.append(call)
    em.direct = {}  # the outputs are copied from the arena

    def table(ctype: str, name: str, values: list[str]) -> str:
        return f"const {ctype} {name}[{len(values)}] = {{{', '.join(values)}}};"

    parts += [
        "",
        "/* ---- API ---- */",
        f"const float model_input_scale = {c_float(ins[0].scale)};",
        f"const int32_t model_input_zero_point = {ins[0].zero_point};",
        f"const float model_output_scale = {c_float(outs[0].scale)};",
        f"const int32_t model_output_zero_point = {outs[0].zero_point};",
        table("uint32_t", "model_input_sizes", [str(a.size) for a in ins]),
        table("uint32_t", "model_output_sizes", [str(a.size) for a in outs]),
        table("float", "model_input_scales", [c_float(a.scale) for a in ins]),
        table("int32_t", "model_input_zero_points", [str(a.zero_point) for a in ins]),
        table("float", "model_output_scales", [c_float(a.scale) for a in outs]),
        table("int32_t", "model_output_zero_points", [str(a.zero_point) for a in outs]),
        "",
        "int8_t *model_input_buffer(int index) {",
        "  switch (index) {",
        *[f"  case {i}: return {em.ref(a.tensor)};" for i, a in enumerate(ins)],
        "  default: return 0;",
        "  }",
        "}",
        "",
        "int8_t *model_output_buffer(int index) {",
        "  switch (index) {",
        *[f"  case {i}: return {em.ref(a.tensor)};" for i, a in enumerate(outs)],
        "  default: return 0;",
        "  }",
        "}",
        "",
        "int model_invoke_all(const int8_t *const *inputs, int8_t *const *outputs) {",
        *[f"  const int8_t *in{i} = inputs[{i}] ? inputs[{i}] : {arena_ins[i]};"
          if i in in_place else
          f"  if (inputs[{i}]) tm_copy({em.ref(a.tensor)}, inputs[{i}], {a.size});"
          for i, a in enumerate(ins)],
        *calls,
        *[f"  if (outputs[{i}]) tm_copy(outputs[{i}], {em.ref(a.tensor)}, {a.size});"
          for i, a in enumerate(outs)],
        "  return 0;",
        "}",
        "",
        "int model_invoke(const int8_t *input, int8_t *output) {",
        f"  const int8_t *inputs[{len(ins)}] = {{0}};",
        f"  int8_t *outputs[{len(outs)}] = {{0}};",
        "  inputs[0] = input;",
        "  outputs[0] = output;",
        "  return model_invoke_all(inputs, outputs);",
        "}",
        "",
        snippet("standalone/model_io.c"),
    ]
    return "\n".join(parts)


def _read_in_place(prog: Program, tensor: int) -> bool:
    """May the kernels read this input from the caller's buffer instead of a copy in the arena?
    Where only conv.c's kernels read it (through any RESHAPE): they never write their input,
    decide nothing from where it lies, and read it by bytes or single words (the caller's
    buffer need not be word-aligned; conv_lean.c's LDMs would fault), and it is no output."""
    root = prog.root.get(tensor, tensor)
    readers = [s for s in prog.steps
               if any(prog.root.get(t, t) == root for t in s.inputs)]
    return bool(readers) and all(s.func == "tm_conv" and s.call == "unary"
                                 for s in readers) and \
        not any(prog.root.get(s.output, s.output) == root for s in prog.steps) and \
        not any(prog.root.get(a.tensor, a.tensor) == root for a in prog.outputs)


def _plan(prog: Program) -> planner.Plan:
    return planner.plan(*planner.lifetimes(prog))


def _leanest(step: Step) -> Step:
    while step.lean is not None:
        step = step.lean
    return step


def build_program(model_path: str | Path,
                  flash_budget: float | None = None) -> tuple[Program, planner.Plan]:
    """The program and its arena. Kernels with a lean alternative (less scratch, slower) keep
    their fast form unless it makes the arena bigger than the lean forms would: then, one at
    a time, the step whose lean form shrinks the arena most goes lean; then every step made
    lean that the arena does not need (alone, or in a hole of the plan) gets its fast form
    back."""
    prog = lower(read_graph(model_path))
    fast = prog.steps
    plan = _plan(prog)
    limit = _plan(replace(prog, steps=[_leanest(s) for s in prog.steps])).arena_bytes
    while plan.arena_bytes > limit:
        trials = []
        for k, step in enumerate(prog.steps):
            if step.lean is not None:
                trial = replace(prog, steps=[*prog.steps[:k], step.lean, *prog.steps[k + 1:]])
                trials.append((_plan(trial).arena_bytes, k, trial))
        _, _, prog = min(trials, key=lambda t: (t[0], t[1]))
        plan = _plan(prog)
    # a step made lean on the way may not be needed once the others are: give back the fast
    # form wherever the arena stays within the limit (the most multiply-accumulates first)
    for k in sorted(range(len(fast)), key=lambda k: -fast[k].macs):
        form: Step | None = fast[k]  # each form faster than the one taken, fastest first
        while form is not None and form is not prog.steps[k]:
            trial = replace(prog, steps=[*prog.steps[:k], form, *prog.steps[k + 1:]])
            old, _ = planner.lifetimes(prog)
            for trial_plan in (_plan(trial),
                               planner.extend(plan, old, *planner.lifetimes(trial))):
                if trial_plan.arena_bytes <= plan.arena_bytes:
                    prog, plan = trial, trial_plan
                    break
            else:
                form = form.lean
    # int16 weights where the flash budget allows (the most instructions saved per byte first);
    # the scratch stays the same, so does the plan. Default builds never change a layer's
    # kernel for the slack (a dense layer as the lean conv: its code and frame for a few bytes)
    budget = int((flash_budget or FLASH_BUDGET) * _model_filter_bytes(prog)) - \
        _filter_bytes(prog)
    extras = {k: _step_filter_bytes(s.wide) - _step_filter_bytes(s)
              for k, s in enumerate(prog.steps) if s.wide is not None
              and (flash_budget is not None or s.wide.func == s.func)}
    for k in sorted(extras, key=lambda k: (-prog.steps[k].macs * WIDE_GAIN[prog.steps[k].func]
                                           / max(extras[k], 1), k)):
        wide, extra = prog.steps[k].wide, extras[k]
        assert wide is not None
        if extra <= budget:
            prog = replace(prog, steps=[*prog.steps[:k], wide, *prog.steps[k + 1:]])
            budget -= extra
    return prog, plan


# int8 weights in flash, at most this many times the model's own (padding and int16 weights
# included), unless the user gives more (`--weights-budget`: flash for speed)
FLASH_BUDGET = 1.05
MAX_FLASH_BUDGET = 4.0  # int16 weights at most double them, with padding
# instructions saved per 16 multiply-accumulates by a kernel's int16 weights: the lean loop
# drops 20 to 13 (dot4.c, conv_lean.c), the pair loop 14 to 11 (gemm.c), a dense layer's 20
# (dot4.c) to the lean loop's 13
WIDE_GAIN = {"tm_conv_lean": 7, "tm_conv": 3, "tm_fully_connected": 7}


def _step_filter_bytes(step: Step) -> int:
    return sum(c.nbytes if c.weight_bytes is None else c.weight_bytes
               for c in step.consts if c.name.endswith("_w"))


def _filter_bytes(prog: Program) -> int:
    return sum(_step_filter_bytes(s) for s in prog.steps) + \
        sum(c.nbytes for c in prog.consts.values())


def _model_filter_bytes(prog: Program) -> int:
    return sum(t.nbytes for t in prog.graph.tensors if t.is_const and t.dtype == "int8")


def generate(model_path: str | Path, out_dir: str | Path | None = None, *,
             flash_budget: float | None = None) -> GeneratedModel:
    """Generate model.h/model.c for a full-integer int8 .tflite (written to out_dir if given);
    the weights take at most `flash_budget` × the model's int8 weights (FLASH_BUDGET)."""
    if flash_budget is not None and not 1.0 <= flash_budget <= MAX_FLASH_BUDGET:
        raise TinymlError(f"the weights budget is a ratio from 1 (the model's own int8 weights) "
                          f"to {MAX_FLASH_BUDGET:g}, not {flash_budget:g}", model_path,
                          hint="2.1 gives every layer that has one its int16 form")
    prog, plan = build_program(model_path, flash_budget)
    name = c_comment(Path(model_path).name)
    header = _header(prog, plan.arena_bytes, name)
    source = _source(prog, plan, name)
    weight_bytes = sum(c.nbytes for s in prog.steps for c in s.consts) + \
        sum(c.nbytes for c in prog.consts.values())
    filters, model_filters = _filter_bytes(prog), _model_filter_bytes(prog)
    files: tuple[str, ...] = ()
    if out_dir is not None:
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
            (out / "model.h").write_text(header)
            (out / "model.c").write_text(source)
        except OSError as exc:
            raise TinymlError(f"cannot write the generated source: {exc.strerror}", out) from exc
        files = (str(out / "model.h"), str(out / "model.c"))
    return GeneratedModel(
        model=str(model_path), header=header, source=source, arena_bytes=plan.arena_bytes,
        ops=tuple(s.op.kind for s in prog.steps), inputs=tuple(_spec(a) for a in prog.inputs),
        outputs=tuple(_spec(a) for a in prog.outputs), weight_bytes=weight_bytes,
        macs=tuple(s.macs for s in prog.steps), filter_bytes=filters,
        model_filter_bytes=model_filters, files=files,
        op_indices=tuple(s.op.index for s in prog.steps), flash_budget=flash_budget)
