"""The package's modules import in one direction: no module reaches, at import time, a module
that imports it back. Imports under ``TYPE_CHECKING`` and inside functions (the lazy ones)
are not import-time edges."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "versioned_action"


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_time_edges(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.ClassDef):
                visit(node.body)
            elif isinstance(node, ast.ImportFrom):
                relative = "." * node.level + (node.module or "")
                module = importlib.util.resolve_name(relative, package)
                for alias in node.names:
                    full = f"{module}.{alias.name}"
                    found.add(full if full in known else module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)

    visit(ast.parse(path.read_text()).body)
    return {edge for edge in found if edge in known and edge != name}


def test_no_module_imports_one_that_imports_it_back():
    known = module_names()
    graph = {name: import_time_edges(name, path, known) for name, path in known.items()}
    assert "versioned_action.storage" in graph["versioned_action.aliases"]  # a real edge
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for edge in sorted(graph[name]):
            if state.get(edge) == 1:
                cycles.append([*stack[stack.index(edge) :], edge])
            elif edge not in state:
                walk(edge)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)
