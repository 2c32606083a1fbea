"""The package's floor plan, checked: each room imports only the rooms below it, and no module
imports itself back through others (every import counts, lazy and type-checking ones too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "tinyml_lsp"
# lowest first: a module may import its own room and the rooms below it
FLOORS = [
    {"tinyml_lsp", "tinyml_lsp.errors", "tinyml_lsp.resources", "tinyml_lsp.artifacts",
     "tinyml_lsp.text"},
    {"tinyml_lsp.runtime"},
    {"tinyml_lsp.model"},
    {"tinyml_lsp.codegen"},
    {"tinyml_lsp.deploy"},
    {"tinyml_lsp.check"},
    {"tinyml_lsp.report"},
    {"tinyml_lsp.llm"},
    {"tinyml_lsp.lsp"},
    {"tinyml_lsp.cli"},
    {"tinyml_lsp.__main__"},
]


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["tinyml_lsp", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The package's modules that `name` imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[:len(package.split(".")) - node.level + 1],
                                 *([base] if base else [])])
            targets |= {f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                        for alias in node.names}
    return {t for t in targets if t in MODULES and t != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _floor(module: str) -> int:
    for level, rooms in enumerate(FLOORS):
        if any(module == room or module.startswith(room + ".") for room in rooms - {"tinyml_lsp"}):
            return level
    assert module == "tinyml_lsp", f"{module} belongs to no floor: add its room to FLOORS"
    return 0


def test_the_floor_plan_knows_every_module():
    for module in MODULES:
        _floor(module)
    assert len(MODULES) > 40  # the walk found the package


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_room_imports_only_rooms_below_it(module: str):
    upward = sorted(t for t in GRAPH[module] if _floor(t) > _floor(module))
    assert not upward, f"{module} imports {upward}, which stand above it"


def test_no_import_circles():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in GRAPH[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert not circles, f"import circles: {circles}"


def test_the_walk_resolves_imports_to_modules():
    # `from tinyml_lsp.codegen.standalone.emit import generate` is an edge to the module, and
    # `from tinyml_lsp.deploy import emulator` to the sibling module, not to the package
    assert "tinyml_lsp.deploy.emulator" in GRAPH["tinyml_lsp.deploy.platformio"]
    assert "tinyml_lsp.codegen.standalone.emit" in GRAPH["tinyml_lsp.deploy.sketch"]
    assert _floor("tinyml_lsp.lsp.server") > _floor("tinyml_lsp.deploy.sketch")
