"""The rules of a sketch against its model: each turns a measured fact and what the sketch does
into a Finding, with the quick fix where one exists. One rule per function, named for the bug."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tinyml_lsp.check.findings import Edit, Finding, Fix
from tinyml_lsp.check.model_source import ModelFacts
from tinyml_lsp.check.sketch import (
    Access,
    Node,
    Role,
    Sketch,
    is_float_expression,
    mentions_quantization,
)
from tinyml_lsp.check.source import Range
from tinyml_lsp.deploy.boards import Board
from tinyml_lsp.deploy.fit import RUNTIME_RAM
from tinyml_lsp.deploy.tflm_ops import OPS_MICRO_REGISTRATIONS, RESOLVER_METHODS, VERSION
from tinyml_lsp.model.inspect import TensorCard
from tinyml_lsp.model.micro import ArenaReport, sketch_arena

if TYPE_CHECKING:  # features.py brings numpy; the server starts without it
    from tinyml_lsp.model.features import Features

METHOD_OPS = {method: op for op, method in RESOLVER_METHODS.items()}
_DTYPE_ACCESSOR = {"float32": "f", "int8": "int8", "uint8": "uint8", "int16": "i16",
                   "int32": "i32"}
_DTYPE_TYPE = {"float32": "float", "int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t",
               "int32": "int32_t"}
_RANGES = {"int8": (-128, 127), "uint8": (0, 255)}
_COMPARISONS = {"<", ">", "<=", ">="}


@dataclass(frozen=True)
class Context:
    file: str
    sk: Sketch
    model: ModelFacts
    board: Board | None
    legacy: bool  # the sketch targets the old Arduino library, where removed APIs compiled
    features: Features | None = None  # how the training data's inputs were computed


def recommended_arena(a: ArenaReport | None) -> int | None:
    """The arena a fix writes: the generated sketches' (the measure plus their margin)."""
    if a is None or a.arena_bytes is None:
        return None
    return sketch_arena(a.arena_bytes).size


def remove_statement(sk: Sketch, node: Node) -> Edit:
    """Delete a statement: its whole line when nothing else is on it, else just itself."""
    r, source = sk.range(node), sk.source_of(node)
    alone = source.line_text(r.line)[:r.col].strip() == "" and \
        source.line_text(r.end_line)[r.end_col:].strip() == ""
    return Edit(Range(r.line, 0, r.end_line + 1, 0) if alone else r, "", sk.file_of(node))


def check_sketch(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for rule in (ops_rules, dense_rules, arena_rules, accessor_rules, quantization_rules,
                 removed_api_rules, preprocessing_rules):
        out += rule(ctx)
    return out


# --- the op resolver -------------------------------------------------------------------------

def _registered(sk: Sketch) -> tuple[list[str], set[str]]:
    """The distinct Add methods called (in order), and the ops they and any old
    `Register_X()` registrations cover."""
    methods = list(dict.fromkeys(a.method for a in sk.adds))
    ops = {METHOD_OPS[m] for m in methods if m in METHOD_OPS}
    ops |= {op for op, _, _ in sk.register_calls}
    return methods, ops


def _size_edits(sk: Sketch, n: int) -> list[Edit]:
    r = sk.resolver
    assert r is not None
    site = sk.constant_site(r.size_node)
    edits = [Edit(sk.range(site), str(n), sk.file_of(site))]
    if site == r.size_node:  # a number: the handles' `<N>` must follow; a name does itself
        edits += [Edit(sk.range(h.size_node), str(n), sk.file_of(h.size_node))
                  for h in sk.handles if h.size_text == r.size_text and h.size_node != site]
    return edits


def ops_rules(ctx: Context) -> list[Finding]:
    sk, card = ctx.sk, ctx.model.card
    r = sk.resolver
    if r is None or sk.all_ops:
        return []
    out = []
    methods, registered = _registered(sk)
    model_ops = [op.name for op in card.ops if not op.custom]
    missing = [op for op in dict.fromkeys(model_ops) if op not in registered]
    wanted = len(methods) + sum(1 for op in missing if op in RESOLVER_METHODS)
    last = max(sk.adds, key=lambda a: a.statement.end, default=None)
    for op in missing:
        if op not in RESOLVER_METHODS:
            out.append(Finding(sk.file_of(r.name_node), sk.range(r.name_node),
                               "tinyml/op-unsupported", "error",
                               f"the model uses {op}, which TensorFlow Lite Micro {VERSION} has "
                               "no kernel for: change the model or register a custom kernel"))
            continue
        method = RESOLVER_METHODS[op]
        fix = None
        if last is not None:
            end = sk.range(last.statement)
            indent = sk.source_of(last.statement).indent_of(sk.range(last.method_node).line)
            sep = "->" if last.arrow else "."
            edits = [Edit(Range(end.end_line, end.end_col, end.end_line, end.end_col),
                          f"\n{indent}{last.receiver}{sep}{method}();",
                          sk.file_of(last.statement))]
            if r.size is not None and r.size < wanted:
                edits += _size_edits(sk, wanted)
            fix = Fix(f"Register {op}: {last.receiver}{sep}{method}()", tuple(edits))
        out.append(Finding(
            sk.file_of(r.name_node), sk.range(r.name_node), "tinyml/missing-op", "error",
            f"the model uses {op} but {r.name} does not register it: AllocateTensors() fails "
            f"with \"Didn't find op for builtin opcode '{op}'\" — call {method}()", fix))
    if r.size is not None and r.size < len(methods) and not missing:
        out.append(Finding(
            sk.file_of(r.size_node), sk.range(r.size_node), "tinyml/resolver-size", "error",
            f"MicroMutableOpResolver<{r.size_text}> holds {r.size} ops but {len(methods)} are "
            f"added: the Add calls past the first {r.size} fail and those ops are missing at run "
            "time", Fix(f"Set the resolver's size to {len(methods)}",
                        tuple(_size_edits(sk, len(methods))))))
    used = set(model_ops)
    for add in sk.adds:
        extra = METHOD_OPS.get(add.method)
        if extra is None or extra in used:
            continue
        fix = None
        if add.statement.type == "expression_statement":
            fix = Fix(f"Remove {add.method}()", (remove_statement(sk, add.statement),))
        out.append(Finding(sk.file_of(add.method_node), sk.range(add.method_node),
                           "tinyml/unused-op", "hint",
                           f"the model never uses {extra}: {add.method}() links its kernel into "
                           "flash for nothing", fix))
    return out


def dense_rules(ctx: Context) -> list[Finding]:
    """Per-channel FULLY_CONNECTED weights: the pinned library (and the old Library Manager
    release) applies the first channel's scale to every output, so the sketch runs and prints
    other results than the host. Flagged where the sketch registers the kernel."""
    sk, dense = ctx.sk, ctx.model.dense_per_channel
    if not dense or (sk.resolver is None and not sk.all_ops):
        return []
    add = next((a for a in sk.adds if a.method == RESOLVER_METHODS["FULLY_CONNECTED"]), None)
    node = add.method_node if add else (sk.resolver.name_node if sk.resolver else sk.all_ops[0])
    shown = "; ".join(dense[:3]) + (f"; {len(dense) - 3} more" if len(dense) > 3 else "")
    return [Finding(sk.file_of(node), sk.range(node), "tinyml/per-channel-dense", "error",
                    f"{ctx.model.origin} quantizes FULLY_CONNECTED weights per channel ({shown}) "
                    f"and TensorFlow Lite Micro {VERSION} applies one scale to them: the board "
                    "computes other outputs than the host, silently — requantize with "
                    "`tinyml quantize MODEL --data DATA --per-tensor-dense`")]


# --- the arena -------------------------------------------------------------------------------

def arena_rules(ctx: Context) -> list[Finding]:
    sk, model = ctx.sk, ctx.model
    if sk.arena is None or model.arena is None or model.arena.arena_bytes is None:
        return []
    name, size_node = sk.arena
    size = sk.evaluate(size_node)
    if size is None:
        return []
    site = sk.constant_site(size_node)
    where, file = sk.range(site), sk.file_of(site)
    host = model.arena.arena_bytes
    floor = model.arena_32bit_floor or host
    want = recommended_arena(model.arena) or host
    fix = Fix(f"Set the arena to {want:,} bytes (measured {host:,} + margin)",
              (Edit(where, str(want), file),))
    if ctx.board is not None:
        available = ctx.board.ram_bytes - ctx.board.framework_ram_bytes - RUNTIME_RAM
        if host > available:
            return [Finding(file, where, "tinyml/model-does-not-fit", "error",
                            f"the model needs a {host:,}-byte arena (measured) and the "
                            f"{ctx.board.name} leaves about {available:,} bytes of RAM: it "
                            "does not fit this board")]
        if size > available:
            return [Finding(file, where, "tinyml/arena-too-large", "error",
                            f"{name} is {size:,} bytes but the {ctx.board.name} leaves about "
                            f"{available:,} bytes of RAM (of {ctx.board.ram_bytes:,}); the model "
                            f"needs {host:,}", fix if want <= available else None)]
    if size < floor:
        return [Finding(file, where, "tinyml/arena-too-small", "error",
                        f"{name} is {size:,} bytes; the model needs at least {floor:,} on any "
                        f"32-bit board and {host:,} measured on the host: AllocateTensors() "
                        "fails", fix)]
    if size < host:
        return [Finding(file, where, "tinyml/arena-too-small", "warning",
                        f"{name} is {size:,} bytes; the model needs between {floor:,} (32-bit "
                        f"lower bound) and {host:,} bytes (measured on a 64-bit host): it may "
                        "fail to allocate", fix)]
    return []


# --- tensor data -----------------------------------------------------------------------------

def _tensor(ctx: Context, role: Role) -> TensorCard | None:
    tensors = ctx.model.card.inputs if role.kind == "input" else ctx.model.card.outputs
    return tensors[role.index] if 0 <= role.index < len(tensors) else None


def _params(role: Role, tensor: TensorCard) -> tuple[str, str]:
    """How the fix writes the tensor's scale and zero point: read from the tensor when the
    sketch holds it, else the model's numbers."""
    if role.tensor_text:
        return f"{role.tensor_text}params.scale", f"{role.tensor_text}params.zero_point"
    return f"{tensor.scale:.9g}f", str(tensor.zero_point)


def quantize_text(value: str, role: Role, tensor: TensorCard) -> str:
    scale, zero = _params(role, tensor)
    low, high = _RANGES.get(tensor.dtype, (-128, 127))
    return (f"({_DTYPE_TYPE[tensor.dtype]})fmaxf({low}.0f, fminf({high}.0f, "
            f"roundf(({value}) / {scale}) + {zero}))")


def dequantize_text(value: str, role: Role, tensor: TensorCard) -> str:
    scale, zero = _params(role, tensor)
    return f"(({value} - {zero}) * {scale})"


def _direct_accesses(ctx: Context, role: Role) -> list[Access] | None:
    """The accesses through this accessor, when each subscripts it directly (a fix can
    rewrite them); None when an alias or macro carries it elsewhere."""
    site = role.site
    assert site is not None
    found = [a for a in ctx.sk.accesses if a.role.site == site]
    direct = [a for a in found if a.node.start <= site.start and site.end <= a.node.end]
    return direct if found and len(direct) == len(found) else None


def accessor_rules(ctx: Context) -> list[Finding]:
    out = []
    for role in ctx.sk.accessors:
        tensor = _tensor(ctx, role)
        if tensor is None or role.site is None or not role.accessor \
                or role.accessor == tensor.dtype:
            continue
        shown = role.site.text
        what = f"{role.kind} {role.index} ({tensor.name}) is {tensor.dtype}"
        if tensor.dtype == "float32":
            consequence = ("it compiles and runs, and every value is wrong: read and write "
                           "it through data.f")
        elif tensor.quantized:
            consequence = (f"it is quantized (scale {tensor.scale:.6g}, zero point "
                           f"{tensor.zero_point}): use data.{_DTYPE_ACCESSOR.get(tensor.dtype)} "
                           "and apply them")
        else:
            consequence = f"use data.{_DTYPE_ACCESSOR.get(tensor.dtype, '?')}"
        out.append(Finding(ctx.sk.file_of(role.site), ctx.sk.range(role.site),
                           "tinyml/accessor-type", "error",
                           f"`{shown}` treats the data as {role.accessor} but {what}: "
                           f"{consequence}", _accessor_fix(ctx, role, tensor)))
    return out


def _accessor_fix(ctx: Context, role: Role, tensor: TensorCard) -> Fix | None:
    site = role.site
    if site is None or site.type != "field_expression" or tensor.dtype not in _DTYPE_ACCESSOR:
        return None
    accesses = _direct_accesses(ctx, role)
    field = site.child("field")
    if accesses is None or field is None:
        return None
    new = _DTYPE_ACCESSOR[tensor.dtype]
    file = ctx.sk.file_of(field)
    edits = [Edit(ctx.sk.range(field), new, file)]
    if tensor.dtype in _RANGES and tensor.quantized:  # float values into a quantized tensor
        for a in accesses:
            if a.write_value is not None and is_float_expression(ctx.sk, a.write_value):
                edits.append(Edit(ctx.sk.range(a.write_value),
                                  quantize_text(a.write_value.text, role, tensor), file))
            elif a.write_value is None and _float_use(ctx.sk, a.node):
                access = a.node.text.replace(site.text, site.text[:-len(field.text)] + new, 1)
                edits.append(Edit(ctx.sk.range(a.node), dequantize_text(access, role, tensor),
                                  file))
        edits = _with_math(ctx, edits, file)
    return Fix(f"Use data.{new}" + (" with the tensor's scale and zero point"
                                    if len(edits) > 1 else ""), tuple(edits))


def _with_math(ctx: Context, edits: list[Edit], file: str) -> list[Edit]:
    """fmaxf/fminf/roundf need <math.h>: include it when nothing like it is included."""
    if any(i.path in ("math.h", "cmath", "Arduino.h") for i in ctx.sk.includes) or \
            file.endswith(".ino"):
        return edits
    return [Edit(Range(0, 0, 0, 0), "#include <math.h>\n", file), *edits]


def _float_use(sk: Sketch, node: Node) -> bool:
    """Is a read of quantized data used as a real number (a float variable, a comparison
    with a fraction)?"""
    cur = node
    parent = cur.parent
    while parent is not None and parent.type in ("parenthesized_expression", "cast_expression",
                                                 "binary_expression"):
        if parent.type == "binary_expression":
            op = parent.ts.child_by_field_name("operator")
            if op is not None and op.type in _COMPARISONS:
                other = parent.child("right") if parent.child("left") == cur else \
                    parent.child("left")
                return other is not None and is_float_expression(sk, other)
            if op is not None and op.type in ("-", "+") and mentions_quantization(parent):
                return False
        cur, parent = parent, parent.parent
    if parent is None:
        return False
    if parent.type == "init_declarator":
        name = parent.child("declarator")
        return name is not None and name.text in sk.float_vars - sk.other_vars
    if parent.type == "assignment_expression":
        left = parent.child("left")
        return left is not None and left.text in sk.float_vars - sk.other_vars
    return False


def _statement_of(node: Node) -> Node:
    """The statement (an `if`'s condition) an expression belongs to."""
    cur = node
    while cur.parent is not None and cur.type not in ("expression_statement", "declaration",
                                                      "return_statement", "condition_clause"):
        cur = cur.parent
    return cur


def quantization_rules(ctx: Context) -> list[Finding]:
    out = []
    sk = ctx.sk
    for a in sk.accesses:
        tensor = _tensor(ctx, a.role)
        if tensor is None or not tensor.quantized or tensor.dtype not in _RANGES \
                or a.role.accessor != tensor.dtype:
            continue
        if a.role.kind == "input" and a.write_value is not None:
            value = a.write_value
            if not is_float_expression(sk, value) or mentions_quantization(value):
                continue
            file = sk.file_of(value)
            fix = Fix("Quantize the value with the input's scale and zero point", tuple(
                _with_math(ctx, [Edit(sk.range(value), quantize_text(value.text, a.role,
                                                                     tensor), file)], file)))
            out.append(Finding(
                file, sk.range(value), "tinyml/input-quantization", "warning",
                f"a real value is written into the {tensor.dtype} input without its "
                f"quantization: q = round(x / {tensor.scale:.6g}) + {tensor.zero_point}, "
                f"clamped to {_RANGES[tensor.dtype]}", fix))
        elif a.role.kind == "output" and a.write_value is None:
            if mentions_quantization(_statement_of(a.node)) or not _float_use(sk, a.node):
                continue
            fix = Fix("Dequantize with the output's scale and zero point", (Edit(
                sk.range(a.node), dequantize_text(a.node.text, a.role, tensor)),))
            out.append(Finding(
                sk.file_of(a.node), sk.range(a.node), "tinyml/output-dequantize", "warning",
                f"the {tensor.dtype} output is used as a real number without dequantizing: "
                f"x = (q - {tensor.zero_point}) * {tensor.scale:.6g}", fix))
    return out


# --- APIs gone from current TFLite Micro -------------------------------------------------------

def _severity(ctx: Context, compiles_with_pinned: bool) -> str:
    return "warning" if ctx.legacy or compiles_with_pinned else "error"


def _library(ctx: Context) -> str:
    return ("the old Arduino library this sketch targets still has it" if ctx.legacy else
            f"the pinned TFLite Micro library ({VERSION})")


def removed_api_rules(ctx: Context) -> list[Finding]:
    """In the sketch itself (its headers are read for facts; their own check reports them)."""
    return _all_ops(ctx) + _error_reporter(ctx) + _register_calls(ctx)


def _all_ops(ctx: Context) -> list[Finding]:
    sk, out = ctx.sk, []
    methods = [RESOLVER_METHODS[op] for op in dict.fromkeys(o.name for o in ctx.model.card.ops)
               if op in RESOLVER_METHODS]
    for stmt in [n for n in sk.all_ops if n.unit == 0]:
        decl = sk.range(stmt)
        name_node = next((n for n in stmt.walk() if n.type == "identifier"), None)
        name = name_node.text if name_node else "resolver"
        static = "static " if stmt.text.lstrip().startswith("static") else ""
        edits = [Edit(decl, f"{static}tflite::MicroMutableOpResolver<{len(methods)}> {name};")]
        adds = "".join(f"\n{{indent}}{name}.{m}();" for m in methods)
        body = _add_site(sk, stmt)
        if body is not None:
            at, indent = body
            edits.append(Edit(Range(at[0], at[1], at[0], at[1]), adds.format(indent=indent)))
        edits += [Edit(inc.range, '"tensorflow/lite/micro/micro_mutable_op_resolver.h"')
                  for inc in sk.includes if inc.path.endswith("all_ops_resolver.h")]
        out.append(Finding(
            ctx.file, decl, "tinyml/removed-api", _severity(ctx, True),
            "AllOpsResolver is gone from current TFLite Micro and links every kernel into "
            f"flash ({_library(ctx)}): register the model's {len(methods)} ops with "
            "MicroMutableOpResolver", Fix("Use MicroMutableOpResolver with the model's ops",
                                          tuple(edits)) if body is not None else None))
    return out


def _add_site(sk: Sketch, stmt: Node) -> tuple[tuple[int, int], str] | None:
    """Where the Add calls replacing an AllOpsResolver go: right after a local declaration,
    else at the start of setup()."""
    if stmt.parent is not None and stmt.parent.type == "compound_statement":
        end = sk.range(stmt)
        return (end.end_line, end.end_col), sk.source.indent_of(end.line)
    for node in sk.roots()[0].walk():
        if node.type == "function_definition":
            decl = node.child("declarator")
            body = node.child("body")
            if decl is not None and body is not None and decl.text.startswith("setup") and \
                    body.children:
                first = sk.range(body.children[0])
                start = sk.range(body)
                return (start.line, start.col + 1), sk.source.indent_of(first.line) or "  "
    return None


def _error_reporter(ctx: Context) -> list[Finding]:
    sk = ctx.sk
    if sk.interpreter_args and sk.interpreter_args[0].unit != 0:
        return []
    if not sk.error_reporters and len(sk.interpreter_args) < 5:
        return []
    bridge = any("tflite_bridge" in i.path for i in sk.reporter_includes)
    fix = _reporter_fix(sk)
    if len(sk.interpreter_args) >= 5 and _is_reporter(sk, sk.interpreter_args[4]):
        arg = sk.interpreter_args[4]
        return [Finding(ctx.file, sk.range(arg), "tinyml/removed-api", _severity(ctx, False),
                        f"MicroInterpreter no longer takes an error reporter ({_library(ctx)}: "
                        "its fifth parameter is MicroResourceVariables*): drop the argument "
                        "and log with MicroPrintf", fix)]
    if not sk.error_reporters:
        return []
    stmt = sk.error_reporters[0]
    return [Finding(ctx.file, sk.range(stmt), "tinyml/removed-api",
                    _severity(ctx, bridge),
                    "MicroErrorReporter is gone from current TFLite Micro (" + (
                        "the pinned library keeps it only under tflite_bridge/" if not ctx.legacy
                        else _library(ctx)) + "): log with MicroPrintf", fix)]


def _reporter_names(sk: Sketch) -> set[str]:
    names = set()
    for stmt in sk.error_reporters:
        names |= {n.text for n in stmt.walk() if n.type == "identifier"}
    for node in sk.roots()[0].walk():
        if node.type in ("declaration", "field_declaration") and \
                (t := node.child("type")) is not None and t.text.endswith("ErrorReporter"):
            names |= {n.text for n in node.walk() if n.type == "identifier"
                      and n.parent is not None and n.parent.type != "pointer_expression"}
    return names


def _is_reporter(sk: Sketch, arg: Node) -> bool:
    text = arg.text.lstrip("&*").strip()
    return text in _reporter_names(sk) or "reporter" in text.lower()


def _reporter_fix(sk: Sketch) -> Fix:
    """Migrate off the error reporter: drop its declarations, assignments and include, the
    interpreter's argument, and log through MicroPrintf."""
    names = _reporter_names(sk)
    edits: list[Edit] = []
    seen: set[tuple[int, int]] = set()

    def drop_line(node: Node) -> None:
        if (node.start, node.end) not in seen:
            seen.add((node.start, node.end))
            edits.append(remove_statement(sk, node))

    for node in sk.roots()[0].walk():
        t = node.type
        declares = t in ("declaration", "field_declaration") and \
            (ty := node.child("type")) is not None and ty.text.endswith("ErrorReporter")
        assigns = t == "expression_statement" and bool(node.children) and \
            node.children[0].type == "assignment_expression" and \
            (left := node.children[0].child("left")) is not None and left.text in names
        if declares or assigns:
            drop_line(node)
        elif t == "call_expression" and (fn := node.child("function")) is not None and \
                (args := node.child("arguments")) is not None and args.children:
            first = args.children[0].text.lstrip("&*").strip()
            if fn.text == "TF_LITE_REPORT_ERROR" and first in names:
                rest = sk.range(args.children[1]) if len(args.children) > 1 else None
                fr = sk.range(fn)
                if rest is not None:
                    edits.append(Edit(Range(fr.line, fr.col, rest.line, rest.col),
                                      "MicroPrintf("))
            elif fn.type == "field_expression" and (fld := fn.child("field")) is not None and \
                    fld.text == "Report" and (obj := fn.child("argument")) is not None and \
                    obj.text in names:
                edits.append(Edit(sk.range(fn), "MicroPrintf"))
    edits += [Edit(Range(i.range.line, 0, i.range.line + 1, 0), "") for i in sk.reporter_includes]
    if len(sk.interpreter_args) >= 5 and _is_reporter(sk, sk.interpreter_args[4]):
        prev, arg = sk.range(sk.interpreter_args[3]), sk.range(sk.interpreter_args[4])
        edits.append(Edit(Range(prev.end_line, prev.end_col, arg.end_line, arg.end_col), ""))
    if not any("micro_log.h" in i.path for i in sk.includes):
        edits.append(Edit(Range(0, 0, 0, 0), '#include "tensorflow/lite/micro/micro_log.h"\n'))
    return Fix("Remove the error reporter; log with MicroPrintf", tuple(edits))


def _register_calls(ctx: Context) -> list[Finding]:
    sk, out = ctx.sk, []
    methods, _ = _registered(sk)
    for op, call, stmt in [r for r in sk.register_calls if r[1].unit == 0]:
        compiles = op in OPS_MICRO_REGISTRATIONS
        method = RESOLVER_METHODS.get(op)
        fix = None
        outer = call.parent
        while outer is not None and outer.type != "call_expression":
            outer = outer.parent
        fn = outer.child("function") if outer is not None else None
        if method and fn is not None and fn.type == "field_expression" and \
                (recv := fn.child("argument")) is not None and stmt.type == "expression_statement":
            sep = "->" if any(c.type == "->" for c in fn.ts.children) else "."
            r = sk.range(stmt)
            fix = (Fix(f"Remove it ({method}() already registers {op})",
                       (remove_statement(sk, stmt),)) if method in methods
                   else Fix(f"Use {recv.text}{sep}{method}()",
                            (Edit(r, f"{recv.text}{sep}{method}();"),)))
        out.append(Finding(
            ctx.file, sk.range(call), "tinyml/removed-api", _severity(ctx, compiles),
            f"tflite::ops::micro::Register_{op}() is gone from current TFLite Micro ("
            + ("the old Arduino library this sketch targets still has it" if ctx.legacy else
               f"the pinned library {'still has it, deprecated' if compiles else 'lacks it'}")
            + f"): register the op with {method or 'a custom kernel'}()", fix))
    return out


# --- preprocessing ---------------------------------------------------------------------------

def _ratio(tree: ast.expr) -> bool:
    """Is a feature a ratio of channels (a division by something that is not a number)?"""
    return any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)
               and not isinstance(n.right, ast.Constant) for n in ast.walk(tree))


def _number(text: str) -> float | None:
    try:
        return float(text.rstrip("fFlLuU"))
    except ValueError:
        return None


def preprocessing_rules(ctx: Context) -> list[Finding]:
    """The model was trained on ratios (features.toml) and the sketch scales bytes by 255."""
    f = ctx.features
    if f is None or not any(_ratio(t) for t in f.trees):
        return []
    sk, out = ctx.sk, []
    for node in sk.roots()[0].walk():
        if node.type != "binary_expression":
            continue
        op = node.ts.child_by_field_name("operator")
        right = node.child("right")
        if op is None or op.type != "/" or right is None or right.type != "number_literal" \
                or _number(right.text) != 255:
            continue
        example = f"{f.names[0]} = {f.formulas[0]}"
        out.append(Finding(
            sk.file_of(node), sk.range(node), "tinyml/preprocessing", "warning",
            f"the model was trained on {', '.join(f.names)} computed as ratios of the "
            f"{f.sensor} channels ({example}; {f.path}), not on values divided by 255: compute "
            "the inputs as the features file says"))
    return out
