"""What a TFLite Micro sketch does, read with tree-sitter's C++ grammar (which tolerates
half-typed code): the op resolver and its `Add` calls, the arena, the interpreter, the removed
APIs it uses, and every place it touches an input or output tensor's data — through pointers,
references, `auto`, local aliases and object-like macros.

Names are followed through one flat table per file (declarations and assignments, any scope):
sketches are small, and a name reused for two different tensors is rare enough to ignore.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from tinyml_lsp.check.source import Range, Source

SKETCH_SUFFIXES = (".ino", ".cpp", ".cc", ".cxx", ".c", ".h", ".hpp")
# `->data.X` accessors of TfLiteTensor, and typed accessors' template types, as tensor dtypes
ACCESSOR_DTYPES = {"f": "float32", "int8": "int8", "uint8": "uint8", "i8": "int8",
                   "i16": "int16", "i32": "int32", "i64": "int64", "f16": "float16",
                   "b": "bool", "raw": ""}
TYPE_DTYPES = {"float": "float32", "int8_t": "int8", "uint8_t": "uint8", "int16_t": "int16",
               "int32_t": "int32", "int64_t": "int64", "double": "float64", "bool": "bool",
               "signed char": "int8", "unsigned char": "uint8", "char": "int8"}
_FLOAT_TYPES = {"float", "double"}
_MAX_DEPTH = 12  # alias chains followed


@cache
def _parser() -> Any:
    import tree_sitter_cpp
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_cpp.language()))


@dataclass(frozen=True)
class Node:
    """A tree-sitter node and where its text starts in the file (a macro's body is parsed on
    its own, so its nodes carry the body's offset)."""

    ts: Any
    base: int = 0
    unit: int = 0  # which file of the sketch (0: the sketch, then the headers it includes)

    @property
    def type(self) -> str:
        return str(self.ts.type)

    @property
    def start(self) -> int:
        return int(self.ts.start_byte) + self.base

    @property
    def end(self) -> int:
        return int(self.ts.end_byte) + self.base

    @property
    def text(self) -> str:
        return bytes(self.ts.text or b"").decode("utf-8", errors="replace")

    def child(self, name: str) -> Node | None:
        c = self.ts.child_by_field_name(name)
        return Node(c, self.base, self.unit) if c is not None else None

    @property
    def children(self) -> list[Node]:
        return [Node(c, self.base, self.unit) for c in self.ts.named_children]

    @property
    def parent(self) -> Node | None:
        p = self.ts.parent
        return Node(p, self.base, self.unit) if p is not None else None

    def walk(self) -> list[Node]:
        """This node and every named node below it, in source order."""
        out, stack = [], [self.ts]
        while stack:
            n = stack.pop()
            out.append(Node(n, self.base, self.unit))
            if n.named_child_count:
                stack.extend(reversed(n.named_children))
        return out


@dataclass(frozen=True)
class Role:
    """What an expression stands for: a tensor (`interpreter->input(0)`), or a tensor's data
    read through an accessor (`->data.f`, `typed_output_tensor<float>(0)`)."""

    kind: str  # "input" or "output"
    index: int
    accessor: str | None = None  # a dtype when the expression is the tensor's data
    site: Node | None = field(default=None, compare=False)  # where the accessor was chosen
    # how a fix reaches the tensor's fields: "input->" gives input->params.scale; "" when the
    # sketch holds no expression for the tensor
    tensor_text: str = ""


@dataclass(frozen=True)
class Resolver:
    name: str
    name_node: Node
    size_text: str
    size_node: Node  # the `N` of `<N>` (in a header, when the type is an alias declared there)
    size: int | None
    declaration: Node


@dataclass(frozen=True)
class Handle:
    """A pointer or reference to a `MicroMutableOpResolver<N>`: its `<N>` must follow."""

    name: str
    size_text: str
    size_node: Node


@dataclass(frozen=True)
class AddCall:
    method: str
    receiver: str
    arrow: bool
    method_node: Node
    statement: Node  # the statement holding the call


@dataclass(frozen=True)
class Access:
    """A use of a tensor's data: written (`= value`) or read."""

    role: Role
    node: Node  # the subscript / dereference / accessor expression
    write_value: Node | None  # the assigned value, when written


@dataclass(frozen=True)
class Constant:
    name: str
    value: Node  # its value expression (to be replaced by a fix)


@dataclass(frozen=True)
class Include:
    path: str
    quoted: bool
    range: Range  # the path, with its quotes or angle brackets
    unit: int = 0


@dataclass
class Sketch:
    units: list[tuple[str, Source, Any]]  # (file, text, tree): the sketch, then its headers
    includes: list[Include] = field(default_factory=list)
    macros: dict[str, Node] = field(default_factory=dict)  # object-like macro → body
    constants: dict[str, Constant] = field(default_factory=dict)
    float_vars: set[str] = field(default_factory=set)  # declared float/double, and only so
    other_vars: set[str] = field(default_factory=set)  # declared with another type somewhere
    resolver: Resolver | None = None
    handles: list[Handle] = field(default_factory=list)
    adds: list[AddCall] = field(default_factory=list)
    all_ops: list[Node] = field(default_factory=list)  # AllOpsResolver declarations
    error_reporters: list[Node] = field(default_factory=list)  # MicroErrorReporter statements
    reporter_includes: list[Include] = field(default_factory=list)
    register_calls: list[tuple[str, Node, Node]] = field(default_factory=list)  # op, call, stmt
    interpreter_args: list[Node] = field(default_factory=list)
    byte_arrays: dict[str, Node] = field(default_factory=dict)  # name → size expression
    model_array: str | None = None  # GetModel(NAME)
    accessors: list[Role] = field(default_factory=list)
    accesses: list[Access] = field(default_factory=list)
    serial_baud: tuple[int, Range] | None = None  # in the sketch itself
    has_errors: bool = False
    extra_constants: dict[str, int] = field(default_factory=dict)  # from the model header
    aliases: dict[str, Node] = field(default_factory=dict)  # alias → MicroMutableOpResolver<N>
    functions: dict[str, list[str]] = field(default_factory=dict)  # name → parameter names
    # name → values it is given; a function's locals and parameters as "function::name"
    _bindings: dict[str, list[Node]] = field(default_factory=dict)

    @property
    def source(self) -> Source:
        return self.units[0][1]

    @property
    def tree(self) -> Any:
        return self.units[0][2]

    def roots(self) -> list[Node]:
        return [Node(tree.root_node, 0, i) for i, (_, _, tree) in enumerate(self.units)]

    def file_of(self, node: Node) -> str:
        return self.units[node.unit][0]

    def source_of(self, node: Node) -> Source:
        return self.units[node.unit][1]

    @property
    def uses_tflm(self) -> bool:
        return bool(self.resolver or self.all_ops or self.interpreter_args or self.adds
                    or any("tensorflow" in i.path.lower() or "tensorflowlite" in i.path.lower()
                           for i in self.includes))

    @property
    def arena(self) -> tuple[str, Node] | None:
        """The tensor arena: the byte array given to the interpreter, else one named so."""
        if len(self.interpreter_args) >= 3:
            name = self.interpreter_args[2].text.lstrip("&(").split("[")[0].strip()
            if name in self.byte_arrays:
                return name, self.byte_arrays[name]
        return next(((n, s) for n, s in self.byte_arrays.items() if "arena" in n.lower()),
                    None)

    def range(self, node: Node) -> Range:
        return self.units[node.unit][1].range(node.start, node.end)

    # --- values --------------------------------------------------------------------------

    def evaluate(self, node: Node | None, depth: int = 0) -> int | None:
        """A constant integer expression's value (literals, + - * / << and names of
        constants and macros), or None."""
        if node is None or depth > _MAX_DEPTH:
            return None
        t = node.type
        if t == "number_literal":
            digits = re.sub(r"[uUlL]+$", "", node.text.replace("'", ""))
            try:
                return int(digits, 0)
            except ValueError:
                return None
        if t in ("parenthesized_expression", "cast_expression"):
            inner = node.child("value") or (node.children[-1] if node.children else None)
            return self.evaluate(inner, depth + 1)
        if t == "binary_expression":
            a = self.evaluate(node.child("left"), depth + 1)
            b = self.evaluate(node.child("right"), depth + 1)
            op = node.ts.child_by_field_name("operator")
            if a is None or b is None or op is None:
                return None
            ops = {"+": a + b, "-": a - b, "*": a * b, "<<": a << b if 0 <= b < 64 else None,
                   "/": a // b if b else None}
            return ops.get(op.type)
        if t in ("identifier", "type_identifier"):  # `<N>` parses as a type
            name = node.text
            if name in self.macros:
                return self.evaluate(self.macros[name], depth + 1)
            if name in self.constants:
                return self.evaluate(self.constants[name].value, depth + 1)
            return self.extra_constants.get(name)
        if t == "qualified_identifier" and (inner := node.child("name")) is not None:
            return self.evaluate(inner, depth + 1)
        return None

    def constant_site(self, node: Node, depth: int = 0) -> Node:
        """Where the value of a size expression is written: a constant's or macro's
        definition when it is a bare name, else the expression itself."""
        if node.type in ("identifier", "type_identifier") and depth < _MAX_DEPTH:
            if node.text in self.constants:
                return self.constant_site(self.constants[node.text].value, depth + 1)
            if node.text in self.macros:
                return self.constant_site(self.macros[node.text], depth + 1)
        return node

    # --- roles ---------------------------------------------------------------------------

    def role(self, node: Node | None, depth: int = 0) -> Role | None:
        """What an expression stands for, following aliases and macros."""
        if node is None or depth > _MAX_DEPTH:
            return None
        t = node.type
        if t in ("parenthesized_expression", "pointer_expression", "cast_expression",
                 "reference_declarator"):
            inner = node.child("argument") or node.child("value") or (
                node.children[-1] if node.children else None)
            return self.role(inner, depth + 1)
        if t == "identifier":
            return self._name_role(node.text, depth, scope_of(node))
        if t == "call_expression":
            return self._call_role(node, depth)
        if t == "field_expression":
            fld = node.child("field")
            arg = node.child("argument")
            if fld is None or arg is None:
                return None
            inner = arg
            while inner.type == "parenthesized_expression" and inner.children:
                inner = inner.children[0]
            if fld.text in ACCESSOR_DTYPES and inner.type == "field_expression" and (
                    (data := inner.child("field")) is not None and data.text == "data"):
                tensor = inner.child("argument")
                base = self.role(tensor, depth + 1)
                if base is not None and base.accessor is None and tensor is not None:
                    sep = "." if any(c.type == "." for c in inner.ts.children) else "->"
                    return Role(base.kind, base.index, ACCESSOR_DTYPES[fld.text], node,
                                f"{tensor.text}{sep}")
        if t == "subscript_expression":
            return None
        return None

    def _name_role(self, name: str, depth: int, scope: str) -> Role | None:
        if name in self.macros:
            return self.role(self.macros[name], depth + 1)
        local = self._bindings.get(f"{scope}::{name}", []) if scope else []
        for value in local or self._bindings.get(name, []):
            if (found := self.role(value, depth + 1)) is not None:
                return found
        return None

    def _call_role(self, node: Node, depth: int) -> Role | None:
        fn = node.child("function")
        args = node.child("arguments")
        if fn is None or args is None:
            return None
        index = self.evaluate(args.children[0]) if args.children else None
        name_node = fn.child("field") if fn.type == "field_expression" else fn
        if name_node is None:
            return None
        if name_node.type in ("template_function", "template_method", "qualified_identifier"):
            receiver = ""
            if fn.type == "field_expression" and (obj := fn.child("argument")) is not None:
                sep = "->" if any(c.type == "->" for c in fn.ts.children) else "."
                receiver = f"{obj.text}{sep}"
            return self._typed_role(name_node, args, index, receiver)
        if name_node.text in ("input", "output", "input_tensor", "output_tensor") \
                and fn.type == "field_expression" and index is not None:
            return Role(name_node.text.split("_")[0], index, None, None, node.text)
        return None

    def _typed_role(self, name_node: Node, args: Node, index: int | None,
                    receiver: str) -> Role | None:
        while name_node.type == "qualified_identifier" and name_node.child("name") is not None:
            inner = name_node.child("name")
            assert inner is not None
            name_node = inner
        base = name_node.child("name")
        targs = name_node.child("arguments")
        if base is None or targs is None or not targs.children:
            return None
        dtype = TYPE_DTYPES.get(" ".join(targs.children[0].text.split()))
        if base.text in ("typed_input_tensor", "typed_output_tensor") and index is not None:
            kind = base.text.split("_")[1]
            return Role(kind, index, dtype or "", name_node,
                        f"{receiver}{kind}({index})->" if receiver else "")
        if base.text == "GetTensorData" and args.children:
            tensor = self.role(args.children[0])
            if tensor is not None and tensor.accessor is None:
                return Role(tensor.kind, tensor.index, dtype or "", name_node,
                            f"({args.children[0].text})->")
        return None


# --- reading a file --------------------------------------------------------------------------

def parse_sketch(text: str, file: str = "", headers: tuple[tuple[str, str], ...] = ()) -> Sketch:
    """A sketch and the local headers it includes (file, text), read as one program."""
    units = []
    for unit_file, unit_text in ((file, text), *headers):
        source = Source(unit_text)
        units.append((unit_file, source, _parser().parse(source.data)))
    sk = Sketch(units, has_errors=bool(units[0][2].root_node.has_error))
    nodes = [n for root in sk.roots() for n in root.walk()]
    by_type: dict[str, list[Node]] = {}
    for node in nodes:
        by_type.setdefault(node.ts.type, []).append(node)

    def of(*types: str) -> list[Node]:
        return sorted((n for t in types for n in by_type.get(t, [])),
                      key=lambda n: (n.unit, n.start))

    for node in of("function_definition"):  # signatures and aliases first: calls bind to them
        _function(sk, node)
    for node in of("alias_declaration", "type_definition"):
        _alias(sk, node)
    for node in of("preproc_def"):  # macros next: the rest looks through them
        if (value := node.child("value")) is not None:
            macro = node.child("name")
            parsed = _parse_expression(value)
            if macro is not None and parsed is not None:
                sk.macros[macro.text] = parsed
    for node in of(*_COLLECTED):
        _collect(sk, node)
    for expansion in sk.macros.values():  # uses inside macro bodies
        for node in expansion.walk():
            _collect_use(sk, node)
    for node in of("subscript_expression", "pointer_expression"):
        _collect_use(sk, node)
    sk.accessors = _unique_accessors(sk, of("field_expression", "call_expression"))
    # `MicroInterpreter i(tflite::GetModel(g_model), …)` parses as a function declaration,
    # whose "parameters" hold the call
    if sk.model_array is None and (m := re.search(r"GetModel\s*\(\s*&?\s*(\w+)", text)):
        sk.model_array = m.group(1)
    if sk.resolver is not None:  # its `<N>` may name a constant read after it
        sk.resolver = replace(sk.resolver, size=sk.evaluate(sk.resolver.size_node))
    return sk


def _parse_expression(body: Node) -> Node | None:
    """A macro body as an expression, its nodes placed at the body's offset in the file."""
    prefix = b"auto __tinyml = "
    text = re.split(rb"//|/\*", body.ts.text or b"")[0].rstrip()
    if not text.strip() or len(text) > 2000:
        return None
    tree = _parser().parse(prefix + text + b";")
    root = tree.root_node
    decl = root.named_children[0] if root.named_children else None
    init = decl.child_by_field_name("declarator") if decl is not None else None
    value = init.child_by_field_name("value") if init is not None else None
    if value is None or root.has_error:
        return None
    return Node(value, body.start - len(prefix), body.unit)


def _declared_names(declarator: Node | None) -> tuple[str | None, Node | None, bool]:
    """(name, initial value, is a pointer/reference) of a declarator."""
    value = None
    indirect = False
    node = declarator
    while node is not None:
        if node.type == "init_declarator":
            value = node.child("value")
            node = node.child("declarator")
        elif node.type in ("pointer_declarator", "reference_declarator"):
            indirect = True
            node = node.child("declarator") or (node.children[-1] if node.children else None)
        elif node.type == "array_declarator":
            node = node.child("declarator")
        elif node.type in ("identifier", "field_identifier"):
            return node.text, value, indirect
        else:
            return None, value, indirect
    return None, value, indirect


_COLLECTED = ("preproc_include", "declaration", "parameter_declaration", "field_declaration",
              "assignment_expression", "call_expression", "new_expression", "type_identifier")


def _collect(sk: Sketch, node: Node) -> None:
    t = node.type
    if t == "preproc_include" and (path := node.child("path")) is not None:
        inc = Include(path.text[1:-1], path.type == "string_literal", sk.range(path), path.unit)
        sk.includes.append(inc)
        if "micro_error_reporter" in inc.path and node.unit == 0:
            sk.reporter_includes.append(inc)
    elif t in ("declaration", "parameter_declaration", "field_declaration"):
        _declaration(sk, node)
    elif t == "assignment_expression":
        left, right = node.child("left"), node.child("right")
        if left is not None and right is not None and left.type == "identifier":
            sk._bindings.setdefault(left.text, []).append(right)
            if scope := scope_of(node):
                sk._bindings.setdefault(f"{scope}::{left.text}", []).append(right)
    elif t == "call_expression":
        _call(sk, node)
    elif t == "new_expression":
        _new(sk, node)
    elif t == "type_identifier" and node.text == "MicroErrorReporter":
        stmt = _statement(node)
        if stmt is not None and stmt not in sk.error_reporters:
            sk.error_reporters.append(stmt)


def _declaration(sk: Sketch, node: Node) -> None:
    type_node = node.child("type")
    type_text = type_node.text if type_node is not None else ""
    base_type = type_text.split("::")[-1]
    declarators = [c for c in node.children if c is not type_node and c.type in (
        "init_declarator", "identifier", "pointer_declarator", "reference_declarator",
        "array_declarator", "function_declarator")]
    const = any(c.type == "type_qualifier" and c.text in ("const", "constexpr")
                for c in node.children) or "constexpr" in node.text.split("=")[0]
    for declarator in declarators:
        if declarator.type == "function_declarator" and base_type == "MicroInterpreter":
            # `MicroInterpreter interp(model, resolver, arena, size);` with bare names parses
            # as a function declaration: its "parameters" are the arguments
            params = declarator.child("parameters")
            sk.interpreter_args = params.children if params is not None else []
            continue
        name, value, indirect = _declared_names(declarator)
        if name is None:
            continue
        if value is not None:
            scope = scope_of(node)
            sk._bindings.setdefault(f"{scope}::{name}" if scope else name, []).append(value)
            if const and declarator.type == "init_declarator":
                sk.constants[name] = Constant(name, value)
        if type_text in _FLOAT_TYPES and not indirect:
            sk.float_vars.add(name)
        else:
            sk.other_vars.add(name)
        if base_type in sk.aliases:
            _resolver(sk, node, sk.aliases[base_type], declarator, name, indirect)
        elif base_type.startswith("MicroMutableOpResolver") and type_node is not None:
            _resolver(sk, node, type_node, declarator, name, indirect)
        elif base_type == "AllOpsResolver" and not indirect:
            sk.all_ops.append(_statement(node) or node)
        elif base_type == "MicroInterpreter" and declarator.type in (
                "init_declarator", "function_declarator"):
            _interpreter(sk, declarator)
        if type_text in ("uint8_t", "unsigned char", "byte", "int8_t") \
                and declarator.type in ("array_declarator", "init_declarator"):
            arr = declarator if declarator.type == "array_declarator" else \
                declarator.child("declarator")
            size = arr.child("size") if arr is not None and arr.type == "array_declarator" \
                else None
            if size is not None:
                sk.byte_arrays[name] = size


def _resolver(sk: Sketch, node: Node, type_node: Node, declarator: Node, name: str,
              indirect: bool) -> None:
    targs = next((n for n in type_node.walk() if n.type == "template_argument_list"), None)
    arg = targs.children[0] if targs is not None and targs.children else None
    if arg is None:
        return
    if arg.type == "type_descriptor":  # a bare name parses as a type
        arg = arg.children[0] if arg.children else arg
    if indirect or node.type == "parameter_declaration":
        sk.handles.append(Handle(name, arg.text, arg))
        return
    if sk.resolver is None:
        nm = next((n for n in declarator.walk() if n.type == "identifier" and n.text == name),
                  declarator)
        sk.resolver = Resolver(name, nm, arg.text, arg, sk.evaluate(arg), node)


def _interpreter(sk: Sketch, declarator: Node) -> None:
    value = declarator.child("value")
    if value is not None and value.type in ("argument_list", "initializer_list"):
        sk.interpreter_args = value.children


def scope_of(node: Node) -> str:
    """The name of the function a node is in ("" at file level)."""
    cur = node.parent
    while cur is not None:
        if cur.type == "function_definition":
            return _function_name(cur)
        cur = cur.parent
    return ""


def _function_name(node: Node) -> str:
    decl = node.child("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child("declarator")
    name = decl.child("declarator") if decl is not None else None
    return name.text.split("::")[-1] if name is not None else ""


def _function(sk: Sketch, node: Node) -> None:
    """A function's parameter names: a call binds its arguments to them."""
    decl = node.child("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child("declarator")
    params = decl.child("parameters") if decl is not None else None
    if params is None:
        return
    names = []
    for p in params.children:
        name, _, _ = _declared_names(p.child("declarator"))
        names.append(name or "")
    sk.functions.setdefault(_function_name(node), names)


def _alias(sk: Sketch, node: Node) -> None:
    """`using R = tflite::MicroMutableOpResolver<N>;` and its typedef form."""
    target = node.child("type")
    if target is not None and target.type == "type_descriptor":
        target = target.child("type") or target
    name = node.child("name") or node.child("declarator")
    if target is None or name is None:
        return
    if target.text.replace(" ", "").split("::")[-1].startswith("MicroMutableOpResolver<"):
        sk.aliases[name.text] = target


def _statement(node: Node) -> Node | None:
    cur: Node | None = node
    while cur is not None and cur.type not in ("expression_statement", "declaration",
                                               "field_declaration", "if_statement",
                                               "return_statement"):
        cur = cur.parent
    return cur


def _call(sk: Sketch, node: Node) -> None:
    fn = node.child("function")
    args = node.child("arguments")
    if fn is None:
        return
    if fn.type == "field_expression" and (fld := fn.child("field")) is not None:
        method = fld.text
        receiver = fn.child("argument")
        if method.startswith("Add") and receiver is not None and method != "AddBuiltin" \
                and method != "AddCustom":
            stmt = _statement(node)
            if stmt is not None:
                arrow = any(c.type == "->" for c in fn.ts.children)
                sk.adds.append(AddCall(method, receiver.text, arrow, fld, stmt))
        elif method == "begin" and receiver is not None and receiver.text.startswith("Serial") \
                and args is not None and args.children:
            baud = sk.evaluate(args.children[0])
            if baud is not None and sk.serial_baud is None and node.unit == 0:
                sk.serial_baud = (baud, sk.range(args.children[0]))
    if fn.type == "identifier" and fn.text in sk.functions and args is not None:
        for param, value in zip(sk.functions[fn.text], args.children, strict=False):
            sk._bindings.setdefault(f"{fn.text}::{param}", []).append(value)
    text = fn.text
    if text.endswith("GetModel") and args is not None and args.children:
        arg = args.children[0]
        sk.model_array = arg.text.lstrip("&").strip()
    m = re.search(r"Register_([A-Z0-9_]+)$", text)
    if m and "ops::micro" in text.replace(" ", ""):
        stmt = _statement(node)
        if stmt is not None:
            sk.register_calls.append((m.group(1), node, stmt))


def _new(sk: Sketch, node: Node) -> None:
    """`new tflite::MicroInterpreter(model, resolver, arena, size)` (also placement new)."""
    type_node, args = node.child("type"), node.child("arguments")
    if type_node is not None and args is not None and \
            type_node.text.split("::")[-1] == "MicroInterpreter":
        sk.interpreter_args = args.children


def _collect_use(sk: Sketch, node: Node) -> None:
    """Reads and writes of tensor data: `X->data.f[i]`, `p[i]`, `*p`, `p->...`."""
    t = node.type
    first = node.ts.children[0] if node.ts.child_count else None
    deref = t == "pointer_expression" and first is not None and first.type == "*"
    if t != "subscript_expression" and not deref:
        return
    target = node.child("argument")
    role = sk.role(target)
    if role is None or role.accessor is None:
        return
    parent = node.parent
    write = None
    if parent is not None and parent.type == "assignment_expression" and \
            parent.child("left") is not None and parent.child("left") == node:
        write = parent.child("right")
    sk.accesses.append(Access(role, node, write))


def _unique_accessors(sk: Sketch, nodes: list[Node]) -> list[Role]:
    """Every place an accessor is chosen, once (an alias is reported where it is made)."""
    seen: dict[tuple[int, int, int], Role] = {}
    for body in [*(m.walk() for m in sk.macros.values()), nodes]:
        for node in body:
            if node.type in ("field_expression", "call_expression"):
                role = sk.role(node)
                if role is not None and role.accessor is not None and role.site is not None:
                    seen.setdefault((role.site.unit, role.site.start, role.site.end), role)
    return list(seen.values())


def is_float_expression(sk: Sketch, node: Node) -> bool:
    """Does an expression compute a float (a float literal, a float variable, a float cast)?"""
    for n in node.walk():
        if n.type == "number_literal" and re.search(r"[.eE]|[0-9][fF]$", n.text) and \
                not n.text.lower().startswith("0x"):
            return True
        if n.type == "identifier" and n.text in sk.float_vars and n.text not in sk.other_vars:
            return True
        if n.type == "primitive_type" and n.text in _FLOAT_TYPES:
            return True
    return False


def mentions_quantization(node: Node) -> bool:
    """Does an expression apply a scale or zero point (or call something that does)? Names
    only: a comment saying "dequantize" does not count."""
    return any(n.type in ("identifier", "field_identifier") and
               any(w in n.text.lower() for w in ("scale", "zero_point", "params", "quantiz"))
               for n in node.walk())
